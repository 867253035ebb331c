/**
 * CBPE from grouped scores: what a window query can return instead of every score, with the
 * same estimate as {@link estimateCbpe} on the rows.
 *
 * A window's scores are grouped by three keys that never split a group across what the estimate
 * distinguishes: the recalibration step (an isotonic map is constant on each step, so every event
 * of a group has the same calibrated probability), the side of the decision threshold (so the
 * expected confusion matrix is exact), and an equal-width score bin (so groups stay narrow when
 * the map is the identity or Platt). Each group carries its event count, Σ score and Σ score².
 *
 * What is exact: accuracy and its interval for the identity and isotonic maps (p is linear in
 * the score on each group, so Σ p and Σ p(1 − p) follow from Σ s and Σ s²); ROC AUC on the
 * isotonic map's steps, since pairs inside a group of equal probability contribute p(1 − p) each
 * whichever way they are ordered, which is what counting them as ties gives. What is approximate:
 * ROC AUC where p varies inside a group (the identity map, the lines between isotonic steps,
 * Platt: pairs inside a bin are counted as ties), and Platt's probabilities (taken at the group's
 * mean score). Histogram bin centres, the previous form, biased accuracy by ~3·10⁻⁴ on ACS employment.
 */
import { estimateFromConfusion, type CbpeEstimate, type CbpeModel, type ExpectedConfusion } from './cbpe.ts';
import { expectedRocAucOfGroups, type ProbabilityGroup } from './cbpe-roc-auc.ts';
import { calibrate } from './recalibration.ts';

/** Equal-width score bins of the grouping. @default 100 */
export const DEFAULT_ESTIMATION_BINS = 100;

/** How a window's scores are grouped for estimation: plain JSON, sent with the window query. */
export interface EstimationGrouping {
  /**
   * Where the isotonic map changes form, ascending: a score s is in segment #{b < s}. A step map:
   * each step's upper score but the last. An interpolated map: each step's upper score and the
   * next step's lower score, so segments alternate between a step (constant) and the line to the
   * next step. [] for other maps.
   */
  steps: number[];
  /** The model's decision threshold: score ≥ threshold is a positive prediction. */
  threshold: number;
  /** Equal-width bins over [0, 1] (a score of 1 goes to the last). */
  bins: number;
}

/** The scores of one group. */
export interface ScoreGroup {
  bin: number;
  step: number;
  above: boolean;
  events: number;
  scoreSum: number;
  scoreSquareSum: number;
}

/** The grouping a window query applies for `model` at `threshold` (@default the model's own). */
export function estimationGrouping(
  model: CbpeModel,
  threshold: number = model.options.threshold,
  bins: number = DEFAULT_ESTIMATION_BINS,
): EstimationGrouping {
  return { steps: segmentBounds(model), threshold, bins };
}

/** The segment bounds of the model's map (see {@link EstimationGrouping.steps}). */
function segmentBounds(model: CbpeModel): number[] {
  const c = model.calibrator;
  if (c.kind !== 'isotonic') return [];
  if (!c.lowerScores) return c.upperScores.slice(0, -1);
  const bounds: number[] = [];
  for (let k = 0; k + 1 < c.upperScores.length; k++)
    bounds.push(c.upperScores[k] as number, c.lowerScores[k + 1] as number);
  return bounds;
}

/** p = intercept + slope × score on segment `step` of the isotonic map (constant on a step, linear between steps). */
function segmentLine(
  c: Extract<CbpeModel['calibrator'], { kind: 'isotonic' }>,
  step: number,
): { intercept: number; slope: number } {
  const last = c.values.length - 1;
  if (!c.lowerScores) return { intercept: c.values[Math.min(step, last)] as number, slope: 0 };
  const k = step >> 1;
  if (step % 2 === 0 || k >= last) return { intercept: c.values[Math.min(k, last)] as number, slope: 0 };
  const x0 = c.upperScores[k] as number;
  const x1 = c.lowerScores[k + 1] as number;
  const y0 = c.values[k] as number;
  const y1 = c.values[k + 1] as number;
  const slope = (y1 - y0) / (x1 - x0);
  return { intercept: y0 - slope * x0, slope };
}

/** The keys of one score, as the window query computes them (platform/clickhouse/estimation-repository.ts). */
export function scoreGroupKey(grouping: EstimationGrouping, score: number): Pick<ScoreGroup, 'bin' | 'step' | 'above'> {
  let step = 0;
  for (const upper of grouping.steps) if (upper < score) step += 1;
  return {
    bin: Math.min(Math.floor(score * grouping.bins), grouping.bins - 1),
    step,
    above: score >= grouping.threshold,
  };
}

/** Group `scores` in memory (the backtest, benchmarks and tests; the monitor groups in ClickHouse). */
export function groupScores(grouping: EstimationGrouping, scores: Iterable<number>): ScoreGroup[] {
  const groups = new Map<string, ScoreGroup>();
  for (const s of scores) {
    const key = scoreGroupKey(grouping, s);
    const id = `${key.bin}:${key.step}:${key.above ? 1 : 0}`;
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { ...key, events: 0, scoreSum: 0, scoreSquareSum: 0 }));
    g.events += 1;
    g.scoreSum += s;
    g.scoreSquareSum += s * s;
  }
  return [...groups.values()];
}

/** Groups in score order: bins, steps and the threshold side all rise with the score. */
function inScoreOrder(groups: readonly ScoreGroup[]): ScoreGroup[] {
  return [...groups]
    .filter((g) => g.events > 0)
    .sort((a, b) => a.bin - b.bin || a.step - b.step || Number(a.above) - Number(b.above));
}

/** Σ p and Σ p(1 − p) of a group's events under the model's map. */
function groupProbability(model: CbpeModel, g: ScoreGroup): ProbabilityGroup {
  const c = model.calibrator;
  if (c.kind === 'platt') {
    // Platt: at the group's mean score (approximate; groups are one score bin wide).
    const p = calibrate(c, Math.min(1, Math.max(0, g.scoreSum / g.events)));
    return { events: g.events, positive: g.events * p, negative: g.events * (1 - p), variance: g.events * p * (1 - p) };
  }
  // p = a + b·s on the whole group (identity: 0 + 1·s; isotonic: the group's segment), so
  // Σp = a·n + b·Σs and Σp² = a²·n + 2ab·Σs + b²·Σs², exactly.
  const { intercept: a, slope: b } = c.kind === 'identity' ? { intercept: 0, slope: 1 } : segmentLine(c, g.step);
  const positive = a * g.events + b * g.scoreSum;
  const squares = a * a * g.events + 2 * a * b * g.scoreSum + b * b * g.scoreSquareSum;
  return {
    events: g.events,
    positive,
    negative: g.events - positive,
    variance: Math.max(0, positive - squares),
  };
}

/**
 * The CBPE estimate of a window from its score groups (grouped with `grouping`): accuracy at the
 * grouping's threshold with its interval, precision, recall, F1, and ROC AUC with its interval.
 */
export function estimateCbpeFromGroups(
  model: CbpeModel,
  groups: readonly ScoreGroup[],
  grouping: EstimationGrouping,
  outOfRangeEvents = 0,
): CbpeEstimate {
  const ordered = inScoreOrder(groups);
  const probabilities = ordered.map((g) => groupProbability(model, g));
  const c: ExpectedConfusion = { truePositives: 0, falsePositives: 0, trueNegatives: 0, falseNegatives: 0 };
  let n = 0;
  let varianceSum = 0;
  ordered.forEach((g, i) => {
    const p = probabilities[i] as ProbabilityGroup;
    n += g.events;
    varianceSum += p.variance;
    if (g.above) {
      c.truePositives += p.positive;
      c.falsePositives += p.negative;
    } else {
      c.falseNegatives += p.positive;
      c.trueNegatives += p.negative;
    }
  });
  const level = model.options.level;
  const reasons = [...model.check.reasons];
  if (n > 0 && outOfRangeEvents / n > model.options.maxOutOfRangeShare)
    reasons.push(
      `warning: ${((100 * outOfRangeEvents) / n).toFixed(1)}% of scores fall outside the reference score range; calibration there is extrapolated`,
    );
  const auc = n > 0 ? expectedRocAucOfGroups(probabilities) : null;
  return estimateFromConfusion(model, reasons, c, n, varianceSum, auc, level, grouping.threshold);
}
