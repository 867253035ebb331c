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
 * `--expected` compares with the expected-cost oracle instead (planned on the mean staleness of 4
 * twins of the stream, priced on the stream, as bench/decisions.ts does; five quality matrices a
 * stream, so minutes each): the ratio (challenger probes priced, as the report prices them), the
 * `--explain` decomposition and the timeline are against its schedule, and `--explain` adds the
 * probes' cost and what the same schedule would have cost with every retrain 1–4 windows earlier
 * (a counterfactual on the matrix, not a rule: later decisions would change too) — whether the
 * rule is late by habit.
 *
 * `--revisions 4,5` runs the cost-aware policy at each rule revision on the same quality matrix
 * and compares their schedules (retrains and probes); where they differ (or with `--price`, always)
 * it builds the stream's quality matrix and prints each one's total cost (challenger probes
 * included) beside the best periodic schedule (every whole-hour period, priced on the matrix) and
 * the oracle. Identical schedules cost the same, so the matrix — most of the time — is skipped for
 * them. `--json` prints the rows as JSON. With `--expected`, a priced stream also gets the
 * expected-cost oracle (its twins' matrices) and the summary the mean against it.
 *
 * Usage: npx tsx bench/tune-decisions.ts [--seeds tuning|1-3,101-105] [--days 14] [--kinds gradual,abrupt,recurring] [--rule forecast-then-cumulative|cumulative|forecast] [--revisions 4,5 [--price] [--json]] [--timeline] [--noise] [--explain] [--expected]
 */
import { parseArgs } from 'node:util';
import { builtInTrainer } from '../training/backtest-trainer.ts';
import { type CostModel, oracleSchedule, scheduleCost } from './lib/oracle.ts';
import { decomposeGap, gapLine, gapTable, gapTotals, type GapBreakdown } from './decision-gap.ts';
import { buildScenario, COSTS, parseStreamKinds, STREAM_OPTIONS, type ScenarioSpec } from './lib/decision-streams.ts';
import { parseSeeds, seedSet } from './lib/decision-seeds.ts';
import {
  backtestOnMatrix,
  buildQualityMatrix,
  matrixFrame,
  meanStaleness,
  twinCostModels,
} from './lib/quality-matrix.ts';
import type { BacktestReport } from '../detectors/backtest/types.ts';
import { benchPolicy, costAwareTrigger, DEFAULT_TWINS, memoTrainer } from './decisions.ts';
import { bestPeriodic, hoursText } from './lib/periodic.ts';
import { LATEST_RULE_REVISION } from '../detectors/policy/state.ts';
import type { MonitorSettings } from '../detectors/monitor/types.ts';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ...STREAM_OPTIONS,
      timeline: { type: 'boolean' },
      noise: { type: 'boolean' },
      explain: { type: 'boolean' },
      expected: { type: 'boolean' },
      rule: { type: 'string' },
      revisions: { type: 'string' },
      price: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(
      'Usage: npx tsx bench/tune-decisions.ts [--seeds tuning|1-3,101-105] [--days 14] [--kinds gradual,abrupt,recurring] [--rule forecast-then-cumulative|cumulative|forecast] [--revisions 4,5 [--price] [--json]] [--timeline] [--noise] [--explain] [--expected]\n',
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
  const earliness = new Map<string, number[][]>();
  const rows: RevisionRow[] = [];
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
      if (values.revisions !== undefined) {
        const revisions = values.revisions.split(',').map(Number);
        if (revisions.some((r) => !Number.isInteger(r) || r < 1 || r > LATEST_RULE_REVISION))
          throw new Error(
            `--revisions "${values.revisions}": rule revisions 1–${LATEST_RULE_REVISION}, comma-separated`,
          );
        // Each revision's schedule first (one backtest each); the matrix only when they differ.
        const frame = matrixFrame(spec, scenario);
        const runs: { revision: number; report: BacktestReport; retrainSteps: number[]; probeSteps: number[] }[] = [];
        for (const revision of revisions) {
          const policy = benchPolicy('ca', costAwareTrigger, spec.trainingWindow);
          const { report, retrainSteps } = await backtestOnMatrix(frame, policy, trainer, {
            ruleRevision: revision as MonitorSettings['ruleRevision'],
          });
          runs.push({ revision, report, retrainSteps, probeSteps: probeTimes(report) });
        }
        const key = (r: { retrainSteps: number[]; probeSteps: number[] }) =>
          `${r.retrainSteps.join(' ')}|${r.probeSteps.join(' ')}`;
        const same = runs.every((r) => key(r) === key(runs[0] as (typeof runs)[number]));
        const row: RevisionRow = { kind, seed, same, bestPeriodic: null, oracle: null, revisions: {} };
        if (!same || values.price) {
          const { costModel } = buildQualityMatrix(spec, { scenario, trainer });
          const periodic = bestPeriodic(costModel);
          row.bestPeriodic = { cost: periodic.cost.totalCost, period: hoursText(periodic.period) };
          row.oracle = oracleSchedule(costModel).totalCost;
          // With --expected, also the expected-cost oracle (4 more quality matrices: the twins).
          if (values.expected)
            row.expectedOracle = scheduleCost(
              costModel,
              oracleSchedule(meanStaleness(twinCostModels(spec, DEFAULT_TWINS, { trainer: builtInTrainer() })))
                .retrainSteps,
            ).totalCost;
          for (const r of runs) {
            const priced = scheduleCost(costModel, r.retrainSteps);
            row.revisions[r.revision] = {
              cost: priced.totalCost + (r.report.trueCostParts?.probeCost ?? 0),
              retrains: priced.retrainSteps.length,
              probes: r.report.probes,
              stepRetrains: stepRetrains(r.report),
            };
          }
        } else
          for (const r of runs)
            row.revisions[r.revision] = {
              cost: null,
              retrains: r.retrainSteps.length,
              probes: r.report.probes,
              stepRetrains: stepRetrains(r.report),
            };
        rows.push(row);
        process.stdout.write(`${revisionLine(row)}\n`);
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
      const probeCost = values.expected ? (report.trueCostParts?.probeCost ?? 0) : 0;
      // The expected-cost oracle knows the concept's path, not the dice (bench/decisions.ts).
      const oracle = values.expected
        ? scheduleCost(
            costModel,
            oracleSchedule(meanStaleness(twinCostModels(spec, DEFAULT_TWINS, { trainer: builtInTrainer() })))
              .retrainSteps,
          )
        : oracleSchedule(costModel);
      const against = values.expected ? 'expected-cost oracle' : 'oracle';
      const ratio = (mine.totalCost + probeCost) / oracle.totalCost;
      ratios.set(kind, [...(ratios.get(kind) ?? []), ratio]);
      process.stdout.write(
        `${kind} ${seed}: cost-aware ${mine.totalCost.toFixed(0)} (${mine.retrainSteps.length} rt${values.expected ? `, probes ${probeCost.toFixed(0)}` : ''}) ${against} ${oracle.totalCost.toFixed(0)} (${oracle.retrainSteps.length} rt) ×${ratio.toFixed(values.expected ? 3 : 2)}\n`,
      );
      if (values.explain) {
        const g = decomposeGap(costModel, mine.retrainSteps, oracle.retrainSteps);
        gaps.set(kind, [...(gaps.get(kind) ?? []), { g, retrainCost: COSTS.retrainCost }]);
        process.stdout.write(`${gapLine(`  gap ${kind} ${seed}`, g, COSTS.retrainCost)}\n`);
        if (values.expected) {
          const earlier = EARLIER_WINDOWS.map(
            (d) =>
              (scheduleCost(
                costModel,
                mine.retrainSteps.map((s) => Math.max(1, s - d)),
              ).totalCost +
                probeCost) /
              oracle.totalCost,
          );
          earliness.set(kind, [...(earliness.get(kind) ?? []), earlier]);
          process.stdout.write(
            `    probes ${probeCost.toFixed(0)} (${(probeCost / oracle.totalCost).toFixed(3)}); every retrain ${EARLIER_WINDOWS.join(', ')} windows earlier: ${earlier.map((r) => `×${r.toFixed(3)}`).join(', ')}\n`,
          );
        }
      }
      if (values.timeline) {
        process.stdout.write(
          `  cost-aware retrains at ${mine.retrainSteps.join(' ')}\n  ${against} retrains at ${oracle.retrainSteps.join(' ')}\n`,
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
  if (values.revisions !== undefined) {
    process.stdout.write(`${revisionSummary(rows)}\n`);
    if (values.json) process.stdout.write(`${JSON.stringify({ seeds, days, kinds, rows }, null, 2)}\n`);
    return;
  }
  const all: number[] = [];
  for (const [kind, rs] of ratios) {
    all.push(...rs);
    process.stdout.write(`${kind}: mean ×${(rs.reduce((a, b) => a + b, 0) / rs.length).toFixed(3)}\n`);
  }
  process.stdout.write(`all: mean ×${(all.reduce((a, b) => a + b, 0) / all.length).toFixed(3)}\n`);
  for (const [kind, rs] of earliness)
    process.stdout.write(
      `${kind}: every retrain ${EARLIER_WINDOWS.join(', ')} windows earlier: mean ${EARLIER_WINDOWS.map((_, i) => `×${(rs.reduce((a, r) => a + (r[i] as number), 0) / rs.length).toFixed(3)}`).join(', ')} the expected-cost oracle\n`,
    );
  if (values.explain && gaps.size > 0) {
    const groups: [string, ReturnType<typeof gapTotals>][] = [...gaps].map(([kind, rows]) => [kind, gapTotals(rows)]);
    groups.push(['all', gapTotals([...gaps.values()].flat())]);
    process.stdout.write(
      `\nGap to the ${values.expected ? 'expected-cost oracle' : 'oracle'}, mean per stream as a share of its cost (parts add up to × oracle − 1${values.expected ? ", less the probes' cost" : ''}):\n${gapTable(groups)}\n`,
    );
  }
}

/** The counterfactual shifts `--expected --explain` prices: every retrain this many windows earlier. */
const EARLIER_WINDOWS = [1, 2, 3, 4] as const;

interface RevisionRow {
  kind: string;
  seed: number;
  /** Whether every revision made the same retrains and probes (then they cost the same). */
  same: boolean;
  /** Priced only when the schedules differ (or with `--price`). */
  bestPeriodic: { cost: number; period: string } | null;
  oracle: number | null;
  /** The expected-cost oracle's cost, when priced with `--expected`. @default undefined */
  expectedOracle?: number;
  revisions: Record<number, { cost: number | null; retrains: number; probes: number; stepRetrains: number }>;
}

/** Monitored steps at which a challenger probe started. */
function probeTimes(report: BacktestReport): number[] {
  return report.windows.flatMap((w, t) => (w.probe?.started ? [t] : []));
}

function stepRetrains(report: BacktestReport): number {
  return report.decisions.filter((d) => d.kind === 'retrain' && /step down/.test(d.reason)).length;
}

function revisionLine(row: RevisionRow): string {
  const cells = Object.entries(row.revisions).map(
    ([r, o]) =>
      `rev ${r} ${o.cost === null ? '' : `${o.cost.toFixed(0)} `}(${o.retrains} rt, ${o.stepRetrains} by the step rule, ${o.probes} probes${o.cost !== null && row.bestPeriodic ? `; ÷ periodic ${(o.cost / row.bestPeriodic.cost).toFixed(3)}` : ''})`,
  );
  const priced =
    row.bestPeriodic === null
      ? ' — same schedule'
      : ` | best periodic ${row.bestPeriodic.cost.toFixed(0)} (${row.bestPeriodic.period}) | oracle ${(row.oracle as number).toFixed(0)}${row.expectedOracle === undefined ? '' : ` | expected-cost oracle ${row.expectedOracle.toFixed(0)}`}`;
  return `${row.kind} ${row.seed}: ${cells.join(' | ')}${priced}`;
}

/** Per revision, over the streams priced: total cost, mean × oracle, streams above the best periodic (a tie within 0.5% counts). */
function revisionSummary(rows: readonly RevisionRow[]): string {
  const revisions = [...new Set(rows.flatMap((r) => Object.keys(r.revisions)))];
  const same = rows.filter((r) => r.same).length;
  const lines = revisions.map((rev) => {
    const mine = rows.flatMap((r) => {
      const o = r.revisions[Number(rev)];
      return o === undefined || o.cost === null || r.bestPeriodic === null || r.oracle === null
        ? []
        : [
            {
              cost: o.cost,
              periodic: r.bestPeriodic.cost,
              oracle: r.oracle,
              expected: r.expectedOracle,
              name: `${r.kind} ${r.seed}`,
            },
          ];
    });
    const total = mine.reduce((s, m) => s + m.cost, 0);
    const ratio = mine.reduce((s, m) => s + m.cost / m.oracle, 0) / Math.max(1, mine.length);
    const expected = mine.flatMap((m) => (m.expected === undefined ? [] : [m.cost / m.expected]));
    const expectedText =
      expected.length === 0
        ? ''
        : `, mean ×${(expected.reduce((s, v) => s + v, 0) / expected.length).toFixed(3)} the expected-cost oracle`;
    const above = mine.filter((m) => m.cost > m.periodic * 1.005).map((m) => m.name);
    return `rev ${rev}: ${mine.length} streams priced, total ${total.toFixed(0)}, mean ×${ratio.toFixed(3)} the oracle${expectedText}, above the best periodic on ${above.length} (${above.join(', ')})`;
  });
  return [`${same} of ${rows.length} streams: the same schedule at every revision`, ...lines].join('\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
