import { describe, expect, it } from 'vitest';
import {
  accuracyFromMulticlassConfusion,
  meanLossFromSums,
  multiclassConfusion,
  multiclassLogLoss,
  multiclassMacroF1,
} from '../../../detectors/quality/index.ts';
import { multiclassRealisedCases } from '../../helpers/outcome-fixtures.ts';

const fixture = { cases: multiclassRealisedCases() };

const argmax = (row: readonly number[]) => row.reduce((best, p, k) => (p > (row[best] as number) ? k : best), 0);

describe('multiclass realised metrics vs scikit-learn', () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      const predicted = c.probabilities.map(argmax);
      expect(predicted).toEqual(c.expected.predicted);
      const confusion = multiclassConfusion(c.truth, predicted, c.classes);
      expect(confusion).toEqual(c.expected.confusion);
      expect(accuracyFromMulticlassConfusion(confusion)).toBeCloseTo(c.expected.accuracy, 12);

      const f1 = multiclassMacroF1(confusion);
      expect(f1.value).toBeCloseTo(c.expected.macro_f1, 12);
      expect(f1.interval).not.toBeNull();
      // A different generator's bootstrap: the bounds land near numpy's, not on them.
      const [lower, upper] = c.expected.macro_f1_bootstrap_interval;
      const width = upper - lower;
      expect(Math.abs(f1.interval!.lower - lower)).toBeLessThan(0.15 * width);
      expect(Math.abs(f1.interval!.upper - upper)).toBeLessThan(0.15 * width);

      const loss = multiclassLogLoss(c.truth, c.probabilities);
      expect(loss.value).toBeCloseTo(c.expected.log_loss, 10);
      expect(loss.interval!.lower).toBeCloseTo(Math.max(0, c.expected.log_loss_interval[0]), 10);
      expect(loss.interval!.upper).toBeCloseTo(c.expected.log_loss_interval[1], 10);
    });
  }

  it('a class that never occurs is left out of the macro average, as scikit-learn leaves it out of its labels', () => {
    const c = fixture.cases.find((x) => x.name.includes('never_predicted'))!;
    const confusion = multiclassConfusion(c.truth, c.probabilities.map(argmax), c.classes);
    expect(confusion[c.classes - 1]!.every((x) => x === 0)).toBe(true);
    expect(multiclassMacroF1(confusion).value).toBeCloseTo(c.expected.macro_f1, 12);
  });

  it('refuses what is not a class index or a probability vector, saying which', () => {
    expect(() => multiclassConfusion([0, 3], [0, 1], 3)).toThrow(/true class 3 is not a class index/);
    expect(() => multiclassConfusion([0], [0, 1], 3)).toThrow(/lengths differ/);
    expect(() => multiclassLogLoss([0], [[0.5, 0.4]])).toThrow(/sum to 0.9/);
    expect(() => multiclassLogLoss([2], [[0.5, 0.5]])).toThrow(/true class 2 has no probability/);
  });

  it('small and empty windows give a value without an interval, or nothing, with the reason', () => {
    expect(
      multiclassMacroF1([
        [0, 0],
        [0, 0],
      ]),
    ).toMatchObject({ value: null, n: 0, note: 'no events' });
    const few = multiclassMacroF1([
      [3, 1],
      [0, 2],
    ]);
    expect(few.value).toBeCloseTo((2 * 3) / (2 * 3 + 1) / 2 + (2 * 2) / (2 * 2 + 1) / 2, 12);
    expect(few.interval).toBeNull();
    expect(few.note).toMatch(/too small/);
    expect(meanLossFromSums({ n: 1, sum: 0.7, sumSquares: 0.49 })).toMatchObject({ value: 0.7, interval: null });
  });
});
