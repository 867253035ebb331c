/**
 * Missing-value handling shared by every drift test: null, undefined, NaN and ±Infinity
 * are excluded from the distribution comparison and counted instead, so a column that
 * suddenly goes missing shows up in data quality rather than silently shifting a test.
 */

/** A raw numeric column as it arrives from a window: numbers with holes. */
export type NumericColumn = ArrayLike<number | null | undefined>;

/** A raw categorical column: category labels with holes. */
export type CategoricalColumn = ArrayLike<string | number | boolean | null | undefined>;

/** Finite values of a numeric column plus how many entries were dropped as missing. */
export interface SplitNumeric {
  values: Float64Array;
  missing: number;
}

/** Keep the finite numbers of a column (in order) and count the rest as missing. */
export function splitFinite(column: NumericColumn): SplitNumeric {
  const values = new Float64Array(column.length);
  let kept = 0;
  for (let i = 0; i < column.length; i++) {
    const v = column[i];
    if (typeof v === 'number' && Number.isFinite(v)) values[kept++] = v;
  }
  return { values: values.subarray(0, kept), missing: column.length - kept };
}

/** Sorted copy of the finite values (ascending), as the KS and Wasserstein sweeps need. */
export function sortedFinite(values: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(values);
  return out.sort();
}
