/**
 * Built-in binary logistic regression: numeric features standardised (missing → training mean),
 * categorical features one-hot encoded with an "unknown" bucket that also takes rare categories,
 * L2 penalty on everything but the intercept (objective Σ log loss + l2/2·‖w‖², so l2 = 1/C in
 * scikit-learn terms). Fitted by Newton's method with a backtracking line search; problems with
 * more coefficients than `maxNewtonDim` fall back to seeded mini-batch Adam.
 *
 * Every fitted number is rounded to float32 before it is used or exported, so the TypeScript
 * model and its ONNX graph hold bit-identical parameters and agree to ~1e-15.
 */
import { Random } from '../detectors/random.ts';
import { categoricalValue, numericValue, type FeatureNames, type RawFeatures } from '../platform/onnx/features.ts';
import { choleskySolve } from './cholesky.ts';

export interface LogisticParams {
  /** L2 penalty strength (1/C of scikit-learn). @default 1 */
  l2: number;
  /** Newton iterations at most. @default 50 */
  maxIter: number;
  /** Stop when the largest coefficient step is below this. @default 1e-8 */
  tol: number;
  /** A category seen fewer times than this goes to the unknown bucket. @default 5 */
  minCategoryCount: number;
  /** Most categories kept per categorical feature (most frequent first). @default 50 */
  maxCategories: number;
  /** Above this many coefficients, Newton (O(D³) per step) gives way to mini-batch Adam. @default 1000 */
  maxNewtonDim: number;
  /** Adam fallback: epochs. @default 30 */
  epochs: number;
  /** Adam fallback: batch size. @default 256 */
  batchSize: number;
  /** Adam fallback: learning rate. @default 0.05 */
  learningRate: number;
}

export const LOGISTIC_DEFAULTS: Readonly<LogisticParams> = Object.freeze({
  l2: 1,
  maxIter: 50,
  tol: 1e-8,
  minCategoryCount: 5,
  maxCategories: 50,
  maxNewtonDim: 1000,
  epochs: 30,
  batchSize: 256,
  learningRate: 0.05,
});

export interface LogisticModel {
  kind: 'logistic-regression';
  features: FeatureNames;
  numeric: { mean: number[]; scale: number[]; weight: number[] };
  categorical: Array<{ categories: string[]; weights: number[]; unknownWeight: number }>;
  bias: number;
}

export interface FitResult {
  model: LogisticModel;
  iterations: number;
  converged: boolean;
  solver: 'newton' | 'adam';
  objective: number;
}

const f32 = Math.fround;

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** Linear predictor of one row, in the same order of operations as the ONNX graph. */
export function logit(model: LogisticModel, row: RawFeatures): number {
  let numericPart = 0;
  model.features.numeric.forEach((name, j) => {
    const raw = numericValue(row[name]);
    // The graph receives float32 inputs: round here too so both see the same number.
    const x = Number.isNaN(raw) ? (model.numeric.mean[j] as number) : f32(raw);
    numericPart +=
      ((x - (model.numeric.mean[j] as number)) / (model.numeric.scale[j] as number)) *
      (model.numeric.weight[j] as number);
  });
  let z = numericPart;
  model.features.categorical.forEach((name, j) => {
    const enc = model.categorical[j]!;
    const value = categoricalValue(row[name]);
    const k = enc.categories.indexOf(value);
    z += k >= 0 ? (enc.weights[k] as number) : enc.unknownWeight;
  });
  return z + model.bias;
}

export function predictProbability(model: LogisticModel, row: RawFeatures): number {
  return sigmoid(logit(model, row));
}

/** Training data in memory: rows of raw features and 0/1 labels. */
export interface TrainingData {
  features: FeatureNames;
  rows: RawFeatures[];
  labels: number[];
}

/** Design matrix in sparse-by-construction form: every row has Dn numeric + Dc one-hot + 1 intercept entries. */
interface Design {
  dim: number;
  active: number; // entries per row
  index: Int32Array; // rows × active
  value: Float64Array; // rows × active
  interceptIndex: number;
}

export function fitLogistic(
  data: TrainingData,
  options: Partial<LogisticParams> = {},
  seed = 1,
  onIteration?: (iteration: number, objective: number) => void,
): FitResult {
  const o = { ...LOGISTIC_DEFAULTS, ...options };
  const n = data.rows.length;
  if (n === 0) throw new RangeError('no training rows');
  const positives = data.labels.reduce((a, b) => a + b, 0);
  if (positives === 0 || positives === n)
    throw new RangeError('training data has a single class: need both 0 and 1 labels');
  const { numeric: numNames, categorical: catNames } = data.features;

  // Standardisation from non-missing values.
  const mean: number[] = [];
  const scale: number[] = [];
  numNames.forEach((name) => {
    let s = 0;
    let s2 = 0;
    let c = 0;
    for (const row of data.rows) {
      const v = numericValue(row[name]);
      if (!Number.isNaN(v)) {
        const x = f32(v);
        s += x;
        s2 += x * x;
        c++;
      }
    }
    const m = c > 0 ? s / c : 0;
    const variance = c > 1 ? Math.max(0, s2 / c - m * m) : 0;
    mean.push(f32(m));
    scale.push(variance > 1e-24 ? f32(Math.sqrt(variance)) : 1);
  });

  // Vocabularies: frequent categories; '' (missing) and rare ones share the unknown bucket.
  const vocab = catNames.map((name) => {
    const counts = new Map<string, number>();
    for (const row of data.rows) {
      const v = categoricalValue(row[name]);
      if (v !== '') counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    return [...counts.entries()]
      .filter(([, c]) => c >= o.minCategoryCount)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, o.maxCategories)
      .map(([v]) => v);
  });

  const dn = numNames.length;
  const catOffset: number[] = [];
  let dim = dn;
  for (const v of vocab) {
    catOffset.push(dim);
    dim += v.length + 1; // + unknown bucket
  }
  const interceptIndex = dim;
  dim += 1;
  const active = dn + catNames.length + 1;
  const design: Design = {
    dim,
    active,
    index: new Int32Array(n * active),
    value: new Float64Array(n * active),
    interceptIndex,
  };
  const lookups = vocab.map((v) => new Map(v.map((c, k) => [c, k])));
  data.rows.forEach((row, i) => {
    let a = i * active;
    numNames.forEach((name, j) => {
      const raw = numericValue(row[name]);
      const x = Number.isNaN(raw) ? (mean[j] as number) : f32(raw);
      design.index[a] = j;
      design.value[a++] = (x - (mean[j] as number)) / (scale[j] as number);
    });
    catNames.forEach((name, j) => {
      const k = lookups[j]!.get(categoricalValue(row[name])) ?? vocab[j]!.length;
      design.index[a] = (catOffset[j] as number) + k;
      design.value[a++] = 1;
    });
    design.index[a] = interceptIndex;
    design.value[a] = 1;
  });

  const y = Float64Array.from(data.labels);
  const fit = dim <= o.maxNewtonDim ? newton(design, y, o, onIteration) : adam(design, y, o, seed, onIteration);
  const beta = fit.beta;
  const model: LogisticModel = {
    kind: 'logistic-regression',
    features: { numeric: [...numNames], categorical: [...catNames] },
    numeric: { mean, scale, weight: numNames.map((_, j) => f32(beta[j] as number)) },
    categorical: vocab.map((v, j) => ({
      categories: v,
      weights: v.map((_, k) => f32(beta[(catOffset[j] as number) + k] as number)),
      unknownWeight: f32(beta[(catOffset[j] as number) + v.length] as number),
    })),
    bias: f32(beta[interceptIndex] as number),
  };
  return {
    model,
    iterations: fit.iterations,
    converged: fit.converged,
    solver: dim <= o.maxNewtonDim ? 'newton' : 'adam',
    objective: fit.objective,
  };
}

interface RawFit {
  beta: Float64Array;
  iterations: number;
  converged: boolean;
  objective: number;
}

function linear(d: Design, beta: Float64Array, i: number): number {
  let z = 0;
  for (let a = i * d.active, end = a + d.active; a < end; a++)
    z += (d.value[a] as number) * (beta[d.index[a] as number] as number);
  return z;
}

function logLossTerm(yi: number, z: number): number {
  // log(1 + e^z) − y·z, computed without overflow.
  const softplus = z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
  return softplus - yi * z;
}

function objective(d: Design, y: Float64Array, beta: Float64Array, l2: number): number {
  let f = 0;
  const n = y.length;
  for (let i = 0; i < n; i++) f += logLossTerm(y[i] as number, linear(d, beta, i));
  for (let j = 0; j < d.dim; j++) if (j !== d.interceptIndex) f += 0.5 * l2 * (beta[j] as number) ** 2;
  return f;
}

function newton(
  d: Design,
  y: Float64Array,
  o: LogisticParams,
  onIteration?: (iteration: number, objective: number) => void,
): RawFit {
  const n = y.length;
  const D = d.dim;
  const beta = new Float64Array(D);
  let f = objective(d, y, beta, o.l2);
  for (let iter = 1; iter <= o.maxIter; iter++) {
    const g = new Float64Array(D);
    const H = new Float64Array(D * D);
    for (let i = 0; i < n; i++) {
      const p = sigmoid(linear(d, beta, i));
      const r = p - (y[i] as number);
      const w = Math.max(p * (1 - p), 1e-12);
      const base = i * d.active;
      for (let a = 0; a < d.active; a++) {
        const ja = d.index[base + a] as number;
        const va = d.value[base + a] as number;
        g[ja] = (g[ja] as number) + r * va;
        const wv = w * va;
        for (let b = 0; b <= a; b++) {
          const jb = d.index[base + b] as number;
          // Fill the lower triangle only (row ≥ column); mirrored before solving.
          const hi = ja >= jb ? ja * D + jb : jb * D + ja;
          H[hi] = (H[hi] as number) + wv * (d.value[base + b] as number);
        }
      }
    }
    for (let j = 0; j < D; j++) {
      const ridge = j === d.interceptIndex ? 1e-10 : o.l2;
      g[j] = (g[j] as number) + (j === d.interceptIndex ? 0 : o.l2 * (beta[j] as number));
      H[j * D + j] = (H[j * D + j] as number) + ridge;
      // Columns never touched (a bucket with no rows) keep a positive diagonal.
      if ((H[j * D + j] as number) <= 0) H[j * D + j] = 1e-10;
    }
    const step = choleskySolve(H, g, D);
    let t = 1;
    const next = new Float64Array(D);
    let fNext = Number.POSITIVE_INFINITY;
    const slope = step.reduce((s, v, j) => s + v * (g[j] as number), 0);
    for (let k = 0; k < 30; k++) {
      for (let j = 0; j < D; j++) next[j] = (beta[j] as number) - t * (step[j] as number);
      fNext = objective(d, y, next, o.l2);
      if (fNext <= f - 1e-4 * t * slope) break;
      t /= 2;
    }
    const maxStep = step.reduce((m, v) => Math.max(m, Math.abs(t * v)), 0);
    if (fNext > f) {
      // No decrease even with a tiny step: we are at the optimum up to rounding.
      onIteration?.(iter, f);
      return { beta, iterations: iter, converged: true, objective: f };
    }
    beta.set(next);
    const improved = f - fNext;
    f = fNext;
    onIteration?.(iter, f);
    if (maxStep < o.tol || improved < 1e-12 * Math.max(1, Math.abs(f)))
      return { beta, iterations: iter, converged: true, objective: f };
  }
  return { beta, iterations: o.maxIter, converged: false, objective: f };
}

function adam(
  d: Design,
  y: Float64Array,
  o: LogisticParams,
  seed: number,
  onIteration?: (iteration: number, objective: number) => void,
): RawFit {
  const n = y.length;
  const D = d.dim;
  const beta = new Float64Array(D);
  const m = new Float64Array(D);
  const v = new Float64Array(D);
  const random = new Random(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  let t = 0;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    for (let i = n - 1; i > 0; i--) {
      const k = Math.floor(random.next() * (i + 1));
      [order[i], order[k]] = [order[k] as number, order[i] as number];
    }
    for (let start = 0; start < n; start += o.batchSize) {
      const batch = order.slice(start, start + o.batchSize);
      const g = new Float64Array(D);
      for (const i of batch) {
        const r = sigmoid(linear(d, beta, i)) - (y[i] as number);
        for (let a = i * d.active, end = a + d.active; a < end; a++)
          g[d.index[a] as number] = (g[d.index[a] as number] as number) + r * (d.value[a] as number);
      }
      t++;
      const scaleL2 = batch.length / n;
      for (let j = 0; j < D; j++) {
        const gj =
          (g[j] as number) / batch.length +
          (j === d.interceptIndex ? 0 : (o.l2 * scaleL2 * (beta[j] as number)) / batch.length);
        m[j] = 0.9 * (m[j] as number) + 0.1 * gj;
        v[j] = 0.999 * (v[j] as number) + 0.001 * gj * gj;
        const mh = (m[j] as number) / (1 - 0.9 ** t);
        const vh = (v[j] as number) / (1 - 0.999 ** t);
        beta[j] = (beta[j] as number) - (o.learningRate / Math.sqrt(epoch)) * (mh / (Math.sqrt(vh) + 1e-8));
      }
    }
    onIteration?.(epoch, Number.NaN);
  }
  return { beta, iterations: o.epochs, converged: true, objective: objective(d, y, beta, o.l2) };
}
