import { describe, expect, it } from 'vitest';
import { multiclassLogLossContribution } from '../../../detectors/quality/multiclass-log-loss.ts';
import {
  addOutcomeSums,
  emptyOutcomeSums,
  outcomeEvents,
  realisedFromSums,
  type MulticlassSums,
  type RegressionOutcomeSums,
} from '../../../detectors/quality/outcome-sums.ts';
import {
  kindDeclarationProblem,
  metricProblem,
  policyQualityProblem,
  qualityInterval,
  qualityOfMetric,
} from '../../../detectors/quality/quality-metric.ts';
import { multiclassRealisedCases, regressionOutcomeCases } from '../../helpers/outcome-fixtures.ts';

const multiclassFixture = { cases: multiclassRealisedCases() };
const regressionFixture = { cases: regressionOutcomeCases() };

function multiclassSums(c: (typeof multiclassFixture.cases)[number]): MulticlassSums {
  const losses = c.truth.map((t, i) => multiclassLogLossContribution(c.probabilities[i]!, t));
  return {
    kind: 'multiclass',
    classes: Array.from({ length: c.classes }, (_, k) => `c${k}`),
    confusion: c.expected.confusion,
    lossN: losses.length,
    lossSum: losses.reduce((a, b) => a + b, 0),
    lossSquares: losses.reduce((a, b) => a + b * b, 0),
    unknownClass: 0,
  };
}

function regressionSums(c: (typeof regressionFixture.cases)[number]): RegressionOutcomeSums {
  const s = emptyOutcomeSums({ kind: 'regression' }) as RegressionOutcomeSums;
  c.y_true.forEach((y, i) => {
    const e = y - c.y_pred[i]!;
    s.n += 1;
    s.sumAbsoluteError += Math.abs(e);
    s.sumSquaredError += e * e;
    s.sumFourthPowerError += e ** 4;
    s.sumTruth += y;
    s.sumSquaredTruth += y * y;
  });
  return s;
}

describe('realised multiclass metrics from the sums a window query returns', () => {
  for (const c of multiclassFixture.cases) {
    it(`${c.name}: accuracy, macro-F1 and log loss equal scikit-learn's, the log-loss interval scipy's`, () => {
      const sums = multiclassSums(c);
      expect(realisedFromSums('accuracy', sums)!.value).toBeCloseTo(c.expected.accuracy, 12);
      expect(realisedFromSums('macro_f1', sums)!.value).toBeCloseTo(c.expected.macro_f1, 12);
      const logLoss = realisedFromSums('log_loss', sums)!;
      expect(logLoss.value).toBeCloseTo(c.expected.log_loss, 12);
      expect(logLoss.interval!.lower).toBeCloseTo(c.expected.log_loss_interval[0], 10);
      expect(logLoss.interval!.upper).toBeCloseTo(c.expected.log_loss_interval[1], 10);
      // Accuracy's Wilson interval holds the value; a regression metric does not apply.
      const accuracy = realisedFromSums('accuracy', sums)!;
      expect(accuracy.interval!.lower).toBeLessThan(accuracy.value!);
      expect(accuracy.interval!.upper).toBeGreaterThan(accuracy.value!);
      expect(realisedFromSums('rmse', sums)).toBeNull();
    });
  }

  it('two windows pooled by adding their sums measure what their events do together', () => {
    const [a, b] = multiclassFixture.cases.filter((c) => c.classes === 3);
    const pooled = addOutcomeSums(multiclassSums(a!), multiclassSums(b!));
    expect(outcomeEvents(pooled)).toBe(a!.truth.length + b!.truth.length);
    const all = {
      ...a!,
      truth: [...a!.truth, ...b!.truth],
      probabilities: [...a!.probabilities, ...b!.probabilities],
      expected: {
        ...a!.expected,
        confusion: a!.expected.confusion.map((row, t) => row.map((x, p) => x + b!.expected.confusion[t]![p]!)),
      },
    };
    expect(realisedFromSums('log_loss', pooled)!.value).toBeCloseTo(
      realisedFromSums('log_loss', multiclassSums(all))!.value!,
      12,
    );
    expect(() => addOutcomeSums(multiclassSums(a!), regressionSums(regressionFixture.cases[0]!))).toThrow(
      /different kinds/,
    );
  });
});

describe('realised regression metrics from the sums a window query returns', () => {
  for (const c of regressionFixture.cases) {
    it(`${c.name}: MAE, RMSE and R² equal scikit-learn's, the MAE and RMSE intervals the normal ones`, () => {
      const sums = regressionSums(c);
      const mae = realisedFromSums('mae', sums)!;
      const rmse = realisedFromSums('rmse', sums)!;
      expect(mae.value).toBeCloseTo(c.expected.mae, 10);
      expect(rmse.value).toBeCloseTo(c.expected.rmse, 10);
      expect(realisedFromSums('r2', sums)!.value).toBeCloseTo(c.expected.r2, 10);
      expect(mae.interval!.lower).toBeCloseTo(c.expected.mae_interval[0], 8);
      expect(mae.interval!.upper).toBeCloseTo(c.expected.mae_interval[1], 8);
      expect(rmse.interval!.lower).toBeCloseTo(c.expected.rmse_interval[0], 8);
      expect(rmse.interval!.upper).toBeCloseTo(c.expected.rmse_interval[1], 8);
      expect(realisedFromSums('r2', sums)!.interval).toBeNull();
      expect(realisedFromSums('macro_f1', sums)).toBeNull();
    });
  }
});

describe('every metric as a quality in [0, 1], higher is better', () => {
  it('log loss: exp(−ℓ); a uniform guess over K classes is 1/K', () => {
    expect(qualityOfMetric('log_loss', Math.log(3))).toBeCloseTo(1 / 3, 12);
    expect(qualityOfMetric('log_loss', 0)).toBe(1);
  });

  it('mae and rmse: 1 − error / worthlessError, clipped; r2 clipped; accuracy unchanged', () => {
    expect(qualityOfMetric('rmse', 2.5, 10)).toBeCloseTo(0.75, 12);
    expect(qualityOfMetric('mae', 12, 10)).toBe(0);
    expect(qualityOfMetric('r2', -0.4)).toBe(0);
    expect(qualityOfMetric('r2', 0.8)).toBe(0.8);
    expect(qualityOfMetric('accuracy', 0.91)).toBe(0.91);
    expect(() => qualityOfMetric('rmse', 1)).toThrow(/worthlessError/);
  });

  it("a loss's interval maps to quality bounds the right way round", () => {
    const q = qualityInterval('log_loss', { lower: 0.5, upper: 0.9 });
    expect(q.lower).toBeCloseTo(Math.exp(-0.9), 12);
    expect(q.upper).toBeCloseTo(Math.exp(-0.5), 12);
  });

  it('a metric is checked against the model kind, with the metrics that apply', () => {
    expect(metricProblem('binary', 'macro_f1')).toMatch(/does not apply to a binary model: use one of accuracy, auc/);
    expect(metricProblem('regression', 'accuracy')).toMatch(/use one of mae, rmse, r2/);
    expect(metricProblem('regression', 'rmse')).toMatch(/needs quality.worthlessError/);
    expect(metricProblem('regression', 'rmse', 5)).toBeNull();
    expect(metricProblem('multiclass', 'log_loss')).toBeNull();
    expect(policyQualityProblem('binary', undefined)).toBeNull();
    expect(policyQualityProblem('multiclass', undefined)).toMatch(
      /names its quality metric: add quality: \{ metric: accuracy \| macro_f1 \| log_loss \}/,
    );
    expect(kindDeclarationProblem('multiclass', ['a'])).toMatch(/at least two/);
    expect(kindDeclarationProblem('multiclass', ['a', 'a'])).toMatch(/repeats/);
    expect(kindDeclarationProblem('regression', ['a'])).toMatch(/no class list/);
    expect(kindDeclarationProblem('ranking', [])).toMatch(/not one of/);
    expect(kindDeclarationProblem('multiclass', ['a', 'b'])).toBeNull();
  });
});
