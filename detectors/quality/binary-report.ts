/**
 * Everything the monitor reports about a labelled binary classifier, with intervals:
 * Wilson for accuracy/precision/recall, DeLong for ROC AUC, and one seeded percentile bootstrap
 * (all metrics from the same resamples, O(replicates·n)) for F1, log loss, Brier and ECE.
 */
import { Random } from '../random.ts';
import { calibrationBinSums, eceFromBinSums, equalWidthBin, DEFAULT_ECE_BINS } from './calibration.ts';
import { confusionCounts, f1FromConfusion, thresholdMetricsFromConfusion, DEFAULT_THRESHOLD } from './confusion.ts';
import type { ConfusionCounts } from './confusion.ts';
import {
  DEFAULT_BOOTSTRAP_REPLICATES,
  DEFAULT_BOOTSTRAP_SEED,
  DEFAULT_CONFIDENCE_LEVEL,
  DEFAULT_MIN_BOOTSTRAP_SAMPLE,
  percentileInterval,
} from './intervals.ts';
import { brierContribution, logLossContribution } from './probabilistic.ts';
import { rocAucEstimate } from './roc-auc.ts';
import { assertBinaryLabels, assertProbabilities, assertSameLength } from './types.ts';
import type { MetricEstimate } from './types.ts';

export interface BinaryQualityOptions {
  /** Score >= threshold predicts positive. @default 0.5 */
  threshold: number;
  /** @default 0.95 */
  level: number;
  /** Equal-width ECE bins. @default 10 */
  eceBins: number;
  /** @default 1000 */
  bootstrapReplicates: number;
  /** @default 20240611 */
  seed: number;
  /** Below this many events, bootstrap intervals are null with a reason. @default 20 */
  minBootstrapSample: number;
}

export const BINARY_QUALITY_DEFAULTS: Readonly<BinaryQualityOptions> = Object.freeze({
  threshold: DEFAULT_THRESHOLD,
  level: DEFAULT_CONFIDENCE_LEVEL,
  eceBins: DEFAULT_ECE_BINS,
  bootstrapReplicates: DEFAULT_BOOTSTRAP_REPLICATES,
  seed: DEFAULT_BOOTSTRAP_SEED,
  minBootstrapSample: DEFAULT_MIN_BOOTSTRAP_SAMPLE,
});

export interface BinaryQualityReport {
  n: number;
  positives: number;
  negatives: number;
  threshold: number;
  confusion: ConfusionCounts;
  accuracy: MetricEstimate;
  precision: MetricEstimate;
  recall: MetricEstimate;
  f1: MetricEstimate;
  rocAuc: MetricEstimate;
  logLoss: MetricEstimate;
  brier: MetricEstimate;
  expectedCalibrationError: MetricEstimate;
}

interface Point {
  f1: number | null;
  logLoss: number;
  brier: number;
  ece: number | null;
}

export function binaryQuality(
  labels: readonly number[],
  scores: readonly number[],
  options: Partial<BinaryQualityOptions> = {},
): BinaryQualityReport {
  const o = { ...BINARY_QUALITY_DEFAULTS, ...options };
  assertSameLength(labels, scores, 'binaryQuality');
  assertBinaryLabels(labels);
  assertProbabilities(scores);
  const n = labels.length;
  const confusion = confusionCounts(labels, scores, o.threshold);
  const thresholdMetrics = thresholdMetricsFromConfusion(confusion, o.level);
  const positives = confusion.truePositives + confusion.falseNegatives;
  const logLossTerms = labels.map((y, i) => logLossContribution(y, scores[i] as number));
  const brierTerms = labels.map((y, i) => brierContribution(y, scores[i] as number));
  const eceBinOf = scores.map((p) => equalWidthBin(p, o.eceBins));

  const pointOf = (indices: ArrayLike<number>): Point => {
    const c: ConfusionCounts = { truePositives: 0, falsePositives: 0, trueNegatives: 0, falseNegatives: 0 };
    const bins = Array.from({ length: o.eceBins }, () => ({ count: 0, scoreSum: 0, positiveCount: 0 }));
    let logLossSum = 0;
    let brierSum = 0;
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k] as number;
      const y = labels[i] as number;
      const p = scores[i] as number;
      const predicted = p >= o.threshold;
      if (y === 1) {
        if (predicted) c.truePositives += 1;
        else c.falseNegatives += 1;
      } else if (predicted) c.falsePositives += 1;
      else c.trueNegatives += 1;
      logLossSum += logLossTerms[i] as number;
      brierSum += brierTerms[i] as number;
      const bin = bins[eceBinOf[i] as number] as { count: number; scoreSum: number; positiveCount: number };
      bin.count += 1;
      bin.scoreSum += p;
      bin.positiveCount += y;
    }
    return {
      f1: f1FromConfusion(c),
      logLoss: logLossSum / indices.length,
      brier: brierSum / indices.length,
      ece: eceFromBinSums(bins),
    };
  };

  const base = {
    n,
    positives,
    negatives: n - positives,
    threshold: o.threshold,
    confusion,
    accuracy: thresholdMetrics.accuracy,
    precision: thresholdMetrics.precision,
    recall: thresholdMetrics.recall,
    rocAuc: rocAucEstimate(labels, scores, o.level),
  };
  if (n === 0) {
    const empty: MetricEstimate = { value: null, n: 0, interval: null, note: 'no events' };
    return { ...base, f1: empty, logLoss: empty, brier: empty, expectedCalibrationError: empty };
  }
  const point = pointOf(Array.from(labels.keys()));
  const ece = eceFromBinSums(calibrationBinSums(labels, scores, o.eceBins));
  if (n < o.minBootstrapSample) {
    const note = `n = ${n} < ${o.minBootstrapSample}: too small for a bootstrap interval`;
    return {
      ...base,
      f1: { value: point.f1, n, interval: null, note },
      logLoss: { value: point.logLoss, n, interval: null, note },
      brier: { value: point.brier, n, interval: null, note },
      expectedCalibrationError: { value: ece, n, interval: null, note },
    };
  }
  const random = new Random(o.seed);
  const sample = new Uint32Array(n);
  const replicates: Point[] = [];
  for (let b = 0; b < o.bootstrapReplicates; b++) {
    for (let i = 0; i < n; i++) sample[i] = Math.floor(random.next() * n);
    replicates.push(pointOf(sample));
  }
  const withInterval = (value: number | null, values: (number | null)[], undefinedNote?: string): MetricEstimate => {
    if (value === null) return { value, n, interval: null, ...(undefinedNote ? { note: undefinedNote } : {}) };
    const { interval, note } = percentileInterval(values, o.level);
    return { value, n, interval, ...(note ? { note } : {}) };
  };
  return {
    ...base,
    f1: withInterval(
      point.f1,
      replicates.map((r) => r.f1),
      thresholdMetrics.f1.note,
    ),
    logLoss: withInterval(
      point.logLoss,
      replicates.map((r) => r.logLoss),
    ),
    brier: withInterval(
      point.brier,
      replicates.map((r) => r.brier),
    ),
    expectedCalibrationError: withInterval(
      ece,
      replicates.map((r) => r.ece),
    ),
  };
}
