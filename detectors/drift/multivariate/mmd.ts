/**
 * Maximum mean discrepancy with a Gaussian (RBF) kernel, and a permutation p-value (Gretton et
 * al., 2012). MMD² is the distance between the two samples' mean embeddings in the kernel's
 * feature space: zero exactly when the distributions are equal, for every kind of difference —
 * location, spread, correlation, shape — which makes it the test for vectors (embeddings) whose
 * coordinates mean nothing on their own.
 *
 * k(x, y) = exp(−‖x − y‖² / (2σ²)), σ the median of the pooled sample's pairwise distances (the
 * median heuristic). The statistic is the unbiased estimate
 *   MMD² = mean over i≠j of k(xᵢ,xⱼ) + mean over i≠j of k(yᵢ,yⱼ) − 2 mean over i,j of k(xᵢ,yⱼ),
 * and its p-value (1 + #{permuted ≥ observed}) / (1 + permutations), relabelling the pooled rows
 * at random with the kernel matrix computed once. Cost: O((n + m)²) memory, and time per permutation.
 */
import { Random } from '../../random.ts';
import type { Matrix } from './sample.ts';

export interface MmdOptions {
  /** Label permutations of the p-value. @default 200 */
  permutations?: number;
  /** @default 1 */
  seed?: number;
  /** Kernel bandwidth σ. @default the median pairwise distance of the pooled rows */
  bandwidth?: number;
}

export interface MmdResult {
  /** Unbiased MMD² estimate. */
  mmd2: number;
  bandwidth: number;
  pvalue: number;
  permutations: number;
  referenceRows: number;
  windowRows: number;
}

function squaredDistances(pooled: Matrix): Float64Array {
  const n = pooled.rows;
  const d = pooled.cols;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) {
        const diff = (pooled.data[i * d + k] as number) - (pooled.data[j * d + k] as number);
        s += diff * diff;
      }
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  return out;
}

/** Median of the distances of all pairs i < j (numpy's median: the mean of the middle two for an even count). */
export function medianPairwiseDistance(squared: Float64Array, n: number): number {
  const pairs = new Float64Array((n * (n - 1)) / 2);
  let k = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) pairs[k++] = squared[i * n + j] as number;
  if (pairs.length === 0) return 0;
  // Distances sort as their squares do.
  pairs.sort();
  const middle = pairs.length >> 1;
  if (pairs.length % 2 === 1) return Math.sqrt(pairs[middle] as number);
  return (Math.sqrt(pairs[middle - 1] as number) + Math.sqrt(pairs[middle] as number)) / 2;
}

/** Unbiased MMD² of the pooled kernel matrix split by `inWindow` (1: window row). */
function mmd2Of(kernel: Float64Array, n: number, inWindow: Uint8Array, windowRows: number): number {
  const m = n - windowRows;
  let xx = 0;
  let yy = 0;
  let xy = 0;
  for (let i = 0; i < n; i++) {
    const a = inWindow[i] as number;
    const row = i * n;
    for (let j = i + 1; j < n; j++) {
      const k = kernel[row + j] as number;
      const b = inWindow[j] as number;
      if (a !== b) xy += k;
      else if (a === 1) yy += k;
      else xx += k;
    }
  }
  return (2 * xx) / (m * (m - 1)) + (2 * yy) / (windowRows * (windowRows - 1)) - (2 * xy) / (m * windowRows);
}

/** MMD test of `window` against `reference` (same columns); null when either side has fewer than 2 rows. */
export function mmdTest(reference: Matrix, window: Matrix, options: MmdOptions = {}): MmdResult | null {
  if (reference.rows < 2 || window.rows < 2) return null;
  if (reference.cols !== window.cols)
    throw new RangeError(`MMD needs the same columns: ${reference.cols} vs ${window.cols}`);
  const n = reference.rows + window.rows;
  const pooled: Matrix = { rows: n, cols: reference.cols, data: new Float64Array(n * reference.cols) };
  pooled.data.set(reference.data, 0);
  pooled.data.set(window.data, reference.data.length);
  const squared = squaredDistances(pooled);
  const bandwidth = options.bandwidth ?? medianPairwiseDistance(squared, n);
  // A sample whose rows are all equal: any positive σ gives the same (all-ones) kernel.
  const twoSigmaSquared = 2 * (bandwidth > 0 ? bandwidth * bandwidth : 1);
  const kernel = squared.map((s) => Math.exp(-s / twoSigmaSquared));
  const labels = new Uint8Array(n);
  labels.fill(1, reference.rows);
  const observed = mmd2Of(kernel, n, labels, window.rows);
  const permutations = options.permutations ?? 200;
  const random = new Random(options.seed ?? 1);
  const shuffled = Uint8Array.from(labels);
  let atLeast = 0;
  for (let p = 0; p < permutations; p++) {
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random.next() * (i + 1));
      const t = shuffled[i] as number;
      shuffled[i] = shuffled[j] as number;
      shuffled[j] = t;
    }
    if (mmd2Of(kernel, n, shuffled, window.rows) >= observed) atLeast += 1;
  }
  return {
    mmd2: observed,
    bandwidth,
    pvalue: (1 + atLeast) / (1 + permutations),
    permutations,
    referenceRows: reference.rows,
    windowRows: window.rows,
  };
}
