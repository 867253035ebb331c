/**
 * Label-free estimation for regression models: direct loss estimation (in the spirit of NannyML's
 * DLE). On the labelled reference, two models learn the loss itself from the model's inputs and
 * its prediction — one the absolute error |y − ŷ|, one the squared error (y − ŷ)² — so an
 * unlabelled window's MAE is the mean of the predicted absolute errors and its RMSE the root of
 * the mean predicted squared error (each clipped at 0 first, as NannyML does). The learner is
 * gradient-boosted trees (boosted-trees.ts) fitted, like NannyML's LightGBM, with LightGBM's
 * documented defaults on every labelled reference event, categorical features split as
 * categories: the error of a regression model depends on interactions between inputs and on the
 * prediction's own level, which trees find unaided. The defaults are LightGBM's, not tuned on any
 * benchmark.
 *
 * Intervals are the sampling spread of the *realised* metric if the loss models hold, event by
 * event, so they widen where the window's errors are larger: the two models give each event's
 * Var(|e| | x) = E[e² | x] − E[|e| | x]², so MAE ± z·√(Σ Var)/n; for the mean squared error,
 * Var(e² | x) is taken as κ·E[e² | x]², and the bounds are square-rooted for RMSE. κ must come
 * from errors the model did not train on (in-sample residuals are too small), so it is measured
 * out of fold: the squared-error model is refitted `dispersionFolds` times, each time without one
 * fold of the reference (every k-th event), and predicts that fold. Those refits only size the
 * interval; the estimate itself comes from the models fitted on every event. Like CBPE it sees covariate shift and is blind to concept
 * drift (the error's dependence on the inputs changing). Trees do not extrapolate: beyond the
 * reference's range of a feature, the learned error stays at its value at the edge.
 */
import { fitBoostedTrees, predictBoostedTrees, type BoostedTrees, type BoostedTreesOptions } from './boosted-trees.ts';
import { twoSidedZ } from './distributions.ts';
import { DEFAULT_CONFIDENCE_LEVEL } from './intervals.ts';
import { assertSameLength } from './types.ts';
import type { MetricEstimate } from './types.ts';

export interface DleOptions {
  /** @default 0.95 */
  level: number;
  /** The loss models' learner. @default BOOSTED_TREES_DEFAULTS (LightGBM's defaults) */
  trees: Partial<BoostedTreesOptions>;
  /** Indices of the features that hold category codes (integers ≥ 0; NaN or negative for missing). @default [] */
  categoricalFeatures: readonly number[];
  /** Folds of the out-of-fold refits that measure κ for the RMSE interval. @default 5 */
  dispersionFolds: number;
  /** Fewer labelled reference events than this cannot be trusted. @default 1000 */
  minReferenceSize: number;
}

export const DLE_DEFAULTS: Readonly<DleOptions> = Object.freeze({
  level: DEFAULT_CONFIDENCE_LEVEL,
  trees: {},
  categoricalFeatures: [],
  dispersionFolds: 5,
  minReferenceSize: 1000,
});

/**
 * Rows of numeric features (NaN for missing; categories as integer codes, named in
 * `categoricalFeatures`) with the model's predictions.
 */
export interface RegressionRows {
  features: readonly (readonly number[])[];
  predictions: readonly number[];
}

export interface DleModel {
  options: DleOptions;
  absoluteError: BoostedTrees;
  squaredError: BoostedTrees;
  /** κ: Var(e² | x) / E[e² | x]², from the squared-error model's out-of-fold predictions. */
  squaredErrorDispersion: number;
  trustworthy: boolean;
  reasons: string[];
}

export interface DleEstimate {
  n: number;
  trustworthy: boolean;
  reasons: string[];
  mae: MetricEstimate;
  rmse: MetricEstimate;
}

/** A loss model's input row: the features, then the prediction. */
function inputRow(features: readonly number[], prediction: number): number[] {
  return [...features, prediction];
}

function checkRows(rows: RegressionRows, what: string): number {
  assertSameLength(rows.features, rows.predictions, what);
  const d = rows.features[0]?.length ?? 0;
  rows.features.forEach((r, i) => {
    if (r.length !== d) throw new RangeError(`${what}: event ${i} has ${r.length} features, not ${d}`);
  });
  rows.predictions.forEach((p, i) => {
    if (!Number.isFinite(p))
      throw new RangeError(`${what}: event ${i}'s prediction is ${String(p)}, not a finite number`);
  });
  return d;
}

/** Fit both loss models on a labelled reference. */
export function fitDle(
  reference: RegressionRows,
  truth: readonly number[],
  options: Partial<DleOptions> = {},
): DleModel {
  const o: DleOptions = { ...DLE_DEFAULTS, ...options };
  const d = checkRows(reference, 'fitDle');
  for (const f of o.categoricalFeatures)
    if (!Number.isInteger(f) || f < 0 || f >= d)
      throw new RangeError(`fitDle: categoricalFeatures names ${f}, but events have features 0..${d - 1}`);
  if (!Number.isInteger(o.dispersionFolds) || o.dispersionFolds < 2)
    throw new RangeError(`fitDle: dispersionFolds is ${o.dispersionFolds}; it must be an integer of at least 2`);
  assertSameLength(reference.predictions, truth, 'fitDle truth');
  truth.forEach((y, i) => {
    if (!Number.isFinite(y)) throw new RangeError(`fitDle: reference event ${i}'s true value is ${String(y)}`);
  });
  const reasons: string[] = [];
  const n = truth.length;
  if (n < o.minReferenceSize)
    reasons.push(`reference has ${n} labelled events; at least ${o.minReferenceSize} are needed to learn the loss`);
  const inputs = reference.features.map((r, i) => inputRow(r, reference.predictions[i] as number));
  const absolute = truth.map((y, i) => Math.abs(y - (reference.predictions[i] as number)));
  const squared = absolute.map((e) => e * e);
  const trees = { ...o.trees, categoricalFeatures: o.categoricalFeatures };
  const absoluteError = fitBoostedTrees(inputs, absolute, trees);
  const squaredError = fitBoostedTrees(inputs, squared, trees);
  return {
    options: o,
    absoluteError,
    squaredError,
    squaredErrorDispersion: outOfFoldDispersion(inputs, squared, trees, o.dispersionFolds),
    trustworthy: reasons.length === 0,
    reasons,
  };
}

/**
 * κ = Σ (e² − ĝ)² / Σ ĝ² over every reference event, ĝ predicted by a squared-error model fitted
 * without the event's fold (events i with i mod k = j form fold j).
 */
function outOfFoldDispersion(
  inputs: readonly (readonly number[])[],
  squared: readonly number[],
  trees: Partial<BoostedTreesOptions>,
  folds: number,
): number {
  let residualSquares = 0;
  let predictedSquares = 0;
  for (let fold = 0; fold < folds; fold++) {
    const train = inputs.flatMap((_, i) => (i % folds === fold ? [] : [i]));
    const model = fitBoostedTrees(
      train.map((i) => inputs[i] as number[]),
      train.map((i) => squared[i] as number),
      trees,
    );
    for (let i = fold; i < inputs.length; i += folds) {
      const g = Math.max(0, predictBoostedTrees(model, inputs[i] as number[]));
      residualSquares += ((squared[i] as number) - g) ** 2;
      predictedSquares += g * g;
    }
  }
  return predictedSquares > 0 ? residualSquares / predictedSquares : Number.NaN;
}

/** Estimate MAE and RMSE of an unlabelled window. */
export function estimateDle(model: DleModel, window: RegressionRows): DleEstimate {
  const d = checkRows(window, 'estimateDle');
  const fitted = model.absoluteError.features - 1;
  if (window.features.length > 0 && d !== fitted)
    throw new RangeError(`estimateDle: the window's events have ${d} features; the estimator was fitted on ${fitted}`);
  const n = window.predictions.length;
  const base = { n, trustworthy: model.trustworthy, reasons: [...model.reasons] };
  if (n === 0) {
    const empty: MetricEstimate = { value: null, n: 0, interval: null, note: 'no events' };
    return { ...base, mae: empty, rmse: empty };
  }
  let absoluteSum = 0;
  let squaredSum = 0;
  let absoluteVariance = 0;
  let squaredVariance = 0;
  window.features.forEach((r, i) => {
    const row = inputRow(r, window.predictions[i] as number);
    // A loss is never negative; a boosted sum can undershoot 0 where errors are tiny.
    const g1 = Math.max(0, predictBoostedTrees(model.absoluteError, row));
    const g2 = Math.max(0, predictBoostedTrees(model.squaredError, row));
    absoluteSum += g1;
    squaredSum += g2;
    absoluteVariance += Math.max(0, g2 - g1 * g1);
    squaredVariance += model.squaredErrorDispersion * g2 * g2;
  });
  const level = model.options.level;
  const z = twoSidedZ(level);
  const mae = absoluteSum / n;
  const mse = squaredSum / n;
  const maeHalf = (z * Math.sqrt(absoluteVariance)) / n;
  const mseHalf = (z * Math.sqrt(squaredVariance)) / n;
  const intervalOr = (lower: number, upper: number): MetricEstimate['interval'] =>
    Number.isFinite(lower) && Number.isFinite(upper) ? { lower, upper, level, method: 'normal' } : null;
  const noInterval = Number.isFinite(mseHalf)
    ? {}
    : { note: 'the squared error predicted out of fold is 0 everywhere: no RMSE interval' };
  return {
    ...base,
    mae: { value: mae, n, interval: intervalOr(Math.max(0, mae - maeHalf), mae + maeHalf) },
    rmse: {
      value: Math.sqrt(mse),
      n,
      interval: intervalOr(Math.sqrt(Math.max(0, mse - mseHalf)), Math.sqrt(mse + mseHalf)),
      ...noInterval,
    },
  };
}
