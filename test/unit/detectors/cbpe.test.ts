import { describe, it, expect } from 'vitest';
import {
  binaryQuality,
  calibrate,
  estimateCbpe,
  expectedCalibrationError,
  fitCbpe,
  fitIsotonic,
  fitPlatt,
  rocAuc,
} from '../../../detectors/quality/index.ts';
import type { CbpeModel } from '../../../detectors/quality/index.ts';
import { Random } from '../../../detectors/random.ts';

const logit = (p: number) => Math.log(p / (1 - p));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Calibrated events: true probability from a logit-normal, label ~ Bernoulli(p). */
function calibratedEvents(n: number, seed: number, center = -0.5, spread = 1.5) {
  const random = new Random(seed);
  const probabilities: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = sigmoid(random.normal(center, spread));
    probabilities.push(p);
    labels.push(random.bernoulli(p) ? 1 : 0);
  }
  return { probabilities, labels };
}

/** Overconfident scores: the logit stretched by `factor` (the ranking is unchanged). */
const distort = (ps: number[], factor: number) => ps.map((p) => sigmoid(factor * logit(p)));

describe('CBPE on calibrated scores', () => {
  const reference = calibratedEvents(5000, 1);
  // The analysis window has covariate shift (more confident scores) but P(y|score) is unchanged.
  const analysis = calibratedEvents(5000, 2, 0.3, 2.0);
  const model = fitCbpe(reference.labels, reference.probabilities, { recalibration: 'none' });
  const estimate = estimateCbpe(model, analysis.probabilities);
  const realized = binaryQuality(analysis.labels, analysis.probabilities, { bootstrapReplicates: 10 });

  it('the calibration check passes', () => {
    expect(model.check.trustworthy).toBe(true);
    expect(model.check.reasons).toEqual([]);
    expect(model.check.ece).toBeLessThan(0.03);
  });

  it('estimates realized accuracy within its own sampling interval, and precision/recall/F1/AUC within 0.03', () => {
    const accuracy = realized.accuracy.value as number;
    expect(estimate.accuracyInterval?.lower).toBeLessThanOrEqual(accuracy);
    expect(estimate.accuracyInterval?.upper).toBeGreaterThanOrEqual(accuracy);
    expect(Math.abs((estimate.precision as number) - (realized.precision.value as number))).toBeLessThan(0.03);
    expect(Math.abs((estimate.recall as number) - (realized.recall.value as number))).toBeLessThan(0.03);
    expect(Math.abs((estimate.f1 as number) - (realized.f1.value as number))).toBeLessThan(0.03);
    expect(
      Math.abs((estimate.rocAuc as number) - (rocAuc(analysis.labels, analysis.probabilities) as number)),
    ).toBeLessThan(0.03);
  });

  it('the expected confusion matrix sums to n', () => {
    const c = estimate.expectedConfusion;
    expect(c.truePositives + c.falsePositives + c.trueNegatives + c.falseNegatives).toBeCloseTo(5000, 8);
  });

  it('the model is plain JSON and gives the same estimate after a round trip', () => {
    const revived = JSON.parse(JSON.stringify(model)) as CbpeModel;
    expect(estimateCbpe(revived, analysis.probabilities)).toEqual(estimate);
  });
});

describe('CBPE calibration check', () => {
  const reference = calibratedEvents(4000, 3);
  const overconfident = distort(reference.probabilities, 2.5);
  const analysis = calibratedEvents(4000, 4);
  const analysisScores = distort(analysis.probabilities, 2.5);
  const truthAccuracy = binaryQuality(analysis.labels, analysisScores, { bootstrapReplicates: 10 }).accuracy
    .value as number;

  it('says untrustworthy, with a reason, on miscalibrated scores without recalibration', () => {
    const model = fitCbpe(reference.labels, overconfident, { recalibration: 'none' });
    expect(model.check.trustworthy).toBe(false);
    expect(model.check.reasons.join(' ')).toMatch(/ECE .* exceeds 0.05/);
    const estimate = estimateCbpe(model, analysisScores);
    expect(estimate.trustworthy).toBe(false);
    // And rightly so: the naive estimate overstates accuracy.
    expect((estimate.accuracy as number) - truthAccuracy).toBeGreaterThan(0.03);
  });

  it('isotonic recalibration (cross-fitted check) restores trust and accuracy', () => {
    const model = fitCbpe(reference.labels, overconfident, { recalibration: 'isotonic' });
    expect(model.check.recalibration).toBe('isotonic');
    expect(model.check.evaluatedOn).toBe('cross-fitted');
    expect(model.check.trustworthy).toBe(true);
    expect(model.check.rawEce).toBeGreaterThan(0.05);
    const estimate = estimateCbpe(model, analysisScores);
    expect(Math.abs((estimate.accuracy as number) - truthAccuracy)).toBeLessThan(0.02);
  });

  it("'auto' picks isotonic for miscalibrated scores and nothing for calibrated ones", () => {
    expect(fitCbpe(reference.labels, overconfident).check.recalibration).toBe('isotonic');
    const calibratedModel = fitCbpe(reference.labels, reference.probabilities);
    expect(calibratedModel.check.trustworthy).toBe(true);
  });

  it('Platt recalibration fixes sigmoid-shaped miscalibration', () => {
    const platt = fitPlatt(reference.labels, overconfident);
    expect(platt.slope).toBeCloseTo(1 / 2.5, 1);
    const recalibrated = overconfident.map((s) => calibrate(platt, s));
    expect(expectedCalibrationError(reference.labels, recalibrated) as number).toBeLessThan(0.03);
    expect(fitCbpe(reference.labels, overconfident, { recalibration: 'platt' }).check.trustworthy).toBe(true);
  });

  it('scores unrelated to the labels fail the calibration check', () => {
    const random = new Random(5);
    const scores = reference.probabilities;
    const labels = scores.map(() => (random.bernoulli(0.5) ? 1 : 0));
    const model = fitCbpe(labels, scores, { recalibration: 'none' });
    expect(model.check.trustworthy).toBe(false);
  });

  it('refuses small or single-class references with a reason', () => {
    const small = fitCbpe(reference.labels.slice(0, 100), reference.probabilities.slice(0, 100));
    expect(small.check.trustworthy).toBe(false);
    expect(small.check.reasons[0]).toMatch(/at least 500/);
    const oneClass = fitCbpe(new Array(600).fill(1), reference.probabilities.slice(0, 600));
    expect(oneClass.check.reasons.join(' ')).toMatch(/single class/);
  });

  it('warns when analysis scores leave the reference range', () => {
    const narrow = calibratedEvents(1000, 6, 0, 0.3);
    const model = fitCbpe(narrow.labels, narrow.probabilities, { recalibration: 'none', maxEce: 0.2 });
    const estimate = estimateCbpe(model, calibratedEvents(1000, 7, 0, 3).probabilities);
    expect(estimate.reasons.join(' ')).toMatch(/outside the reference score range/);
  });
});

describe('isotonic fit', () => {
  it('is a non-decreasing step function that pools violators and ties', () => {
    const iso = fitIsotonic([0, 1, 0, 1, 1, 0, 1], [0.1, 0.2, 0.3, 0.3, 0.6, 0.7, 0.9]);
    for (let i = 1; i < iso.values.length; i++)
      expect(iso.values[i]).toBeGreaterThanOrEqual(iso.values[i - 1] as number);
    expect(calibrate(iso, 0.05)).toBe(0);
    expect(calibrate(iso, 0.95)).toBe(1);
    // Tied scores share one value.
    expect(calibrate(iso, 0.3)).toBe(calibrate(iso, 0.3));
    // (0.2:1) pools with the tie at 0.3 (0, 1) → 2/3; then (0.6:1, 0.7:0) violates and pools back to 3/5.
    expect(iso.upperScores).toEqual([0.1, 0.7, 0.9]);
    expect(iso.values).toEqual([0, 0.6, 1]);
  });
});
