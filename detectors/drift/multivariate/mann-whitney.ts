/**
 * The Mann–Whitney U test of "the window's rows score higher than the reference's", from the
 * ranks of the scores: one-sided, normal approximation with the tie correction and a continuity
 * correction — scipy.stats.mannwhitneyu(window, reference, alternative="greater",
 * method="asymptotic"). U / (m·n) is the ROC AUC of the scores.
 */
import { normalSurvival } from '../../quality/distributions.ts';
import { midRanks } from '../../quality/roc-auc.ts';

export interface MannWhitneyResult {
  /** U of the positives (label 1). */
  u: number;
  /** U / (positives × negatives): the ROC AUC. */
  auc: number;
  z: number;
  /** P(U ≥ observed) under exchangeable labels. */
  pvalue: number;
}

/** Null when either label is absent. */
export function mannWhitneyGreater(labels: ArrayLike<number>, scores: ArrayLike<number>): MannWhitneyResult | null {
  const n = scores.length;
  const ranks = midRanks(Array.from(scores));
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; i++)
    if (labels[i] === 1) {
      positives += 1;
      rankSum += ranks[i] as number;
    }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  const u = rankSum - (positives * (positives + 1)) / 2;
  // Σ (t³ − t) over groups of tied scores.
  const sorted = Array.from(scores).sort((a, b) => a - b);
  let ties = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && sorted[j + 1] === sorted[i]) j += 1;
    const t = j - i + 1;
    ties += t * t * t - t;
    i = j + 1;
  }
  const mean = (positives * negatives) / 2;
  const variance = ((positives * negatives) / 12) * (n + 1 - ties / (n * (n - 1)));
  const sd = Math.sqrt(Math.max(variance, 0));
  const z = sd > 0 ? (u - mean - 0.5) / sd : 0;
  return { u, auc: u / (positives * negatives), z, pvalue: sd > 0 ? normalSurvival(z) : 1 };
}
