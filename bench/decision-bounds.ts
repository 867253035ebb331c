/**
 * How close to the oracle can a policy that does not see the future get? The decision benchmark's
 * oracle (a DP over the quality matrix) knows three things no monitor can: how the concept will
 * move, which trained models will turn out lucky, and each window's sampling noise. This
 * benchmark prices that foresight, so cost-aware's gap to the oracle can be read against what is
 * reachable at all. Per stream, all as ratios to the (clairvoyant) oracle of that stream:
 *
 * - **cost-aware**: the shipped rule, run through `runBacktest` as in bench/decisions.ts.
 * - **dice-blind oracles**: *twins* of the stream share its concept path (rotation and reversals,
 *   change times) but draw their own events (`sampleSeed`), so their trained models and windows
 *   have independent luck. The oracle planned on one twin's matrix, priced on the stream's own
 *   (mean over the twins), knows exactly how the data will change but not how the dice fall. The
 *   expected-cost oracle plans on the twins' mean staleness — close to the best schedule for
 *   someone who knows the concept's future but not the dice. The **adaptive** expected-cost
 *   oracle also learns each trained model's luck from the windows it has served (as a monitor
 *   can) and re-plans every window: the best this benchmark offers of "foresight of the data,
 *   hindsight of the dice".
 * - **perfect-hindsight Cara**: a causal rule given what no monitor has — the exact staleness of
 *   the serving model in every past window (against the model retrained just before it): retrain
 *   when the accumulated staleness reaches θ × C, θ the best of a grid per scenario, in hindsight.
 *
 * The streams are bench/decisions.ts's (same seeds, same events), so its cost-aware figures recur here.
 *
 * Usage: npx tsx bench/decision-bounds.ts [--seeds 1-3] [--days 14] [--kinds gradual,abrupt,recurring] [--twins 4] [--json]
 */
import { parseArgs } from 'node:util';
import { builtInTrainer } from '../training/backtest-trainer.ts';
import { type CostModel, oracleSchedule, scheduleCost, stalenessPerEvent, windowStaleness } from './lib/oracle.ts';
import { benchPolicy, costAwareTrigger, memoTrainer } from './decisions.ts';
import { seedRange } from './lib/cli.ts';
import {
  buildScenario,
  COSTS,
  parseStreamKinds,
  STREAM_OPTIONS,
  type ScenarioKind,
  type ScenarioSpec,
} from './lib/decision-streams.ts';
import { backtestOnMatrix, buildQualityMatrix, meanStaleness, twinCostModels } from './lib/quality-matrix.ts';

const USAGE =
  'Usage: npx tsx bench/decision-bounds.ts [--seeds 1-3] [--days 14] [--kinds gradual,abrupt,recurring] [--twins 4] [--json]\n';
/** Shrinkage of the adaptive oracle's luck estimate, in windows of no luck; the best per scenario is reported. */
export const ADAPTIVE_PRIOR_WINDOWS = [0, 2, 6] as const;
/** Thresholds of the perfect-hindsight cumulative rule, as multiples of the retrain cost. */
export const CARA_THETAS = [0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1, 1.2, 1.5] as const;

export interface StreamBounds {
  kind: ScenarioKind;
  seed: number;
  oracleCost: number;
  costAware: number;
  /** Each twin's oracle priced on the stream. */
  twinPlanned: number[];
  /** The oracle of the twins' mean staleness, priced on the stream. */
  expectedCostPlanned: number;
  /** The adaptive expected-cost oracle (learns each model's luck as it serves) at each shrinkage of ADAPTIVE_PRIOR_WINDOWS. */
  adaptiveByPrior: number[];
  /** Perfect-hindsight Cara at each θ of CARA_THETAS. */
  caraByTheta: number[];
}

/** Retrain steps of Cara's rule when the serving model's past staleness is known exactly. */
export function perfectHindsightCara(model: CostModel, theta: number): number[] {
  const retrains: number[] = [];
  let serving = 0;
  let accumulated = 0;
  for (let t = 1; t < model.steps; t++) {
    accumulated += windowStaleness(model, serving, t - 1);
    if (accumulated >= theta * model.retrainCost) {
      retrains.push(t);
      serving = t;
      accumulated = 0;
    }
  }
  return retrains;
}

/**
 * The adaptive expected-cost oracle: it knows how the concept will move (the expected staleness
 * of every model in every window, from the twins) and learns each trained model's luck as its
 * windows come in. Before window t, serving the model retrained at k, it estimates that model's
 * luck as the mean of (realised − expected) staleness per event over its windows so far (shrunk
 * toward 0 as if `priorWindows` windows of no luck had been seen, since one window is noisy) and
 * re-plans the rest by DP: retrain now, or keep the model (at its expected staleness shifted by
 * its luck) until the best later retrain. New models are planned at their expected staleness.
 */
export function adaptiveExpectedCostSchedule(stream: CostModel, expected: CostModel, priorWindows = 0): number[] {
  const T = stream.steps;
  const C = stream.retrainCost;
  const value = (u: number) => stream.valuePerQualityUnit * stream.eventsAt(u);
  // bestNew[j]: expected cost from j on, a new model trained at j (the DP over expected staleness).
  const bestNew = new Float64Array(T + 1);
  for (let j = T - 1; j >= 0; j--) {
    let segment = 0;
    let best = Number.POSITIVE_INFINITY;
    for (let l = j + 1; l <= T; l++) {
      segment += value(l - 1) * stalenessPerEvent(expected, j, l - 1);
      best = Math.min(best, segment + (l < T ? C + (bestNew[l] as number) : 0));
    }
    bestNew[j] = best;
  }
  const retrains: number[] = [];
  let serving = 0;
  let residual = 0;
  let seen = 0;
  for (let t = 1; t < T; t++) {
    residual += stalenessPerEvent(stream, serving, t - 1) - stalenessPerEvent(expected, serving, t - 1);
    seen += 1;
    const luck = residual / (seen + priorWindows);
    let keep = Number.POSITIVE_INFINITY;
    let segment = 0;
    for (let l = t + 1; l <= T; l++) {
      segment += value(l - 1) * Math.max(0, stalenessPerEvent(expected, serving, l - 1) + luck);
      keep = Math.min(keep, segment + (l < T ? C + (bestNew[l] as number) : 0));
    }
    if (C + (bestNew[t] as number) < keep) {
      retrains.push(t);
      serving = t;
      residual = 0;
      seen = 0;
    }
  }
  return retrains;
}

export async function streamBounds(
  spec: ScenarioSpec,
  twins: number,
  log: (line: string) => void = () => {},
): Promise<StreamBounds> {
  // Memoised: the cost-aware backtest retrains on windows the quality matrix has already trained on.
  const trainer = memoTrainer(builtInTrainer());
  const scenario = buildScenario(spec);
  const matrix = buildQualityMatrix(spec, { scenario, trainer, onProgress: log });
  const stream = matrix.costModel;
  const oracle = oracleSchedule(stream);
  const ratio = (retrainSteps: readonly number[]) => scheduleCost(stream, retrainSteps).totalCost / oracle.totalCost;

  const policy = benchPolicy('cost-aware', costAwareTrigger, spec.trainingWindow);
  const { retrainSteps: costAwareSteps } = await backtestOnMatrix(matrix, policy, trainer);

  // Twins train their own models: the memo is keyed by window times, which twins share.
  const twinModels = twinCostModels(spec, twins, { trainer: builtInTrainer() });
  const expected = meanStaleness(twinModels);
  return {
    kind: spec.kind,
    seed: spec.seed,
    oracleCost: oracle.totalCost,
    costAware: ratio(costAwareSteps),
    twinPlanned: twinModels.map((m) => ratio(oracleSchedule(m).retrainSteps)),
    expectedCostPlanned: ratio(oracleSchedule(expected).retrainSteps),
    adaptiveByPrior: ADAPTIVE_PRIOR_WINDOWS.map((prior) =>
      ratio(adaptiveExpectedCostSchedule(stream, expected, prior)),
    ),
    caraByTheta: CARA_THETAS.map((theta) => ratio(perfectHindsightCara(stream, theta))),
  };
}

const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

/** The grid setting with the lowest mean ratio over a group of streams (chosen in hindsight), and that mean. */
function bestOfGrid<T extends number>(
  rs: readonly StreamBounds[],
  ratios: (r: StreamBounds) => readonly number[],
  grid: readonly T[],
): { setting: T; ratio: number } {
  const means = grid.map((_, i) => mean(rs.map((r) => ratios(r)[i] as number)));
  const best = means.indexOf(Math.min(...means));
  return { setting: grid[best] as T, ratio: means[best] as number };
}

/** Mean ratios per scenario (and over all streams); grid settings (Cara's θ, the adaptive oracle's prior) are the best for the group, in hindsight. */
export function summariseBounds(results: readonly StreamBounds[]) {
  const groups = new Map<string, StreamBounds[]>();
  for (const r of results) groups.set(r.kind, [...(groups.get(r.kind) ?? []), r]);
  groups.set('all', [...results]);
  return [...groups].map(([scenario, rs]) => {
    const cara = bestOfGrid(rs, (r) => r.caraByTheta, CARA_THETAS);
    return {
      scenario,
      runs: rs.length,
      costAware: mean(rs.map((r) => r.costAware)),
      twinPlanned: mean(rs.map((r) => mean(r.twinPlanned))),
      expectedCostPlanned: mean(rs.map((r) => r.expectedCostPlanned)),
      adaptiveExpectedCost: bestOfGrid(rs, (r) => r.adaptiveByPrior, ADAPTIVE_PRIOR_WINDOWS),
      perfectHindsightCara: { theta: cara.setting, ratio: cara.ratio },
    };
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { ...STREAM_OPTIONS, twins: { type: 'string' }, json: { type: 'boolean' } },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const seeds = seedRange(values.seeds ?? '1-3');
  const days = Number(values.days ?? 14);
  const twins = Number(values.twins ?? 4);
  const kinds = parseStreamKinds(values.kinds, USAGE);
  if (!(days > 0) || !(Number.isInteger(twins) && twins >= 1) || seeds.some((s) => !Number.isInteger(s)))
    throw new Error(
      `--days must be positive, --twins a whole number ≥ 1 and --seeds a range like 1-3 (got --days ${values.days}, --twins ${values.twins}, --seeds ${values.seeds})\n${USAGE}`,
    );
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(
    `decision bounds: ${kinds.length * seeds.length} streams, ${days} days, ${twins} twins each; load ${(await import('node:os')).loadavg()[0]?.toFixed(2)}`,
  );
  const results: StreamBounds[] = [];
  for (const kind of kinds) {
    for (const seed of seeds) {
      const started = Date.now();
      const r = await streamBounds(
        { kind, seed, days, eventsPerHour: 300, referenceHours: 12, trainingWindow: '4h' },
        twins,
        log,
      );
      log(
        `  ${kind} seed ${seed}: oracle ${r.oracleCost.toFixed(0)}; cost-aware ×${r.costAware.toFixed(3)}, twin-planned oracle ×${mean(r.twinPlanned).toFixed(3)} (${r.twinPlanned.map((x) => x.toFixed(3)).join(' ')}), expected-cost oracle ×${r.expectedCostPlanned.toFixed(3)}, adaptive ×${Math.min(...r.adaptiveByPrior).toFixed(3)}, perfect-hindsight Cara ×${Math.min(...r.caraByTheta).toFixed(3)} [${((Date.now() - started) / 1000).toFixed(1)} s]`,
      );
      results.push(r);
    }
  }
  const summary = summariseBounds(results);
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ benchmark: 'decision-bounds', date: new Date().toISOString(), days, seeds, twins, costs: COSTS, caraThetas: CARA_THETAS, adaptivePriorWindows: ADAPTIVE_PRIOR_WINDOWS, results, summary }, null, 2)}\n`,
    );
    return;
  }
  const lines = [
    '| scenario | runs | cost-aware | dice-blind oracle (one twin) | expected-cost oracle (twins) | adaptive expected-cost oracle | perfect-hindsight Cara (best θ) |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const g of summary)
    lines.push(
      `| ${g.scenario} | ${g.runs} | ×${g.costAware.toFixed(3)} | ×${g.twinPlanned.toFixed(3)} | ×${g.expectedCostPlanned.toFixed(3)} | ×${g.adaptiveExpectedCost.ratio.toFixed(3)} (prior ${g.adaptiveExpectedCost.setting}) | ×${g.perfectHindsightCara.ratio.toFixed(3)} (θ ${g.perfectHindsightCara.theta}) |`,
    );
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
