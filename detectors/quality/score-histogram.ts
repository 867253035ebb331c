/**
 * Quality metrics from score histograms split by label: the aggregated form the SQL side returns
 * instead of raw rows.
 *
 * Bins are equal-width over [0, 1]: score p goes to bin min(⌊p·B⌋, B − 1) (see equalWidthBin).
 * In ClickHouse: `least(toUInt32(floor(score * 100)), 99) AS bin, label, count() AS events,
 * sum(score) AS score_sum, sum(score * score) AS score_square_sum ... GROUP BY bin, label`.
 *
 * Approximations, and what each depends on:
 * - ROC AUC is exact for the *binned* scores (events in one bin are ties, counted half). Its
 *   distance from the raw-score AUC is at most `aucBinningBound` = ½ Σ_b pos_b·neg_b / (P·N): only
 *   positive–negative pairs sharing a bin can change order.
 * - ECE is exact when `scoreSums` are given and the ECE bin count divides the histogram's
 *   (100 histogram bins → 10 ECE bins); otherwise bin midpoints stand in for mean scores.
 * - Brier is exact with `scoreSums` and `scoreSquareSums`; otherwise midpoints (error ≤ 1/(2B)·…).
 * - Log loss uses each bin's per-label mean score (needs `scoreSums` and `positiveScoreSums`;
 *   Jensen's inequality then makes it a lower bound of the raw-score log loss), else the bin mean or
 *   midpoint (no bound: scores of exactly 0 or 1 on the wrong label cost ~36 each in the raw log
 *   loss but ~5 at the midpoint).
 * - Threshold metrics are exact when the threshold is a bin edge (0.5 with 100 bins is).
 */
import { twoSidedZ } from './distributions.ts';
import { eceFromBinSums, equalWidthBin, DEFAULT_ECE_BINS } from './calibration.ts';
import { thresholdMetricsFromConfusion, DEFAULT_THRESHOLD } from './confusion.ts';
import type { ConfusionCounts, ThresholdMetrics } from './confusion.ts';
import { DEFAULT_CONFIDENCE_LEVEL } from './intervals.ts';
import { logLossContribution } from './probabilistic.ts';
import { assertBinaryLabels, assertProbabilities, assertSameLength } from './types.ts';
import type { MetricEstimate } from './types.ts';

/** Histogram bins used by the SQL push-down. @default 100 */
export const DEFAULT_SCORE_HISTOGRAM_BINS = 100;

/** Per-label counts (and optional sums) of scores in equal-width bins over [0, 1]. */
export interface LabelledScoreHistogram {
  /** Events with label 1 per bin; length = number of bins. */
  positives: number[];
  /** Events with label 0 per bin. */
  negatives: number[];
  /** Optional Σ score per bin (both labels): makes ECE and log loss use true bin means. */
  scoreSums?: number[];
  /** Optional Σ score² per bin (both labels): with scoreSums makes the Brier score exact. */
  scoreSquareSums?: number[];
  /** Optional Σ score per bin over positives only: with the above makes Brier exact and log loss a lower bound. */
  positiveScoreSums?: number[];
}

/** Build the histogram in process (tests, small models, or to check the SQL path). */
export function buildScoreHistogram(
  labels: readonly number[],
  scores: readonly number[],
  binCount = DEFAULT_SCORE_HISTOGRAM_BINS,
): Required<LabelledScoreHistogram> {
  assertSameLength(labels, scores, 'buildScoreHistogram');
  assertBinaryLabels(labels);
  assertProbabilities(scores);
  const zeros = () => new Array<number>(binCount).fill(0);
  const h = {
    positives: zeros(),
    negatives: zeros(),
    scoreSums: zeros(),
    scoreSquareSums: zeros(),
    positiveScoreSums: zeros(),
  };
  for (let i = 0; i < labels.length; i++) {
    const p = scores[i] as number;
    const b = equalWidthBin(p, binCount);
    if (labels[i] === 1) {
      h.positives[b] = (h.positives[b] as number) + 1;
      h.positiveScoreSums[b] = (h.positiveScoreSums[b] as number) + p;
    } else h.negatives[b] = (h.negatives[b] as number) + 1;
    h.scoreSums[b] = (h.scoreSums[b] as number) + p;
    h.scoreSquareSums[b] = (h.scoreSquareSums[b] as number) + p * p;
  }
  return h;
}

export interface HistogramQualityOptions {
  /** Positive prediction when score >= threshold; exact only on a bin edge. @default 0.5 */
  threshold: number;
  /** ECE bins; exact when it divides the histogram bin count and scoreSums are given. @default 10 */
  eceBins: number;
  /** @default 0.95 */
  level: number;
}

export interface HistogramQuality {
  n: number;
  positives: number;
  negatives: number;
  /** AUC of the binned scores with a DeLong interval computed on the binned scores. */
  rocAuc: MetricEstimate;
  /** Largest possible |binned AUC − raw-score AUC|. */
  aucBinningBound: number | null;
  expectedCalibrationError: MetricEstimate;
  brier: MetricEstimate;
  logLoss: MetricEstimate;
  threshold: ThresholdMetrics & { confusion: ConfusionCounts; thresholdIsBinEdge: boolean };
}

function validateHistogram(h: LabelledScoreHistogram): number {
  const bins = h.positives.length;
  if (bins < 1 || h.negatives.length !== bins)
    throw new RangeError('histogram positives/negatives must have the same, non-zero length');
  for (const key of ['scoreSums', 'scoreSquareSums', 'positiveScoreSums'] as const) {
    const sums = h[key];
    if (sums !== undefined && sums.length !== bins) throw new RangeError(`histogram ${key} must have ${bins} entries`);
  }
  for (const c of [...h.positives, ...h.negatives]) {
    if (!(Number.isInteger(c) && c >= 0)) throw new RangeError('histogram counts must be non-negative integers');
  }
  return bins;
}

/** AUC, its DeLong variance and the binning bound, from per-bin label counts. */
function aucFromBins(
  positives: readonly number[],
  negatives: readonly number[],
): { auc: number; variance: number | null; bound: number } | null {
  let P = 0;
  let N = 0;
  for (let b = 0; b < positives.length; b++) {
    P += positives[b] as number;
    N += negatives[b] as number;
  }
  if (P === 0 || N === 0) return null;
  // Placement of a positive in bin b: (negatives below b + ½ negatives in b) / N; symmetric for negatives.
  let negativesBelow = 0;
  let aucSum = 0;
  let tiedPairs = 0;
  const positivePlacement: number[] = [];
  for (let b = 0; b < positives.length; b++) {
    const pos = positives[b] as number;
    const neg = negatives[b] as number;
    positivePlacement.push((negativesBelow + 0.5 * neg) / N);
    aucSum += pos * (negativesBelow + 0.5 * neg);
    tiedPairs += pos * neg;
    negativesBelow += neg;
  }
  const auc = aucSum / (P * N);
  let positivesAbove = 0;
  const negativePlacement = new Array<number>(positives.length).fill(0);
  for (let b = positives.length - 1; b >= 0; b--) {
    negativePlacement[b] = (positivesAbove + 0.5 * (positives[b] as number)) / P;
    positivesAbove += positives[b] as number;
  }
  let variance: number | null = null;
  if (P >= 2 && N >= 2) {
    let sPos = 0;
    let sNeg = 0;
    for (let b = 0; b < positives.length; b++) {
      sPos += (positives[b] as number) * ((positivePlacement[b] as number) - auc) ** 2;
      sNeg += (negatives[b] as number) * ((negativePlacement[b] as number) - auc) ** 2;
    }
    variance = sPos / (P - 1) / P + sNeg / (N - 1) / N;
  }
  return { auc, variance, bound: (0.5 * tiedPairs) / (P * N) };
}

export function qualityFromScoreHistogram(
  h: LabelledScoreHistogram,
  options: Partial<HistogramQualityOptions> = {},
): HistogramQuality {
  const { threshold, eceBins, level } = {
    threshold: DEFAULT_THRESHOLD,
    eceBins: DEFAULT_ECE_BINS,
    level: DEFAULT_CONFIDENCE_LEVEL,
    ...options,
  };
  const bins = validateHistogram(h);
  const counts = h.positives.map((p, b) => p + (h.negatives[b] as number));
  const n = counts.reduce((a, b) => a + b, 0);
  const P = h.positives.reduce((a, b) => a + b, 0);
  const N = n - P;
  const meanScore = (b: number) => {
    const count = counts[b] as number;
    return h.scoreSums && count > 0 ? (h.scoreSums[b] as number) / count : (b + 0.5) / bins;
  };

  const aucResult = aucFromBins(h.positives, h.negatives);
  let rocAuc: MetricEstimate;
  if (aucResult === null)
    rocAuc = { value: null, n, interval: null, note: 'only one class present: ROC AUC undefined' };
  else if (aucResult.variance === null || aucResult.variance === 0) {
    rocAuc = {
      value: aucResult.auc,
      n,
      interval: null,
      note: 'DeLong interval needs 2+ events of each class and non-zero variance',
    };
  } else {
    const half = twoSidedZ(level) * Math.sqrt(aucResult.variance);
    rocAuc = {
      value: aucResult.auc,
      n,
      interval: {
        lower: Math.max(0, aucResult.auc - half),
        upper: Math.min(1, aucResult.auc + half),
        level,
        method: 'delong',
      },
      note: 'AUC of scores binned into the histogram (ties within a bin count half)',
    };
  }

  // ECE: regroup histogram bins into eceBins by each histogram bin's lower edge.
  const eceSums = Array.from({ length: eceBins }, () => ({ count: 0, scoreSum: 0, positiveCount: 0 }));
  for (let b = 0; b < bins; b++) {
    const target = eceSums[equalWidthBin((b + 0.5) / bins, eceBins)] as {
      count: number;
      scoreSum: number;
      positiveCount: number;
    };
    target.count += counts[b] as number;
    target.scoreSum += meanScore(b) * (counts[b] as number);
    target.positiveCount += h.positives[b] as number;
  }
  const eceExact = h.scoreSums !== undefined && bins % eceBins === 0;
  const ece = eceFromBinSums(eceSums);

  let brierSum = 0;
  let logLossSum = 0;
  const brierExact = h.scoreSums !== undefined && h.scoreSquareSums !== undefined && h.positiveScoreSums !== undefined;
  for (let b = 0; b < bins; b++) {
    const pos = h.positives[b] as number;
    const neg = h.negatives[b] as number;
    const m = meanScore(b);
    if (brierExact) {
      // Σ (p − y)² = Σp² − 2 Σ_{y=1} p + P_b
      brierSum += (h.scoreSquareSums?.[b] as number) - 2 * (h.positiveScoreSums?.[b] as number) + pos;
    } else brierSum += pos * (m - 1) ** 2 + neg * m * m;
    // Per-label bin means when available (then −log is convex per label: a Jensen lower bound).
    const positiveSum = h.positiveScoreSums?.[b];
    const totalSum = h.scoreSums?.[b];
    const positiveMean = positiveSum !== undefined && pos > 0 ? positiveSum / pos : m;
    const negativeMean =
      positiveSum !== undefined && totalSum !== undefined && neg > 0 ? (totalSum - positiveSum) / neg : m;
    logLossSum += pos * logLossContribution(1, positiveMean) + neg * logLossContribution(0, negativeMean);
  }

  const firstPositiveBin = threshold * bins;
  const thresholdIsBinEdge = Math.abs(firstPositiveBin - Math.round(firstPositiveBin)) < 1e-9;
  const edge = Math.min(
    bins,
    Math.max(0, thresholdIsBinEdge ? Math.round(firstPositiveBin) : Math.ceil(firstPositiveBin)),
  );
  const confusion: ConfusionCounts = { truePositives: 0, falsePositives: 0, trueNegatives: 0, falseNegatives: 0 };
  for (let b = 0; b < bins; b++) {
    if (b >= edge) {
      confusion.truePositives += h.positives[b] as number;
      confusion.falsePositives += h.negatives[b] as number;
    } else {
      confusion.falseNegatives += h.positives[b] as number;
      confusion.trueNegatives += h.negatives[b] as number;
    }
  }

  const empty = n === 0;
  return {
    n,
    positives: P,
    negatives: N,
    rocAuc,
    aucBinningBound: aucResult?.bound ?? null,
    expectedCalibrationError: {
      value: ece,
      n,
      interval: null,
      note: eceExact ? 'exact from bin sums' : 'approximate: histogram bin means or midpoints stand in for scores',
    },
    brier: {
      value: empty ? null : brierSum / n,
      n,
      interval: null,
      note: brierExact ? 'exact from bin sums' : 'approximate: bin mean scores stand in for scores',
    },
    logLoss: {
      value: empty ? null : logLossSum / n,
      n,
      interval: null,
      note:
        h.scoreSums && h.positiveScoreSums
          ? 'approximate: per-label bin mean scores stand in for scores (a lower bound by Jensen)'
          : 'approximate: bin means or midpoints stand in for scores',
    },
    threshold: { ...thresholdMetricsFromConfusion(confusion, level), confusion, thresholdIsBinEdge },
  };
}
