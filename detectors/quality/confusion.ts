/**
 * Threshold metrics of a binary classifier from its confusion matrix.
 *
 * Undefined ratios (e.g. precision with no positive predictions) are null, never 0: a monitor
 * must not mistake "no evidence" for "zero precision". This equals scikit-learn with
 * `zero_division=np.nan`; sklearn's default would report 0 with a warning.
 */
import { wilsonInterval, DEFAULT_CONFIDENCE_LEVEL } from './intervals.ts';
import { assertBinaryLabels, assertSameLength } from './types.ts';
import type { MetricEstimate } from './types.ts';

/** Counts of a binary confusion matrix; the shape the SQL side returns with four countIf(). */
export interface ConfusionCounts {
  truePositives: number;
  falsePositives: number;
  trueNegatives: number;
  falseNegatives: number;
}

/** Decision threshold: score >= threshold predicts the positive class (as sklearn's `>=`). @default 0.5 */
export const DEFAULT_THRESHOLD = 0.5;

export function confusionCounts(
  labels: readonly number[],
  scores: readonly number[],
  threshold = DEFAULT_THRESHOLD,
): ConfusionCounts {
  assertSameLength(labels, scores, 'confusionCounts');
  assertBinaryLabels(labels);
  const counts: ConfusionCounts = { truePositives: 0, falsePositives: 0, trueNegatives: 0, falseNegatives: 0 };
  for (let i = 0; i < labels.length; i++) {
    const predictedPositive = (scores[i] as number) >= threshold;
    if (labels[i] === 1) {
      if (predictedPositive) counts.truePositives += 1;
      else counts.falseNegatives += 1;
    } else if (predictedPositive) counts.falsePositives += 1;
    else counts.trueNegatives += 1;
  }
  return counts;
}

export function confusionTotal(c: ConfusionCounts): number {
  return c.truePositives + c.falsePositives + c.trueNegatives + c.falseNegatives;
}

export function accuracyFromConfusion(c: ConfusionCounts): number | null {
  const n = confusionTotal(c);
  return n === 0 ? null : (c.truePositives + c.trueNegatives) / n;
}

export function precisionFromConfusion(c: ConfusionCounts): number | null {
  const predicted = c.truePositives + c.falsePositives;
  return predicted === 0 ? null : c.truePositives / predicted;
}

export function recallFromConfusion(c: ConfusionCounts): number | null {
  const actual = c.truePositives + c.falseNegatives;
  return actual === 0 ? null : c.truePositives / actual;
}

/** F1 = 2TP / (2TP + FP + FN); null when there are neither positive labels nor positive predictions. */
export function f1FromConfusion(c: ConfusionCounts): number | null {
  const denominator = 2 * c.truePositives + c.falsePositives + c.falseNegatives;
  return denominator === 0 ? null : (2 * c.truePositives) / denominator;
}

export interface ThresholdMetrics {
  n: number;
  accuracy: MetricEstimate;
  precision: MetricEstimate;
  recall: MetricEstimate;
  /** F1 has no closed-form interval from counts alone; the event-level report bootstraps one. */
  f1: MetricEstimate;
}

function proportion(successes: number, n: number, level: number, emptyNote: string): MetricEstimate {
  if (n === 0) return { value: null, n, interval: null, note: emptyNote };
  return { value: successes / n, n, interval: wilsonInterval(successes, n, level) };
}

/** Accuracy, precision, recall (Wilson intervals) and F1 from a confusion matrix. */
export function thresholdMetricsFromConfusion(c: ConfusionCounts, level = DEFAULT_CONFIDENCE_LEVEL): ThresholdMetrics {
  for (const [key, value] of Object.entries(c)) {
    if (!(Number.isInteger(value) && value >= 0))
      throw new RangeError(`confusion count ${key} must be a non-negative integer`);
  }
  const n = confusionTotal(c);
  const f1 = f1FromConfusion(c);
  return {
    n,
    accuracy: proportion(c.truePositives + c.trueNegatives, n, level, 'no events'),
    precision: proportion(c.truePositives, c.truePositives + c.falsePositives, level, 'no positive predictions'),
    recall: proportion(c.truePositives, c.truePositives + c.falseNegatives, level, 'no positive labels'),
    f1: {
      value: f1,
      n,
      interval: null,
      note: f1 === null ? 'no positive labels and no positive predictions' : 'no closed-form interval from counts',
    },
  };
}
