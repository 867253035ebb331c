/**
 * The serving contract between halflife and an ONNX model (docs/trainers.md): which features
 * a model takes and how raw feature values become its input tensors. Encoding happens on the
 * calling thread; the runner thread only wraps the arrays as tensors.
 */

/** Feature names of a model, in input column order. */
export interface FeatureNames {
  numeric: string[];
  categorical: string[];
}

/** Raw feature values as they arrive in a scoring request or event. */
export type RawFeatures = Readonly<Record<string, number | string | boolean | null | undefined>>;

/** A batch encoded for the packed input convention (`numeric` [N, Dn] float, `categorical` [N, Dc] string). */
export interface EncodedBatch {
  rows: number;
  /** Row-major [rows × numeric.length]; NaN marks a missing value. */
  numeric: Float32Array;
  /** Row-major [rows × categorical.length]; '' marks a missing value. */
  categorical: string[];
}

/** A numeric feature's value, or NaN when missing or not a finite number. */
export function numericValue(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? v : Number.NaN;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : Number.NaN;
  }
  return Number.NaN;
}

/** A categorical feature's value as a string; '' when missing. Booleans become 'true'/'false'. */
export function categoricalValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  return String(v);
}

export function encodeBatch(features: FeatureNames, rows: readonly RawFeatures[]): EncodedBatch {
  const dn = features.numeric.length;
  const dc = features.categorical.length;
  const numeric = new Float32Array(rows.length * dn);
  const categorical = new Array<string>(rows.length * dc);
  rows.forEach((row, i) => {
    for (let j = 0; j < dn; j++) numeric[i * dn + j] = numericValue(row[features.numeric[j] as string]);
    for (let j = 0; j < dc; j++) categorical[i * dc + j] = categoricalValue(row[features.categorical[j] as string]);
  });
  return { rows: rows.length, numeric, categorical };
}
