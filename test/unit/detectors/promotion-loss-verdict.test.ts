import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pairedLossVerdict, type LossVerdictMetric } from '../../../detectors/promotion/index.ts';

/** numpy/scipy/scikit-learn values from test/fixtures/multiclass-regression/generate_paired_loss.py. */
const fixture = JSON.parse(
  readFileSync(new URL('../../fixtures/multiclass-regression/paired_loss.json', import.meta.url), 'utf8'),
) as {
  cases: {
    name: string;
    loss: LossVerdictMetric;
    margin: number;
    expected: {
      champion_loss: number[];
      challenger_loss: number[];
      improvement: number;
      lower: number;
      upper: number;
      bootstrap_lower: number;
      bootstrap_upper: number;
    };
    accuracy?: {
      champion_error: number[];
      challenger_error: number[];
      champion: number;
      challenger: number;
      improvement: number;
      bootstrap_lower: number;
      bootstrap_upper: number;
      champion_only_correct: number;
      challenger_only_correct: number;
    };
  }[];
};

describe('the shadow verdict of multiclass and regression models on paired per-event loss', () => {
  for (const c of fixture.cases) {
    it(`${c.name}: the mean difference is numpy's, the paired t interval scipy's, the bootstrap interval numpy's within resampling noise`, () => {
      const e = c.expected;
      const verdict = pairedLossVerdict(
        { metric: c.loss, champion: e.champion_loss, challenger: e.challenger_loss },
        {},
        { minEvents: 10, test: 'non-inferiority', margin: c.margin },
      );
      const imp = verdict.statistics.improvement!;
      expect(imp.improvement).toBeCloseTo(e.improvement, 12);
      expect(imp.method).toBe('paired-bootstrap-percentile');
      // Differences with at most 16 distinct values are resampled as value counts (the small case).
      const distinct = new Set(e.champion_loss.map((a, i) => a - e.challenger_loss[i]!)).size;
      expect(imp.resampling).toBe(distinct <= 16 ? 'value-counts' : 'events');
      expect(verdict.statistics.pairedT!.lower).toBeCloseTo(e.lower, 9);
      expect(verdict.statistics.pairedT!.upper).toBeCloseTo(e.upper, 9);
      // Two bootstraps (2,000 and numpy's 20,000 resamples) differ by resampling noise: a few
      // hundredths of the interval's width at these sizes; the small case's own width is noisier.
      const width = e.bootstrap_upper - e.bootstrap_lower;
      const tolerance = (e.champion_loss.length < 100 ? 0.15 : 0.06) * width;
      expect(Math.abs(imp.lower - e.bootstrap_lower)).toBeLessThan(tolerance);
      expect(Math.abs(imp.upper - e.bootstrap_upper)).toBeLessThan(tolerance);
      // The decision follows the interval against the bar.
      const expectedDecision = imp.lower > -c.margin ? 'promote' : imp.upper < -c.margin ? 'reject' : 'inconclusive';
      expect(verdict.decision).toBe(expectedDecision);
      expect(verdict.reasons.join(' ')).toContain('95% CI');
    });
  }

  const better = fixture.cases.find((c) => c.name === 'log_loss_3_classes_challenger_better_400')!;

  it('a challenger that is worse (the better case, sides swapped) is rejected with its interval below the bar', () => {
    const e = better.expected;
    const verdict = pairedLossVerdict(
      { metric: 'logLoss', champion: e.challenger_loss, challenger: e.champion_loss },
      {},
      { minEvents: 100, test: 'non-inferiority', margin: 0.01 },
    );
    expect(verdict.decision).toBe('reject');
    const imp = verdict.statistics.improvement!;
    expect(imp.upper).toBeLessThan(-0.01);
    expect(imp.improvement).toBeCloseTo(-e.improvement, 12);
    expect(verdict.reasons.join(' ')).toMatch(/whole interval is below the non-inferiority margin/);
  });

  it('multiclass accuracy: the paired 0/1 difference resampled by value counts, against numpy, with McNemar on the discordant pairs', () => {
    const a = better.accuracy!;
    const correct = {
      champion: a.champion_error.map((x) => x === 0),
      challenger: a.challenger_error.map((x) => x === 0),
    };
    const verdict = pairedLossVerdict(
      { metric: 'accuracy', champion: a.champion_error, challenger: a.challenger_error, correct },
      {},
      { minEvents: 100, test: 'superiority' },
    );
    const imp = verdict.statistics.improvement!;
    expect(imp.resampling).toBe('value-counts');
    expect(imp.champion).toBeCloseTo(a.champion, 12);
    expect(imp.challenger).toBeCloseTo(a.challenger, 12);
    expect(imp.improvement).toBeCloseTo(a.improvement, 12);
    const width = a.bootstrap_upper - a.bootstrap_lower;
    expect(Math.abs(imp.lower - a.bootstrap_lower)).toBeLessThan(0.06 * width);
    expect(Math.abs(imp.upper - a.bootstrap_upper)).toBeLessThan(0.06 * width);
    expect(verdict.statistics.mcnemar).toMatchObject({
      championOnlyCorrect: a.champion_only_correct,
      challengerOnlyCorrect: a.challenger_only_correct,
    });
  });

  it('few paired events are inconclusive; a failed guardrail rejects; unequal lengths are refused', () => {
    const e = better.expected;
    expect(
      pairedLossVerdict({ metric: 'logLoss', champion: e.champion_loss, challenger: e.challenger_loss }, {}, {})
        .decision,
    ).toBe('inconclusive');
    const guarded = pairedLossVerdict(
      { metric: 'logLoss', champion: e.champion_loss, challenger: e.challenger_loss },
      { challengerServing: { requests: 400, errors: 200 }, championServing: { requests: 400, errors: 0 } },
      { minEvents: 10 },
    );
    expect(guarded.decision).toBe('reject');
    expect(guarded.reasons[0]).toMatch(/guardrail failed/);
    const none = pairedLossVerdict({ metric: 'absoluteError', champion: [], challenger: [] }, {}, { minEvents: 0 });
    expect(none.decision).toBe('inconclusive');
    expect(none.reasons).toEqual(['only 0 paired events; at least 1 are needed for a decision']);
    expect(() => pairedLossVerdict({ metric: 'squaredError', champion: [1, 2], challenger: [1] })).toThrow(
      /2 champion losses but 1 challenger losses/,
    );
  });
});
