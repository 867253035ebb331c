/**
 * Accuracy of champion and challenger on the same events, for display, from what a query
 * aggregates over the paired events: each side's accuracy with its Wilson interval, and the mean
 * per-event accuracy difference with a normal interval (the differences' sample standard
 * deviation over √n). The promotion verdict itself tests the paired bootstrap instead
 * (paired-difference.ts).
 */
import { twoSidedZ } from '../quality/distributions.ts';
import { DEFAULT_CONFIDENCE_LEVEL, wilsonInterval } from '../quality/intervals.ts';

export interface PairedAccuracyInput {
  /** Paired events. */
  n: number;
  /** Accuracy of each side over the paired events. */
  candidate: number;
  champion: number;
  /** Mean and sample standard deviation of the per-event difference (candidate − champion); sd null when undefined (n = 1). */
  differenceMean: number;
  differenceSd: number | null;
}

export interface PairedAccuracy {
  candidate: { value: number; lower: number; upper: number };
  champion: { value: number; lower: number; upper: number };
  difference: { value: number; lower: number | null; upper: number | null };
}

/** The accuracies and their difference with intervals at `level`. */
export function pairedAccuracy(input: PairedAccuracyInput, level = DEFAULT_CONFIDENCE_LEVEL): PairedAccuracy {
  const { n } = input;
  const wilson = (accuracy: number) => {
    const interval = wilsonInterval(accuracy * n, n, level);
    return { value: accuracy, lower: interval?.lower ?? Number.NaN, upper: interval?.upper ?? Number.NaN };
  };
  const z = twoSidedZ(level);
  const se =
    input.differenceSd === null || !Number.isFinite(input.differenceSd) ? null : input.differenceSd / Math.sqrt(n);
  return {
    candidate: wilson(input.candidate),
    champion: wilson(input.champion),
    difference: {
      value: input.differenceMean,
      lower: se === null ? null : input.differenceMean - z * se,
      upper: se === null ? null : input.differenceMean + z * se,
    },
  };
}
