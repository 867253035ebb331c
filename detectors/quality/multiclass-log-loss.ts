/**
 * Multiclass log loss (= sklearn log_loss with every class listed) with a normal interval on the
 * mean per-event loss.
 *
 * The interval comes from two sums (Σℓ, Σℓ²), so a query can aggregate the events: log loss is a
 * mean of per-event losses, and at monitoring window sizes the central limit theorem holds well
 * enough; a bootstrap would cost O(n) per replicate for the same answer.
 */
import { twoSidedZ } from './distributions.ts';
import { DEFAULT_CONFIDENCE_LEVEL } from './intervals.ts';
import { LOG_LOSS_EPSILON } from './probabilistic.ts';
import { assertSameLength } from './types.ts';
import type { MetricEstimate } from './types.ts';

/** How far a probability vector's sum may stray from 1 before it is refused. @default 1e-6 */
export const PROBABILITY_SUM_TOLERANCE = 1e-6;

/** Check one event's class-probability vector: finite entries in [0, 1] summing to 1. */
export function assertProbabilityVector(probabilities: readonly number[], what = 'class probabilities'): void {
  let sum = 0;
  for (const p of probabilities) {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`${what}: every entry must be in [0, 1], got ${String(p)}`);
    sum += p;
  }
  if (Math.abs(sum - 1) > PROBABILITY_SUM_TOLERANCE)
    throw new RangeError(`${what} sum to ${sum}, not 1: pass the model's softmax output, one entry per class`);
}

/** One event's loss −ln p(true class), p clipped to [ε, 1 − ε] as scikit-learn does for float64. */
export function multiclassLogLossContribution(probabilities: readonly number[], trueClass: number): number {
  const p = probabilities[trueClass];
  if (p === undefined)
    throw new RangeError(`true class ${trueClass} has no probability (${probabilities.length} classes)`);
  return -Math.log(Math.min(Math.max(p, LOG_LOSS_EPSILON), 1 - LOG_LOSS_EPSILON));
}

/** What a query aggregates over a window's events for the log loss and its interval. */
export interface LossSums {
  n: number;
  sum: number;
  sumSquares: number;
}

/** Mean loss with a normal interval mean ± z·s/√n (s with n − 1); no interval below 2 events. */
export function meanLossFromSums(s: LossSums, level = DEFAULT_CONFIDENCE_LEVEL): MetricEstimate {
  if (s.n === 0) return { value: null, n: 0, interval: null, note: 'no events' };
  const mean = s.sum / s.n;
  if (s.n < 2) return { value: mean, n: s.n, interval: null, note: 'one event: no interval' };
  const variance = Math.max(0, (s.sumSquares - s.n * mean * mean) / (s.n - 1));
  const half = (twoSidedZ(level) * Math.sqrt(variance)) / Math.sqrt(s.n);
  return {
    value: mean,
    n: s.n,
    interval: { lower: Math.max(0, mean - half), upper: mean + half, level, method: 'normal' },
  };
}

/** Log loss of class-probability vectors against true class indices. */
export function multiclassLogLoss(
  truth: readonly number[],
  probabilities: readonly (readonly number[])[],
  level = DEFAULT_CONFIDENCE_LEVEL,
): MetricEstimate {
  assertSameLength(truth, probabilities, 'multiclassLogLoss');
  const sums: LossSums = { n: truth.length, sum: 0, sumSquares: 0 };
  for (let i = 0; i < truth.length; i++) {
    const vector = probabilities[i] as readonly number[];
    assertProbabilityVector(vector, `event ${i}'s class probabilities`);
    const loss = multiclassLogLossContribution(vector, truth[i] as number);
    sums.sum += loss;
    sums.sumSquares += loss * loss;
  }
  return meanLossFromSums(sums, level);
}
