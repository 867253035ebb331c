import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  pairedLossSums,
  pairedLossTest,
  pairedSignedRankTest,
  perEventLosses,
  type PairedLoss,
} from '../../../detectors/promotion/index.ts';

/** scipy and scikit-learn values from test/fixtures/multiclass-regression/generate_paired_loss.py. */
const fixture = JSON.parse(
  readFileSync(new URL('../../fixtures/multiclass-regression/paired_loss.json', import.meta.url), 'utf8'),
) as {
  cases: {
    name: string;
    loss: PairedLoss;
    margin: number;
    truth: number[];
    champion: number[] | number[][];
    challenger: number[] | number[][];
    expected: {
      champion_loss: number[];
      challenger_loss: number[];
      improvement: number;
      statistic: number;
      p_value: number;
      lower: number;
      upper: number;
      non_inferiority_p_value: number;
      wilcoxon_statistic: number;
      wilcoxon_p_value: number;
      wilcoxon_n: number;
    };
  }[];
};

const close = (actual: number, expected: number, relative: number) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(relative * Math.max(1e-300, Math.abs(expected)) + 1e-15);

describe('paired per-event loss tests vs scipy', () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      const champion = perEventLosses(c.loss, c.truth, c.champion);
      const challenger = perEventLosses(c.loss, c.truth, c.challenger);
      champion.forEach((l, i) => close(l, c.expected.champion_loss[i]!, 1e-9));
      challenger.forEach((l, i) => close(l, c.expected.challenger_loss[i]!, 1e-9));

      const t = pairedLossTest(pairedLossSums(champion, challenger), { margin: c.margin })!;
      close(t.improvement, c.expected.improvement, 1e-9);
      close(t.statistic, c.expected.statistic, 1e-7);
      close(t.pValue, c.expected.p_value, 1e-6);
      close(t.lower, c.expected.lower, 1e-7);
      close(t.upper, c.expected.upper, 1e-7);
      close(t.nonInferiorityPValue, c.expected.non_inferiority_p_value, 1e-6);

      const w = pairedSignedRankTest(champion, challenger)!;
      expect(w.n).toBe(c.expected.wilcoxon_n);
      expect(w.statistic).toBe(c.expected.wilcoxon_statistic);
      close(w.pValue, c.expected.wilcoxon_p_value, 1e-8);
    });
  }

  it('a better challenger has an interval above zero and a positive signed-rank z', () => {
    for (const c of fixture.cases.filter((x) => x.name.includes('challenger_better'))) {
      const champion = perEventLosses(c.loss, c.truth, c.champion);
      const challenger = perEventLosses(c.loss, c.truth, c.challenger);
      const t = pairedLossTest(pairedLossSums(champion, challenger))!;
      expect(t.lower).toBeGreaterThan(0);
      expect(t.pValue).toBeLessThan(0.05);
      expect(pairedSignedRankTest(champion, challenger)!.z).toBeGreaterThan(0);
    }
  });

  it('refuses outputs of the wrong kind and unpaired events, naming them', () => {
    expect(() => perEventLosses('logLoss', [0], [0.3])).toThrow(/event 0: log loss needs a class-probability vector/);
    expect(() => perEventLosses('squaredError', [1], [[0.5, 0.5]])).toThrow(/event 0: squaredError needs a numeric/);
    expect(() => perEventLosses('absoluteError', [1, 2], [1])).toThrow(/2 true values but 1 model outputs/);
    expect(() => pairedLossSums([1, 2], [1])).toThrow(/2 champion events but 1 challenger events/);
    expect(pairedLossTest({ n: 1, sumDifference: 1, sumSquaredDifference: 1 })).toBeNull();
    expect(pairedSignedRankTest([1, 2], [1, 2])).toBeNull();
  });
});
