/**
 * Rows sampled from one side of a multivariate comparison (the reference or a window), column
 * by column, and the numeric matrices the multivariate tests read from them. JSON-safe: the
 * sample travels from the repository to the tests as plain arrays.
 */

/** A bounded sample of rows, column-major: `rows` values per column, null where the row lacks the feature. */
export interface SampledRows {
  rows: number;
  numeric: Record<string, (number | null)[]>;
  categorical: Record<string, (string | null)[]>;
  /** Fixed-length numeric vectors (embeddings) per vector feature; null where missing. @default {} */
  vectors?: Record<string, (number[] | null)[]>;
}

/** A dense row-major matrix. */
export interface Matrix {
  rows: number;
  cols: number;
  /** rows × cols values, row by row. */
  data: Float64Array;
}

export function matrix(rows: number, cols: number): Matrix {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

/** A matrix from row arrays (all the same length). */
export function matrixFromRows(values: readonly (readonly number[])[]): Matrix {
  const cols = values[0]?.length ?? 0;
  const out = matrix(values.length, cols);
  values.forEach((row, i) => {
    if (row.length !== cols) throw new RangeError(`row ${i} has ${row.length} values, expected ${cols}`);
    out.data.set(row, i * cols);
  });
  return out;
}

/** Column means and population standard deviations (ddof 0; a constant column gets scale 1, as scikit-learn's StandardScaler). */
export function columnScaling(m: Matrix, rows?: readonly number[]): { mean: Float64Array; scale: Float64Array } {
  const mean = new Float64Array(m.cols);
  const scale = new Float64Array(m.cols);
  const index = rows ?? null;
  const n = index ? index.length : m.rows;
  for (let k = 0; k < n; k++) {
    const base = (index ? (index[k] as number) : k) * m.cols;
    for (let j = 0; j < m.cols; j++) mean[j] = (mean[j] as number) + (m.data[base + j] as number);
  }
  for (let j = 0; j < m.cols; j++) mean[j] = (mean[j] as number) / n;
  for (let k = 0; k < n; k++) {
    const base = (index ? (index[k] as number) : k) * m.cols;
    for (let j = 0; j < m.cols; j++) {
      const d = (m.data[base + j] as number) - (mean[j] as number);
      scale[j] = (scale[j] as number) + d * d;
    }
  }
  for (let j = 0; j < m.cols; j++) {
    const sd = Math.sqrt((scale[j] as number) / n);
    // scikit-learn treats a variance below ~10 ulps of the mean's square as zero.
    scale[j] = sd > 1e-12 * Math.max(1, Math.abs(mean[j] as number)) ? sd : 1;
  }
  return { mean, scale };
}

/** (x − mean) / scale of the chosen rows (all rows by default), as a new matrix. */
export function standardise(
  m: Matrix,
  scaling: { mean: Float64Array; scale: Float64Array },
  rows?: readonly number[],
): Matrix {
  const n = rows ? rows.length : m.rows;
  const out = matrix(n, m.cols);
  for (let k = 0; k < n; k++) {
    const from = (rows ? (rows[k] as number) : k) * m.cols;
    for (let j = 0; j < m.cols; j++)
      out.data[k * m.cols + j] =
        ((m.data[from + j] as number) - (scaling.mean[j] as number)) / (scaling.scale[j] as number);
  }
  return out;
}

/** The rows of `top` followed by those of `bottom` (same columns). */
export function stackRows(top: Matrix, bottom: Matrix): Matrix {
  if (top.cols !== bottom.cols) throw new RangeError(`cannot stack ${top.cols} columns on ${bottom.cols}`);
  const out = matrix(top.rows + bottom.rows, top.cols);
  out.data.set(top.data, 0);
  out.data.set(bottom.data, top.data.length);
  return out;
}

/** Numeric features both sides carry, in name order. */
export function sharedNumeric(a: SampledRows, b: SampledRows): string[] {
  return Object.keys(a.numeric)
    .filter((name) => name in b.numeric)
    .sort();
}

/** Categorical features both sides carry, in name order. */
export function sharedCategorical(a: SampledRows, b: SampledRows): string[] {
  return Object.keys(a.categorical)
    .filter((name) => name in b.categorical)
    .sort();
}

/** Vector features both sides carry, in name order. */
export function sharedVectors(a: SampledRows, b: SampledRows): string[] {
  const other = b.vectors ?? {};
  return Object.keys(a.vectors ?? {})
    .filter((name) => name in other)
    .sort();
}

/** Mean of the present values of a column (0 when none is present). */
export function presentMean(values: readonly (number | null)[]): number {
  let sum = 0;
  let n = 0;
  for (const v of values)
    if (v !== null && Number.isFinite(v)) {
      sum += v;
      n += 1;
    }
  return n > 0 ? sum / n : 0;
}

/**
 * Numeric features of both sides as matrices, a missing value replaced by the reference's mean
 * of that feature (what scikit-learn's SimpleImputer does, fitted on the reference).
 */
export function numericMatrices(
  reference: SampledRows,
  window: SampledRows,
  names: readonly string[],
): { reference: Matrix; window: Matrix } {
  const fill = names.map((name) => presentMean(reference.numeric[name] ?? []));
  const build = (side: SampledRows): Matrix => {
    const out = matrix(side.rows, names.length);
    names.forEach((name, j) => {
      const column = side.numeric[name] ?? [];
      for (let i = 0; i < side.rows; i++) {
        const v = column[i];
        out.data[i * names.length + j] = v !== null && v !== undefined && Number.isFinite(v) ? v : (fill[j] as number);
      }
    });
    return out;
  };
  return { reference: build(reference), window: build(window) };
}

/**
 * A vector feature of both sides as matrices; rows without the vector (or of another length)
 * are left out. Throws RangeError when the sides disagree on the length.
 */
export function vectorMatrices(
  reference: SampledRows,
  window: SampledRows,
  name: string,
): { reference: Matrix; window: Matrix; dimension: number } {
  const rowsOf = (side: SampledRows) => (side.vectors?.[name] ?? []).filter((v): v is number[] => Array.isArray(v));
  const a = rowsOf(reference);
  const b = rowsOf(window);
  const dimension = a[0]?.length ?? b[0]?.length ?? 0;
  const keep = (rows: number[][]) => rows.filter((v) => v.length === dimension && v.every(Number.isFinite));
  return { reference: matrixFromRows(keep(a)), window: matrixFromRows(keep(b)), dimension };
}
