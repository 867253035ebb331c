/**
 * Fixed reference bins for numeric features.
 *
 * The edges are computed ONCE from the reference sample and stored with it; every later
 * window is counted into the SAME edges (in SQL, next to the data), so the binned metrics
 * cost O(bins) per window, never O(rows), and two windows are always comparable.
 *
 * Edge format (the contract with the SQL push-down side):
 *   `cuts` is a strictly increasing array of finite numbers c_1 < … < c_m.
 *   It defines m + 1 bins: (−∞, c_1), [c_1, c_2), …, [c_m, +∞).
 *   A value x falls in bin index = (number of cuts c with c ≤ x).
 *   In ClickHouse, for example: `arrayCount(c -> c <= x, cuts)` grouped and counted,
 *   NULL/NaN/Inf rows excluded (they are counted as missing instead).
 * The outer bins are open-ended so no value is ever out of bins. With edges from
 * `referenceBinEdges` the outer bins are exactly "below / above the reference range".
 * Only finite numbers are cut points, so the edges survive JSON (no ±Infinity).
 */
import { sortedFinite } from './missing-values.ts';

/** Default number of reference-quantile bins. */
export const DEFAULT_BIN_COUNT = 20;

/**
 * Quantile q of sorted data by linear interpolation between order statistics
 * (numpy's default 'linear' method), so edges can be reproduced in Python.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const position = q * (n - 1);
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, n - 1);
  const lo = sorted[lower] ?? Number.NaN;
  const hi = sorted[upper] ?? Number.NaN;
  return lo + (position - lower) * (hi - lo);
}

/** Smallest double strictly greater than x (x finite). */
export function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  view.setBigUint64(0, x > 0 ? bits + 1n : bits - 1n);
  return view.getFloat64(0);
}

/**
 * Cut points for a reference sample:
 *   [ min_ref, q(1/nBins), …, q((nBins−1)/nBins), nextUp(max_ref) ], duplicates removed.
 * So bin 0 = (−∞, min_ref) and the last bin = (max_ref, +∞) hold no reference values:
 * they are the "below range" and "above range" bins (their counts ARE the
 * out-of-range counts), and the nBins bins between them are reference-quantile bins.
 * Ties and constant columns produce repeated quantiles; duplicates are dropped, so a
 * column with few distinct values gets fewer bins, and a constant column c gets the
 * cuts [c, nextUp(c)]: below c, exactly c, above c — any shift lands in another bin.
 * Non-finite values are ignored. An empty reference yields no cuts (a single bin).
 * @param nBins number of reference-quantile bins between the two outer bins. @default 20 (5% of the reference each)
 */
export function referenceBinEdges(values: ArrayLike<number>, nBins: number = DEFAULT_BIN_COUNT): number[] {
  if (!Number.isInteger(nBins) || nBins < 1) throw new RangeError(`nBins must be a positive integer, got ${nBins}`);
  const finite: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== undefined && Number.isFinite(v)) finite.push(v);
  }
  const sorted = sortedFinite(finite);
  const n = sorted.length;
  if (n === 0) return [];
  const candidates = [sorted[0] ?? 0];
  for (let k = 1; k < nBins; k++) candidates.push(quantileSorted(sorted, k / nBins));
  candidates.push(nextUp(sorted[n - 1] ?? 0));
  const cuts: number[] = [];
  for (const c of candidates) {
    if (cuts.length === 0 || c > (cuts[cuts.length - 1] ?? Number.NEGATIVE_INFINITY)) cuts.push(c);
  }
  return cuts;
}

/** Check the edge contract: finite, strictly increasing. Throws RangeError otherwise. */
export function assertValidCuts(cuts: readonly number[]): void {
  for (let i = 0; i < cuts.length; i++) {
    const c = cuts[i] ?? Number.NaN;
    if (!Number.isFinite(c)) throw new RangeError(`bin cut ${i} is not finite: ${c}`);
    if (i > 0 && !(c > (cuts[i - 1] ?? Number.NEGATIVE_INFINITY)))
      throw new RangeError('bin cuts must be strictly increasing');
  }
}

/** Index of the bin holding x: the number of cuts ≤ x (binary search, O(log bins)). */
export function binIndex(x: number, cuts: readonly number[]): number {
  let lo = 0;
  let hi = cuts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cuts[mid] ?? Number.POSITIVE_INFINITY) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Count values into the bins defined by `cuts` (length cuts.length + 1).
 * Non-finite values are skipped (they are missing, counted elsewhere).
 * This is the in-process twin of the SQL push-down; both must agree bin for bin.
 */
export function countIntoBins(values: ArrayLike<number | null | undefined>, cuts: readonly number[]): number[] {
  const counts = new Array<number>(cuts.length + 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    const b = binIndex(v, cuts);
    counts[b] = (counts[b] ?? 0) + 1;
  }
  return counts;
}

/** Sum of a count vector. */
export function total(counts: readonly number[]): number {
  let s = 0;
  for (const c of counts) s += c;
  return s;
}

/** Counts divided by their total (all zeros when the total is zero). */
export function proportions(counts: readonly number[]): number[] {
  const n = total(counts);
  return counts.map((c) => (n > 0 ? c / n : 0));
}

/** Throw unless two count vectors describe the same bins and hold valid counts. */
export function assertSameBins(reference: readonly number[], current: readonly number[]): void {
  if (reference.length !== current.length) {
    throw new RangeError(
      `count vectors differ in length (${reference.length} vs ${current.length}): they must use the same bin edges`,
    );
  }
  for (const c of [...reference, ...current]) {
    if (!(c >= 0) || !Number.isFinite(c)) throw new RangeError(`bin counts must be finite and non-negative, got ${c}`);
  }
}
