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

/** Events of equal score (or, from a window query, of one score group), in rising score order. */
export interface ProbabilityGroup {
  events: number;
  /** Σ p over the group's events. */
  positive: number;
  /** Σ (1 − p). */
  negative: number;
  /** Σ p (1 − p). */
  variance: number;
}

/** Null when the window has no expected positives or no expected negatives. */
export function expectedRocAuc(scores: readonly number[], probabilities: readonly number[]): ExpectedRocAuc | null {
  const n = scores.length;
  const order = Array.from(scores.keys()).sort((a, b) => (scores[a] as number) - (scores[b] as number));
  const groups: ProbabilityGroup[] = [];
  for (let start = 0; start < n;) {
    const group: ProbabilityGroup = { events: 0, positive: 0, negative: 0, variance: 0 };
    let end = start;
    while (end < n && scores[order[end] as number] === scores[order[start] as number]) {
      const p = probabilities[order[end] as number] as number;
      group.events += 1;
      group.positive += p;
      group.negative += 1 - p;
      group.variance += p * (1 - p);
      end += 1;
    }
    groups.push(group);
    start = end;
  }
  return expectedRocAucOfGroups(groups);
}

/**
 * The expected ROC AUC of events grouped in rising score order, pairs inside a group counted as
 * ties (the rows' tie groups give exactly {@link expectedRocAuc}); null without expected
 * positives or negatives.
 */
export function expectedRocAucOfGroups(groups: readonly ProbabilityGroup[]): ExpectedRocAuc | null {
  let positiveWeight = 0;
  let negativeWeight = 0;
  let negativesBelow = 0;
  let pairSum = 0;
  for (const g of groups) {
    pairSum += g.positive * (negativesBelow + 0.5 * g.negative);
    negativesBelow += g.negative;
    positiveWeight += g.positive;
    negativeWeight += g.negative;
  }
  if (!(positiveWeight > 0 && negativeWeight > 0)) return null;
  const denominator = positiveWeight * negativeWeight;
  const value = pairSum / denominator;
  let variance = 0;
  let eventsBelow = 0;
  for (const g of groups) {
    const gradient =
      (eventsBelow + 0.5 * g.events - positiveWeight - value * (negativeWeight - positiveWeight)) / denominator;
    variance += gradient * gradient * g.variance;
    eventsBelow += g.events;
  }
  return { value, standardError: Math.sqrt(variance) };
}
