/**
 * Tuning harness for the cost-aware retrain rule (not part of `npm run bench`): runs only the
 * cost-aware policy and the oracle on the decision benchmark's streams, for chosen seeds, and can
 * print a per-window timeline. Tune on the tuning seeds (`--seeds tuning`: 1–3 and 101–105, see
 * bench/lib/decision-seeds.ts); never on the report seeds, which are run once per round by
 * bench/decisions.ts.
 *
 * `--noise` measures how much the oracle gains from seeing each window's sampling noise: every
 * window's events are split in two halves (even/odd); the oracle planned on the odd half is
 * priced on the even half and compared with the oracle planned on the even half itself.
 *
 * `--explain` decomposes each stream's gap to the oracle (bench/decision-gap.ts): detection delay
 * behind oracle retrains, oracle retrains never followed, retrains the oracle did not make, and
 * retrains made ahead of the oracle's; a table per scenario at the end.
 *
 * Usage: npx tsx bench/tune-decisions.ts [--seeds tuning|1-3,101-105] [--days 14] [--kinds gradual,abrupt,recurring] [--rule forecast-then-cumulative|cumulative|forecast] [--timeline] [--noise] [--explain]
 */
import { parseArgs } from 'node:util';
import { builtInTrainer } from '../training/backtest-trainer.ts';
import { type CostModel, oracleSchedule, scheduleCost } from './lib/oracle.ts';
import { decomposeGap, gapLine, gapTable, gapTotals, type GapBreakdown } from './decision-gap.ts';
import { buildScenario, COSTS, parseStreamKinds, STREAM_OPTIONS, type ScenarioSpec } from './lib/decision-streams.ts';
import { parseSeeds, seedSet } from './lib/decision-seeds.ts';
import { backtestOnMatrix, buildQualityMatrix } from './lib/quality-matrix.ts';
import { benchPolicy, costAwareTrigger, memoTrainer } from './decisions.ts';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ...STREAM_OPTIONS,
      timeline: { type: 'boolean' },
      noise: { type: 'boolean' },
      explain: { type: 'boolean' },
      rule: { type: 'string' },
    },
  });
  if (values.help) {
    process.stdout.write(
      'Usage: npx tsx bench/tune-decisions.ts [--seeds tuning|1-3,101-105] [--days 14] [--kinds gradual,abrupt,recurring] [--rule forecast-then-cumulative|cumulative|forecast] [--timeline] [--noise] [--explain]\n',
    );
    return;
  }
  const seeds = parseSeeds(values.seeds ?? 'tuning');
  if (seedSet(seeds) !== 'tuning')
    process.stderr.write(
      `note: seeds ${seeds.join(', ')} are not all tuning seeds; tuning on report seeds makes them tuning seeds (bench/lib/decision-seeds.ts)\n`,
    );
  const gaps = new Map<string, { g: GapBreakdown; retrainCost: number }[]>();
  const days = Number(values.days ?? 14);
  const kinds = parseStreamKinds(values.kinds);
  const ratios = new Map<string, number[]>();
  for (const kind of kinds) {
    for (const seed of seeds) {
      const spec: ScenarioSpec = { kind, seed, days, eventsPerHour: 300, referenceHours: 12, trainingWindow: '4h' };
      const scenario = buildScenario(spec);
      const trainer = memoTrainer(builtInTrainer());
      if (values.noise) {
        // The same models (trained on whole windows), measured on each half of every window's events.
        const half = (parity: number): CostModel =>
          buildQualityMatrix(spec, { scenario, trainer, windowEvents: (i) => i % 2 === parity }).costModel;
        const even = half(0);
        const odd = half(1);
        const clairvoyant = oracleSchedule(even);
        const blind = scheduleCost(even, oracleSchedule(odd).retrainSteps);
        const r = blind.totalCost / clairvoyant.totalCost;
        ratios.set(`noise ${kind}`, [...(ratios.get(`noise ${kind}`) ?? []), r]);
        process.stdout.write(
          `${kind} ${seed}: oracle on its own noise ${clairvoyant.totalCost.toFixed(0)}, oracle planned on independent noise ${blind.totalCost.toFixed(0)} (×${r.toFixed(3)}, 150 events a window)\n`,
        );
        continue;
      }
      const matrix = buildQualityMatrix(spec, { scenario, trainer });
      const { steps, costModel } = matrix;
      const trigger = {
        ...costAwareTrigger,
        rule: (values.rule ?? 'forecast-then-cumulative') as 'forecast' | 'cumulative' | 'forecast-then-cumulative',
      };
      const policy = benchPolicy('ca', trigger, spec.trainingWindow);
      const { report, retrainSteps } = await backtestOnMatrix(matrix, policy, trainer);
      const mine = scheduleCost(costModel, retrainSteps);
      const oracle = oracleSchedule(costModel);
      const ratio = mine.totalCost / oracle.totalCost;
      ratios.set(kind, [...(ratios.get(kind) ?? []), ratio]);
      process.stdout.write(
        `${kind} ${seed}: cost-aware ${mine.totalCost.toFixed(0)} (${mine.retrainSteps.length} rt) oracle ${oracle.totalCost.toFixed(0)} (${oracle.retrainSteps.length} rt) ×${ratio.toFixed(2)}\n`,
      );
      if (values.explain) {
        const g = decomposeGap(costModel, mine.retrainSteps, oracle.retrainSteps);
        gaps.set(kind, [...(gaps.get(kind) ?? []), { g, retrainCost: COSTS.retrainCost }]);
        process.stdout.write(`${gapLine(`  gap ${kind} ${seed}`, g, COSTS.retrainCost)}\n`);
      }
      if (values.timeline) {
        process.stdout.write(
          `  cost-aware retrains at ${mine.retrainSteps.join(' ')}\n  oracle     retrains at ${oracle.retrainSteps.join(' ')}\n`,
        );
        let k = 0;
        let ko = 0;
        for (let t = 0; t < steps; t++) {
          if (mine.retrainSteps.includes(t)) k = t;
          if (oracle.retrainSteps.includes(t)) ko = t;
          const fresh = costModel.qualityAt(t, t);
          const d = report.decisions[t];
          process.stdout.write(
            `  t=${t} k=${k} q=${costModel.qualityAt(k, t).toFixed(3)} fresh=${fresh.toFixed(3)} oracle k=${ko} q=${costModel.qualityAt(ko, t).toFixed(3)} | ${d?.kind} ${d?.reason.slice(0, 160)}\n`,
          );
        }
      }
    }
  }
  const all: number[] = [];
  for (const [kind, rs] of ratios) {
    all.push(...rs);
    process.stdout.write(`${kind}: mean ×${(rs.reduce((a, b) => a + b, 0) / rs.length).toFixed(3)}\n`);
  }
  process.stdout.write(`all: mean ×${(all.reduce((a, b) => a + b, 0) / all.length).toFixed(3)}\n`);
  if (values.explain && gaps.size > 0) {
    const groups: [string, ReturnType<typeof gapTotals>][] = [...gaps].map(([kind, rows]) => [kind, gapTotals(rows)]);
    groups.push(['all', gapTotals([...gaps.values()].flat())]);
    process.stdout.write(
      `\nGap to the oracle, mean per stream as a share of the oracle's cost (parts add up to × oracle − 1):\n${gapTable(groups)}\n`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
