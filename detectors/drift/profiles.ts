/**
 * Compact per-feature summaries: what the reference store keeps once, and what the SQL
 * push-down must return for each window. Everything here is O(bins) or O(categories),
 * small enough for a Temporal payload, and JSON-safe (no NaN/Infinity).
 */
import { countIntoBins, referenceBinEdges, DEFAULT_BIN_COUNT } from './bins.ts';
import { countCategories } from './categories.ts';
import type { CategoricalColumn, NumericColumn } from './missing-values.ts';
import { splitFinite } from './missing-values.ts';

/**
 * Counts of one numeric column over fixed bins.
 * For a window the SQL side supplies `counts` over the reference `cuts` (see bins.ts:
 * bin index = number of cuts ≤ x; NULL/NaN/±Inf rows go to `missing`, not to a bin) and,
 * cheaply, `min`, `max`, `mean`, `std` (population) of the finite values.
 */
export interface NumericCounts {
  /** Counts per bin, length = cuts.length + 1. */
  counts: number[];
  /** Rows whose value was null/NaN/±Infinity. */
  missing: number;
  /** Smallest finite value (closes the lower open bin for binned Wasserstein). */
  min?: number;
  /** Largest finite value (closes the upper open bin for binned Wasserstein). */
  max?: number;
  /** Mean of the finite values. */
  mean?: number;
  /** Population standard deviation (ddof = 0) of the finite values. */
  std?: number;
}

/** A numeric reference: its cuts plus its own counts and moments (computed once). */
export interface NumericReferenceProfile extends NumericCounts {
  kind: 'numeric';
  cuts: number[];
  min: number;
  max: number;
  mean: number;
  std: number;
  /**
   * Share of the finite values taken by the most frequent one (a lower bound when counted
   * approximately in SQL), the baseline of the stuck-value check; absent in references built
   * before it was kept. @default undefined
   */
  topShare?: number | null;
  /** The most frequent finite value. @default undefined */
  topValue?: number | null;
}

/** The most frequent finite value and its share of the finite values (exact), or null when there are none. */
export function topValueOf(values: ArrayLike<number>): { value: number; share: number } | null {
  const counts = new Map<number, number>();
  let n = 0;
  let best = 0;
  let bestCount = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) continue;
    n += 1;
    const c = (counts.get(v) ?? 0) + 1;
    counts.set(v, c);
    if (c > bestCount || (c === bestCount && v < best)) {
      best = v;
      bestCount = c;
    }
  }
  return n === 0 ? null : { value: best, share: bestCount / n };
}

/** Counts per category label, as `SELECT value, count() … GROUP BY value` gives them. */
export interface CategoricalProfile {
  kind: 'categorical';
  counts: Record<string, number>;
  missing: number;
}

/** Mean and population standard deviation of finite values (two-pass for accuracy). */
function moments(values: Float64Array): { mean: number; std: number; min: number; max: number } {
  const n = values.length;
  if (n === 0) return { mean: 0, std: 0, min: 0, max: 0 };
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / n;
  let ss = 0;
  for (const v of values) ss += (v - mean) * (v - mean);
  return { mean, std: Math.sqrt(ss / n), min, max };
}

/**
 * Build the reference profile of a numeric column (edges from its quantiles).
 * @param nBins reference-quantile bins. @default 20
 */
export function numericReferenceProfile(
  column: NumericColumn,
  nBins: number = DEFAULT_BIN_COUNT,
): NumericReferenceProfile {
  const { values, missing } = splitFinite(column);
  const cuts = referenceBinEdges(values, nBins);
  const top = topValueOf(values);
  return {
    kind: 'numeric',
    cuts,
    counts: countIntoBins(values, cuts),
    missing,
    ...moments(values),
    topShare: top?.share ?? null,
    topValue: top?.value ?? null,
  };
}

/** Count a window's numeric column into the reference cuts (in-process twin of the SQL push-down). */
export function numericWindowCounts(column: NumericColumn, cuts: readonly number[]): NumericCounts {
  const { values, missing } = splitFinite(column);
  const counts = countIntoBins(values, cuts);
  if (values.length === 0) return { counts, missing };
  return { counts, missing, ...moments(values) };
}

/** Count a categorical column into a profile. */
export function categoricalProfile(column: CategoricalColumn): CategoricalProfile {
  return { kind: 'categorical', ...countCategories(column) };
}

/** A numeric reference profile from counts over its own `cuts` (absent moments, as of an empty column, are 0). */
export function toReferenceProfile(counts: NumericCounts, cuts: number[]): NumericReferenceProfile {
  return {
    kind: 'numeric',
    cuts,
    counts: counts.counts,
    missing: counts.missing,
    min: counts.min ?? 0,
    max: counts.max ?? 0,
    mean: counts.mean ?? 0,
    std: counts.std ?? 0,
  };
}
