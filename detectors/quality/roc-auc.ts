/**
 * ROC AUC by ranks (Mann–Whitney U with mid-ranks for ties), equal to
 * sklearn.metrics.roc_auc_score, and its DeLong et al. (1988) variance.
 *
 * DeLong rather than Hanley–McNeil because it needs no distributional assumption and its
 * structural components also give the covariance of two AUCs on the same events (promotion).
 */
import { twoSidedZ } from './distributions.ts';
import { DEFAULT_CONFIDENCE_LEVEL } from './intervals.ts';
import { assertBinaryLabels, assertSameLength } from './types.ts';
import type { MetricEstimate } from './types.ts';

/** Mid-ranks (1-based, ties share their average rank) of `values`. */
export function midRanks(values: readonly number[]): Float64Array {
  const order = Array.from(values.keys()).sort((a, b) => (values[a] as number) - (values[b] as number));
  const ranks = new Float64Array(values.length);
  let start = 0;
  while (start < order.length) {
    let end = start;
    const v = values[order[start] as number] as number;
    while (end + 1 < order.length && values[order[end + 1] as number] === v) end += 1;
    const rank = (start + end) / 2 + 1;
    for (let i = start; i <= end; i++) ranks[order[i] as number] = rank;
    start = end + 1;
  }
  return ranks;
}

/** DeLong structural components: one placement value per positive and per negative event. */
export interface DelongComponents {
  auc: number;
  /** For each positive: share of negatives it outranks (ties count half). */
  positivePlacements: Float64Array;
  /** For each negative: share of positives that outrank it (ties count half). */
  negativePlacements: Float64Array;
}

/** Null when either class is absent (AUC undefined). */
export function delongComponents(labels: readonly number[], scores: readonly number[]): DelongComponents | null {
  assertSameLength(labels, scores, 'rocAuc');
  assertBinaryLabels(labels);
  const positives: number[] = [];
  const negatives: number[] = [];
  labels.forEach((y, i) => (y === 1 ? positives : negatives).push(scores[i] as number));
  const m = positives.length;
  const n = negatives.length;
  if (m === 0 || n === 0) return null;
  const allRanks = midRanks([...positives, ...negatives]);
  const positiveRanks = midRanks(positives);
  const negativeRanks = midRanks(negatives);
  const positivePlacements = new Float64Array(m);
  const negativePlacements = new Float64Array(n);
  let rankSum = 0;
  for (let i = 0; i < m; i++) {
    const rank = allRanks[i] as number;
    rankSum += rank;
    positivePlacements[i] = (rank - (positiveRanks[i] as number)) / n;
  }
  for (let j = 0; j < n; j++) {
    negativePlacements[j] = 1 - ((allRanks[m + j] as number) - (negativeRanks[j] as number)) / m;
  }
  const auc = (rankSum - (m * (m + 1)) / 2) / (m * n);
  return { auc, positivePlacements, negativePlacements };
}

/** ROC AUC; null when only one class is present. */
export function rocAuc(labels: readonly number[], scores: readonly number[]): number | null {
  return delongComponents(labels, scores)?.auc ?? null;
}

function sampleVariance(values: Float64Array): number {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length;
  let sum = 0;
  for (const v of values) sum += (v - mean) * (v - mean);
  return sum / (values.length - 1);
}

/** DeLong variance of the AUC; null with fewer than 2 events of either class. */
export function delongVariance(components: DelongComponents): number | null {
  const m = components.positivePlacements.length;
  const n = components.negativePlacements.length;
  if (m < 2 || n < 2) return null;
  return sampleVariance(components.positivePlacements) / m + sampleVariance(components.negativePlacements) / n;
}

/** AUC with a DeLong normal interval (clipped to [0, 1]). */
export function rocAucEstimate(
  labels: readonly number[],
  scores: readonly number[],
  level = DEFAULT_CONFIDENCE_LEVEL,
): MetricEstimate {
  const components = delongComponents(labels, scores);
  const n = labels.length;
  if (components === null) return { value: null, n, interval: null, note: 'only one class present: ROC AUC undefined' };
  const variance = delongVariance(components);
  if (variance === null)
    return {
      value: components.auc,
      n,
      interval: null,
      note: 'DeLong interval needs at least 2 positives and 2 negatives',
    };
  if (variance === 0)
    return {
      value: components.auc,
      n,
      interval: null,
      note: 'DeLong variance is 0 (complete separation or constant scores): no informative interval',
    };
  const half = twoSidedZ(level) * Math.sqrt(variance);
  return {
    value: components.auc,
    n,
    interval: {
      lower: Math.max(0, components.auc - half),
      upper: Math.min(1, components.auc + half),
      level,
      method: 'delong',
    },
  };
}
