/**
 * Built-in ridge regression for numeric targets: numeric features standardised
 * (training/standardise.ts; missing → training mean), then w = (ZᵀZ + αI)⁻¹ Zᵀ(y − ȳ) and the
 * intercept ȳ — scikit-learn's Ridge(alpha) on standardised inputs (the intercept unpenalised),
 * solved exactly by Cholesky. Categorical features are not supported yet: pass them one-hot
 * encoded as numeric columns.
 */
import type { RawFeatures } from '../platform/onnx/features.ts';
import { choleskySolve } from './cholesky.ts';
import { assertNumericFeatures, fitStandardisation, standardisedRow } from './standardise.ts';

export interface RidgeParams {
  /** L2 penalty on the weights (scikit-learn's alpha). @default 1 */
  alpha: number;
}

export const RIDGE_DEFAULTS: Readonly<RidgeParams> = Object.freeze({ alpha: 1 });

export interface RidgeModel {
  kind: 'ridge-regression';
  features: { numeric: string[]; categorical: [] };
  numeric: { mean: number[]; scale: number[] };
  /** Weight of each standardised feature. */
  weight: number[];
  bias: number;
}

export interface RegressionTrainingData {
  features: { numeric: string[]; categorical: string[] };
  rows: RawFeatures[];
  targets: number[];
}

/** The prediction for one row, as the ONNX graph computes it. */
export function predictRidge(model: RidgeModel, row: RawFeatures): number {
  const x = standardisedRow(model.numeric, model.features.numeric, row, true);
  let y = 0;
  x.forEach((v, j) => (y += v * (model.weight[j] as number)));
  return y + model.bias;
}

export function fitRidge(data: RegressionTrainingData, options: Partial<RidgeParams> = {}): RidgeModel {
  const { alpha } = { ...RIDGE_DEFAULTS, ...options };
  if (!(alpha > 0)) throw new RangeError(`ridge alpha must be positive, got ${alpha}`);
  if (data.features.categorical.length > 0)
    throw new RangeError(
      `the built-in ridge trainer takes numeric features only; one-hot encode ${data.features.categorical.join(', ')} as numeric columns`,
    );
  const n = data.rows.length;
  if (n === 0) throw new RangeError('no training rows');
  if (n !== data.targets.length) throw new RangeError(`${n} rows but ${data.targets.length} targets`);
  data.targets.forEach((y, i) => {
    if (!Number.isFinite(y)) throw new RangeError(`row ${i}: target ${String(y)} is not a finite number`);
  });
  const names = data.features.numeric;
  assertNumericFeatures(names, data.rows);
  const standardisation = fitStandardisation(names, data.rows);
  const d = names.length;
  const yMean = data.targets.reduce((a, b) => a + b, 0) / n;
  const gram = new Float64Array(d * d);
  const rhs = new Float64Array(d);
  const z = data.rows.map((row) => standardisedRow(standardisation, names, row, false));
  // Standardised columns of rows with a missing value are not exactly centred: centre them here,
  // as scikit-learn centres X before solving, so the intercept stays ȳ.
  const columnMean = names.map((_, j) => z.reduce((s, r) => s + (r[j] as number), 0) / n);
  z.forEach((r, i) => {
    const yc = (data.targets[i] as number) - yMean;
    for (let a = 0; a < d; a++) {
      const za = (r[a] as number) - (columnMean[a] as number);
      rhs[a]! += za * yc;
      for (let b = 0; b <= a; b++) gram[a * d + b]! += za * ((r[b] as number) - (columnMean[b] as number));
    }
  });
  for (let a = 0; a < d; a++) gram[a * d + a]! += alpha;
  const weight = Array.from(d > 0 ? choleskySolve(gram, rhs, d) : []);
  const bias = yMean - weight.reduce((s, w, j) => s + w * (columnMean[j] as number), 0);
  return {
    kind: 'ridge-regression',
    features: { numeric: [...names], categorical: [] },
    numeric: standardisation,
    weight,
    bias,
  };
}
