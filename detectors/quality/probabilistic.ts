/** Proper scoring rules for binary probabilities: log loss (clipped) and Brier score. */
import { assertBinaryLabels, assertProbabilities, assertSameLength } from './types.ts';

/** Probabilities are clipped to [ε, 1 − ε] with ε = 2⁻⁵², as sklearn.metrics.log_loss does for float64. */
export const LOG_LOSS_EPSILON = Number.EPSILON;

/** Per-event log loss −[y ln p + (1 − y) ln(1 − p)] after clipping. */
export function logLossContribution(label: number, probability: number): number {
  const p = Math.min(Math.max(probability, LOG_LOSS_EPSILON), 1 - LOG_LOSS_EPSILON);
  return label === 1 ? -Math.log(p) : -Math.log(1 - p);
}

/** Per-event Brier contribution (p − y)². */
export function brierContribution(label: number, probability: number): number {
  return (probability - label) * (probability - label);
}

function meanOf(
  labels: readonly number[],
  probabilities: readonly number[],
  f: (y: number, p: number) => number,
): number | null {
  assertSameLength(labels, probabilities, 'probabilistic metric');
  assertBinaryLabels(labels);
  assertProbabilities(probabilities);
  if (labels.length === 0) return null;
  let sum = 0;
  for (let i = 0; i < labels.length; i++) sum += f(labels[i] as number, probabilities[i] as number);
  return sum / labels.length;
}

/** Mean log loss (= sklearn log_loss(y, p, labels=[0, 1])); null when empty. */
export function logLoss(labels: readonly number[], probabilities: readonly number[]): number | null {
  return meanOf(labels, probabilities, logLossContribution);
}

/** Mean squared error of the probabilities (= sklearn brier_score_loss); null when empty. */
export function brierScore(labels: readonly number[], probabilities: readonly number[]): number | null {
  return meanOf(labels, probabilities, brierContribution);
}
