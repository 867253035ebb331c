import { describe, expect, it } from 'vitest';
import { fitLogistic, predictProbability } from '../../training/logistic.ts';
import { seaStream, take } from '../../synthetic/index.ts';

function sea(seed: number, n: number) {
  const events = take(seaStream({ seed, noise: 0.1 }), n);
  return {
    rows: events.map((e) => ({ f1: e.features[0] ?? null, f2: e.features[1] ?? null, f3: e.features[2] ?? null })),
    labels: events.map((e) => e.label),
  };
}

const features = { numeric: ['f1', 'f2', 'f3'], categorical: [] };

function accuracy(model: Parameters<typeof predictProbability>[0], data: ReturnType<typeof sea>): number {
  let correct = 0;
  data.rows.forEach((r, i) => (correct += (predictProbability(model, r) >= 0.5 ? 1 : 0) === data.labels[i] ? 1 : 0));
  return correct / data.rows.length;
}

describe('built-in logistic regression', () => {
  it('learns the SEA concept: accuracy near the 90% ceiling set by 10% label noise, f3 ignored', () => {
    const fit = fitLogistic({ features, ...sea(1, 5000) });
    expect(fit.converged).toBe(true);
    expect(fit.solver).toBe('newton');
    const acc = accuracy(fit.model, sea(2, 5000));
    expect(acc).toBeGreaterThan(0.85);
    const [w1, w2, w3] = fit.model.numeric.weight as [number, number, number];
    expect(Math.abs(w3)).toBeLessThan(0.2 * Math.abs(w1));
    expect(w1).toBeLessThan(0);
    expect(w2).toBeLessThan(0);
  });

  it('matches scikit-learn-style L2 optimum: gradient ≈ 0 at the solution', () => {
    const data = sea(3, 2000);
    const { model } = fitLogistic({ features, ...data }, { l2: 1 });
    // d/dw of Σ logloss + l2/2 ‖w‖² at the optimum, for the standardised features.
    const grad = [0, 0, 0, 0];
    data.rows.forEach((r, i) => {
      const p = predictProbability(model, r);
      const res = p - (data.labels[i] as number);
      features.numeric.forEach((f, j) => {
        const z = ((r[f as 'f1'] as number) - (model.numeric.mean[j] as number)) / (model.numeric.scale[j] as number);
        grad[j] = (grad[j] as number) + res * z;
      });
      grad[3] = (grad[3] as number) + res;
    });
    model.numeric.weight.forEach((w, j) => (grad[j] = (grad[j] as number) + w));
    // float32 rounding of the coefficients bounds how close to zero the gradient can get.
    for (const g of grad) expect(Math.abs(g)).toBeLessThan(0.05);
  });

  it('falls back to seeded mini-batch Adam for wide problems, deterministically', () => {
    const data = sea(4, 3000);
    const a = fitLogistic({ features, ...data }, { maxNewtonDim: 2 }, 11);
    const b = fitLogistic({ features, ...data }, { maxNewtonDim: 2 }, 11);
    expect(a.solver).toBe('adam');
    expect(a.model).toEqual(b.model);
    expect(accuracy(a.model, sea(5, 3000))).toBeGreaterThan(0.83);
  });

  it('refuses single-class data', () => {
    expect(() => fitLogistic({ features, rows: [{ f1: 1 }, { f1: 2 }], labels: [1, 1] })).toThrow(/single class/);
  });
});
