/**
 * Recalibration maps fitted on a labelled reference, stored as plain JSON.
 *
 * - isotonic: pool-adjacent-violators on the labels ordered by score (tied scores merged first),
 *   giving non-decreasing steps; a score between two steps is interpolated linearly between the
 *   last score of one and the first of the next, as scikit-learn's IsotonicRegression predicts
 *   (calibrators stored before `lowerScores` existed stay step functions); scores outside the
 *   fitted range take the nearest step. Flexible; needs a few hundred events.
 * - platt: logistic regression of the label on logit(score), fitted by Newton's method with the
 *   plain maximum-likelihood targets (Platt's smoothed targets are not used). Two parameters, so
 *   it works on small references but only fixes sigmoid-shaped miscalibration.
 */
import { assertBinaryLabels, assertProbabilities, assertSameLength } from './types.ts';

export interface IsotonicCalibrator {
  kind: 'isotonic';
  /** Upper score bound of each step, ascending. */
  upperScores: number[];
  /** Calibrated probability of each step, non-decreasing. */
  values: number[];
  /**
   * Lowest score of each step, ascending. Present: a score between two steps is interpolated
   * linearly (scikit-learn's IsotonicRegression); absent (fitted before): the next step's value.
   * @default undefined
   */
  lowerScores?: number[];
}

export interface PlattCalibrator {
  kind: 'platt';
  /** p = sigmoid(slope · logit(score) + intercept). */
  slope: number;
  intercept: number;
}

export interface IdentityCalibrator {
  kind: 'identity';
}

export type Calibrator = IsotonicCalibrator | PlattCalibrator | IdentityCalibrator;

/**
 * Isotonic fit: events with the same score are first merged into one block (their labels
 * averaged, weighted), then adjacent blocks are pooled while their means decrease. Merging ties
 * before pooling makes the result independent of the row order, as in scikit-learn's
 * IsotonicRegression (which averages tied inputs before its own pool-adjacent-violators pass).
 * `weights` are per-event sample weights (@default 1 each).
 */
export function fitIsotonic(
  labels: readonly number[],
  scores: readonly number[],
  weights?: readonly number[],
): IsotonicCalibrator {
  assertSameLength(labels, scores, 'fitIsotonic');
  assertBinaryLabels(labels);
  if (labels.length === 0) throw new RangeError('fitIsotonic needs at least one event');
  if (weights !== undefined) {
    assertSameLength(labels, weights, 'fitIsotonic weights');
    const bad = weights.findIndex((w) => !(Number.isFinite(w) && w >= 0));
    if (bad >= 0)
      throw new RangeError(`fitIsotonic: weight ${weights[bad]} at index ${bad} must be a finite number >= 0`);
  }
  const weightOf = (i: number) => (weights === undefined ? 1 : (weights[i] as number));
  const order = Array.from(labels.keys())
    .filter((i) => weightOf(i) > 0)
    .sort((a, b) => (scores[a] as number) - (scores[b] as number));
  if (order.length === 0) throw new RangeError('fitIsotonic needs at least one event with a positive weight');
  // One block per distinct score: [upper score, weighted sum of labels, weight].
  const tiedUpper: number[] = [];
  const tiedSums: number[] = [];
  const tiedWeights: number[] = [];
  for (const i of order) {
    const s = scores[i] as number;
    const w = weightOf(i);
    const last = tiedUpper.length - 1;
    if (last >= 0 && tiedUpper[last] === s) {
      tiedSums[last] = (tiedSums[last] as number) + w * (labels[i] as number);
      tiedWeights[last] = (tiedWeights[last] as number) + w;
    } else {
      tiedUpper.push(s);
      tiedSums.push(w * (labels[i] as number));
      tiedWeights.push(w);
    }
  }
  // Pool adjacent violators over the distinct-score blocks.
  const upper: number[] = [];
  const lower: number[] = [];
  const sums: number[] = [];
  const blockWeights: number[] = [];
  for (let t = 0; t < tiedUpper.length; t++) {
    upper.push(tiedUpper[t] as number);
    lower.push(tiedUpper[t] as number);
    sums.push(tiedSums[t] as number);
    blockWeights.push(tiedWeights[t] as number);
    while (upper.length >= 2) {
      const k = upper.length - 1;
      const previousMean = (sums[k - 1] as number) / (blockWeights[k - 1] as number);
      if (previousMean <= (sums[k] as number) / (blockWeights[k] as number)) break;
      sums[k - 1] = (sums[k - 1] as number) + (sums[k] as number);
      blockWeights[k - 1] = (blockWeights[k - 1] as number) + (blockWeights[k] as number);
      upper[k - 1] = upper[k] as number;
      upper.pop();
      lower.pop();
      sums.pop();
      blockWeights.pop();
    }
  }
  return {
    kind: 'isotonic',
    upperScores: upper,
    values: sums.map((s, k) => s / (blockWeights[k] as number)),
    lowerScores: lower,
  };
}

const clipLogit = (p: number) => {
  const q = Math.min(Math.max(p, 1e-12), 1 - 1e-12);
  return Math.log(q / (1 - q));
};

export function fitPlatt(labels: readonly number[], scores: readonly number[]): PlattCalibrator {
  assertSameLength(labels, scores, 'fitPlatt');
  assertBinaryLabels(labels);
  assertProbabilities(scores);
  const x = scores.map(clipLogit);
  const logLikelihood = (a: number, b: number) => {
    let sum = 0;
    for (let i = 0; i < x.length; i++) {
      const z = a * (x[i] as number) + b;
      // log σ(z) = −log(1 + e^{−z}), written to avoid overflow.
      const logP = z >= 0 ? -Math.log1p(Math.exp(-z)) : z - Math.log1p(Math.exp(z));
      const logQ = z >= 0 ? -z - Math.log1p(Math.exp(-z)) : -Math.log1p(Math.exp(z));
      sum += labels[i] === 1 ? logP : logQ;
    }
    return sum;
  };
  let slope = 1;
  let intercept = 0;
  let current = logLikelihood(slope, intercept);
  for (let iteration = 0; iteration < 100; iteration++) {
    // Newton step with gradient g and negated Hessian H of the log-likelihood (tiny ridge for separable data).
    let g0 = 0;
    let g1 = 0;
    let h00 = 1e-9;
    let h01 = 0;
    let h11 = 1e-9;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i] as number;
      const p = 1 / (1 + Math.exp(-(slope * xi + intercept)));
      const r = (labels[i] as number) - p;
      const w = p * (1 - p);
      g0 += r * xi;
      g1 += r;
      h00 += w * xi * xi;
      h01 += w * xi;
      h11 += w;
    }
    const det = h00 * h11 - h01 * h01;
    if (!(Math.abs(det) > 0)) break;
    let dSlope = (h11 * g0 - h01 * g1) / det;
    let dIntercept = (h00 * g1 - h01 * g0) / det;
    // Halve the step until the likelihood does not decrease (Newton can overshoot from far away).
    let next = logLikelihood(slope + dSlope, intercept + dIntercept);
    for (let halving = 0; halving < 50 && !(next >= current); halving++) {
      dSlope /= 2;
      dIntercept /= 2;
      next = logLikelihood(slope + dSlope, intercept + dIntercept);
    }
    slope += dSlope;
    intercept += dIntercept;
    current = next;
    if (Math.abs(dSlope) + Math.abs(dIntercept) < 1e-10) break;
  }
  return { kind: 'platt', slope, intercept };
}

/** Apply a calibrator to one score. */
export function calibrate(calibrator: Calibrator, score: number): number {
  switch (calibrator.kind) {
    case 'identity':
      return score;
    case 'platt':
      return 1 / (1 + Math.exp(-(calibrator.slope * clipLogit(score) + calibrator.intercept)));
    case 'isotonic': {
      const { upperScores, values } = calibrator;
      let low = 0;
      let high = upperScores.length - 1;
      while (low < high) {
        const mid = (low + high) >> 1;
        if (score <= (upperScores[mid] as number)) high = mid;
        else low = mid + 1;
      }
      const lowerScores = calibrator.lowerScores;
      // Between the previous step's last score and this step's first: linear, as scikit-learn.
      if (lowerScores && low > 0 && score < (lowerScores[low] as number)) {
        const x0 = upperScores[low - 1] as number;
        const x1 = lowerScores[low] as number;
        const y0 = values[low - 1] as number;
        const y1 = values[low] as number;
        return y0 + ((y1 - y0) * (score - x0)) / (x1 - x0);
      }
      return values[low] as number;
    }
  }
}
