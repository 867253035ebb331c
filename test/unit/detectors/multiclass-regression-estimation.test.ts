import { describe, expect, it } from 'vitest';
import {
  estimateDle,
  estimateMulticlassCbpe,
  fitBoostedTrees,
  fitDle,
  fitMulticlassCbpe,
  multiclassConfusion,
  macroF1FromConfusion,
  predictBoostedTrees,
} from '../../../detectors/quality/index.ts';
import { Random } from '../../../detectors/random.ts';
import { knownShiftClassEvents } from '../../../synthetic/index.ts';

const multiclassEvents = (n: number, shift: number, temperature: number, seed: number) =>
  knownShiftClassEvents(new Random(seed), n, shift, temperature);

const argmax = (row: readonly number[]) => row.reduce((best, p, k) => (p > (row[best] as number) ? k : best), 0);

describe('multiclass CBPE against realised, under a known covariate shift', () => {
  for (const [name, temperature] of [
    ['calibrated scores', 1],
    ['over-confident scores (recalibrated one-vs-rest)', 2.5],
  ] as const) {
    it(name, () => {
      const reference = multiclassEvents(6000, 0, temperature, 1);
      const model = fitMulticlassCbpe(reference.truth, reference.probabilities);
      if (temperature !== 1) expect(model.perClass.some((m) => m.check.recalibration === 'isotonic')).toBe(true);
      const referenceAccuracy =
        reference.truth.filter((t, i) => t === argmax(reference.probabilities[i]!)).length / 6000;
      const window = multiclassEvents(4000, 1.5, temperature, 2);
      const predicted = window.probabilities.map(argmax);
      const realisedConfusion = multiclassConfusion(window.truth, predicted, 3);
      const realisedAccuracy = window.truth.filter((t, i) => t === predicted[i]).length / window.truth.length;
      const estimate = estimateMulticlassCbpe(model, window.probabilities);
      // The shift changed accuracy well beyond the interval's width…
      expect(Math.abs(realisedAccuracy - referenceAccuracy)).toBeGreaterThan(0.03);
      // …and the estimate follows it.
      expect(Math.abs(estimate.accuracy.value! - realisedAccuracy)).toBeLessThan(0.02);
      expect(Math.abs(estimate.macroF1.value! - macroF1FromConfusion(realisedConfusion)!)).toBeLessThan(0.025);
      const { lower, upper } = estimate.macroF1.interval!;
      expect(lower).toBeLessThan(estimate.macroF1.value!);
      expect(upper).toBeGreaterThan(estimate.macroF1.value!);
      expect(estimate.accuracy.interval!.upper - estimate.accuracy.interval!.lower).toBeLessThan(0.04);
    });
  }

  it('the expected confusion matrix holds every event once, in the column of the class it was predicted', () => {
    const reference = multiclassEvents(1000, 0, 1, 3);
    const model = fitMulticlassCbpe(reference.truth, reference.probabilities);
    const window = multiclassEvents(300, 0.5, 1, 4);
    const served = window.probabilities.map((row) => (argmax(row) + 1) % 3);
    const estimate = estimateMulticlassCbpe(model, window.probabilities, served);
    const columns = [0, 1, 2].map((p) => estimate.expectedConfusion.reduce((s, row) => s + row[p]!, 0));
    [0, 1, 2].forEach((p) => expect(columns[p]).toBeCloseTo(served.filter((s) => s === p).length, 9));
  });

  it('refuses vectors of the wrong length and untrusts a small reference, saying why', () => {
    const reference = multiclassEvents(200, 0, 1, 5);
    const model = fitMulticlassCbpe(reference.truth, reference.probabilities);
    expect(model.trustworthy).toBe(false);
    expect(model.reasons[0]).toMatch(/^class 0: reference has 200 labelled events/);
    expect(() => estimateMulticlassCbpe(model, [[0.5, 0.5]])).toThrow(/has 2 class probabilities, not 3/);
    expect(() => estimateMulticlassCbpe(model, [[0.2, 0.3, 0.5]], [3])).toThrow(
      /predicted class 3 is not a class index/,
    );
  });
});

/**
 * Regression with a known shift: y = x1 + noise whose spread grows with |x2|; the model predicts
 * x1. The window moves x2 away from 0, so the model's error grows though the model is unchanged.
 */
function regressionEvents(n: number, shift: number, seed: number) {
  const random = new Random(seed);
  const features: number[][] = [];
  const predictions: number[] = [];
  const truth: number[] = [];
  for (let i = 0; i < n; i++) {
    const x1 = random.normal(0, 2);
    const x2 = random.normal(shift, 1);
    const category = random.integer(0, 2);
    features.push([x1, x2, category]);
    predictions.push(x1);
    truth.push(x1 + random.normal(0, 0.3 + 0.8 * Math.abs(x2) + 0.2 * category));
  }
  return { features, predictions, truth };
}

describe('DLE against realised, under a known covariate shift', () => {
  const reference = regressionEvents(8000, 0, 11);
  const model = fitDle(reference, reference.truth, { categoricalFeatures: [2] });
  const realised = (w: ReturnType<typeof regressionEvents>) => {
    const e = w.truth.map((y, i) => y - w.predictions[i]!);
    return {
      mae: e.reduce((s, x) => s + Math.abs(x), 0) / e.length,
      rmse: Math.sqrt(e.reduce((s, x) => s + x * x, 0) / e.length),
    };
  };

  it('follows MAE and RMSE as they grow, with intervals around them', () => {
    const same = regressionEvents(3000, 0, 12);
    const shifted = regressionEvents(3000, 0.8, 13);
    const before = realised(same);
    const after = realised(shifted);
    expect(after.mae / before.mae).toBeGreaterThan(1.15);
    for (const [window, truth] of [
      [same, before],
      [shifted, after],
    ] as const) {
      const estimate = estimateDle(model, window);
      expect(estimate.trustworthy).toBe(true);
      expect(Math.abs(estimate.mae.value! - truth.mae) / truth.mae).toBeLessThan(0.06);
      expect(Math.abs(estimate.rmse.value! - truth.rmse) / truth.rmse).toBeLessThan(0.07);
      expect(estimate.mae.interval!.lower).toBeLessThan(estimate.mae.value!);
      expect(estimate.mae.interval!.upper).toBeGreaterThan(estimate.mae.value!);
      expect(estimate.rmse.interval!.lower).toBeLessThan(estimate.rmse.value!);
    }
  });

  it('sizes the RMSE interval from errors the loss model did not train on', () => {
    // Out of fold, the squared error's spread around its prediction is that of a scaled χ²₁
    // (Var = 2·E², κ ≈ 2) here; residuals of the model's own training rows would be smaller.
    expect(model.squaredErrorDispersion).toBeGreaterThan(1.5);
    expect(model.squaredErrorDispersion).toBeLessThan(3);
    const inSample = reference.features.reduce(
      (s, r, i) => {
        const e2 = (reference.truth[i]! - reference.predictions[i]!) ** 2;
        const g = Math.max(0, predictBoostedTrees(model.squaredError, [...r, reference.predictions[i]!]));
        return { residual: s.residual + (e2 - g) ** 2, predicted: s.predicted + g * g };
      },
      { residual: 0, predicted: 0 },
    );
    expect(inSample.residual / inSample.predicted).toBeLessThan(model.squaredErrorDispersion);
  });

  it('refuses options it cannot use, saying which', () => {
    expect(() => fitDle(reference, reference.truth, { categoricalFeatures: [3] })).toThrow(
      /categoricalFeatures names 3, but events have features 0..2/,
    );
    expect(() => fitDle(reference, reference.truth, { dispersionFolds: 1 })).toThrow(
      /dispersionFolds is 1; it must be an integer of at least 2/,
    );
  });

  it('refuses a window whose rows do not match, naming the event', () => {
    expect(() => estimateDle(model, { features: [[1, 2, 0]], predictions: [Number.NaN] })).toThrow(
      /event 0's prediction is NaN/,
    );
    expect(() => estimateDle(model, { features: [[1, 2]], predictions: [1] })).toThrow(
      /the window's events have 2 features; the estimator was fitted on 3/,
    );
  });
});

describe('boosted trees', () => {
  it('learn a step in one feature and an interaction, and send an unseen missing value to the larger side', () => {
    const random = new Random(21);
    const rows: number[][] = [];
    const targets: number[] = [];
    for (let i = 0; i < 4000; i++) {
      const a = random.uniform(-1, 1);
      const b = random.uniform(-1, 1);
      rows.push([a, b]);
      targets.push((a > 0.2 ? 3 : 0) + (a > 0 && b > 0 ? 2 : 0) + random.normal(0, 0.1));
    }
    const model = fitBoostedTrees(rows, targets);
    expect(model.trees.length).toBeGreaterThan(10);
    expect(predictBoostedTrees(model, [0.6, 0.5])).toBeCloseTo(5, 0);
    expect(predictBoostedTrees(model, [0.6, -0.5])).toBeCloseTo(3, 0);
    expect(predictBoostedTrees(model, [-0.6, 0.5])).toBeCloseTo(0, 0);
    expect(predictBoostedTrees(model, [Number.NaN, -0.5])).toBeCloseTo(0, 0);
    const trainingError = rows.reduce((s, r, i) => s + (predictBoostedTrees(model, r) - targets[i]!) ** 2, 0) / 4000;
    expect(trainingError).toBeLessThan(0.05);
  });
});
