/**
 * PCA reconstruction error, as NannyML's data-reconstruction drift: standardise the numeric
 * features and fit PCA on the reference, keeping the fewest components whose explained variance
 * exceeds a target (0.65, NannyML's default); a window's rows are standardised and projected the
 * same way, and its drift statistic is the mean Euclidean distance between a row and its
 * reconstruction. When the features stop moving together the way they did, the kept components
 * no longer capture them and the error rises — even if every marginal is unchanged.
 *
 * The band (what the reference's own rows give for a sample of the window's size) is a
 * bootstrap: means of resampled reference row errors, cut at the test level's two tails.
 * NannyML draws its band as mean ± 3σ of reference chunks instead; the bootstrap needs no
 * chunks, so it works for any window size and gives a p-value. The reference rows' errors are
 * cross-fitted (each fold's rows reconstructed by a PCA fitted on the other folds, with the same
 * number of components): a PCA reconstructs the rows it was fitted on better than new ones, so
 * in-sample errors would put the band too low and call sampling noise drift — NannyML fits on the
 * whole reference, where this matters less, halflife on a sample of a thousand rows.
 */
import { Random } from '../../random.ts';
import { columnScaling, standardise, type Matrix } from './sample.ts';
import { symmetricEigen } from './symmetric-eigen.ts';

export interface PcaModel {
  mean: Float64Array;
  scale: Float64Array;
  /** Kept components as rows: components[k * features + j]. */
  components: Float64Array;
  kept: number;
  features: number;
  /** Explained variance ratio of every component, largest first. */
  explainedVarianceRatio: Float64Array;
}

/** Fit on the reference: StandardScaler then PCA(n_components = explainedVariance) as scikit-learn picks it, or `forceKept` components. */
export function fitPca(reference: Matrix, explainedVariance = 0.65, forceKept?: number): PcaModel {
  if (!(explainedVariance > 0 && explainedVariance <= 1))
    throw new RangeError(`explained variance target must be in (0, 1], got ${explainedVariance}`);
  const scaling = columnScaling(reference);
  const z = standardise(reference, scaling);
  const d = reference.cols;
  const covariance = new Float64Array(d * d);
  for (let i = 0; i < z.rows; i++)
    for (let a = 0; a < d; a++) {
      const za = z.data[i * d + a] as number;
      for (let b = a; b < d; b++)
        covariance[a * d + b] = (covariance[a * d + b] as number) + za * (z.data[i * d + b] as number);
    }
  for (let a = 0; a < d; a++)
    for (let b = a; b < d; b++) {
      const value = (covariance[a * d + b] as number) / Math.max(1, z.rows - 1);
      covariance[a * d + b] = value;
      covariance[b * d + a] = value;
    }
  const eigen = symmetricEigen(covariance, d);
  let total = 0;
  for (const v of eigen.values) total += Math.max(0, v);
  const ratio = eigen.values.map((v) => (total > 0 ? Math.max(0, v) / total : 0));
  // scikit-learn: the number of components is searchsorted(cumsum, target, side="right") + 1.
  let kept = 0;
  let cumulative = 0;
  while (kept < d) {
    cumulative += ratio[kept] as number;
    kept += 1;
    if (cumulative > explainedVariance) break;
  }
  if (forceKept !== undefined) kept = Math.max(1, Math.min(d, forceKept));
  const components = new Float64Array(kept * d);
  for (let k = 0; k < kept; k++) for (let j = 0; j < d; j++) components[k * d + j] = eigen.vectors[j * d + k] as number;
  return { mean: scaling.mean, scale: scaling.scale, components, kept, features: d, explainedVarianceRatio: ratio };
}

/** Each row's residual from its reconstruction by the kept components (standardised units), row by row. */
export function reconstructionResiduals(model: PcaModel, rows: Matrix): Matrix {
  const d = model.features;
  if (rows.cols !== d) throw new RangeError(`PCA was fitted on ${d} features, rows have ${rows.cols}`);
  const z = standardise(rows, model);
  const projection = new Float64Array(model.kept);
  for (let i = 0; i < rows.rows; i++) {
    const row = z.data.subarray(i * d, (i + 1) * d);
    for (let k = 0; k < model.kept; k++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (model.components[k * d + j] as number) * (row[j] as number);
      projection[k] = s;
    }
    for (let j = 0; j < d; j++) {
      let reconstructed = 0;
      for (let k = 0; k < model.kept; k++)
        reconstructed += (projection[k] as number) * (model.components[k * d + j] as number);
      row[j] = (row[j] as number) - reconstructed;
    }
  }
  return z;
}

/**
 * Each reference row's residual from a PCA that did not see it: the rows dealt into `folds` folds
 * in turn (row i to fold i mod folds; the rows come in hash order), each fold reconstructed by a
 * PCA with `components` components fitted on the others. Residuals are in the units of `model`'s
 * standardisation, so they compare with a window's.
 */
export function crossFittedResiduals(reference: Matrix, model: PcaModel, folds = 5): Matrix {
  const d = reference.cols;
  const out: Matrix = { rows: reference.rows, cols: d, data: new Float64Array(reference.rows * d) };
  const k = Math.min(folds, reference.rows);
  for (let fold = 0; fold < k; fold++) {
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < reference.rows; i++) (i % k === fold ? test : train).push(i);
    if (train.length < 2 || test.length === 0) continue;
    const trainRows: Matrix = { rows: train.length, cols: d, data: new Float64Array(train.length * d) };
    train.forEach((row, r) => trainRows.data.set(reference.data.subarray(row * d, (row + 1) * d), r * d));
    const foldModel = fitPca(trainRows, 0.65, model.kept);
    const testRows: Matrix = { rows: test.length, cols: d, data: new Float64Array(test.length * d) };
    test.forEach((row, r) => testRows.data.set(reference.data.subarray(row * d, (row + 1) * d), r * d));
    const residuals = reconstructionResiduals(foldModel, testRows);
    // Back to the full model's units: a residual in the fold's standardised units times its scale, over the model's.
    test.forEach((row, r) => {
      for (let j = 0; j < d; j++)
        out.data[row * d + j] =
          ((residuals.data[r * d + j] as number) * (foldModel.scale[j] as number)) / (model.scale[j] as number);
    });
  }
  return out;
}

/** Each row's distance to its reconstruction from the kept components (standardised units). */
export function reconstructionErrors(model: PcaModel, rows: Matrix): Float64Array {
  return rowNorms(reconstructionResiduals(model, rows));
}

function rowNorms(residuals: Matrix): Float64Array {
  const d = residuals.cols;
  const errors = new Float64Array(residuals.rows);
  for (let i = 0; i < residuals.rows; i++) {
    let sum = 0;
    for (let j = 0; j < d; j++) sum += (residuals.data[i * d + j] as number) ** 2;
    errors[i] = Math.sqrt(sum);
  }
  return errors;
}

export interface ReconstructionBand {
  /** Mean reconstruction error of the reference rows. */
  referenceMean: number;
  lower: number;
  upper: number;
  /** Bootstrap resamples the band is cut from. */
  resamples: number;
}

/**
 * The band of a window of `windowRows` rows' mean error when nothing changed: the `level/2` and
 * `1 − level/2` quantiles of `resamples` bootstrap means of the reference rows' errors.
 */
export function reconstructionBand(
  referenceErrors: Float64Array,
  windowRows: number,
  options: { level?: number; resamples?: number; seed?: number } = {},
): ReconstructionBand & { means: Float64Array } {
  const level = options.level ?? 0.01;
  const resamples = options.resamples ?? 500;
  const random = new Random(options.seed ?? 1);
  const n = referenceErrors.length;
  const means = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let sum = 0;
    for (let i = 0; i < windowRows; i++) sum += referenceErrors[Math.floor(random.next() * n)] as number;
    means[b] = sum / windowRows;
  }
  means.sort();
  const quantile = (q: number) => {
    const position = q * (resamples - 1);
    const low = Math.floor(position);
    const high = Math.min(resamples - 1, low + 1);
    return (means[low] as number) + (position - low) * ((means[high] as number) - (means[low] as number));
  };
  let referenceMean = 0;
  for (const e of referenceErrors) referenceMean += e;
  referenceMean /= Math.max(1, n);
  return { referenceMean, lower: quantile(level / 2), upper: quantile(1 - level / 2), resamples, means };
}

export interface PcaDriftResult {
  /** Mean reconstruction error of the window's rows. */
  error: number;
  band: ReconstructionBand;
  /** Two-sided bootstrap p-value: twice the smaller share of resampled means beyond the window's. */
  pvalue: number;
  kept: number;
  features: number;
  explainedVariance: number;
  referenceRows: number;
  windowRows: number;
  /** Features by their share of the window's excess squared error over the reference's, largest first. */
  importance: { feature: string; share: number }[];
}

/**
 * PCA drift of `window` against `reference` (same columns, named by `features`); null with fewer
 * than 2 reference rows or no feature, and when the target keeps every component (features that
 * do not move together, e.g. two independent ones): the reconstruction is then exact, every error
 * is rounding noise, and comparing noise with its own band would call drift at random.
 */
export function pcaReconstructionDrift(
  reference: Matrix,
  window: Matrix,
  features: readonly string[],
  options: { explainedVariance?: number; level?: number; resamples?: number; seed?: number } = {},
): PcaDriftResult | null {
  if (reference.rows < 2 || window.rows < 1 || reference.cols === 0) return null;
  const model = fitPca(reference, options.explainedVariance ?? 0.65);
  if (model.kept >= model.features) return null;
  const referenceResiduals = crossFittedResiduals(reference, model);
  const windowResiduals = reconstructionResiduals(model, window);
  const referenceErrors = rowNorms(referenceResiduals);
  const windowErrors = rowNorms(windowResiduals);
  let error = 0;
  for (const e of windowErrors) error += e;
  error /= window.rows;
  const { means, ...band } = reconstructionBand(referenceErrors, window.rows, options);
  let above = 0;
  let below = 0;
  for (const m of means) {
    if (m >= error) above += 1;
    if (m <= error) below += 1;
  }
  const pvalue = Math.min(1, (2 * (1 + Math.min(above, below))) / (1 + means.length));
  return {
    error,
    band,
    pvalue,
    kept: model.kept,
    features: model.features,
    explainedVariance: model.explainedVarianceRatio.slice(0, model.kept).reduce((s, r) => s + r, 0),
    referenceRows: reference.rows,
    windowRows: window.rows,
    importance: residualImportance(referenceResiduals, windowResiduals, features),
  };
}

/** Per feature: mean squared residual in the window minus in the reference (≥ 0), as shares. */
function residualImportance(
  reference: Matrix,
  window: Matrix,
  features: readonly string[],
): { feature: string; share: number }[] {
  const meanSquare = (residuals: Matrix): Float64Array => {
    const d = residuals.cols;
    const out = new Float64Array(d);
    for (let i = 0; i < residuals.rows; i++)
      for (let j = 0; j < d; j++)
        out[j] = (out[j] as number) + (residuals.data[i * d + j] as number) ** 2 / residuals.rows;
    return out;
  };
  const before = meanSquare(reference);
  const after = meanSquare(window);
  const excess = features.map((_, j) => Math.max(0, (after[j] as number) - (before[j] as number)));
  const total = excess.reduce((s, e) => s + e, 0);
  return features
    .map((feature, j) => ({ feature, share: total > 0 ? (excess[j] as number) / total : 0 }))
    .sort((a, b) => b.share - a.share || (a.feature < b.feature ? -1 : 1));
}
