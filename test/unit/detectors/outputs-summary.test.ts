import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  multiclassSummary,
  noSkillFigure,
  regressionSummary,
  summaryFigure,
} from '../../../detectors/quality/outputs-summary.ts';

/** scikit-learn's figures from test/fixtures/multiclass-regression/generate_realised.py and generate_outcome_intervals.py. */
const read = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../../fixtures/multiclass-regression/${name}`, import.meta.url), 'utf8')) as T;
const realised = read<{
  cases: {
    name: string;
    truth: number[];
    probabilities: number[][];
    expected: { accuracy: number; macro_f1: number; log_loss: number };
  }[];
}>('realised.json');
const outcomes = read<{
  cases: { name: string; y_true: number[]; y_pred: number[]; expected: { mae: number; rmse: number; r2: number } }[];
}>('outcome_intervals.json');

describe('a multiclass or regression model’s metrics on held-out or shadow rows, against scikit-learn', () => {
  for (const c of realised.cases)
    it(`multiclass ${c.name}: accuracy, macro-F1, log loss`, () => {
      const s = multiclassSummary(c.truth, c.probabilities);
      expect(s.n).toBe(c.truth.length);
      expect(s.accuracy).toBeCloseTo(c.expected.accuracy, 12);
      expect(s.macroF1).toBeCloseTo(c.expected.macro_f1, 12);
      expect(s.logLoss).toBeCloseTo(c.expected.log_loss, 9);
      expect(summaryFigure(s, 'log_loss')).toBe(s.logLoss);
    });
  for (const c of outcomes.cases)
    it(`regression ${c.name}: MAE, RMSE, R²`, () => {
      const s = regressionSummary(c.y_true, c.y_pred);
      expect(s.mae).toBeCloseTo(c.expected.mae, 9);
      expect(s.rmse).toBeCloseTo(c.expected.rmse, 9);
      expect(s.r2).toBeCloseTo(c.expected.r2, 9);
      expect(summaryFigure(s, 'rmse')).toBe(s.rmse);
    });

  it('a model without skill: ln K, the most frequent class, the mean and the median', () => {
    const truth = [0, 0, 0, 1, 2, 2];
    expect(noSkillFigure('log_loss', truth, 3)).toBeCloseTo(Math.log(3), 15);
    expect(noSkillFigure('accuracy', truth, 3)).toBeCloseTo(0.5, 15);
    // Always class 0: its F1 is 2·3/(6 + 3), the other two classes' 0 → mean over the 3 present.
    expect(noSkillFigure('macro_f1', truth, 3)).toBeCloseTo(2 / 3 / 3, 15);
    const always = multiclassSummary(
      truth,
      truth.map(() => [0.9, 0.05, 0.05]),
    );
    expect(always.accuracy).toBeCloseTo(noSkillFigure('accuracy', truth, 3) as number, 15);
    expect(always.macroF1).toBeCloseTo(noSkillFigure('macro_f1', truth, 3) as number, 15);
    const y = [1, 2, 3, 10];
    const mean = regressionSummary(
      y,
      y.map(() => 4),
    );
    expect(noSkillFigure('rmse', y, 0)).toBeCloseTo(mean.rmse as number, 12);
    expect(noSkillFigure('r2', y, 0)).toBe(0);
    expect(noSkillFigure('mae', y, 0)).toBeCloseTo(
      regressionSummary(
        y,
        y.map(() => 2.5),
      ).mae as number,
      12,
    );
  });
});
