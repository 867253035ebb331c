import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { encodeBatch, type RawFeatures } from '../../platform/onnx/features.ts';
import { multinomialToOnnx, ridgeToOnnx } from '../../training/linear-onnx.ts';
import { fitMultinomialLogistic, predictClassProbabilities } from '../../training/multinomial-logistic.ts';
import { fitRidge, predictRidge } from '../../training/ridge.ts';

/** scikit-learn fits from test/fixtures/multiclass-regression/generate_trainers.py. */
const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/multiclass-regression/trainers.json', import.meta.url), 'utf8'),
) as {
  multinomial: {
    name: string;
    l2: number;
    features: string[];
    x: number[][];
    y: string[];
    x_test: number[][];
    expected: { classes: string[]; weights: number[][]; bias: number[]; probabilities: number[][] };
  }[];
  ridge: {
    name: string;
    alpha: number;
    features: string[];
    x: number[][];
    y: number[];
    x_test: number[][];
    expected: { weight: number[]; bias: number; predictions: number[] };
  }[];
};

const rowsOf = (names: readonly string[], x: readonly number[][]): RawFeatures[] =>
  x.map((r) => Object.fromEntries(names.map((name, j) => [name, r[j]])));

async function runOnnx(bytes: Uint8Array, names: string[], rows: RawFeatures[]) {
  const session = await ort.InferenceSession.create(bytes);
  const enc = encodeBatch({ numeric: names, categorical: [] }, rows);
  return session.run({ numeric: new ort.Tensor('float32', enc.numeric, [enc.rows, names.length]) });
}

// lbfgs stops at its own tolerance; Newton here converges to ~1e-12. Both sides' optimum agrees to
// these bounds (inputs to the prediction are float32 as the ONNX graph sees them).
const WEIGHT_TOLERANCE = 1e-5;
const PROBABILITY_TOLERANCE = 1e-6;

describe('multinomial logistic regression vs scikit-learn, and its ONNX graph', () => {
  for (const c of fixture.multinomial) {
    it(c.name, async () => {
      const fit = fitMultinomialLogistic(
        { features: { numeric: c.features, categorical: [] }, rows: rowsOf(c.features, c.x), labels: c.y },
        { l2: c.l2 },
      );
      expect(fit.converged).toBe(true);
      const { model } = fit;
      expect(model.classes).toEqual(c.expected.classes);
      model.weights.forEach((row, j) =>
        row.forEach((w, k) => expect(Math.abs(w - c.expected.weights[j]![k]!)).toBeLessThan(WEIGHT_TOLERANCE)),
      );
      model.bias.forEach((b, k) => expect(Math.abs(b - c.expected.bias[k]!)).toBeLessThan(WEIGHT_TOLERANCE));
      const test = rowsOf(c.features, c.x_test);
      const ours = test.map((row) => predictClassProbabilities(model, row));
      ours.forEach((p, i) =>
        p.forEach((v, k) => expect(Math.abs(v - c.expected.probabilities[i]![k]!)).toBeLessThan(PROBABILITY_TOLERANCE)),
      );

      const out = await runOnnx(multinomialToOnnx(model), c.features, test);
      const probabilities = out.probabilities!.data as Float64Array;
      const labels = out.label!.data as BigInt64Array;
      const k = model.classes.length;
      ours.forEach((p, i) => {
        p.forEach((v, j) => expect(Math.abs(v - probabilities[i * k + j]!)).toBeLessThan(1e-13));
        expect(Number(labels[i])).toBe(p.indexOf(Math.max(...p)));
      });
    });
  }

  it('a missing value stands for the training mean, in the model and in the graph alike', async () => {
    const c = fixture.multinomial[0]!;
    const { model } = fitMultinomialLogistic({
      features: { numeric: c.features, categorical: [] },
      rows: rowsOf(c.features, c.x),
      labels: c.y,
    });
    const row = { ...rowsOf(c.features, c.x_test)[0], x1: null };
    const atMean = { ...row, x1: model.numeric.mean[1] };
    const ours = predictClassProbabilities(model, row);
    const out = await runOnnx(multinomialToOnnx(model), c.features, [row]);
    ours.forEach((v, j) => expect(v).toBeCloseTo((out.probabilities!.data as Float64Array)[j]!, 13));
    ours.forEach((v, j) => expect(v).toBeCloseTo(predictClassProbabilities(model, atMean)[j]!, 6));
  });

  it('refuses what it cannot train, saying what to do', () => {
    expect(() =>
      fitMultinomialLogistic({ features: { numeric: ['a'], categorical: ['plan'] }, rows: [], labels: [] }),
    ).toThrow(/numeric features only; one-hot encode plan/);
    expect(() =>
      fitMultinomialLogistic({ features: { numeric: ['a'], categorical: [] }, rows: [{ a: 1 }], labels: ['x'] }),
    ).toThrow(/single class/);
    expect(() =>
      fitMultinomialLogistic({
        features: { numeric: ['a'], categorical: [] },
        rows: [{ a: 'high' }, { a: 1 }],
        labels: ['x', 'y'],
      }),
    ).toThrow(/row 0: feature a = "high" is not a number/);
  });
});

describe('ridge regression vs scikit-learn, and its ONNX graph', () => {
  for (const c of fixture.ridge) {
    it(c.name, async () => {
      const model = fitRidge(
        { features: { numeric: c.features, categorical: [] }, rows: rowsOf(c.features, c.x), targets: c.y },
        { alpha: c.alpha },
      );
      model.weight.forEach((w, j) => expect(w).toBeCloseTo(c.expected.weight[j]!, 9));
      expect(model.bias).toBeCloseTo(c.expected.bias, 9);
      const test = rowsOf(c.features, c.x_test);
      const ours = test.map((row) => predictRidge(model, row));
      // float32 inputs (as served) against scikit-learn's float64: a feature near 1000 moves by up
      // to 3e-5 when rounded to float32, i.e. ~1e-6 of a standard deviation of 100.
      ours.forEach((y, i) => expect(Math.abs(y - c.expected.predictions[i]!)).toBeLessThan(1e-5));
      const out = await runOnnx(ridgeToOnnx(model), c.features, test);
      const predictions = out.prediction!.data as Float64Array;
      ours.forEach((y, i) => expect(Math.abs(y - predictions[i]!)).toBeLessThan(1e-12 * Math.max(1, Math.abs(y))));
    });
  }

  it('refuses a non-positive penalty and a target that is not a number', () => {
    const features = { numeric: ['a'], categorical: [] };
    expect(() => fitRidge({ features, rows: [{ a: 1 }], targets: [1] }, { alpha: 0 })).toThrow(
      /alpha must be positive/,
    );
    expect(() => fitRidge({ features, rows: [{ a: 1 }], targets: [Number.NaN] })).toThrow(/row 0: target NaN/);
    expect(() => fitRidge({ features, rows: [{ a: 1 }, { a: 'x' }], targets: [1, 2] })).toThrow(
      /row 1: feature a = "x" is not a number/,
    );
  });
});
