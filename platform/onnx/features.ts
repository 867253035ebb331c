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
  const numericNames = features.numeric;
  const categoricalNames = features.categorical;
  const dn = numericNames.length;
  const dc = categoricalNames.length;
  const n = rows.length;
  const numeric = new Float32Array(n * dn);
  const categorical = new Array<string>(n * dc);
  for (let i = 0; i < n; i++) {
    const row = rows[i] as RawFeatures;
    for (let j = 0; j < dn; j++) numeric[i * dn + j] = numericValue(row[numericNames[j] as string]);
    for (let j = 0; j < dc; j++) categorical[i * dc + j] = categoricalValue(row[categoricalNames[j] as string]);
  }
  return { rows: n, numeric, categorical };
}

/** A stored event's features: numeric and categorical maps (a name in both takes the categorical value). */
export interface SplitFeatures {
  num_features: Readonly<Record<string, number | null>>;
  cat_features: Readonly<Record<string, string>>;
}

/**
 * {@link encodeBatch} of `{ ...num_features, ...cat_features }` for each event, without building
 * the merged objects.
 */
export function encodeSplitFeatures(features: FeatureNames, events: readonly SplitFeatures[]): EncodedBatch {
  const numericNames = features.numeric;
  const categoricalNames = features.categorical;
  const dn = numericNames.length;
  const dc = categoricalNames.length;
  const n = events.length;
  const numeric = new Float32Array(n * dn);
  const categorical = new Array<string>(n * dc);
  const valueOf = (e: SplitFeatures, name: string): unknown =>
    Object.hasOwn(e.cat_features, name) ? e.cat_features[name] : e.num_features[name];
  for (let i = 0; i < n; i++) {
    const e = events[i] as SplitFeatures;
    for (let j = 0; j < dn; j++) numeric[i * dn + j] = numericValue(valueOf(e, numericNames[j] as string));
    for (let j = 0; j < dc; j++) categorical[i * dc + j] = categoricalValue(valueOf(e, categoricalNames[j] as string));
  }
  return { rows: n, numeric, categorical };
}

/** Rows [start, end) of an encoded batch; the numeric rows are a view, not a copy. */
export function sliceBatch(features: FeatureNames, batch: EncodedBatch, start: number, end: number): EncodedBatch {
  const dn = features.numeric.length;
  const dc = features.categorical.length;
  return {
    rows: end - start,
    numeric: batch.numeric.subarray(start * dn, end * dn),
    categorical: dc === 0 ? [] : batch.categorical.slice(start * dc, end * dc),
  };
}
