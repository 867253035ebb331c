/**
 * Label-free performance estimation for binary classifiers, confidence-based (in the spirit of
 * NannyML's CBPE).
 *
 * If p = P(y = 1 | score) is calibrated, every prediction is right with probability p (predicted
 * positive) or 1 − p (predicted negative), so the *expected* confusion matrix of an unlabelled
 * window is E[TP] = Σ_{ŷ=1} p, E[FP] = Σ_{ŷ=1} (1 − p), E[FN] = Σ_{ŷ=0} p, E[TN] = Σ_{ŷ=0} (1 − p).
 * Accuracy, precision, recall and F1 are computed from that matrix (ratios of expectations), at
 * the model's own decision threshold. ROC AUC is the area under the expected ROC curve
 * (cbpe-roc-auc.ts). Accuracy and ROC AUC carry sampling intervals assuming calibration holds.
 *
 * It only holds while scores stay calibrated: it sees covariate shift but is blind to concept
 * drift (P(y|x) changing). Hence the calibration check on a labelled reference, which returns
 * `trustworthy: false` with reasons when the check fails.
 *
 * Calibration check: ECE (equal-width bins) must not exceed `maxEce`, and a Hosmer–Lemeshow
 * rejection at `hosmerLemeshowAlpha` also fails the check once the ECE exceeds `maxEce / 2`
 * (HL alone rejects negligible miscalibration on large references). When a recalibration map is
 * used, both are computed on 2-fold cross-fitted scores, never in-sample.
 */
import { expectedCalibrationError, hosmerLemeshow, DEFAULT_ECE_BINS } from './calibration.ts';
import type { HosmerLemeshowResult } from './calibration.ts';
import { twoSidedZ } from './distributions.ts';
import { DEFAULT_CONFIDENCE_LEVEL } from './intervals.ts';
import { expectedRocAuc } from './cbpe-roc-auc.ts';
import { calibrate, fitIsotonic, fitPlatt } from './recalibration.ts';
import type { Calibrator } from './recalibration.ts';
import { assertBinaryLabels, assertProbabilities, assertSameLength } from './types.ts';

export type RecalibrationChoice = 'auto' | 'none' | 'isotonic' | 'platt';

export interface CbpeOptions {
  /** The model's decision threshold: score >= threshold is a positive prediction. @default 0.5 */
  threshold: number;
  /** 'auto' uses isotonic when it lowers the cross-fitted ECE, else none. @default 'auto' */
  recalibration: RecalibrationChoice;
  /** Largest acceptable ECE on the reference. @default 0.05 */
  maxEce: number;
  /** Hosmer–Lemeshow significance level. @default 0.01 */
  hosmerLemeshowAlpha: number;
  /** Fewer labelled reference events than this is untrustworthy. @default 500 */
  minReferenceSize: number;
  /** @default 10 */
  eceBins: number;
  /** Confidence level of the accuracy and ROC AUC sampling intervals. @default 0.95 */
  level: number;
  /** Share of analysis scores outside the reference score range that triggers a warning. @default 0.05 */
  maxOutOfRangeShare: number;
}

export const CBPE_DEFAULTS: Readonly<CbpeOptions> = Object.freeze({
  threshold: 0.5,
  recalibration: 'auto',
  maxEce: 0.05,
  hosmerLemeshowAlpha: 0.01,
  minReferenceSize: 500,
  eceBins: DEFAULT_ECE_BINS,
  level: DEFAULT_CONFIDENCE_LEVEL,
  maxOutOfRangeShare: 0.05,
});

export interface CalibrationCheck {
  trustworthy: boolean;
  reasons: string[];
  n: number;
  ece: number | null;
  hosmerLemeshow: HosmerLemeshowResult | null;
  recalibration: 'none' | 'isotonic' | 'platt';
  /** 'raw' when no recalibration is used; otherwise 2-fold cross-fitted calibrated scores. */
  evaluatedOn: 'raw' | 'cross-fitted';
  /** ECE of the raw scores, for comparison. */
  rawEce: number | null;
}

/** Everything needed to estimate later windows: plain JSON, safe to keep in workflow state. */
export interface CbpeModel {
  options: CbpeOptions;
  calibrator: Calibrator;
  check: CalibrationCheck;
  referenceScoreRange: [number, number];
}

export interface ExpectedConfusion {
  truePositives: number;
  falsePositives: number;
  trueNegatives: number;
  falseNegatives: number;
}

export interface CbpeEstimate {
  n: number;
  trustworthy: boolean;
  /** Why not trustworthy, plus warnings (e.g. scores outside the reference range). */
  reasons: string[];
  expectedConfusion: ExpectedConfusion;
  accuracy: number | null;
  /** Sampling interval of accuracy assuming calibration holds (normal, Σq(1−q)/n²). */
  accuracyInterval: { lower: number; upper: number; level: number } | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  rocAuc: number | null;
  /** Sampling interval of the realised ROC AUC assuming calibration holds (normal, delta method). */
  rocAucInterval: { lower: number; upper: number; level: number } | null;
  /** The decision threshold the accuracy-type metrics used. */
  threshold: number;
}

export interface CbpeEstimateOptions {
  /** The model's decision threshold, when it differs from the one the estimator was fitted with. @default model.options.threshold */
  threshold?: number;
}

function assertThreshold(threshold: number): void {
  if (!(Number.isFinite(threshold) && threshold >= 0 && threshold <= 1))
    throw new RangeError(
      `CBPE decision threshold ${threshold} must be a number between 0 and 1 (the score at or above which the model predicts positive)`,
    );
}

function fitCalibrator(kind: 'isotonic' | 'platt', labels: readonly number[], scores: readonly number[]): Calibrator {
  return kind === 'isotonic' ? fitIsotonic(labels, scores) : fitPlatt(labels, scores);
}

/** Calibrated scores where each event's map was fitted on the other half (even/odd split). */
function crossFitted(kind: 'isotonic' | 'platt', labels: readonly number[], scores: readonly number[]): number[] {
  const out = new Array<number>(labels.length);
  for (const fold of [0, 1]) {
    const trainLabels: number[] = [];
    const trainScores: number[] = [];
    labels.forEach((y, i) => {
      if (i % 2 !== fold) {
        trainLabels.push(y);
        trainScores.push(scores[i] as number);
      }
    });
    const calibrator = fitCalibrator(kind, trainLabels, trainScores);
    labels.forEach((_, i) => {
      if (i % 2 === fold) out[i] = calibrate(calibrator, scores[i] as number);
    });
  }
  return out;
}

/** Fit CBPE on a labelled reference: choose/fit the recalibration map and check calibration. */
export function fitCbpe(
  referenceLabels: readonly number[],
  referenceScores: readonly number[],
  options: Partial<CbpeOptions> = {},
): CbpeModel {
  const o: CbpeOptions = { ...CBPE_DEFAULTS, ...options };
  assertThreshold(o.threshold);
  assertSameLength(referenceLabels, referenceScores, 'fitCbpe');
  assertBinaryLabels(referenceLabels);
  assertProbabilities(referenceScores);
  const n = referenceLabels.length;
  const reasons: string[] = [];
  const positives = referenceLabels.reduce((a, b) => a + b, 0);
  const rawEce = n > 0 ? expectedCalibrationError(referenceLabels, referenceScores, o.eceBins) : null;
  const range: [number, number] = n > 0 ? [Infinity, -Infinity] : [0, 1];
  for (const score of referenceScores) {
    if (score < range[0]) range[0] = score;
    if (score > range[1]) range[1] = score;
  }

  if (n < o.minReferenceSize)
    reasons.push(`reference has ${n} labelled events; at least ${o.minReferenceSize} are needed to check calibration`);
  if (positives === 0 || positives === n) reasons.push('reference has a single class: calibration cannot be checked');
  if (reasons.length > 0) {
    return {
      options: o,
      calibrator: { kind: 'identity' },
      check: {
        trustworthy: false,
        reasons,
        n,
        ece: rawEce,
        hosmerLemeshow: null,
        recalibration: 'none',
        evaluatedOn: 'raw',
        rawEce,
      },
      referenceScoreRange: range,
    };
  }

  let recalibration: 'none' | 'isotonic' | 'platt' = 'none';
  let checkedScores: readonly number[] = referenceScores;
  if (o.recalibration === 'isotonic' || o.recalibration === 'platt') {
    recalibration = o.recalibration;
    checkedScores = crossFitted(recalibration, referenceLabels, referenceScores);
  } else if (o.recalibration === 'auto') {
    const candidate = crossFitted('isotonic', referenceLabels, referenceScores);
    const candidateEce = expectedCalibrationError(referenceLabels, candidate, o.eceBins) as number;
    if (candidateEce < (rawEce as number)) {
      recalibration = 'isotonic';
      checkedScores = candidate;
    }
  }
  const ece = expectedCalibrationError(referenceLabels, checkedScores, o.eceBins) as number;
  const hl = hosmerLemeshow(referenceLabels, checkedScores);
  const what = recalibration === 'none' ? 'raw scores' : `${recalibration}-recalibrated scores (cross-fitted)`;
  if (ece > o.maxEce)
    reasons.push(`ECE ${ece.toFixed(4)} of the ${what} exceeds ${o.maxEce}: scores are not calibrated`);
  if (hl !== null && hl.pValue < o.hosmerLemeshowAlpha && ece > o.maxEce / 2) {
    reasons.push(
      `Hosmer–Lemeshow rejects calibration of the ${what} (χ² ${hl.statistic.toFixed(1)}, df ${hl.degreesOfFreedom}, p ${hl.pValue.toExponential(2)}) with ECE ${ece.toFixed(4)}`,
    );
  }
  return {
    options: o,
    calibrator:
      recalibration === 'none' ? { kind: 'identity' } : fitCalibrator(recalibration, referenceLabels, referenceScores),
    check: {
      trustworthy: reasons.length === 0,
      reasons,
      n,
      ece,
      hosmerLemeshow: hl,
      recalibration,
      evaluatedOn: recalibration === 'none' ? 'raw' : 'cross-fitted',
      rawEce,
    },
    referenceScoreRange: range,
  };
}

/** Estimate performance of an unlabelled window of scores. */
export function estimateCbpe(
  model: CbpeModel,
  scores: readonly number[],
  estimateOptions: CbpeEstimateOptions = {},
): CbpeEstimate {
  assertProbabilities(scores);
  const o = model.options;
  const threshold = estimateOptions.threshold ?? o.threshold;
  assertThreshold(threshold);
  const n = scores.length;
  const reasons = [...model.check.reasons];
  const probabilities = scores.map((s) => calibrate(model.calibrator, s));
  const c: ExpectedConfusion = { truePositives: 0, falsePositives: 0, trueNegatives: 0, falseNegatives: 0 };
  let varianceSum = 0;
  let outOfRange = 0;
  for (let i = 0; i < n; i++) {
    const s = scores[i] as number;
    const p = probabilities[i] as number;
    if (s < model.referenceScoreRange[0] || s > model.referenceScoreRange[1]) outOfRange += 1;
    if (s >= threshold) {
      c.truePositives += p;
      c.falsePositives += 1 - p;
    } else {
      c.falseNegatives += p;
      c.trueNegatives += 1 - p;
    }
    varianceSum += p * (1 - p);
  }
  if (n > 0 && outOfRange / n > o.maxOutOfRangeShare) {
    reasons.push(
      `warning: ${((100 * outOfRange) / n).toFixed(1)}% of scores fall outside the reference score range; calibration there is extrapolated`,
    );
  }
  const auc = n > 0 ? expectedRocAuc(scores, probabilities) : null;
  return estimateFromConfusion(model, reasons, c, n, varianceSum, auc, o.level, threshold);
}

/**
 * The estimate's metrics from an expected confusion matrix (Σ over events), the variance sum of
 * its correct-prediction indicators and the expected ROC AUC: one formula for the rows' estimate
 * and the score groups' (cbpe-groups.ts).
 */
export function estimateFromConfusion(
  model: CbpeModel,
  reasons: string[],
  c: ExpectedConfusion,
  n: number,
  varianceSum: number,
  auc: { value: number; standardError: number } | null,
  level: number,
  threshold: number,
): CbpeEstimate {
  const accuracy = n > 0 ? (c.truePositives + c.trueNegatives) / n : null;
  const z = twoSidedZ(level);
  const half = n > 0 ? (z * Math.sqrt(varianceSum)) / n : 0;
  const predictedPositive = c.truePositives + c.falsePositives;
  const actualPositive = c.truePositives + c.falseNegatives;
  const f1Denominator = 2 * c.truePositives + c.falsePositives + c.falseNegatives;
  const aucHalf = auc ? z * auc.standardError : 0;
  return {
    n,
    trustworthy: model.check.trustworthy,
    reasons,
    expectedConfusion: c,
    accuracy,
    accuracyInterval:
      accuracy === null ? null : { lower: Math.max(0, accuracy - half), upper: Math.min(1, accuracy + half), level },
    precision: predictedPositive > 0 ? c.truePositives / predictedPositive : null,
    recall: actualPositive > 0 ? c.truePositives / actualPositive : null,
    f1: f1Denominator > 0 ? (2 * c.truePositives) / f1Denominator : null,
    rocAuc: auc?.value ?? null,
    rocAucInterval: auc
      ? { lower: Math.max(0, auc.value - aucHalf), upper: Math.min(1, auc.value + aucHalf), level }
      : null,
    threshold,
  };
}
