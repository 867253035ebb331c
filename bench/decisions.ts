/**
 * Decision quality: does the cost-aware policy retrain at the right times?
 *
 * Seeded synthetic streams whose model quality decays — gradual (rotating hyperplane), abrupt
 * (SEA concept changes at seeded times), recurring (SEA concepts that alternate) — are replayed
 * through `runBacktest` (the monitor tick, detectors, decay model and policy code the daemon
 * ships) with the built-in logistic regression retrained whenever a policy says so. Every policy
 * is then priced on one yardstick, the benchmark cost model:
 *
 *   cost = Σ_windows V × events × max(0, q_fresh(t) − q(t)) + C × retrains
 *
 * where q(t) is the realised accuracy of the serving model in window t and q_fresh(t) that of a
 * model retrained just before window t (what retraining at t would have bought). Because training
 * is deterministic, the benchmark can train a model at every step and measure it on every later
 * window: that matrix is the cost model, and the oracle is the DP over retrain times on it
 * (`oracleSchedule`) — the best any policy using the same trainer and training window can do.
 * That oracle is clairvoyant: it also knows which trained models turn out lucky and each window's
 * sampling noise. The expected-cost oracle knows only how the concept will move: it plans on the
 * mean staleness of `--twins` twins of the stream (same concept path, independent events) and is
 * priced on the stream itself (bench/decision-bounds.ts prices the other kinds of foresight).
 *
 * Policies: cost-aware (forecast-then-cumulative, median), periodic (best period on a grid,
 * chosen in hindsight per stream — a generous baseline), drift-triggered (dataset drift in two
 * consecutive windows), never (manual), expected-cost oracle, oracle.
 *
 * Usage: npm run bench -- decisions [--quick] [--json] [--seeds 3] [--twins 4]
 */
import { parseArgs } from 'node:util';
import { builtInTrainer } from '../training/backtest-trainer.ts';
import { runBacktest } from '../detectors/backtest/engine.ts';
import type { BacktestModel, BacktestTrainer, TrainingSet } from '../detectors/backtest/types.ts';
import { studentTQuantile } from '../detectors/decay/stats.ts';
import { oracleSchedule, scheduleCost } from './lib/oracle.ts';
import type { PolicyTrigger, RetrainPolicy } from '../detectors/policy/types.ts';
import { buildScenario, COSTS, type ScenarioKind, type ScenarioSpec } from './lib/decision-streams.ts';
import { buildQualityMatrix, CADENCE_MS, meanStaleness, twinCostModels } from './lib/quality-matrix.ts';

export { buildScenario, COSTS, type ScenarioKind, type ScenarioSpec };

const HOUR = 3_600_000;

/** The trainer, memoised by training window: equal windows give equal models, so this only saves time. One stream per memo (the key is the window's times and size, which twin streams share). */
export function memoTrainer(inner: BacktestTrainer): BacktestTrainer {
  const cache = new Map<string, BacktestModel>();
  return {
    name: inner.name,
    train(data: TrainingSet, seed: number) {
      const key = `${data.rows[0]?.time}:${data.rows.at(-1)?.time}:${data.rows.length}:${seed}`;
      let model = cache.get(key);
      if (!model) {
        model = inner.train(data, seed);
        cache.set(key, model);
      }
      return model;
    },
  };
}

/** A benchmark policy: the trigger under test, guards out of the way, a fixed training window. */
export function benchPolicy(name: string, trigger: PolicyTrigger, trainingWindow: string): RetrainPolicy {
  return {
    name,
    version: '1',
    model: 'bench',
    description: '',
    trigger,
    // Guards out of the way: the benchmark compares triggers, not budgets.
    guards: {
      cooldown: '1h',
      budget: { maxRetrains: 1000, per: '7d' },
      oneAtATime: true,
      blackout: [],
      approval: { required: false, timeout: '1h' },
      requireDataQuality: false,
    },
    trainingWindow: { kind: 'fixed', duration: trainingWindow },
  };
}

/** The cost-aware trigger as the benchmark runs it: the stated costs, observed traffic, median forecast. */
export const costAwareTrigger: PolicyTrigger = {
  kind: 'cost-aware',
  valuePerQualityUnit: COSTS.valuePerQualityUnit,
  traffic: { kind: 'observed', fallbackPerHour: 0 },
  horizon: '7d',
  retrainCost: COSTS.retrainCost,
  deploymentRisk: { probability: 0, cost: 0 },
  quantile: 0.5,
  rule: 'forecast-then-cumulative',
};

const PERIODS = ['2h', '3h', '4h', '6h', '8h', '12h', '18h', '1d', '36h', '2d', '3d', '5d'];
const QUICK_PERIODS = ['3h', '6h', '12h', '1d', '2d', '4d'];

export interface PolicyOutcome {
  policy: string;
  retrains: number;
  stalenessCost: number;
  retrainCost: number;
  totalCost: number;
  ratioToOracle: number;
}

export interface ScenarioResult {
  kind: ScenarioKind;
  seed: number;
  description: string;
  windows: number;
  events: number;
  outcomes: PolicyOutcome[];
  bestPeriod: string;
  seconds: number;
}

/** Twins behind the expected-cost oracle (0: leave it out). */
export const DEFAULT_TWINS = 4;

export async function runScenario(
  spec: ScenarioSpec,
  periods: readonly string[],
  log: (line: string) => void = () => {},
  twins = DEFAULT_TWINS,
): Promise<ScenarioResult> {
  const started = Date.now();
  const trainer = memoTrainer(builtInTrainer());
  const { scenario, steps, monitoredStart, costModel } = buildQualityMatrix(spec, { trainer, onProgress: log });
  const cadenceMs = CADENCE_MS;
  const referenceMs = spec.referenceHours * HOUR;

  const run = async (p: RetrainPolicy): Promise<number[]> => {
    const report = await runBacktest({
      rows: scenario.rows,
      numeric: scenario.numeric,
      hasPrediction: false,
      policy: p,
      cadenceMs,
      referenceWindowMs: referenceMs,
      trainer,
      costModel: COSTS,
    });
    const retrainSteps = report.decisions
      .filter((d) => d.kind === 'retrain')
      .map((d) => Math.round((d.time - monitoredStart) / cadenceMs))
      .filter((s) => s < steps);
    // Sanity: the engine's realised quality is the matrix's (same models, same windows).
    let version = 0;
    report.windows.forEach((w, t) => {
      while (version < retrainSteps.length && (retrainSteps[version] as number) <= t) version++;
      const k = version === 0 ? 0 : (retrainSteps[version - 1] as number);
      if (w.quality !== null && t < steps && Math.abs(w.quality - costModel.qualityAt(k, t)) > 1e-9)
        throw new Error(
          `${p.name}: window ${t} quality ${w.quality} differs from the matrix ${costModel.qualityAt(k, t)}`,
        );
    });
    return retrainSteps;
  };

  const oracle = oracleSchedule(costModel);
  const priced = (name: string, retrainSteps: number[]): PolicyOutcome => {
    const c = scheduleCost(costModel, retrainSteps);
    return {
      policy: name,
      retrains: c.retrainSteps.length,
      stalenessCost: c.stalenessCost,
      retrainCost: c.retrainCost,
      totalCost: c.totalCost,
      ratioToOracle: c.totalCost / oracle.totalCost,
    };
  };
  log(`  ${spec.kind} seed ${spec.seed}: policies…`);
  const outcomes: PolicyOutcome[] = [];
  outcomes.push(priced('cost-aware', await run(benchPolicy('cost-aware', costAwareTrigger, spec.trainingWindow))));
  let bestPeriodic: PolicyOutcome | null = null;
  let bestPeriod = '';
  for (const every of periods) {
    const o = priced(
      `periodic ${every}`,
      await run(benchPolicy(`periodic-${every}`, { kind: 'periodic', every }, spec.trainingWindow)),
    );
    if (bestPeriodic === null || o.totalCost < bestPeriodic.totalCost) {
      bestPeriodic = o;
      bestPeriod = every;
    }
  }
  outcomes.push({ ...(bestPeriodic as PolicyOutcome), policy: 'best periodic' });
  outcomes.push(
    priced(
      'drift-triggered',
      await run(
        benchPolicy(
          'drift',
          { kind: 'drift-triggered', signal: 'dataset-drift', share: 0.5, consecutiveWindows: 2 },
          spec.trainingWindow,
        ),
      ),
    ),
  );
  outcomes.push(priced('never', await run(benchPolicy('never', { kind: 'manual' }, spec.trainingWindow))));
  if (twins > 0)
    outcomes.push(
      priced(
        'expected-cost oracle',
        oracleSchedule(meanStaleness(twinCostModels(spec, twins, { trainer: builtInTrainer(), onProgress: log })))
          .retrainSteps,
      ),
    );
  outcomes.push({
    policy: 'oracle',
    retrains: oracle.retrainSteps.length,
    stalenessCost: oracle.stalenessCost,
    retrainCost: oracle.retrainCost,
    totalCost: oracle.totalCost,
    ratioToOracle: 1,
  });
  return {
    kind: spec.kind,
    seed: spec.seed,
    description: scenario.description,
    windows: steps,
    events: scenario.rows.length,
    outcomes,
    bestPeriod,
    seconds: (Date.now() - started) / 1000,
  };
}

export function scenarioSpecs(quick: boolean, seeds: number): ScenarioSpec[] {
  const base = { days: quick ? 7 : 14, eventsPerHour: 300, referenceHours: 12 };
  const specs: ScenarioSpec[] = [];
  for (const kind of ['gradual', 'abrupt', 'recurring'] as const) {
    // One training window for every stream and policy (the oracle's matrix assumes it): short, so a
    // retrain soon after a change inherits little of the superseded concept.
    for (let s = 1; s <= seeds; s++) specs.push({ ...base, kind, seed: s, trainingWindow: '4h' });
  }
  return specs;
}

/** 95% t-interval of a mean over streams (streams are independent draws; a few seeds give a wide one). */
export function meanInterval(values: readonly number[]): [number, number] | null {
  if (values.length < 2) return null;
  const m = values.reduce((s, v) => s + v, 0) / values.length;
  const sd = Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / (values.length - 1));
  const half = studentTQuantile(0.975, values.length - 1) * (sd / Math.sqrt(values.length));
  return [m - half, m + half];
}

export function summarise(results: ScenarioResult[]) {
  const names = results[0]?.outcomes.map((o) => o.policy) ?? [];
  const byKind = new Map<string, ScenarioResult[]>();
  for (const r of results) byKind.set(r.kind, [...(byKind.get(r.kind) ?? []), r]);
  const mean = (rs: ScenarioResult[], name: string, f: (o: PolicyOutcome) => number): number =>
    rs.reduce((s, r) => s + f(r.outcomes.find((o) => o.policy === name) as PolicyOutcome), 0) / rs.length;
  const cost = (r: ScenarioResult, name: string): number =>
    (r.outcomes.find((o) => o.policy === name) as PolicyOutcome).totalCost;
  const groups = [...byKind.entries(), ['all', results] as [string, ScenarioResult[]]];
  return groups.map(([kind, rs]) => ({
    scenario: kind,
    runs: rs.length,
    policies: names.map((name) => ({
      policy: name,
      meanTotalCost: mean(rs, name, (o) => o.totalCost),
      meanRatioToOracle: mean(rs, name, (o) => o.ratioToOracle),
      ratioToOracleCi95: meanInterval(
        rs.map((r) => (r.outcomes.find((o) => o.policy === name) as PolicyOutcome).ratioToOracle),
      ),
      meanRetrains: mean(rs, name, (o) => o.retrains),
    })),
    // Cost-aware against the oracle that knows the concept's future but not the dice (when run).
    costAwareToExpectedCostOracle: names.includes('expected-cost oracle')
      ? rs.reduce((sum, r) => sum + cost(r, 'cost-aware') / cost(r, 'expected-cost oracle'), 0) / rs.length
      : null,
  }));
}

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== '--'),
    options: {
      quick: { type: 'boolean' },
      json: { type: 'boolean' },
      seeds: { type: 'string' },
      twins: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write('Usage: npm run bench -- decisions [--quick] [--json] [--seeds 3] [--twins 4]\n');
    return;
  }
  const twins = Number(values.twins ?? DEFAULT_TWINS);
  if (!(Number.isInteger(twins) && twins >= 0))
    throw new Error(`--twins must be a whole number ≥ 0 (0 leaves the expected-cost oracle out), got ${values.twins}`);
  const quick = values.quick === true;
  const seeds = Number(values.seeds ?? (quick ? 1 : 3));
  const specs = scenarioSpecs(quick, seeds);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(
    `decision-quality benchmark: ${specs.length} streams (${quick ? 'quick' : 'full'}), cost model V=${COSTS.valuePerQualityUnit} per event per accuracy unit, C=${COSTS.retrainCost} per retrain`,
  );
  const results: ScenarioResult[] = [];
  for (const spec of specs) {
    const r = await runScenario(spec, quick ? QUICK_PERIODS : PERIODS, log, twins);
    log(
      `  ${spec.kind} seed ${spec.seed}: ${r.outcomes.map((o) => `${o.policy} ${o.totalCost.toFixed(0)} (${o.retrains})`).join(', ')} [${r.seconds.toFixed(1)} s]`,
    );
    results.push(r);
  }
  const summary = summarise(results);
  const out = {
    benchmark: 'decisions',
    date: new Date().toISOString(),
    quick,
    twins,
    costs: COSTS,
    cadence: '1h',
    results,
    summary,
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  process.stdout.write(markdownTables(results, summary, twins));
}

/** The report's two tables (per stream, per scenario) as BENCHMARKS.md has them. */
export function markdownTables(
  results: readonly ScenarioResult[],
  summary: ReturnType<typeof summarise>,
  twins: number,
): string {
  const lines: string[] = [];
  const expected = twins > 0 ? ' expected-cost oracle |' : '';
  const expectedRule = twins > 0 ? '---|' : '';
  lines.push(
    `| stream | seed | cost-aware | best periodic (period) | drift-triggered | never |${expected} oracle |`,
    `|---|---|---|---|---|---|${expectedRule}---|`,
  );
  for (const r of results) {
    const cell = (name: string) => {
      const o = r.outcomes.find((x) => x.policy === name) as PolicyOutcome;
      return `${o.totalCost.toFixed(0)} (×${o.ratioToOracle.toFixed(2)}, ${o.retrains} rt)`;
    };
    lines.push(
      `| ${r.kind} | ${r.seed} | ${cell('cost-aware')} | ${cell('best periodic')} ${r.bestPeriod} | ${cell('drift-triggered')} | ${cell('never')} |${twins > 0 ? ` ${cell('expected-cost oracle')} |` : ''} ${cell('oracle')} |`,
    );
  }
  lines.push(
    '',
    `| scenario | runs | cost-aware | best periodic | drift-triggered | never |${expected} oracle |`,
    `|---|---|---|---|---|---|${expectedRule}---|`,
  );
  for (const g of summary) {
    const cell = (name: string) => {
      const p = g.policies.find((x) => x.policy === name);
      const ci =
        p?.ratioToOracleCi95 && name !== 'oracle'
          ? `, 95% CI ${p.ratioToOracleCi95[0].toFixed(2)}–${p.ratioToOracleCi95[1].toFixed(2)}`
          : '';
      return p ? `${p.meanTotalCost.toFixed(0)} (×${p.meanRatioToOracle.toFixed(3)}${ci})` : '';
    };
    lines.push(
      `| ${g.scenario} | ${g.runs} | ${cell('cost-aware')} | ${cell('best periodic')} | ${cell('drift-triggered')} | ${cell('never')} |${twins > 0 ? ` ${cell('expected-cost oracle')} |` : ''} ${cell('oracle')} |`,
    );
  }
  if (twins > 0)
    lines.push(
      '',
      `cost-aware ÷ expected-cost oracle (mean per stream): ${summary.map((g) => `${g.scenario} ×${(g.costAwareToExpectedCostOracle as number).toFixed(3)}`).join(', ')}`,
    );
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
