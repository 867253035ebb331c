/**
 * Label-free ROC AUC: the area under the expected ROC curve when each event is a positive with
 * its calibrated probability p (NannyML's CBPE estimate). At a threshold t the expected true
 * positives are Σ_{score ≥ t} p and the expected false positives Σ_{score ≥ t} (1 − p); the
 * trapezoidal area under that curve is Σ over pairs of p_i (1 − p_j) ranked by the model's score,
 * ties (an event with itself included) counting half, over (Σp)(Σ(1 − p)).
 *
 * Its standard error is the sampling spread of the realised AUC if calibration holds, i.e. labels
 * drawn y_i ~ Bernoulli(p_i) with the scores fixed: the delta method on AUC = S / (N₁ N₀), whose
 * derivative in y_i is (Σ_j h_ij − P − AUC·(Q − P)) / (P Q), with h_ij = 1 when score_i > score_j,
 * ½ on ties, P = Σp and Q = Σ(1 − p). Like the accuracy interval, it says nothing about
 * calibration failing (concept drift).
 */

export interface ExpectedRocAuc {
  value: number;
  /** Delta-method standard error of the realised AUC under calibration. */
  standardError: number;
}

/** Null when the window has no expected positives or no expected negatives. */
export function expectedRocAuc(scores: readonly number[], probabilities: readonly number[]): ExpectedRocAuc | null {
  const n = scores.length;
  const order = Array.from(scores.keys()).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  // Tie groups in score order: [start, end] into `order`.
  const groups: [number, number][] = [];
  for (let start = 0; start < n;) {
    let end = start;
    while (end + 1 < n && scores[order[end + 1] as number] === scores[order[start] as number]) end += 1;
    groups.push([start, end]);
    start = end + 1;
  }
  let positiveWeight = 0;
  let negativeWeight = 0;
  let negativesBelow = 0;
  let pairSum = 0;
  for (const [start, end] of groups) {
    let groupPositive = 0;
    let groupNegative = 0;
    for (let k = start; k <= end; k++) {
      const p = probabilities[order[k] as number] as number;
      groupPositive += p;
      groupNegative += 1 - p;
    }
    pairSum += groupPositive * (negativesBelow + 0.5 * groupNegative);
    negativesBelow += groupNegative;
    positiveWeight += groupPositive;
    negativeWeight += groupNegative;
  }
  if (!(positiveWeight > 0 && negativeWeight > 0)) return null;
  const denominator = positiveWeight * negativeWeight;
  const value = pairSum / denominator;
  let variance = 0;
  let eventsBelow = 0;
  for (const [start, end] of groups) {
    const size = end - start + 1;
    const gradient =
      (eventsBelow + 0.5 * size - positiveWeight - value * (negativeWeight - positiveWeight)) / denominator;
    for (let k = start; k <= end; k++) {
      const p = probabilities[order[k] as number] as number;
      variance += gradient * gradient * p * (1 - p);
    }
    eventsBelow += size;
  }
  return { value, standardError: Math.sqrt(variance) };
}
