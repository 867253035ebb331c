/**
 * Confidence intervals for how much better the challenger is than the champion on the same events.
 * "Improvement" is signed so that positive always means the challenger is better.
 *
 * Accuracy, log loss and Brier are means of per-event contributions, so the paired bootstrap
 * resamples events and averages the per-event differences (seeded, percentile interval). When
 * the differences take only a few distinct values (accuracy: −1, 0 or 1), resampling n events
 * with replacement is exactly a multinomial draw of how many of each value the resample holds,
 * so each resample draws those counts (O(values), not O(n)): the same bootstrap distribution,
 * not the same draws. Continuous differences (log loss, Brier) resample events.
 * ROC AUC is not a per-event mean; it uses the paired DeLong variance of AUC₁ − AUC₀
 * (DeLong, DeLong & Clarke-Pearson 1988), which accounts for the correlation of the two models.
 */
import { Random } from '../random.ts';
import { multinomialCounts } from '../sampling/binomial.ts';
import { twoSidedZ } from '../quality/distributions.ts';
import { percentileInterval } from '../quality/intervals.ts';
import { brierContribution, logLossContribution } from '../quality/probabilistic.ts';
import { delongComponents } from '../quality/roc-auc.ts';
import type { PairedLoss } from './paired-loss.ts';

export type PromotionMetric = 'accuracy' | 'logLoss' | 'brier' | 'rocAuc';

export interface ImprovementInterval {
  /** A binary model's metric, or the per-event loss of a multiclass or regression model. */
  metric: PromotionMetric | PairedLoss;
  champion: number;
  challenger: number;
  /** Challenger better by this much (sign-adjusted so higher is better for every metric). */
  improvement: number;
  lower: number;
  upper: number;
  level: number;
  method: 'paired-bootstrap-percentile' | 'paired-delong';
  /** Bootstrap only: whether each resample drew n events or the counts of the differences' few distinct values. */
  resampling?: 'events' | 'value-counts';
}

export interface PairedBootstrapOptions {
  /** @default 2000 */
  replicates: number;
  /** @default 20240611 */
  seed: number;
  /** @default 0.95 */
  level: number;
  /** Score >= threshold predicts positive (accuracy only). @default 0.5 */
  threshold: number;
  /** Resample value counts when the differences take at most this many distinct values; 0 always resamples events. @default 16 */
  valueCountsUpTo: number;
  /**
   * Computes the replicate means when events are resampled, e.g. spread over threads; it must
   * return exactly {@link eventBootstrapMeans}'s values. @default eventBootstrapMeans (this thread)
   */
  eventResampler: EventResampler;
}

/** `replicates` bootstrap means of `differences`, replicate r drawn as {@link eventBootstrapMean} draws it. */
export type EventResampler = (differences: Float64Array, seed: number, replicates: number) => number[];

/**
 * Replicate r of an event-resampling bootstrap: the mean of n draws with replacement, from the
 * generator r·n draws after `new Random(seed)` — so replicates 0, 1, 2… computed in any order or
 * on any thread are exactly one sequential run's.
 */
export function eventBootstrapMean(differences: Float64Array, seed: number, replicate: number): number {
  return Random.afterDraws(seed, replicate * differences.length).resampledMean(differences);
}

/** All replicates of an event-resampling bootstrap on this thread. */
export function eventBootstrapMeans(differences: Float64Array, seed: number, replicates: number): number[] {
  const random = new Random(seed);
  const means: number[] = [];
  for (let r = 0; r < replicates; r++) means.push(random.resampledMean(differences));
  return means;
}

export const PAIRED_BOOTSTRAP_DEFAULTS: Readonly<PairedBootstrapOptions> = Object.freeze({
  replicates: 2000,
  seed: 20240611,
  level: 0.95,
  threshold: 0.5,
  valueCountsUpTo: 16,
  eventResampler: eventBootstrapMeans,
});

/** The distinct values of `xs` and how often each occurs, or null when there are more than `limit`. */
function valueCounts(xs: Float64Array, limit: number): { values: number[]; counts: number[] } | null {
  if (limit <= 0) return null;
  const values: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i] as number;
    const j = values.indexOf(x);
    if (j >= 0) counts[j]! += 1;
    else {
      if (values.length === limit) return null;
      values.push(x);
      counts.push(1);
    }
  }
  return { values, counts };
}

/** Per-event loss-like contribution; the metric is the mean. Higher is better only for accuracy. */
function contribution(
  metric: 'accuracy' | 'logLoss' | 'brier',
  label: number,
  score: number,
  threshold: number,
): number {
  if (metric === 'accuracy') return (score >= threshold ? 1 : 0) === label ? 1 : 0;
  return metric === 'logLoss' ? logLossContribution(label, score) : brierContribution(label, score);
}

/** Paired bootstrap of a per-event metric difference. */
export function pairedBootstrapImprovement(
  metric: 'accuracy' | 'logLoss' | 'brier',
  labels: readonly number[],
  championScores: readonly number[],
  challengerScores: readonly number[],
  options: Partial<PairedBootstrapOptions> = {},
): ImprovementInterval {
  const o = { ...PAIRED_BOOTSTRAP_DEFAULTS, ...options };
  const n = labels.length;
  if (n === 0) throw new RangeError('pairedBootstrapImprovement needs at least one event');
  const sign = metric === 'accuracy' ? 1 : -1;
  const differences = new Float64Array(n);
  let championSum = 0;
  let challengerSum = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i] as number;
    const a = contribution(metric, y, championScores[i] as number, o.threshold);
    const b = contribution(metric, y, challengerScores[i] as number, o.threshold);
    championSum += a;
    challengerSum += b;
    differences[i] = sign * (b - a);
  }
  const { lower, upper, resampling } = bootstrapMeanInterval(differences, o);
  const improvement = (sign * (challengerSum - championSum)) / n;
  return {
    metric,
    champion: championSum / n,
    challenger: challengerSum / n,
    improvement,
    lower: lower ?? improvement,
    upper: upper ?? improvement,
    level: o.level,
    method: 'paired-bootstrap-percentile',
    resampling,
  };
}

/**
 * The percentile interval of the mean of per-event differences under the paired bootstrap:
 * value counts drawn as a multinomial when the differences take few values, events resampled
 * (through `eventResampler`) otherwise. Null bounds when the replicates give no interval.
 */
export function bootstrapMeanInterval(
  differences: Float64Array,
  options: Partial<PairedBootstrapOptions> = {},
): { lower: number | null; upper: number | null; resampling: 'events' | 'value-counts' } {
  const o = { ...PAIRED_BOOTSTRAP_DEFAULTS, ...options };
  const n = differences.length;
  if (n === 0) throw new RangeError('bootstrapMeanInterval needs at least one event');
  let replicates: number[] = [];
  const few = valueCounts(differences, o.valueCountsUpTo);
  if (few) {
    const random = new Random(o.seed);
    const probabilities = few.counts.map((c) => c / n);
    for (let r = 0; r < o.replicates; r++) {
      const counts = multinomialCounts(random, n, probabilities);
      let sum = 0;
      for (let j = 0; j < counts.length; j++) sum += (counts[j] as number) * (few.values[j] as number);
      replicates.push(sum / n);
    }
  } else {
    replicates = o.eventResampler(differences, o.seed, o.replicates);
    if (replicates.length !== o.replicates)
      throw new RangeError(`eventResampler returned ${replicates.length} replicates, ${o.replicates} asked`);
  }
  const { interval } = percentileInterval(replicates, o.level);
  return {
    lower: interval?.lower ?? null,
    upper: interval?.upper ?? null,
    resampling: few ? 'value-counts' : 'events',
  };
}

function covariance(a: Float64Array, b: Float64Array): number {
  let meanA = 0;
  let meanB = 0;
  for (let i = 0; i < a.length; i++) {
    meanA += a[i] as number;
    meanB += b[i] as number;
  }
  meanA /= a.length;
  meanB /= b.length;
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += ((a[i] as number) - meanA) * ((b[i] as number) - meanB);
  return sum / (a.length - 1);
}

/** Paired DeLong interval of AUC(challenger) − AUC(champion); null when a class has < 2 events. */
export function pairedAucImprovement(
  labels: readonly number[],
  championScores: readonly number[],
  challengerScores: readonly number[],
  level = 0.95,
): ImprovementInterval | null {
  const champion = delongComponents(labels, championScores);
  const challenger = delongComponents(labels, challengerScores);
  if (champion === null || challenger === null) return null;
  const m = champion.positivePlacements.length;
  const n = champion.negativePlacements.length;
  if (m < 2 || n < 2) return null;
  const v10 =
    covariance(challenger.positivePlacements, challenger.positivePlacements) +
    covariance(champion.positivePlacements, champion.positivePlacements) -
    2 * covariance(challenger.positivePlacements, champion.positivePlacements);
  const v01 =
    covariance(challenger.negativePlacements, challenger.negativePlacements) +
    covariance(champion.negativePlacements, champion.negativePlacements) -
    2 * covariance(challenger.negativePlacements, champion.negativePlacements);
  const variance = Math.max(0, v10 / m + v01 / n);
  const improvement = challenger.auc - champion.auc;
  const half = twoSidedZ(level) * Math.sqrt(variance);
  return {
    metric: 'rocAuc',
    champion: champion.auc,
    challenger: challenger.auc,
    improvement,
    lower: improvement - half,
    upper: improvement + half,
    level,
    method: 'paired-delong',
  };
}
