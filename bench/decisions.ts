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
 *
 * Policies: cost-aware (forecast-then-cumulative, median), periodic (best period on a grid,
 * chosen in hindsight per stream — a generous baseline), drift-triggered (dataset drift in two
 * consecutive windows), never (manual), oracle.
 *
 * Usage: npm run bench -- decisions [--quick] [--json] [--seeds 3]
 */
import { parseArgs } from 'node:util';
import { builtInTrainer } from '../cli/commands/backtest.ts';
import { runBacktest, qualityOf, trainVersion } from '../detectors/backtest/engine.ts';
import type { BacktestModel, BacktestRow, BacktestTrainer, TrainingSet } from '../detectors/backtest/types.ts';
import { oracleSchedule, scheduleCost } from '../detectors/economics/oracle.ts';
import type { CostModel } from '../detectors/economics/types.ts';
import { parseDuration } from '../detectors/policy/duration.ts';
import type { PolicyTrigger, RetrainPolicy } from '../detectors/policy/types.ts';
import { hyperplaneStream, recurringSchedule, seaStream, take } from '../synthetic/index.ts';
import type { ConceptChange } from '../synthetic/index.ts';
import { Random } from '../synthetic/random.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);

/** The stated cost model: money per event per 1.0 of accuracy lost, and per retrain. */
export const COSTS = { valuePerQualityUnit: 1, retrainCost: 150 } as const;

export type ScenarioKind = 'gradual' | 'abrupt' | 'recurring';

export interface ScenarioSpec {
  kind: ScenarioKind;
  seed: number;
  days: number;
  eventsPerHour: number;
  referenceHours: number;
  trainingWindow: string;
}

interface Scenario extends ScenarioSpec {
  rows: BacktestRow[];
  numeric: string[];
  description: string;
}

export function buildScenario(spec: ScenarioSpec): Scenario {
  const n = Math.round((spec.days * 24 + spec.referenceHours) * spec.eventsPerHour);
  const random = new Random(spec.seed ^ 0x5bd1e995);
  let events: { features: number[]; label: 0 | 1 }[];
  let description: string;
  if (spec.kind === 'gradual') {
    // Two of five weights rotate steadily (rare reversals): a frozen model loses accuracy smoothly.
    events = take(hyperplaneStream({ seed: spec.seed, dimensions: 5, driftingFeatures: 2, magnitude: 0.4 / (24 * spec.eventsPerHour), reversalProbability: 1 / (3 * 24 * spec.eventsPerHour), noise: 0.05 }), n);
    description = 'rotating hyperplane, 5 features, 2 rotating ~0.4 weight units a day, noise 5%';
  } else if (spec.kind === 'abrupt') {
    // Concept changes at seeded times, 1–3 days apart, cycling through SEA's thresholds.
    const changes: ConceptChange[] = [];
    let position = Math.round(spec.referenceHours * spec.eventsPerHour + random.uniform(0.5, 2) * 24 * spec.eventsPerHour);
    let concept = 0;
    while (position < n) {
      concept = (concept + 1 + random.integer(0, 2)) % 4;
      changes.push({ position, concept });
      position += Math.round(random.uniform(1, 3) * 24 * spec.eventsPerHour);
    }
    events = take(seaStream({ seed: spec.seed, schedule: { initial: 0, changes }, noise: 0.1 }), n);
    description = `SEA, abrupt concept changes every 1–3 days (${changes.length} changes), noise 10%`;
  } else {
    // Two concepts alternate every 2 days: a stale model is right again when its concept returns.
    const period = 2 * 24 * spec.eventsPerHour;
    events = take(seaStream({ seed: spec.seed, schedule: recurringSchedule({ concepts: [2, 3], period, start: Math.round(spec.referenceHours * spec.eventsPerHour + period / 2), length: n }), noise: 0.1 }), n);
    description = 'SEA, concepts θ=7 and θ=9.5 alternating every 2 days, noise 10%';
  }
  const numeric = (events[0]?.features ?? []).map((_, j) => `x${j + 1}`);
  const rows: BacktestRow[] = events.map((e, i) => ({
    time: T0 + Math.floor((i * HOUR) / spec.eventsPerHour),
    features: Object.fromEntries(e.features.map((v, j) => [`x${j + 1}`, v])),
    prediction: null,
    label: e.label,
  }));
  return { ...spec, rows, numeric, description };
}

/** The trainer, memoised by training window: equal windows give equal models, so this only saves time. */
function memoTrainer(inner: BacktestTrainer): BacktestTrainer {
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

function policy(name: string, trigger: PolicyTrigger, trainingWindow: string): RetrainPolicy {
  return {
    name,
    version: '1',
    model: 'bench',
    description: '',
    trigger,
    // Guards out of the way: the benchmark compares triggers, not budgets.
    guards: { cooldown: '1h', budget: { maxRetrains: 1000, per: '7d' }, oneAtATime: true, blackout: [], approval: { required: false, timeout: '1h' }, requireDataQuality: false },
    trainingWindow: { kind: 'fixed', duration: trainingWindow },
  };
}

const costAwareTrigger: PolicyTrigger = {
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

export async function runScenario(spec: ScenarioSpec, periods: readonly string[], log: (line: string) => void = () => {}): Promise<ScenarioResult> {
  const started = Date.now();
  const scenario = buildScenario(spec);
  const trainer = memoTrainer(builtInTrainer());
  const cadenceMs = HOUR;
  const referenceMs = spec.referenceHours * HOUR;
  const origin = Math.floor((scenario.rows[0] as BacktestRow).time / cadenceMs) * cadenceMs;
  const monitoredStart = origin + referenceMs;
  const steps = Math.ceil(((scenario.rows.at(-1) as BacktestRow).time + 1 - monitoredStart) / cadenceMs);

  // Rows per monitored window.
  const windowRows: BacktestRow[][] = Array.from({ length: steps }, () => []);
  for (const r of scenario.rows) {
    const t = Math.floor((r.time - monitoredStart) / cadenceMs);
    if (t >= 0 && t < steps) (windowRows[t] as BacktestRow[]).push(r);
  }
  const rowsBetween = (from: number, to: number) => scenario.rows.filter((r) => r.time >= from && r.time < to);
  const settings = { qualityMetric: 'accuracy' as const };
  // Model of step k: step 0 is the first model (reference period); k ≥ 1 retrained on the training window ending at window k's start.
  const windowMs = parseDuration(spec.trainingWindow);
  const modelAt = (k: number): BacktestModel => {
    const end = monitoredStart + k * cadenceMs;
    const rows = k === 0 ? rowsBetween(origin, monitoredStart) : rowsBetween(end - windowMs, end);
    const trained = trainVersion(trainer, rows, scenario.numeric, [], 1, 0.2, settings);
    if ('error' in trained) throw new Error(`step ${k}: ${trained.error}`);
    return trained.model;
  };
  log(`  ${spec.kind} seed ${spec.seed}: ${scenario.rows.length} events, ${steps} windows; quality matrix…`);
  const quality: Float64Array[] = [];
  for (let k = 0; k < steps; k++) {
    const model = modelAt(k);
    const row = new Float64Array(steps);
    for (let t = k; t < steps; t++) {
      const rows = windowRows[t] as BacktestRow[];
      row[t] = qualityOf(rows.map((r) => model.predict(r.features)), rows.map((r) => r.label), settings) ?? 0;
    }
    quality.push(row);
  }
  const costModel: CostModel = {
    steps,
    qualityAt: (k, t) => (quality[k] as Float64Array)[t] as number,
    eventsAt: (t) => (windowRows[t] as BacktestRow[]).length,
    valuePerQualityUnit: COSTS.valuePerQualityUnit,
    retrainCost: COSTS.retrainCost,
  };

  const run = async (p: RetrainPolicy): Promise<number[]> => {
    const report = await runBacktest({ rows: scenario.rows, numeric: scenario.numeric, hasPrediction: false, policy: p, cadenceMs, referenceWindowMs: referenceMs, trainer, costModel: COSTS });
    const retrainSteps = report.decisions.filter((d) => d.kind === 'retrain').map((d) => Math.round((d.time - monitoredStart) / cadenceMs)).filter((s) => s < steps);
    // Sanity: the engine's realised quality is the matrix's (same models, same windows).
    let version = 0;
    report.windows.forEach((w, t) => {
      while (version < retrainSteps.length && (retrainSteps[version] as number) <= t) version++;
      const k = version === 0 ? 0 : (retrainSteps[version - 1] as number);
      if (w.quality !== null && t < steps && Math.abs(w.quality - costModel.qualityAt(k, t)) > 1e-9) throw new Error(`${p.name}: window ${t} quality ${w.quality} differs from the matrix ${costModel.qualityAt(k, t)}`);
    });
    return retrainSteps;
  };

  const oracle = oracleSchedule(costModel);
  const priced = (name: string, retrainSteps: number[]): PolicyOutcome => {
    const c = scheduleCost(costModel, retrainSteps);
    return { policy: name, retrains: c.retrainSteps.length, stalenessCost: c.stalenessCost, retrainCost: c.retrainCost, totalCost: c.totalCost, ratioToOracle: c.totalCost / oracle.totalCost };
  };
  log(`  ${spec.kind} seed ${spec.seed}: policies…`);
  const outcomes: PolicyOutcome[] = [];
  outcomes.push(priced('cost-aware', await run(policy('cost-aware', costAwareTrigger, spec.trainingWindow))));
  let bestPeriodic: PolicyOutcome | null = null;
  let bestPeriod = '';
  for (const every of periods) {
    const o = priced(`periodic ${every}`, await run(policy(`periodic-${every}`, { kind: 'periodic', every }, spec.trainingWindow)));
    if (bestPeriodic === null || o.totalCost < bestPeriodic.totalCost) {
      bestPeriodic = o;
      bestPeriod = every;
    }
  }
  outcomes.push({ ...(bestPeriodic as PolicyOutcome), policy: 'best periodic' });
  outcomes.push(priced('drift-triggered', await run(policy('drift', { kind: 'drift-triggered', signal: 'dataset-drift', share: 0.5, consecutiveWindows: 2 }, spec.trainingWindow))));
  outcomes.push(priced('never', await run(policy('never', { kind: 'manual' }, spec.trainingWindow))));
  outcomes.push({ policy: 'oracle', retrains: oracle.retrainSteps.length, stalenessCost: oracle.stalenessCost, retrainCost: oracle.retrainCost, totalCost: oracle.totalCost, ratioToOracle: 1 });
  return { kind: spec.kind, seed: spec.seed, description: scenario.description, windows: steps, events: scenario.rows.length, outcomes, bestPeriod, seconds: (Date.now() - started) / 1000 };
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

function summarise(results: ScenarioResult[]) {
  const names = results[0]?.outcomes.map((o) => o.policy) ?? [];
  const byKind = new Map<string, ScenarioResult[]>();
  for (const r of results) byKind.set(r.kind, [...(byKind.get(r.kind) ?? []), r]);
  const mean = (rs: ScenarioResult[], name: string, f: (o: PolicyOutcome) => number): number => rs.reduce((s, r) => s + f(r.outcomes.find((o) => o.policy === name) as PolicyOutcome), 0) / rs.length;
  const groups = [...byKind.entries(), ['all', results] as [string, ScenarioResult[]]];
  return groups.map(([kind, rs]) => ({
    scenario: kind,
    runs: rs.length,
    policies: names.map((name) => ({ policy: name, meanTotalCost: mean(rs, name, (o) => o.totalCost), meanRatioToOracle: mean(rs, name, (o) => o.ratioToOracle), meanRetrains: mean(rs, name, (o) => o.retrains) })),
  }));
}

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const { values } = parseArgs({ args: argv.filter((a) => a !== '--'), options: { quick: { type: 'boolean' }, json: { type: 'boolean' }, seeds: { type: 'string' } } });
  const quick = values.quick === true;
  const seeds = Number(values.seeds ?? (quick ? 1 : 3));
  const specs = scenarioSpecs(quick, seeds);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(`decision-quality benchmark: ${specs.length} streams (${quick ? 'quick' : 'full'}), cost model V=${COSTS.valuePerQualityUnit} per event per accuracy unit, C=${COSTS.retrainCost} per retrain`);
  const results: ScenarioResult[] = [];
  for (const spec of specs) {
    const r = await runScenario(spec, quick ? QUICK_PERIODS : PERIODS, log);
    log(`  ${spec.kind} seed ${spec.seed}: ${r.outcomes.map((o) => `${o.policy} ${o.totalCost.toFixed(0)} (${o.retrains})`).join(', ')} [${r.seconds.toFixed(1)} s]`);
    results.push(r);
  }
  const summary = summarise(results);
  const out = { benchmark: 'decisions', date: new Date().toISOString(), quick, costs: COSTS, cadence: '1h', results, summary };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const lines: string[] = [];
  lines.push('| stream | seed | cost-aware | best periodic (period) | drift-triggered | never | oracle |', '|---|---|---|---|---|---|---|');
  for (const r of results) {
    const cell = (name: string) => {
      const o = r.outcomes.find((x) => x.policy === name) as PolicyOutcome;
      return `${o.totalCost.toFixed(0)} (×${o.ratioToOracle.toFixed(2)}, ${o.retrains} rt)`;
    };
    lines.push(`| ${r.kind} | ${r.seed} | ${cell('cost-aware')} | ${cell('best periodic')} ${r.bestPeriod} | ${cell('drift-triggered')} | ${cell('never')} | ${cell('oracle')} |`);
  }
  lines.push('', '| scenario | runs | cost-aware | best periodic | drift-triggered | never | oracle |', '|---|---|---|---|---|---|---|');
  for (const g of summary) {
    const cell = (name: string) => {
      const p = g.policies.find((x) => x.policy === name);
      return p ? `${p.meanTotalCost.toFixed(0)} (×${p.meanRatioToOracle.toFixed(3)})` : '';
    };
    lines.push(`| ${g.scenario} | ${g.runs} | ${cell('cost-aware')} | ${cell('best periodic')} | ${cell('drift-triggered')} | ${cell('never')} | ${cell('oracle')} |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
