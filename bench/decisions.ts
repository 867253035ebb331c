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
 * Policies: cost-aware (forecast-then-cumulative, median), best periodic (every whole-hour
 * period searched, the cheapest chosen in hindsight per stream — a generous baseline; priced on
 * the matrix, the winner replayed through the engine), drift-triggered (dataset drift in two
 * consecutive windows), never (manual), expected-cost oracle, oracle. Every policy's cost is also
 * given as a ratio to both oracles.
 *
 * Seeds: tuning seeds by default; `--seeds report` runs the round's fresh report seeds, once,
 * after the rule is frozen (bench/lib/decision-seeds.ts). `--write-md` writes the tables into
 * BENCHMARKS.md.
 *
 * Usage: npm run bench -- decisions [--seeds tuning|report|1-3] [--days 14] [--twins 4] [--policy FILE] [--rule-revision N] [--json] [--write-md] [--quick]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { builtInTrainer } from '../training/backtest-trainer.ts';
import type { BacktestModel, BacktestTrainer, TrainingSet } from '../detectors/backtest/types.ts';
import { studentTQuantile } from '../detectors/decay/stats.ts';
import { oracleSchedule, scheduleCost } from './lib/oracle.ts';
import type { PolicyTrigger, RetrainPolicy } from '../detectors/policy/types.ts';
import {
  buildScenario,
  COSTS,
  parseStreamKinds,
  STREAM_KINDS,
  STREAM_OPTIONS,
  type ScenarioKind,
  type ScenarioSpec,
} from './lib/decision-streams.ts';
import { backtestOnMatrix, buildQualityMatrix, meanStaleness, twinCostModels } from './lib/quality-matrix.ts';
import { bestPeriodic, hoursText } from './lib/periodic.ts';
import { parseSeeds, REPORT_SEEDS, seedSet, TUNING_SEEDS } from './lib/decision-seeds.ts';
import { machine } from './lib/cli.ts';
import { replaceSection } from './lib/markdown-section.ts';
import { loadPolicyFile } from '../platform/policy-file.ts';
import type { MonitorSettings } from '../detectors/monitor/types.ts';
import { DEFAULT_RULE_REVISION, LATEST_RULE_REVISION } from '../detectors/policy/state.ts';

export { buildScenario, COSTS, STREAM_KINDS, type ScenarioKind, type ScenarioSpec };

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

/** The 12 periods the report searched before the full search (kept to show what the full search changes). */
export const OLD_GRID_HOURS = [2, 3, 4, 6, 8, 12, 18, 24, 36, 48, 72, 120] as const;

export interface PolicyOutcome {
  policy: string;
  retrains: number;
  stalenessCost: number;
  retrainCost: number;
  totalCost: number;
  /** Challenger probes the policy ran and what they cost (included in `totalCost`). @default 0 */
  probes?: number;
  probeCost?: number;
  ratioToOracle: number;
  /** Total cost ÷ the expected-cost oracle's (null when it is not run). */
  ratioToExpectedCostOracle: number | null;
}

export interface ScenarioResult {
  kind: ScenarioKind;
  seed: number;
  description: string;
  windows: number;
  events: number;
  outcomes: PolicyOutcome[];
  /** The cheapest periodic policy's period (every whole hour searched), e.g. "17h". */
  bestPeriod: string;
  /** The best of the old 12-period grid, for comparison: its period and total cost. */
  oldGridBest: { period: string; totalCost: number };
  seconds: number;
}

/** Twins behind the expected-cost oracle (0: leave it out). */
export const DEFAULT_TWINS = 4;

export interface ScenarioOptions {
  /** Twins behind the expected-cost oracle (0: leave it out). @default DEFAULT_TWINS */
  twins?: number;
  /** The cost-aware policy under test (its trigger and any other sections; the bench's guards and training window replace its own). @default the built-in cost-aware trigger */
  policy?: RetrainPolicy;
  /** The cost-aware rule revision the policy under test is replayed at (`MonitorSettings.ruleRevision`). @default the default revision */
  ruleRevision?: MonitorSettings['ruleRevision'];
  log?: (line: string) => void;
}

export async function runScenario(spec: ScenarioSpec, options: ScenarioOptions = {}): Promise<ScenarioResult> {
  const twins = options.twins ?? DEFAULT_TWINS;
  const log = options.log ?? (() => {});
  const started = Date.now();
  const trainer = memoTrainer(builtInTrainer());
  const matrix = buildQualityMatrix(spec, { trainer, onProgress: log });
  const { scenario, steps, costModel } = matrix;

  let lastProbes = { probes: 0, probeCost: 0 };
  const run = async (p: RetrainPolicy, settings?: Partial<MonitorSettings>): Promise<number[]> => {
    const { report, retrainSteps } = await backtestOnMatrix(matrix, p, trainer, settings);
    lastProbes = { probes: report.probes, probeCost: report.trueCostParts?.probeCost ?? 0 };
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
  const outcomes: PolicyOutcome[] = [];
  const priced = (
    name: string,
    retrainSteps: readonly number[],
    probed: { probes: number; probeCost: number } = { probes: 0, probeCost: 0 },
  ): PolicyOutcome => {
    const c = scheduleCost(costModel, retrainSteps);
    const total = c.totalCost + probed.probeCost;
    return {
      policy: name,
      retrains: c.retrainSteps.length,
      stalenessCost: c.stalenessCost,
      retrainCost: c.retrainCost,
      totalCost: total,
      ...(probed.probes > 0 ? probed : {}),
      ratioToOracle: total / oracle.totalCost,
      ratioToExpectedCostOracle: null,
    };
  };
  log(`  ${spec.kind} seed ${spec.seed}: policies…`);
  const underTest = options.policy
    ? {
        ...benchPolicy(options.policy.name, options.policy.trigger, spec.trainingWindow),
        ...withoutGuards(options.policy),
      }
    : benchPolicy('cost-aware', costAwareTrigger, spec.trainingWindow);
  // Only the policy under test has a rule revision: the baselines are not cost-aware.
  const costAwareSteps = await run(
    underTest,
    options.ruleRevision === undefined ? undefined : { ruleRevision: options.ruleRevision },
  );
  outcomes.push(priced('cost-aware', costAwareSteps, lastProbes));

  // Every whole-hour period, priced on the matrix; the best one replayed through the engine.
  const search = bestPeriodic(costModel);
  const every = hoursText(search.period);
  const replayed = await run(benchPolicy(`periodic-${every}`, { kind: 'periodic', every }, spec.trainingWindow));
  const predicted = search.cost.retrainSteps;
  if (replayed.length !== predicted.length || replayed.some((s, i) => s !== predicted[i]))
    throw new Error(
      `periodic ${every}: the engine retrained at steps ${replayed.join(' ')}, the period predicts ${predicted.join(' ')}`,
    );
  outcomes.push(priced('best periodic', replayed));
  const grid = bestPeriodic(costModel, OLD_GRID_HOURS);

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
  outcomes.push({ ...priced('oracle', oracle.retrainSteps), ratioToOracle: 1 });
  const expected = outcomes.find((o) => o.policy === 'expected-cost oracle');
  if (expected) for (const o of outcomes) o.ratioToExpectedCostOracle = o.totalCost / expected.totalCost;
  return {
    kind: spec.kind,
    seed: spec.seed,
    description: scenario.description,
    windows: steps,
    events: scenario.rows.length,
    outcomes,
    bestPeriod: every,
    oldGridBest: { period: hoursText(grid.period), totalCost: grid.cost.totalCost },
    seconds: (Date.now() - started) / 1000,
  };
}

/** A policy's sections other than its guards and training window (which the bench sets for every policy alike). */
function withoutGuards(policy: RetrainPolicy): Partial<RetrainPolicy> {
  const { guards: _guards, trainingWindow: _window, ...rest } = policy;
  return rest;
}

export function scenarioSpecs(
  seeds: readonly number[],
  days = 14,
  kinds: readonly ScenarioKind[] = STREAM_KINDS,
): ScenarioSpec[] {
  const base = { days, eventsPerHour: 300, referenceHours: 12 };
  const specs: ScenarioSpec[] = [];
  for (const kind of kinds) {
    // One training window for every stream and policy (the oracle's matrix assumes it): short, so a
    // retrain soon after a change inherits little of the superseded concept.
    for (const seed of seeds) specs.push({ ...base, kind, seed, trainingWindow: '4h' });
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

export function summarise(results: readonly ScenarioResult[]) {
  const names = results[0]?.outcomes.map((o) => o.policy) ?? [];
  const byKind = new Map<string, ScenarioResult[]>();
  for (const r of results) byKind.set(r.kind, [...(byKind.get(r.kind) ?? []), r]);
  const outcome = (r: ScenarioResult, name: string): PolicyOutcome =>
    r.outcomes.find((o) => o.policy === name) as PolicyOutcome;
  const mean = (rs: readonly ScenarioResult[], f: (r: ScenarioResult) => number): number =>
    rs.reduce((s, r) => s + f(r), 0) / rs.length;
  const hasExpected = names.includes('expected-cost oracle');
  const groups: [string, readonly ScenarioResult[]][] = [...byKind.entries(), ['all', results]];
  return groups.map(([kind, rs]) => ({
    scenario: kind,
    runs: rs.length,
    policies: names.map((name) => ({
      policy: name,
      meanTotalCost: mean(rs, (r) => outcome(r, name).totalCost),
      meanRatioToOracle: mean(rs, (r) => outcome(r, name).ratioToOracle),
      ratioToOracleCi95: meanInterval(rs.map((r) => outcome(r, name).ratioToOracle)),
      meanRatioToExpectedCostOracle: hasExpected
        ? mean(rs, (r) => outcome(r, name).ratioToExpectedCostOracle as number)
        : null,
      ratioToExpectedCostOracleCi95: hasExpected
        ? meanInterval(rs.map((r) => outcome(r, name).ratioToExpectedCostOracle as number))
        : null,
      meanRetrains: mean(rs, (r) => outcome(r, name).retrains),
    })),
    // Cost-aware against the oracle that knows the concept's future but not the dice (when run).
    costAwareToExpectedCostOracle: hasExpected
      ? mean(rs, (r) => outcome(r, 'cost-aware').ratioToExpectedCostOracle as number)
      : null,
    oldGridBestRatioToOracle: mean(rs, (r) => r.oldGridBest.totalCost / outcome(r, 'oracle').totalCost),
  }));
}

/** A tie within this share counts as cost-aware matching the best periodic schedule. */
export const TIE_TOLERANCE = 0.005;
/** The target for cost-aware's mean ratio to the expected-cost oracle. */
export const EXPECTED_COST_ORACLE_TARGET = 1.05;

/** The issue's two targets on these streams, with the figures that decide them. */
export function targets(results: readonly ScenarioResult[], summary: ReturnType<typeof summarise>) {
  const cost = (r: ScenarioResult, name: string) =>
    (r.outcomes.find((o) => o.policy === name) as PolicyOutcome).totalCost;
  const perStream = results.map((r) => ({
    stream: `${r.kind} ${r.seed}`,
    costAware: cost(r, 'cost-aware'),
    bestPeriodic: cost(r, 'best periodic'),
    period: r.bestPeriod,
    ratio: cost(r, 'cost-aware') / cost(r, 'best periodic'),
  }));
  const misses = perStream.filter((s) => s.ratio > 1 + TIE_TOLERANCE);
  const all = summary.find((g) => g.scenario === 'all');
  const meanToExpected = all?.costAwareToExpectedCostOracle ?? null;
  return {
    costAwareAtMostBestPeriodic: { met: misses.length === 0, tolerance: TIE_TOLERANCE, misses, perStream },
    meanToExpectedCostOracle: {
      met: meanToExpected === null ? null : meanToExpected <= EXPECTED_COST_ORACLE_TARGET,
      target: EXPECTED_COST_ORACLE_TARGET,
      value: meanToExpected,
    },
  };
}

const USAGE = `Usage: npm run bench -- decisions [options]   (or: npx tsx bench/decisions.ts [options])
  --seeds S        "tuning" (default: ${TUNING_SEEDS.join(', ')}), "report" (${REPORT_SEEDS.join(', ')}: run once, when the
                   round's rule is frozen — see bench/lib/decision-seeds.ts) or a list like 1-3,101
  --days D         days monitored per stream (default 14)
  --kinds K        streams, comma-separated (default gradual,abrupt,recurring)
  --twins N        twins behind the expected-cost oracle (default ${DEFAULT_TWINS}; 0 leaves it out)
  --policy FILE    the cost-aware policy under test, from a policy YAML (its trigger and other sections;
                   the bench's guards and 4h training window replace its own). Default: the built-in cost-aware trigger
  --rule-revision N the cost-aware rule revision the policy under test is replayed at (1–${LATEST_RULE_REVISION};
                   default ${DEFAULT_RULE_REVISION}); the baselines are not cost-aware and do not change
  --quick          one seed (101), 7 days: a smoke run
  --json           print the results as JSON
  --write-md       write the decision tables of BENCHMARKS.md (between its decisions:begin/end markers)
  --from-json FILE run nothing: print (or with --write-md write) the tables of a run saved with --json,
                   so a report run once is written without running it again
`;

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== '--'),
    options: {
      ...STREAM_OPTIONS,
      quick: { type: 'boolean' },
      json: { type: 'boolean' },
      'write-md': { type: 'boolean' },
      twins: { type: 'string' },
      policy: { type: 'string' },
      'from-json': { type: 'string' },
      'rule-revision': { type: 'string' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (values['from-json']) {
    writeSavedRun(values['from-json'], values['write-md'] === true);
    return;
  }
  const twins = Number(values.twins ?? DEFAULT_TWINS);
  if (!(Number.isInteger(twins) && twins >= 0))
    throw new Error(`--twins must be a whole number ≥ 0 (0 leaves the expected-cost oracle out), got ${values.twins}`);
  const quick = values.quick === true;
  const seeds = parseSeeds(values.seeds ?? (quick ? '101' : 'tuning'));
  const days = Number(values.days ?? (quick ? 7 : 14));
  if (!(days > 0)) throw new Error(`--days must be a positive number of days, got ${values.days}`);
  const kinds = parseStreamKinds(values.kinds, USAGE);
  const policy = values.policy ? loadPolicyFile(values.policy).policy : undefined;
  if (policy && policy.trigger.kind !== 'cost-aware')
    throw new Error(`--policy ${values.policy}: the policy under test must be cost-aware, got ${policy.trigger.kind}`);
  const ruleRevision = parseRuleRevision(values['rule-revision']);
  const specs = scenarioSpecs(seeds, days, kinds);
  const set = seedSet(seeds);
  if (
    values['write-md'] &&
    !(set === 'report' && days === 14 && kinds.length === STREAM_KINDS.length && !policy && ruleRevision === undefined)
  )
    throw new Error(
      '--write-md writes the report table: use it with --seeds report and the default --days, --kinds, policy and rule revision (print other runs with --json or as markdown)',
    );
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const load = () => os.loadavg()[0] ?? Number.NaN;
  const loadBefore = load();
  log(
    `decision-quality benchmark: ${specs.length} streams (${set} seeds ${seeds.join(', ')}; ${days} days), cost model V=${COSTS.valuePerQualityUnit} per event per accuracy unit, C=${COSTS.retrainCost} per retrain; load ${loadBefore.toFixed(2)}`,
  );
  if (set === 'report')
    log('  the report seeds: run them once, after the rule is frozen for this round (bench/lib/decision-seeds.ts)');
  const results: ScenarioResult[] = [];
  for (const spec of specs) {
    const r = await runScenario(spec, { twins, policy, log, ...(ruleRevision === undefined ? {} : { ruleRevision }) });
    log(
      `  ${spec.kind} seed ${spec.seed}: ${r.outcomes.map((o) => `${o.policy} ${o.totalCost.toFixed(0)} (${o.retrains})`).join(', ')}; best period ${r.bestPeriod} [${r.seconds.toFixed(1)} s]`,
    );
    results.push(r);
  }
  const summary = summarise(results);
  const out = {
    benchmark: 'decisions',
    command: `npx tsx bench/decisions.ts ${argv.filter((a) => a !== '--').join(' ')}`.trim(),
    machine: machine(),
    load1: { before: loadBefore, after: load() },
    seedSet: set,
    seeds,
    days,
    twins,
    policy: policy ? { file: values.policy, name: policy.name, version: policy.version } : 'built-in cost-aware',
    ruleRevision: ruleRevision ?? DEFAULT_RULE_REVISION,
    costs: COSTS,
    cadence: '1h',
    results,
    summary,
    targets: targets(results, summary),
  };
  if (values['write-md']) {
    const file = path.join(import.meta.dirname, '..', 'BENCHMARKS.md');
    writeFileSync(
      file,
      replaceSection(readFileSync(file, 'utf8'), 'decisions', decisionSection(out, results, summary, twins)),
    );
    log(`wrote the decision tables into ${file}`);
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  process.stdout.write(markdownTables(results, summary, twins));
  process.stdout.write(targetLines(out.targets));
}

/** `--rule-revision`: a whole number from 1 to the newest revision, or undefined (the default revision). */
function parseRuleRevision(text: string | undefined): MonitorSettings['ruleRevision'] | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!(text.trim() !== '' && Number.isInteger(value) && value >= 1 && value <= LATEST_RULE_REVISION))
    throw new Error(
      `--rule-revision ${text}: give a revision of the cost-aware rule, a whole number from 1 to ${LATEST_RULE_REVISION}`,
    );
  return value as MonitorSettings['ruleRevision'];
}

/** A run saved with `--json` (its `out`), printed as markdown or written into BENCHMARKS.md. */
function writeSavedRun(file: string, writeMd: boolean): void {
  let saved: Parameters<typeof decisionSection>[0] & {
    benchmark?: string;
    results: ScenarioResult[];
    summary: ReturnType<typeof summarise>;
    days: number;
    policy: unknown;
  };
  try {
    // A JSON report may follow npm's or a log's lines: read from its first line that opens an object.
    const text = readFileSync(file, 'utf8');
    saved = JSON.parse(text.slice(text.search(/^\{/m)));
  } catch (err) {
    throw new Error(`--from-json ${file}: not a decision run saved with --json (${(err as Error).message})`, {
      cause: err,
    });
  }
  if (saved.benchmark !== 'decisions' || !Array.isArray(saved.results))
    throw new Error(`--from-json ${file}: not a decision run saved with --json (no "benchmark": "decisions")`);
  if (writeMd) {
    if (!(saved.seedSet === 'report' && saved.days === 14 && saved.policy === 'built-in cost-aware'))
      throw new Error(
        `--from-json ${file} --write-md: only a report run (--seeds report, 14 days, the built-in policy) is written into BENCHMARKS.md`,
      );
    const md = path.join(import.meta.dirname, '..', 'BENCHMARKS.md');
    writeFileSync(
      md,
      replaceSection(
        readFileSync(md, 'utf8'),
        'decisions',
        decisionSection(saved, saved.results, saved.summary, saved.twins),
      ),
    );
    process.stderr.write(`wrote the decision tables of ${file} into ${md}\n`);
    return;
  }
  process.stdout.write(markdownTables(saved.results, saved.summary, saved.twins));
  process.stdout.write(targetLines(saved.targets));
}

/** The generated part of BENCHMARKS.md's decision section: run facts, the tables, the targets. */
function decisionSection(
  out: {
    command: string;
    machine: Record<string, string>;
    load1: { before: number; after: number };
    seedSet: string;
    seeds: number[];
    days: number;
    twins: number;
    targets: ReturnType<typeof targets>;
  },
  results: readonly ScenarioResult[],
  summary: ReturnType<typeof summarise>,
  twins: number,
): string {
  const m = out.machine;
  return [
    `Run ${m.date} — \`${out.command}\``,
    '',
    `Machine: ${m.nproc} cores (nproc), ${m.memory} RAM, ${m.cpu}, Node ${m.node}. 1-minute load average before/after: ${out.load1.before.toFixed(2)}/${out.load1.after.toFixed(2)} (the figures are costs, not timings: training and the rule are deterministic, so load does not change them). Seeds: ${out.seedSet} (${out.seeds.join(', ')}), ${out.days} days, ${twins} twins.`,
    '',
    markdownTables(results, summary, twins).trimEnd(),
    '',
    targetLines(out.targets).trimEnd(),
  ].join('\n');
}

/** The targets as lines of text. */
export function targetLines(t: ReturnType<typeof targets>): string {
  const a = t.costAwareAtMostBestPeriodic;
  const b = t.meanToExpectedCostOracle;
  const lines = [
    `Target: cost-aware ≤ best periodic on every stream (a tie within ${(a.tolerance * 100).toFixed(1)}% counts): **${a.met ? 'met' : 'not met'}**${a.misses.length > 0 ? ` — missed on ${a.misses.map((s) => `${s.stream} (${s.costAware.toFixed(0)} vs ${s.bestPeriodic.toFixed(0)} at ${s.period}, ×${s.ratio.toFixed(3)})`).join(', ')}` : ''}; cost-aware ÷ best periodic per stream: ${a.perStream.map((s) => `${s.stream} ×${s.ratio.toFixed(3)}`).join(', ')}.`,
    b.value === null
      ? 'Target: mean ≤ 1.05× the expected-cost oracle: not measured (run with --twins ≥ 1).'
      : `Target: cost-aware's mean ≤ ${b.target}× the expected-cost oracle: **${b.met ? 'met' : 'not met'}** — ×${b.value.toFixed(3)}.`,
  ];
  return `${lines.join('\n\n')}\n`;
}

/** The report's two tables (per stream, per scenario): each cell is cost (× oracle, × expected-cost oracle, retrains). */
export function markdownTables(
  results: readonly ScenarioResult[],
  summary: ReturnType<typeof summarise>,
  twins: number,
): string {
  const lines: string[] = [];
  const expected = twins > 0 ? ' expected-cost oracle |' : '';
  const expectedRule = twins > 0 ? '---|' : '';
  const ratios = (o: { ratioToOracle: number; ratioToExpectedCostOracle: number | null }) =>
    `×${o.ratioToOracle.toFixed(2)}${o.ratioToExpectedCostOracle !== null ? ` / ×${o.ratioToExpectedCostOracle.toFixed(2)}` : ''}`;
  lines.push(
    `Cells: total cost (× oracle${twins > 0 ? ' / × expected-cost oracle' : ''}, retrains). Best periodic: every whole-hour period searched, the period found after the cell.`,
    '',
    `| stream | seed | cost-aware | best periodic (period) | drift-triggered | never |${expected} oracle |`,
    `|---|---|---|---|---|---|${expectedRule}---|`,
  );
  for (const r of results) {
    const cell = (name: string) => {
      const o = r.outcomes.find((x) => x.policy === name) as PolicyOutcome;
      return `${o.totalCost.toFixed(0)} (${ratios(o)}, ${o.retrains} rt)`;
    };
    lines.push(
      `| ${r.kind} | ${r.seed} | ${cell('cost-aware')} | ${cell('best periodic')} ${r.bestPeriod} | ${cell('drift-triggered')} | ${cell('never')} |${twins > 0 ? ` ${cell('expected-cost oracle')} |` : ''} ${cell('oracle')} |`,
    );
  }
  lines.push(
    '',
    `Per scenario: mean cost (mean × oracle, 95% CI${twins > 0 ? '; mean × expected-cost oracle, 95% CI' : ''}).`,
    '',
    `| scenario | runs | cost-aware | best periodic | drift-triggered | never |${expected} oracle |`,
    `|---|---|---|---|---|---|${expectedRule}---|`,
  );
  const ci = (c: [number, number] | null) => (c ? `, 95% CI ${c[0].toFixed(2)}–${c[1].toFixed(2)}` : '');
  for (const g of summary) {
    const cell = (name: string) => {
      const p = g.policies.find((x) => x.policy === name);
      if (!p) return '';
      const toOracle = name === 'oracle' ? '×1.000' : `×${p.meanRatioToOracle.toFixed(3)}${ci(p.ratioToOracleCi95)}`;
      const toExpected =
        p.meanRatioToExpectedCostOracle === null || name === 'expected-cost oracle'
          ? ''
          : `; ×${p.meanRatioToExpectedCostOracle.toFixed(3)}${ci(p.ratioToExpectedCostOracleCi95)}`;
      return `${p.meanTotalCost.toFixed(0)} (${toOracle}${toExpected})`;
    };
    lines.push(
      `| ${g.scenario} | ${g.runs} | ${cell('cost-aware')} | ${cell('best periodic')} | ${cell('drift-triggered')} | ${cell('never')} |${twins > 0 ? ` ${cell('expected-cost oracle')} |` : ''} ${cell('oracle')} |`,
    );
  }
  lines.push(
    '',
    `Best of the old 12-period grid (${OLD_GRID_HOURS.map(hoursText).join(', ')}), for comparison: ${summary.map((g) => `${g.scenario} ×${g.oldGridBestRatioToOracle.toFixed(3)}`).join(', ')} the oracle.`,
  );
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
