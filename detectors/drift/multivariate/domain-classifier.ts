/**
 * Domain-classifier drift: can a classifier tell the window's rows from the reference's? If the
 * joint distribution did not change, no classifier can do better than chance (ROC AUC 0.5),
 * whatever the marginals; a change in how features move together — which no per-feature test
 * sees — lets it.
 *
 * The classifier is a logistic regression on the standardised features plus every pairwise
 * product and square (scikit-learn's StandardScaler → PolynomialFeatures(2) → StandardScaler →
 * LogisticRegression(C=1)), so it sees correlations and variance changes, not only shifts.
 * Categorical features enter one-hot (their most frequent labels). Its skill is the ROC AUC of
 * the out-of-fold scores of a stratified k-fold cross-validation: every row is scored by a model
 * that never saw it.
 *
 * The p-value is the Mann–Whitney test of those out-of-fold scores (./mann-whitney.ts), not a
 * permutation test that refits the classifier: a refit per permutation costs k fits each, and
 * within a fold the test rows' labels are exchangeable given their scores when nothing changed
 * (the model saw only other rows), so the rank test is valid. Pooling folds makes it slightly
 * conservative: a classifier trained on a fold where one class happens to crowd a region scores
 * the held-out rows of that region against it, which pushes null AUCs below 0.5.
 *
 * Which features drive it: the model refitted on all rows, each term's |coefficient| (terms are
 * standardised, so comparable) shared between the features it is built from, as shares of the total.
 */
import { Random } from '../../random.ts';
import { fitLogistic, predictRow, type LogisticOptions } from './logistic.ts';
import { mannWhitneyGreater } from './mann-whitney.ts';
import {
  columnScaling,
  matrix,
  numericMatrices,
  sharedCategorical,
  sharedNumeric,
  sharedVectors,
  stackRows,
  standardise,
  type Matrix,
  type SampledRows,
} from './sample.ts';

export interface DomainClassifierOptions {
  /** Cross-validation folds. @default 5 */
  folds?: number;
  /** Seed of the fold assignment. @default 1 */
  seed?: number;
  /** Labels per categorical feature entered one-hot (most frequent in both samples). @default 8 */
  maxCategories?: number;
  /** Base columns whose pairwise products are entered (the first ones: numeric, then one-hot); squares of every numeric column. @default 20 */
  maxInteractionColumns?: number;
  /** Regularisation and convergence of the logistic regression. @default { C: 1 } */
  logistic?: LogisticOptions;
}

export const DEFAULT_DOMAIN_CLASSIFIER = { folds: 5, seed: 1, maxCategories: 8, maxInteractionColumns: 20 } as const;

/** The base columns of a comparison: numeric features, then one column per kept category label. */
export interface BaseColumns {
  reference: Matrix;
  window: Matrix;
  /**
   * Per column: its name, the feature it comes from, whether it is numeric (a one-hot label is
   * not), and whether it enters products and squares (a vector's coordinates do not: hundreds of
   * embedding dimensions would make tens of thousands of terms).
   */
  columns: { name: string; feature: string; numeric: boolean; interacts: boolean }[];
}

/**
 * Numeric features (missing: the reference's mean), one-hot categorical labels, then the
 * coordinates of vector features (a missing vector: the reference's mean vector) of both sides.
 */
export function baseColumns(
  reference: SampledRows,
  window: SampledRows,
  maxCategories: number = DEFAULT_DOMAIN_CLASSIFIER.maxCategories,
): BaseColumns {
  const numericNames = sharedNumeric(reference, window);
  const numeric = numericMatrices(reference, window, numericNames);
  const columns: BaseColumns['columns'] = numericNames.map((name) => ({
    name,
    feature: name,
    numeric: true,
    interacts: true,
  }));
  const oneHot: { feature: string; label: string }[] = [];
  for (const feature of sharedCategorical(reference, window)) {
    const counts = new Map<string, number>();
    for (const side of [reference, window])
      for (const v of side.categorical[feature] ?? []) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
    const labels = [...counts]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, maxCategories)
      .map(([label]) => label);
    // A feature with one label carries nothing a classifier could use.
    if (labels.length < 2) continue;
    for (const label of labels) {
      oneHot.push({ feature, label });
      columns.push({ name: `${feature}=${label}`, feature, numeric: false, interacts: true });
    }
  }
  const vectors: { feature: string; mean: Float64Array }[] = [];
  for (const feature of sharedVectors(reference, window)) {
    const present = (reference.vectors?.[feature] ?? []).filter((v): v is number[] => Array.isArray(v));
    const dimension = present[0]?.length ?? 0;
    if (dimension === 0) continue;
    const mean = new Float64Array(dimension);
    let n = 0;
    for (const v of present)
      if (v.length === dimension) {
        n += 1;
        for (let j = 0; j < dimension; j++) mean[j] = (mean[j] as number) + (v[j] as number);
      }
    for (let j = 0; j < dimension; j++) mean[j] = (mean[j] as number) / Math.max(1, n);
    vectors.push({ feature, mean });
    for (let j = 0; j < dimension; j++)
      columns.push({ name: `${feature}[${j}]`, feature, numeric: true, interacts: false });
  }
  const widen = (side: SampledRows, numericPart: Matrix): Matrix => {
    const out = matrix(side.rows, columns.length);
    for (let i = 0; i < side.rows; i++) {
      out.data.set(numericPart.data.subarray(i * numericPart.cols, (i + 1) * numericPart.cols), i * columns.length);
      oneHot.forEach((h, k) => {
        out.data[i * columns.length + numericPart.cols + k] = side.categorical[h.feature]?.[i] === h.label ? 1 : 0;
      });
      let at = i * columns.length + numericPart.cols + oneHot.length;
      for (const { feature, mean } of vectors) {
        const v = side.vectors?.[feature]?.[i];
        const usable = Array.isArray(v) && v.length === mean.length && v.every(Number.isFinite);
        for (let j = 0; j < mean.length; j++) out.data[at + j] = usable ? (v[j] as number) : (mean[j] as number);
        at += mean.length;
      }
    }
    return out;
  };
  return { reference: widen(reference, numeric.reference), window: widen(window, numeric.window), columns };
}

/** A term of the expanded design: a base column, or the product of two (a square when equal). */
export interface Term {
  a: number;
  b: number | null;
}

/**
 * The terms scikit-learn's PolynomialFeatures(degree=2, include_bias=False) makes, in its order
 * (every column, then x_i·x_j for i ≤ j), limited to columns that `interact` (@default all): products
 * among the first `maxInteractionColumns` of them, squares of the numeric ones (a one-hot square
 * is itself).
 */
export function quadraticTerms(
  numeric: readonly boolean[],
  maxInteractionColumns: number,
  interacts: readonly boolean[] = numeric.map(() => true),
): Term[] {
  const terms: Term[] = numeric.map((_, a) => ({ a, b: null }));
  const interacting = numeric.map((_, a) => a).filter((a) => interacts[a]);
  const inProducts = new Set(interacting.slice(0, maxInteractionColumns));
  for (let a = 0; a < numeric.length; a++)
    for (let b = a; b < numeric.length; b++) {
      if (a === b ? !(numeric[a] && interacts[a]) : !inProducts.has(a) || !inProducts.has(b)) continue;
      terms.push({ a, b });
    }
  return terms;
}

function expand(z: Matrix, terms: readonly Term[]): Matrix {
  const out = matrix(z.rows, terms.length);
  for (let i = 0; i < z.rows; i++) {
    const row = i * z.cols;
    const target = i * terms.length;
    terms.forEach((t, k) => {
      const a = z.data[row + t.a] as number;
      out.data[target + k] = t.b === null ? a : a * (z.data[row + t.b] as number);
    });
  }
  return out;
}

/** The model's design for a fit on `train`: standardise, expand, standardise again (all rows, with `train`'s statistics). */
export function designMatrix(base: Matrix, terms: readonly Term[], train: readonly number[]): Matrix {
  const z = standardise(base, columnScaling(base, train));
  const expanded = expand(z, terms);
  return standardise(expanded, columnScaling(expanded, train));
}

/** Fold of each row (0 … k−1): each label's rows shuffled by the seed and dealt out in turn. */
export function stratifiedFolds(labels: Uint8Array, k: number, seed: number): Int32Array {
  const random = new Random(seed);
  const folds = new Int32Array(labels.length);
  for (const label of [0, 1]) {
    const rows: number[] = [];
    labels.forEach((y, i) => {
      if (y === label) rows.push(i);
    });
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(random.next() * (i + 1));
      [rows[i], rows[j]] = [rows[j] as number, rows[i] as number];
    }
    rows.forEach((row, position) => (folds[row] = position % k));
  }
  return folds;
}

/** Out-of-fold P(window) of every row, given each row's fold. */
export function outOfFoldScores(
  base: Matrix,
  labels: Uint8Array,
  folds: Int32Array,
  terms: readonly Term[],
  logistic: LogisticOptions = {},
): Float64Array {
  const scores = new Float64Array(base.rows);
  const k = Math.max(...folds) + 1;
  for (let fold = 0; fold < k; fold++) {
    const train: number[] = [];
    const test: number[] = [];
    folds.forEach((f, i) => (f === fold ? test : train).push(i));
    if (test.length === 0) continue;
    const x = designMatrix(base, terms, train);
    const model = fitLogistic(x, labels, logistic, train);
    for (const i of test) scores[i] = predictRow(model, x, i);
  }
  return scores;
}

export interface DomainClassifierResult {
  /** Cross-validated ROC AUC of telling window rows from reference rows (0.5: indistinguishable). */
  auc: number;
  /** One-sided Mann–Whitney p-value of the out-of-fold scores. */
  pvalue: number;
  folds: number;
  referenceRows: number;
  windowRows: number;
  /** Base columns (numeric features and one-hot labels) and terms of the expanded design. */
  columns: number;
  terms: number;
  /** Features by their share of the full model's |coefficients|, largest first. */
  importance: { feature: string; share: number }[];
}

/** Null when either side has fewer rows than folds or there is no column to learn from. */
export function domainClassifierDrift(
  reference: SampledRows,
  window: SampledRows,
  options: DomainClassifierOptions = {},
): DomainClassifierResult | null {
  const k = options.folds ?? DEFAULT_DOMAIN_CLASSIFIER.folds;
  const base = baseColumns(reference, window, options.maxCategories ?? DEFAULT_DOMAIN_CLASSIFIER.maxCategories);
  if (base.columns.length === 0 || base.reference.rows < k || base.window.rows < k) return null;
  const x = stackRows(base.reference, base.window);
  const labels = new Uint8Array(x.rows);
  labels.fill(1, base.reference.rows);
  const terms = quadraticTerms(
    base.columns.map((c) => c.numeric),
    options.maxInteractionColumns ?? DEFAULT_DOMAIN_CLASSIFIER.maxInteractionColumns,
    base.columns.map((c) => c.interacts),
  );
  const folds = stratifiedFolds(labels, k, options.seed ?? DEFAULT_DOMAIN_CLASSIFIER.seed);
  const scores = outOfFoldScores(x, labels, folds, terms, options.logistic);
  const test = mannWhitneyGreater(labels, scores);
  if (!test) return null;
  const all = Array.from({ length: x.rows }, (_, i) => i);
  const full = fitLogistic(designMatrix(x, terms, all), labels, options.logistic);
  return {
    auc: test.auc,
    pvalue: test.pvalue,
    folds: k,
    referenceRows: base.reference.rows,
    windowRows: base.window.rows,
    columns: base.columns.length,
    terms: terms.length,
    importance: termImportance(
      full.coefficients,
      terms,
      base.columns.map((c) => c.feature),
    ),
  };
}

/** Each feature's share of Σ|coefficient|: a product's weight split evenly between its two columns. */
export function termImportance(
  coefficients: Float64Array,
  terms: readonly Term[],
  featureOfColumn: readonly string[],
): { feature: string; share: number }[] {
  const weight = new Map<string, number>();
  const add = (column: number, w: number) => {
    const feature = featureOfColumn[column] as string;
    weight.set(feature, (weight.get(feature) ?? 0) + w);
  };
  let total = 0;
  terms.forEach((t, k) => {
    const w = Math.abs(coefficients[k] as number);
    total += w;
    if (t.b === null || t.b === t.a) add(t.a, w);
    else {
      add(t.a, w / 2);
      add(t.b, w / 2);
    }
  });
  return [...weight]
    .map(([feature, w]) => ({ feature, share: total > 0 ? w / total : 0 }))
    .sort((a, b) => b.share - a.share || (a.feature < b.feature ? -1 : 1));
}
