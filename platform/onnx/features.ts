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

type RowsEncoder = (rows: readonly RawFeatures[], numeric: Float32Array, categorical: string[]) => void;

/**
 * One encoder per feature list, built once: a loop over the rows with each feature's property
 * read by its literal name. `row[names[j]]` with the name changing from one read to the next is a
 * keyed look-up V8 cannot cache (~30 ns a row for three features against ~8 ns here, measured on
 * the scorer benchmark's rows); a literal name gives each read its own inline cache. The names
 * enter the source only as JSON string literals, so any name reads the property of that name.
 */
const encoders = new WeakMap<FeatureNames, { numeric: string[]; categorical: string[]; encode: RowsEncoder }>();

function rowsEncoder(features: FeatureNames): RowsEncoder {
  const cached = encoders.get(features);
  // The cache is keyed by the object; a list changed in place is compiled again.
  if (
    cached &&
    cached.numeric.length === features.numeric.length &&
    cached.categorical.length === features.categorical.length &&
    cached.numeric.every((n, j) => n === features.numeric[j]) &&
    cached.categorical.every((n, j) => n === features.categorical[j])
  )
    return cached.encode;
  const numericReads = features.numeric.map((name) => `numeric[o++] = numericValue(row[${JSON.stringify(name)}]);`);
  const categoricalReads = features.categorical.map(
    (name) => `categorical[c++] = categoricalValue(row[${JSON.stringify(name)}]);`,
  );
  const source = `return function encodeRows(rows, numeric, categorical) {
    let o = 0;
    let c = 0;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      ${numericReads.join('\n      ')}
      ${categoricalReads.join('\n      ')}
    }
  };`;
  const encode = new Function('numericValue', 'categoricalValue', source)(
    numericValue,
    categoricalValue,
  ) as RowsEncoder;
  encoders.set(features, { numeric: [...features.numeric], categorical: [...features.categorical], encode });
  return encode;
}

export function encodeBatch(features: FeatureNames, rows: readonly RawFeatures[]): EncodedBatch {
  const n = rows.length;
  const numeric = new Float32Array(n * features.numeric.length);
  const categorical = new Array<string>(n * features.categorical.length);
  rowsEncoder(features)(rows, numeric, categorical);
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
