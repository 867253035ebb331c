/**
 * Built-in multinomial logistic regression for multiclass models: numeric features standardised
 * (training/standardise.ts; missing → training mean), one weight vector and intercept per class,
 * softmax probabilities. The objective is Σ −ln p(true class) + l2/2·‖W‖² with intercepts
 * unpenalised — scikit-learn's LogisticRegression (multinomial, l2 = 1/C) on standardised inputs —
 * minimised by Newton's method with a backtracking line search over all K·(D + 1) parameters
 * (K classes, D features: built for tens of features, not thousands). The intercepts are only
 * defined up to a common constant; they are reported centred (summing to 0), which leaves every
 * probability unchanged.
 *
 * Categorical features are not supported yet: pass them one-hot encoded as numeric columns.
 */
import type { RawFeatures } from '../platform/onnx/features.ts';
import { choleskySolve } from './cholesky.ts';
import { assertNumericFeatures, fitStandardisation, standardisedRow } from './standardise.ts';

export interface MultinomialParams {
  /** L2 penalty strength on the weights (1/C of scikit-learn). @default 1 */
  l2: number;
  /** Newton iterations at most. @default 100 */
  maxIter: number;
  /** Stop when the largest parameter step is below this. @default 1e-10 */
  tol: number;
}

export const MULTINOMIAL_DEFAULTS: Readonly<MultinomialParams> = Object.freeze({ l2: 1, maxIter: 100, tol: 1e-10 });

export interface MultinomialModel {
  kind: 'multinomial-logistic-regression';
  features: { numeric: string[]; categorical: [] };
  /** Class names: the order of the probability vector (the declared order, or sorted). */
  classes: string[];
  numeric: { mean: number[]; scale: number[] };
  /** weights[j][k]: feature j's weight for class k (on the standardised feature). */
  weights: number[][];
  /** Per-class intercept, centred. */
  bias: number[];
}

export interface MultiClassTrainingData {
  features: { numeric: string[]; categorical: string[] };
  rows: RawFeatures[];
  /** Each row's class name. */
  labels: string[];
  /**
   * The classes in the order the probability vector lists them (a model's declared classes); every
   * label must be one of them and every class needs rows (its unpenalised intercept would run off
   * to −∞ without). @default the labels' classes, sorted
   */
  classes?: readonly string[];
}

export interface MultinomialFit {
  model: MultinomialModel;
  iterations: number;
  converged: boolean;
  objective: number;
}

function softmaxInPlace(z: Float64Array): void {
  let max = -Infinity;
  for (const v of z) if (v > max) max = v;
  let sum = 0;
  for (let k = 0; k < z.length; k++) {
    z[k] = Math.exp((z[k] as number) - max);
    sum += z[k] as number;
  }
  for (let k = 0; k < z.length; k++) z[k] = (z[k] as number) / sum;
}

/** Class probabilities of one row, in `model.classes` order, as the ONNX graph computes them. */
export function predictClassProbabilities(model: MultinomialModel, row: RawFeatures): number[] {
  const x = standardisedRow(model.numeric, model.features.numeric, row, true);
  const k = model.classes.length;
  const z = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    let s = 0;
    x.forEach((v, j) => (s += v * (model.weights[j]![c] as number)));
    z[c] = s + (model.bias[c] as number);
  }
  softmaxInPlace(z);
  return Array.from(z);
}

export function fitMultinomialLogistic(
  data: MultiClassTrainingData,
  options: Partial<MultinomialParams> = {},
): MultinomialFit {
  const o = { ...MULTINOMIAL_DEFAULTS, ...options };
  if (data.features.categorical.length > 0)
    throw new RangeError(
      `the built-in multinomial trainer takes numeric features only; one-hot encode ${data.features.categorical.join(', ')} as numeric columns`,
    );
  const n = data.rows.length;
  if (n !== data.labels.length) throw new RangeError(`${n} rows but ${data.labels.length} labels`);
  const classes = data.classes ? [...data.classes] : [...new Set(data.labels)].sort();
  if (new Set(classes).size !== classes.length)
    throw new RangeError(`the class list repeats a class: ${classes.join(', ')}`);
  if (new Set(data.labels).size < 2) throw new RangeError('training data has a single class: need at least 2');
  const unknown = data.labels.find((l) => !classes.includes(l));
  if (unknown !== undefined)
    throw new RangeError(`label ${JSON.stringify(unknown)} is not one of the classes ${classes.join(', ')}`);
  const absent = classes.filter((c) => !data.labels.includes(c));
  if (absent.length > 0)
    throw new RangeError(
      `no training rows of class ${absent.join(', ')}: widen the training window until every declared class has labelled events`,
    );
  const names = data.features.numeric;
  assertNumericFeatures(names, data.rows);
  const standardisation = fitStandardisation(names, data.rows);
  const d = names.length + 1; // + intercept column
  const k = classes.length;
  const dim = d * k; // parameter (j, c) at c * d + j
  const x = new Float64Array(n * d);
  data.rows.forEach((row, i) => {
    standardisedRow(standardisation, names, row, false).forEach((v, j) => (x[i * d + j] = v));
    x[i * d + d - 1] = 1;
  });
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  const y = Int32Array.from(data.labels, (l) => classIndex.get(l) as number);
  const penalised = (p: number) => p % d !== d - 1;

  const beta = new Float64Array(dim);
  const probabilities = new Float64Array(n * k);
  const objectiveAt = (b: Float64Array, keep: boolean): number => {
    let f = 0;
    const z = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += (x[i * d + j] as number) * (b[c * d + j] as number);
        z[c] = s;
      }
      let max = -Infinity;
      for (const v of z) if (v > max) max = v;
      let sum = 0;
      for (let c = 0; c < k; c++) sum += Math.exp((z[c] as number) - max);
      f += max + Math.log(sum) - (z[y[i] as number] as number);
      if (keep) for (let c = 0; c < k; c++) probabilities[i * k + c] = Math.exp((z[c] as number) - max) / sum;
    }
    for (let p = 0; p < dim; p++) if (penalised(p)) f += (o.l2 / 2) * (b[p] as number) ** 2;
    return f;
  };

  let f = objectiveAt(beta, true);
  let iterations = 0;
  let converged = false;
  for (let iter = 1; iter <= o.maxIter; iter++) {
    iterations = iter;
    const g = new Float64Array(dim);
    const h = new Float64Array(dim * dim);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < k; c++) {
        const pc = probabilities[i * k + c] as number;
        const residual = pc - (y[i] === c ? 1 : 0);
        for (let j = 0; j < d; j++) g[c * d + j]! += residual * (x[i * d + j] as number);
        for (let c2 = 0; c2 <= c; c2++) {
          const w = pc * ((c === c2 ? 1 : 0) - (probabilities[i * k + c2] as number));
          if (w === 0) continue;
          for (let j = 0; j < d; j++) {
            const xj = w * (x[i * d + j] as number);
            const row = (c * d + j) * dim + c2 * d;
            for (let j2 = 0; j2 < d; j2++) h[row + j2]! += xj * (x[i * d + j2] as number);
          }
        }
      }
    }
    for (let p = 0; p < dim; p++) {
      if (!penalised(p)) continue;
      g[p]! += o.l2 * (beta[p] as number);
      h[p * dim + p]! += o.l2;
    }
    // A shift common to every intercept changes no probability: hold the last class's at 0 while
    // fitting (it is the last parameter, so its row of the lower triangle is all it has).
    const last = dim - 1;
    g[last] = 0;
    h.fill(0, last * dim, last * dim + dim);
    h[last * dim + last] = 1;
    const step = choleskySolve(h, g, dim);
    let t = 1;
    let next = beta;
    for (let tries = 0; tries < 30; tries++) {
      next = beta.map((v, p) => v - t * (step[p] as number));
      if (objectiveAt(next, false) <= f + 1e-12 * Math.abs(f)) break;
      t /= 2;
    }
    let maxStep = 0;
    for (let p = 0; p < dim; p++) maxStep = Math.max(maxStep, Math.abs((next[p] as number) - (beta[p] as number)));
    beta.set(next);
    f = objectiveAt(beta, true);
    if (maxStep < o.tol) {
      converged = true;
      break;
    }
  }
  const bias = classes.map((_, c) => beta[c * d + d - 1] as number);
  const meanBias = bias.reduce((a, b) => a + b, 0) / k;
  return {
    model: {
      kind: 'multinomial-logistic-regression',
      features: { numeric: [...names], categorical: [] },
      classes,
      numeric: standardisation,
      weights: names.map((_, j) => classes.map((__, c) => beta[c * d + j] as number)),
      bias: bias.map((b) => b - meanBias),
    },
    iterations,
    converged,
    objective: f,
  };
}
