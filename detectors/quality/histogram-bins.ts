/**
 * Histogram bins for the boosted trees (boosted-trees.ts): each feature's values are mapped once to
 * a small integer bin, and trees are grown on per-bin sums rather than on sorted values — the
 * histogram method LightGBM made standard, with the same documented limits (at most `maxBins`
 * bins, at least `minDataInBin` rows in a bin).
 *
 * Bin 0 always holds the missing: NaN for a numeric feature; NaN, negative, unseen, non-integer
 * or very rare codes for a categorical one. A numeric feature's 0 has a bin of its own; its
 * negative and its positive values share the other bins in proportion to their rows. A side with
 * few distinct values gets a bin per value (neighbours merged until each bin holds `minDataInBin`
 * rows); one with many is cut greedily into bins of roughly equal row counts, except that a value
 * frequent enough to fill a bin on its own keeps one to itself (a spike is not smeared over its
 * neighbours). Bin edges lie halfway between adjacent distinct values, so an unseen value in a
 * gap goes to the nearer side. A categorical feature gets a bin per category, the most frequent
 * first. These are LightGBM's binning rules, so the two learners cut features at the same edges.
 */

export type FeatureBins =
  | {
      kind: 'numeric';
      /** Bin k ≥ 1 holds the values in (upperBounds[k − 2], upperBounds[k − 1]]; the last is +∞. */
      upperBounds: number[];
    }
  | {
      kind: 'categorical';
      /** Bin k ≥ 1 holds the category code categories[k − 1]. */
      categories: number[];
    };

/** How many bins a feature has, the missing bin 0 included. */
export function binCount(bins: FeatureBins): number {
  return 1 + (bins.kind === 'numeric' ? bins.upperBounds.length : bins.categories.length);
}

/** Distinct finite values in increasing order, with their counts. */
function distinctCounts(values: ArrayLike<number>): { value: number[]; count: number[] } {
  const sorted = Float64Array.from(values).filter((v) => !Number.isNaN(v));
  sorted.sort();
  const value: number[] = [];
  const count: number[] = [];
  for (const v of sorted) {
    if (value.length > 0 && value[value.length - 1] === v) count[count.length - 1]! += 1;
    else {
      value.push(v);
      count.push(1);
    }
  }
  return { value, count };
}

/**
 * Upper bounds of at most `budget` bins over distinct values (increasing, with counts); the last
 * bound is +∞, the others lie halfway between the last value of a bin and the first of the next.
 */
function cutValues(value: readonly number[], count: readonly number[], budget: number, minDataInBin: number): number[] {
  const m = value.length;
  const upperBounds: number[] = [];
  const cutAfter = (i: number) => upperBounds.push((value[i]! + value[i + 1]!) / 2);
  if (m <= budget) {
    let filled = 0;
    for (let i = 0; i < m - 1; i++) {
      filled += count[i]!;
      if (filled >= minDataInBin) {
        cutAfter(i);
        filled = 0;
      }
    }
  } else {
    const total = count.reduce((a, b) => a + b, 0);
    const bins = Math.max(1, Math.min(budget, Math.floor(total / minDataInBin)));
    const spike = count.map((c) => c >= total / bins);
    // The values that are not spikes share the bins the spikes leave, evenly; the share is
    // re-worked after every bin so that rounding early does not starve the last bins.
    let restRows = total;
    let restBins = bins;
    spike.forEach((isSpike, i) => {
      if (isSpike) {
        restRows -= count[i]!;
        restBins -= 1;
      }
    });
    let target = restRows / Math.max(1, restBins);
    let filled = 0;
    for (let i = 0; i < m - 1; i++) {
      if (!spike[i]) restRows -= count[i]!;
      filled += count[i]!;
      // A bin closes when full, on a spike, or before a spike once it is half full.
      if (spike[i] || filled >= target || (spike[i + 1] && filled >= Math.max(1, target / 2))) {
        cutAfter(i);
        if (upperBounds.length >= bins - 1) break;
        filled = 0;
        if (!spike[i]) {
          restBins -= 1;
          target = restRows / Math.max(1, restBins);
        }
      }
    }
  }
  upperBounds.push(Number.POSITIVE_INFINITY);
  return upperBounds;
}

/** Values this close to 0 are 0: zero has a bin of its own. */
const ZERO = 1e-35;

/**
 * Bins for a numeric feature from its training values (NaN allowed). Zero gets a bin of its own
 * between the negative and the positive values' bins (a 0 often means "none", unlike its
 * neighbours), and the negative and positive values share the other bins in proportion to their
 * rows.
 */
export function numericBins(values: ArrayLike<number>, maxBins: number, minDataInBin: number): FeatureBins {
  const { value, count } = distinctCounts(values);
  const seen = count.reduce((a, b) => a + b, 0);
  const missing = values.length > seen ? 1 : 0;
  const budget = Math.max(1, maxBins - missing - 1); // the missing and the zero bins take one each
  const negatives = value.findIndex((v) => v >= -ZERO);
  const firstNegativeFree = negatives < 0 ? value.length : negatives;
  const positives = value.findIndex((v) => v > ZERO);
  const firstPositive = positives < 0 ? value.length : positives;
  const negativeRows = count.slice(0, firstNegativeFree).reduce((a, b) => a + b, 0);
  const positiveRows = count.slice(firstPositive).reduce((a, b) => a + b, 0);
  const upperBounds: number[] = [];
  if (negativeRows > 0) {
    const share = Math.max(1, Math.floor((negativeRows / (negativeRows + positiveRows)) * budget));
    const bounds = cutValues(value.slice(0, firstNegativeFree), count.slice(0, firstNegativeFree), share, minDataInBin);
    bounds[bounds.length - 1] = -ZERO;
    upperBounds.push(...bounds);
  }
  if (positiveRows > 0) {
    upperBounds.push(ZERO);
    const share = Math.max(1, budget - upperBounds.length + 1);
    upperBounds.push(...cutValues(value.slice(firstPositive), count.slice(firstPositive), share, minDataInBin));
  } else upperBounds.push(Number.POSITIVE_INFINITY);
  return { kind: 'numeric', upperBounds };
}

/** The rarest categories that together hold less than this share of the rows get no bin. */
const RARE_CATEGORIES = 0.01;

/**
 * Bins for a categorical feature: one per non-negative integer code, most frequent first, until
 * the categories binned hold 99% of the rows. The rarest rest share the missing bin: too rare to
 * split on reliably, they are treated like unseen categories (never listed in a split).
 */
export function categoricalBins(values: ArrayLike<number>, maxBins: number): FeatureBins {
  const counts = new Map<number, number>();
  let rows = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isInteger(v) && v >= 0) {
      counts.set(v, (counts.get(v) ?? 0) + 1);
      rows += 1;
    }
  }
  const enough = Math.floor(rows * (1 - RARE_CATEGORIES));
  const categories: number[] = [];
  let covered = 0;
  for (const [code, count] of [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])) {
    if (covered >= enough || categories.length >= maxBins - 1) break;
    categories.push(code);
    covered += count;
  }
  return { kind: 'categorical', categories };
}

/**
 * A feature's bin lookup: numeric values by binary search over the upper bounds, categorical
 * codes through a map.
 */
export function binLookup(bins: FeatureBins): (x: number) => number {
  if (bins.kind === 'categorical') {
    const index = new Map(bins.categories.map((c, k) => [c, k + 1]));
    return (x) => index.get(x) ?? 0;
  }
  const bounds = bins.upperBounds;
  return (x) => {
    if (Number.isNaN(x)) return 0;
    let lo = 0;
    let hi = bounds.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (x <= bounds[mid]!) hi = mid;
      else lo = mid + 1;
    }
    return lo + 1;
  };
}
