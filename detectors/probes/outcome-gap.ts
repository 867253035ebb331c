/**
 * The gap a probe of a multiclass or regression model measured, in the policy's metric turned
 * into quality (detectors/quality/quality-metric.ts), so the cost-aware rule reads it exactly as
 * a binary probe's accuracy gap: champion and challenger quality on the same events, and
 * challenger − champion with its interval.
 *
 * Each event's loss is the one the kinds' shadow verdict compares (promotion/outcome-pairs.ts):
 * 0/1 error for accuracy, log loss, absolute error for MAE, squared error for RMSE and R². The
 * interval is the paired t interval of the mean loss difference d = champion − challenger
 * (promotion/paired-loss.ts `pairedLossTest`, the test the shadow verdict reports beside its
 * bootstrap): it needs only sums, so a probe adds each window's events in O(new events) and keeps
 * O(1) in the monitor's state, as the binary probe keeps its counts. The interval of d maps to
 * quality through the metric's transform with the champion's mean loss held at its value on the
 * same events (the transform is monotone, so bounds map to bounds): accuracy, MAE and R² are
 * linear in the mean loss, so their interval is d's scaled (unclipped, as the binary probe's);
 * log loss and RMSE are not (exp(−L), 1 − √L / w), and a mean loss below 0 counts as 0.
 *
 * Macro-F1 is not a mean over events (its shadow verdict compares log loss instead), so a
 * macro-F1 policy's probe would measure a gap in another unit than its windows: it runs none.
 */
import { studentTQuantile } from '../decay/stats.ts';
import { pairedLossTest } from '../promotion/paired-loss.ts';
import type { LossVerdictMetric } from '../promotion/loss-verdict.ts';
import type { ModelKind, QualityMetric } from '../quality/quality-metric.ts';
import type { PairedGap } from './paired-gap.ts';

/** The policy metrics of multiclass and regression models a probe can measure. */
export type OutcomeProbeMetric = 'accuracy' | 'log_loss' | 'mae' | 'rmse' | 'r2';

/**
 * What a probe of a multiclass or regression model adds up over its paired events: each side's
 * summed per-event loss, Σd² of the loss difference, and (for R²) the truth's sums. Additive, so a
 * window's sums are added to the probe's and a runner that re-reads every event subtracts.
 */
export interface PairedOutcomeSums {
  metric: OutcomeProbeMetric;
  /** For mae and rmse: the policy's `quality.worthlessError` (quality 0 at that error); else null. */
  worthlessError: number | null;
  events: number;
  championLoss: number;
  challengerLoss: number;
  /** Σ (champion loss − challenger loss)². */
  sumSquaredDifference: number;
  sumTruth: number;
  sumSquaredTruth: number;
}

/** The metric a probe of this kind measures for the policy's metric, or null when it runs none. */
export function outcomeProbeMetric(kind: ModelKind, metric: QualityMetric): OutcomeProbeMetric | null {
  if (kind === 'multiclass') return metric === 'accuracy' || metric === 'log_loss' ? metric : null;
  if (kind === 'regression') return metric === 'mae' || metric === 'rmse' || metric === 'r2' ? metric : null;
  return null;
}

/** Whether a policy metric is one a multiclass or regression probe can measure (for the tick, which knows no kind). */
export function isOutcomeProbeMetric(metric: QualityMetric): metric is OutcomeProbeMetric {
  return metric === 'log_loss' || metric === 'mae' || metric === 'rmse' || metric === 'r2';
}

/** The per-event loss a probe pairs for its metric: the shadow verdict's (activities/shadow-beyond-binary.ts). */
export function probeLossOf(metric: OutcomeProbeMetric): LossVerdictMetric {
  switch (metric) {
    case 'accuracy':
      return 'accuracy';
    case 'log_loss':
      return 'logLoss';
    case 'mae':
      return 'absoluteError';
    default:
      return 'squaredError';
  }
}

export function emptyPairedOutcomeSums(metric: OutcomeProbeMetric, worthlessError: number | null): PairedOutcomeSums {
  return {
    metric,
    worthlessError,
    events: 0,
    championLoss: 0,
    challengerLoss: 0,
    sumSquaredDifference: 0,
    sumTruth: 0,
    sumSquaredTruth: 0,
  };
}

/** The sums of paired events: the truth and each side's per-event loss under {@link probeLossOf}. */
export function pairedOutcomeSumsOf(
  metric: OutcomeProbeMetric,
  worthlessError: number | null,
  truth: readonly number[],
  championLosses: readonly number[],
  challengerLosses: readonly number[],
): PairedOutcomeSums {
  if (truth.length !== championLosses.length || truth.length !== challengerLosses.length)
    throw new RangeError(
      `paired outcome sums: ${truth.length} events but ${championLosses.length} champion and ${challengerLosses.length} challenger losses`,
    );
  const sums = emptyPairedOutcomeSums(metric, worthlessError);
  truth.forEach((y, i) => {
    const a = championLosses[i] as number;
    const b = challengerLosses[i] as number;
    sums.events += 1;
    sums.championLoss += a;
    sums.challengerLoss += b;
    sums.sumSquaredDifference += (a - b) * (a - b);
    sums.sumTruth += y;
    sums.sumSquaredTruth += y * y;
  });
  return sums;
}

export function addPairedOutcomeSums(a: PairedOutcomeSums, b: PairedOutcomeSums): PairedOutcomeSums {
  if (a.metric !== b.metric) throw new RangeError(`paired outcome sums of ${a.metric} and ${b.metric} cannot be added`);
  return {
    metric: a.metric,
    worthlessError: a.worthlessError,
    events: a.events + b.events,
    championLoss: a.championLoss + b.championLoss,
    challengerLoss: a.challengerLoss + b.challengerLoss,
    sumSquaredDifference: a.sumSquaredDifference + b.sumSquaredDifference,
    sumTruth: a.sumTruth + b.sumTruth,
    sumSquaredTruth: a.sumSquaredTruth + b.sumSquaredTruth,
  };
}

/**
 * What a window added, for runners that re-read every event since the probe started (so late
 * labels count once): the cumulative sums now minus those recorded. No new event adds nothing
 * (a corrected label changes a stored event's loss, not the count: it is not counted twice).
 */
export function pairedOutcomeSumsSince(cumulative: PairedOutcomeSums, recorded: PairedOutcomeSums): PairedOutcomeSums {
  const events = cumulative.events - recorded.events;
  if (!(events > 0)) return emptyPairedOutcomeSums(cumulative.metric, cumulative.worthlessError);
  return {
    metric: cumulative.metric,
    worthlessError: cumulative.worthlessError,
    events,
    championLoss: cumulative.championLoss - recorded.championLoss,
    challengerLoss: cumulative.challengerLoss - recorded.challengerLoss,
    sumSquaredDifference: Math.max(0, cumulative.sumSquaredDifference - recorded.sumSquaredDifference),
    sumTruth: cumulative.sumTruth - recorded.sumTruth,
    sumSquaredTruth: Math.max(0, cumulative.sumSquaredTruth - recorded.sumSquaredTruth),
  };
}

/**
 * Quality of a mean per-event loss under the metric's transform; null when it is undefined
 * (R² of a constant truth, MAE or RMSE without a worthless error).
 */
function qualityOfMeanLoss(sums: PairedOutcomeSums, meanLoss: number): number | null {
  const loss = Math.max(0, meanLoss);
  const w = sums.worthlessError;
  switch (sums.metric) {
    case 'accuracy':
      return clamp01(1 - loss);
    case 'log_loss':
      return Math.exp(-loss);
    case 'mae':
      return w !== null && w > 0 ? clamp01(1 - loss / w) : null;
    case 'rmse':
      return w !== null && w > 0 ? clamp01(1 - Math.sqrt(loss) / w) : null;
    case 'r2': {
      const n = sums.events;
      const variance = sums.sumSquaredTruth / n - (sums.sumTruth / n) ** 2;
      return variance > 1e-12 * Math.max(1e-300, sums.sumSquaredTruth / n) ? clamp01(1 - loss / variance) : null;
    }
  }
}

/** Quality per unit of mean loss for the metrics linear in it (accuracy, MAE, R²); null for log loss and RMSE. */
function linearScale(sums: PairedOutcomeSums): number | null {
  const n = sums.events;
  switch (sums.metric) {
    case 'accuracy':
      return 1;
    case 'mae':
      return 1 / (sums.worthlessError as number);
    case 'r2':
      return 1 / (sums.sumSquaredTruth / n - (sums.sumTruth / n) ** 2);
    default:
      return null;
  }
}

/** Gap and interval in quality units, or null with fewer than 2 events (or no quality to map to). */
export function pairedOutcomeGap(sums: PairedOutcomeSums, level = 0.95): PairedGap | null {
  const n = sums.events;
  if (!(n >= 2)) return null;
  const test = pairedLossTest(
    { n, sumDifference: sums.championLoss - sums.challengerLoss, sumSquaredDifference: sums.sumSquaredDifference },
    { level },
  );
  if (test === null) return null;
  const championLoss = sums.championLoss / n;
  const champion = qualityOfMeanLoss(sums, championLoss);
  const challenger = qualityOfMeanLoss(sums, sums.challengerLoss / n);
  if (champion === null || challenger === null) return null;
  const gap = challenger - champion;
  let lower: number;
  let upper: number;
  const scale = linearScale(sums);
  if (scale !== null) {
    // Linear in the mean loss: the interval of d scaled, unclipped (as the binary probe's).
    lower = scale * test.lower;
    upper = scale * test.upper;
  } else {
    // d's interval: the challenger's mean loss is the champion's minus d.
    const atLower = qualityOfMeanLoss(sums, championLoss - test.lower) as number;
    const atUpper = qualityOfMeanLoss(sums, championLoss - test.upper) as number;
    lower = Math.min(atLower, atUpper) - champion;
    upper = Math.max(atLower, atUpper) - champion;
  }
  // The interval's half-width over its t quantile: the gap's standard error in quality units.
  const t = studentTQuantile(1 - (1 - level) / 2, n - 1);
  return { events: n, champion, challenger, gap, lower, upper, level, se: (upper - lower) / 2 / t };
}

function clamp01(v: number): number {
  return Math.min(1, Math.max(0, v));
}
