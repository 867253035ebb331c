/**
 * McNemar's test for paired accuracy: do champion and challenger err on different events more
 * often in one direction than the other? Only discordant pairs count:
 * b = champion right & challenger wrong, c = champion wrong & challenger right.
 *
 * Exact two-sided binomial, p = min(1, 2·P(X ≤ min(b, c))) with X ~ Bin(b + c, ½), when b + c is
 * small; otherwise chi-square with continuity correction, max(0, |b − c| − 1)² / (b + c), 1 df.
 * Both equal statsmodels' `mcnemar(exact=True/False, correction=True)` except when b = c, where
 * statsmodels' (|b − c| − 1)² gives a p-value below 1 and this returns 1.
 */
import { binomialHalfCdf, chiSquareSurvival } from '../quality/distributions.ts';

/** Discordant-pair count below which the exact binomial test is used. @default 25 */
export const DEFAULT_MCNEMAR_EXACT_BELOW = 25;

export interface McNemarResult {
  /** Champion right, challenger wrong. */
  championOnlyCorrect: number;
  /** Challenger right, champion wrong. */
  challengerOnlyCorrect: number;
  method: 'exact-binomial' | 'chi-square-corrected';
  /** Chi-square statistic (null for the exact test). */
  statistic: number | null;
  pValue: number;
}

export function mcnemarTest(
  championOnlyCorrect: number,
  challengerOnlyCorrect: number,
  exactBelow = DEFAULT_MCNEMAR_EXACT_BELOW,
): McNemarResult {
  const b = championOnlyCorrect;
  const c = challengerOnlyCorrect;
  if (!(Number.isInteger(b) && Number.isInteger(c) && b >= 0 && c >= 0))
    throw new RangeError('McNemar counts must be non-negative integers');
  const discordant = b + c;
  if (discordant < exactBelow) {
    const pValue = discordant === 0 ? 1 : Math.min(1, 2 * binomialHalfCdf(Math.min(b, c), discordant));
    return { championOnlyCorrect: b, challengerOnlyCorrect: c, method: 'exact-binomial', statistic: null, pValue };
  }
  const statistic = Math.max(0, Math.abs(b - c) - 1) ** 2 / discordant;
  return {
    championOnlyCorrect: b,
    challengerOnlyCorrect: c,
    method: 'chi-square-corrected',
    statistic,
    pValue: chiSquareSurvival(statistic, 1),
  };
}

/** Count the discordant pairs from labels and the two models' hard predictions. */
export function discordantPairs(
  labels: readonly number[],
  championPredictions: readonly number[],
  challengerPredictions: readonly number[],
): { championOnlyCorrect: number; challengerOnlyCorrect: number } {
  let championOnlyCorrect = 0;
  let challengerOnlyCorrect = 0;
  for (let i = 0; i < labels.length; i++) {
    const championRight = championPredictions[i] === labels[i];
    const challengerRight = challengerPredictions[i] === labels[i];
    if (championRight && !challengerRight) championOnlyCorrect += 1;
    else if (challengerRight && !championRight) challengerOnlyCorrect += 1;
  }
  return { championOnlyCorrect, challengerOnlyCorrect };
}
