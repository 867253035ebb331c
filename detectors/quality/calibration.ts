/**
 * Calibration of binary probabilities: expected calibration error and Hosmer–Lemeshow test.
 *
 * ECE uses equal-width bins over [0, 1]; a score p falls in bin min(⌊p·B⌋, B − 1), so bin i is
 * [i/B, (i+1)/B) and the last bin also holds p = 1. ECE = Σ_b (n_b/n)·|mean(y)_b − mean(p)_b|.
 * Equal-width (not equal-mass) bins because the SQL side can count into them without a quantile pass.
 */
import { chiSquareSurvival } from './distributions.ts';
import { assertBinaryLabels, assertProbabilities, assertSameLength } from './types.ts';

/** @default 10 */
export const DEFAULT_ECE_BINS = 10;

/** Index of the equal-width bin holding probability `p` (shared with the SQL push-down). */
export function equalWidthBin(p: number, binCount: number): number {
  return Math.min(Math.floor(p * binCount), binCount - 1);
}

export interface ReliabilityBin {
  /** Inclusive lower edge. */
  lower: number;
  /** Exclusive upper edge (inclusive for the last bin). */
  upper: number;
  count: number;
  meanScore: number | null;
  observedRate: number | null;
}

/** Sufficient statistics of one ECE bin: count, sum of scores, sum of labels. */
export interface CalibrationBinSums {
  count: number;
  scoreSum: number;
  positiveCount: number;
}

/** ECE from per-bin sums (the aggregated form; exact for the events that produced the sums). */
export function eceFromBinSums(bins: readonly CalibrationBinSums[]): number | null {
  let total = 0;
  for (const b of bins) total += b.count;
  if (total === 0) return null;
  let ece = 0;
  for (const b of bins) {
    if (b.count > 0) ece += (b.count / total) * Math.abs(b.positiveCount / b.count - b.scoreSum / b.count);
  }
  return ece;
}

export function calibrationBinSums(
  labels: readonly number[],
  probabilities: readonly number[],
  binCount = DEFAULT_ECE_BINS,
): CalibrationBinSums[] {
  assertSameLength(labels, probabilities, 'calibration');
  assertBinaryLabels(labels);
  assertProbabilities(probabilities);
  if (!(Number.isInteger(binCount) && binCount >= 1)) throw new RangeError('binCount must be a positive integer');
  const bins = Array.from({ length: binCount }, () => ({ count: 0, scoreSum: 0, positiveCount: 0 }));
  for (let i = 0; i < labels.length; i++) {
    const p = probabilities[i] as number;
    const bin = bins[equalWidthBin(p, binCount)] as CalibrationBinSums;
    bin.count += 1;
    bin.scoreSum += p;
    bin.positiveCount += labels[i] as number;
  }
  return bins;
}

/** Expected calibration error with `binCount` equal-width bins; null when empty. */
export function expectedCalibrationError(
  labels: readonly number[],
  probabilities: readonly number[],
  binCount = DEFAULT_ECE_BINS,
): number | null {
  return eceFromBinSums(calibrationBinSums(labels, probabilities, binCount));
}

/** Reliability diagram rows (same bins as the ECE). */
export function reliabilityDiagram(
  labels: readonly number[],
  probabilities: readonly number[],
  binCount = DEFAULT_ECE_BINS,
): ReliabilityBin[] {
  return calibrationBinSums(labels, probabilities, binCount).map((b, i) => ({
    lower: i / binCount,
    upper: (i + 1) / binCount,
    count: b.count,
    meanScore: b.count > 0 ? b.scoreSum / b.count : null,
    observedRate: b.count > 0 ? b.positiveCount / b.count : null,
  }));
}

export interface HosmerLemeshowOptions {
  /** Groups of (nearly) equal size by ascending score ("deciles of risk"). @default 10 */
  groups: number;
  /**
   * Degrees of freedom subtracted from the group count. 0 for scores from a model that was not
   * fitted on these events (external validation, halflife's case); 2 for in-sample logistic fits.
   * @default 0
   */
  degreesOfFreedomReduction: number;
}

export const HOSMER_LEMESHOW_DEFAULTS: Readonly<HosmerLemeshowOptions> = Object.freeze({
  groups: 10,
  degreesOfFreedomReduction: 0,
});

export interface HosmerLemeshowResult {
  statistic: number;
  degreesOfFreedom: number;
  pValue: number;
  /** Groups used (groups whose expected variance is 0 are skipped). */
  groupsUsed: number;
}

/**
 * Hosmer–Lemeshow goodness-of-fit: Σ_g (O_g − E_g)² / (E_g (1 − E_g/n_g)) over score-sorted groups,
 * compared with χ²(groups − reduction). Null with fewer than 2 events per group on average.
 * Its p-value shrinks with n for any fixed miscalibration: pair it with the ECE effect size.
 */
export function hosmerLemeshow(
  labels: readonly number[],
  probabilities: readonly number[],
  options: Partial<HosmerLemeshowOptions> = {},
): HosmerLemeshowResult | null {
  const { groups, degreesOfFreedomReduction } = { ...HOSMER_LEMESHOW_DEFAULTS, ...options };
  assertSameLength(labels, probabilities, 'hosmerLemeshow');
  assertBinaryLabels(labels);
  assertProbabilities(probabilities);
  const n = labels.length;
  if (n < 2 * groups) return null;
  const order = Array.from(labels.keys()).sort(
    (a, b) => (probabilities[a] as number) - (probabilities[b] as number) || a - b,
  );
  let statistic = 0;
  let groupsUsed = 0;
  for (let g = 0; g < groups; g++) {
    const start = Math.floor((g * n) / groups);
    const end = Math.floor(((g + 1) * n) / groups);
    let observed = 0;
    let expected = 0;
    for (let i = start; i < end; i++) {
      const index = order[i] as number;
      observed += labels[index] as number;
      expected += probabilities[index] as number;
    }
    const size = end - start;
    const variance = expected * (1 - expected / size);
    if (variance <= 1e-12) continue;
    statistic += ((observed - expected) * (observed - expected)) / variance;
    groupsUsed += 1;
  }
  const degreesOfFreedom = Math.max(1, groupsUsed - degreesOfFreedomReduction);
  return { statistic, degreesOfFreedom, pValue: chiSquareSurvival(statistic, degreesOfFreedom), groupsUsed };
}
