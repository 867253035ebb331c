/**
 * Confidence intervals: Wilson score for proportions, percentile bootstrap (seeded) for the rest.
 *
 * Wilson rather than Wald because monitoring windows are often small or near 0/1 accuracy, where
 * Wald collapses to zero width. Equals scipy's `binomtest(k, n).proportion_ci(method='wilson')`.
 */
import { twoSidedZ } from './distributions.ts';
import type { ConfidenceInterval } from './types.ts';

/** @default 0.95 */
export const DEFAULT_CONFIDENCE_LEVEL = 0.95;
/** Fewest events for a bootstrap interval; below this the percentiles are too coarse. @default 20 */
export const DEFAULT_MIN_BOOTSTRAP_SAMPLE = 20;
/** @default 1000 */
export const DEFAULT_BOOTSTRAP_REPLICATES = 1000;
/** Seed of the bootstrap PRNG, so a report is reproducible. @default 20240611 */
export const DEFAULT_BOOTSTRAP_SEED = 20240611;

/** Wilson score interval for `successes` out of `n`; null when n = 0. */
export function wilsonInterval(
  successes: number,
  n: number,
  level = DEFAULT_CONFIDENCE_LEVEL,
): ConfidenceInterval | null {
  if (n <= 0) return null;
  if (successes < 0 || successes > n) throw new RangeError(`successes ${successes} outside [0, ${n}]`);
  const z = twoSidedZ(level);
  const p = successes / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator;
  return {
    lower: successes === 0 ? 0 : Math.max(0, center - half),
    upper: successes === n ? 1 : Math.min(1, center + half),
    level,
    method: 'wilson',
  };
}

/** Linear-interpolation quantile (type 7, numpy's default) of ascending-sorted values. */
export function sortedQuantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  const low = sorted[below] as number;
  const high = sorted[above] as number;
  return low + (high - low) * (position - below);
}

/**
 * Percentile interval from bootstrap replicates; replicates that were undefined (null) are
 * dropped, and if more than 10% were undefined the interval is refused.
 */
export function percentileInterval(
  replicates: readonly (number | null)[],
  level = DEFAULT_CONFIDENCE_LEVEL,
): { interval: ConfidenceInterval | null; note?: string } {
  const defined = replicates.filter((v): v is number => v !== null && Number.isFinite(v));
  if (defined.length < 0.9 * replicates.length || defined.length < 2) {
    return {
      interval: null,
      note: `metric undefined in ${replicates.length - defined.length} of ${replicates.length} bootstrap resamples`,
    };
  }
  defined.sort((a, b) => a - b);
  const alpha = 1 - level;
  return {
    interval: {
      lower: sortedQuantile(defined, alpha / 2),
      upper: sortedQuantile(defined, 1 - alpha / 2),
      level,
      method: 'bootstrap-percentile',
    },
  };
}
