import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chooseLiveSource } from '../../../detectors/promotion/live-choice.ts';
import { pairedLossSummary, runningImprovement } from '../../../detectors/promotion/paired-loss-summary.ts';
import {
  pairOutcomes,
  probabilityVector,
  valueOutput,
  type OutcomePairInput,
} from '../../../detectors/promotion/outcome-pairs.ts';

/** scikit-learn / numpy per-event losses from test/fixtures/multiclass-regression/generate_paired_loss.py. */
const fixture = JSON.parse(
  readFileSync(new URL('../../fixtures/multiclass-regression/paired_loss.json', import.meta.url), 'utf8'),
) as {
  cases: {
    name: string;
    loss: 'logLoss' | 'squaredError' | 'absoluteError';
    truth: number[];
    champion: number[][] | number[];
    challenger: number[][] | number[];
    expected: {
      champion_loss: number[];
      challenger_loss: number[];
      /** scipy.stats.ttest_rel(champion, challenger): mean difference and its 95% interval. */
      improvement: number;
      lower: number;
      upper: number;
    };
    accuracy?: {
      champion_error: number[];
      challenger_error: number[];
      champion_only_correct: number;
      challenger_only_correct: number;
    };
  }[];
};

const CLASSES = ['a', 'b', 'c', 'd'];
const asMap = (p: readonly number[]) => Object.fromEntries(p.map((v, j) => [CLASSES[j] as string, v]));

describe('the paired per-event losses of served or re-scored outputs', () => {
  for (const c of fixture.cases) {
    const multiclass = c.loss === 'logLoss';
    it(`${c.name}: each event's loss is scikit-learn's / numpy's, from the outputs as the scorer serves them`, () => {
      const k = multiclass ? (c.champion[0] as number[]).length : 0;
      // Served: class probabilities by class name, or a predicted number.
      const served = (o: number[] | number) =>
        multiclass ? probabilityVector(asMap(o as number[]), CLASSES.slice(0, k)) : valueOutput(o as number);
      const events: OutcomePairInput[] = c.truth.map((y, i) => ({
        truth: y,
        champion: served(c.champion[i] as number[] | number),
        challenger: served(c.challenger[i] as number[] | number),
      }));
      const pairs = pairOutcomes(multiclass ? 'multiclass' : 'regression', c.loss, events);
      expect(pairs.paired).toHaveLength(c.truth.length);
      expect(pairs.championMissing + pairs.challengerMissing).toBe(0);
      pairs.championLosses.forEach((l, i) => expect(l).toBeCloseTo(c.expected.champion_loss[i]!, 9));
      pairs.challengerLosses.forEach((l, i) => expect(l).toBeCloseTo(c.expected.challenger_loss[i]!, 9));
      if (multiclass) {
        const accuracy = pairOutcomes('multiclass', 'accuracy', events);
        expect(accuracy.championLosses).toEqual(c.accuracy!.champion_error);
        expect(accuracy.challengerLosses).toEqual(c.accuracy!.challenger_error);
        const championOnly = accuracy.correct!.champion.filter(
          (ok, i) => ok && !accuracy.correct!.challenger[i],
        ).length;
        const challengerOnly = accuracy.correct!.challenger.filter(
          (ok, i) => ok && !accuracy.correct!.champion[i],
        ).length;
        expect([championOnly, challengerOnly]).toEqual([
          c.accuracy!.champion_only_correct,
          c.accuracy!.challenger_only_correct,
        ]);
      } else {
        expect(pairs.correct).toBeUndefined();
      }
    });
  }

  it('leaves out the events a side gave no usable output for, and counts them per side', () => {
    const events: OutcomePairInput[] = [
      { truth: 1, champion: [0.2, 0.8], challenger: [0.1, 0.9] },
      { truth: 0, champion: null, challenger: [0.6, 0.4] },
      { truth: 0, champion: [0.5, 0.5], challenger: [Number.NaN, 1] },
      { truth: 1, champion: [0.3, 0.7], challenger: [0.4, 0.6] },
      { truth: 1, champion: [1], challenger: [0.4, 0.6] },
    ];
    const pairs = pairOutcomes('multiclass', 'logLoss', events);
    expect(pairs.paired).toEqual([0, 3]);
    expect(pairs.truth).toEqual([1, 1]);
    expect([pairs.championMissing, pairs.challengerMissing]).toEqual([2, 1]);
    expect(pairs.championLosses[0]).toBeCloseTo(-Math.log(0.8), 12);
    expect(pairs.challengerLosses[1]).toBeCloseTo(-Math.log(0.6), 12);
    const regression = pairOutcomes('regression', 'absoluteError', [
      { truth: 3, champion: [1], challenger: [2.5] },
      { truth: 3, champion: valueOutput(null), challenger: [2] },
      { truth: 3, champion: [1, 2], challenger: [2] },
    ]);
    expect(regression.paired).toEqual([0]);
    expect(regression.championLosses).toEqual([2]);
    expect(regression.challengerLosses).toEqual([0.5]);
    expect(regression.championMissing).toBe(2);
  });

  it('refuses a loss that does not fit the kind', () => {
    expect(() => pairOutcomes('regression', 'logLoss', [])).toThrow(/squared or absolute error, not logLoss/);
    expect(() => pairOutcomes('multiclass', 'squaredError', [])).toThrow(/log loss or accuracy, not squaredError/);
  });

  it('reads a served probability map in the declared class order, and refuses one it cannot compare', () => {
    expect(probabilityVector({ high: 0.5, low: 0.2, mid: 0.3 }, ['low', 'mid', 'high'])).toEqual([0.2, 0.3, 0.5]);
    expect(probabilityVector({ low: 0.2004, mid: 0.3, high: 0.5 }, ['low', 'mid', 'high'])).toEqual([0.2004, 0.3, 0.5]);
    expect(probabilityVector({ low: 0.5, mid: 0.5 }, ['low', 'mid', 'high'])).toBeNull();
    expect(probabilityVector({ low: 0.5, mid: 0.6, high: -0.1 }, ['low', 'mid', 'high'])).toBeNull();
    expect(probabilityVector({ low: 0.5, mid: 0.3, high: 0.3 }, ['low', 'mid', 'high'])).toBeNull();
    expect(probabilityVector({ low: 1 }, ['low'])).toBeNull();
    expect(valueOutput(Number.POSITIVE_INFINITY)).toBeNull();
    expect(valueOutput(2.5)).toEqual([2.5]);
  });
});

describe('which events a live-shadowed verdict rests on', () => {
  const window = { start: 1000, end: 5000 };
  it('the live pairs when at least minEvents are labelled, a replay otherwise, with the reason', () => {
    const live = chooseLiveSource(500, 500, window);
    expect(live).toMatchObject({ used: true, labelledPairs: 500, minEvents: 500, window });
    expect(live.reason).toMatch(/500 labelled live pairs \(at least 500\)/);
    const replay = chooseLiveSource(499, 500, window);
    expect(replay.used).toBe(false);
    expect(replay.reason).toMatch(/499 labelled live pairs \(fewer than 500\): replayed stored events/);
    expect(chooseLiveSource(0, 0, window).used).toBe(false);
  });
});

describe('a stored evaluation as the API shows it', () => {
  it("the paired difference's normal interval from the query's aggregates (z = scipy.stats.norm.ppf(0.975))", () => {
    const c = fixture.cases.find((x) => x.loss === 'squaredError')!;
    const a = c.expected.champion_loss;
    const b = c.expected.challenger_loss;
    const n = a.length;
    const d = a.map((x, i) => x - b[i]!);
    const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    const sd = Math.sqrt(d.reduce((s, x) => s + (x - mean(d)) ** 2, 0) / (n - 1));
    const summary = pairedLossSummary({
      n,
      championLoss: mean(a),
      candidateLoss: mean(b),
      differenceMean: mean(d),
      differenceSd: sd,
    });
    const half = (1.959963984540054 * sd) / Math.sqrt(n);
    expect(summary.difference.value).toBeCloseTo(mean(d), 12);
    expect(summary.difference.lower!).toBeCloseTo(mean(d) - half, 9);
    expect(summary.difference.upper!).toBeCloseTo(mean(d) + half, 9);
    expect([summary.champion, summary.candidate, summary.level]).toEqual([mean(a), mean(b), 0.95]);
    const one = pairedLossSummary({
      n: 1,
      championLoss: 1,
      candidateLoss: 0.5,
      differenceMean: 0.5,
      differenceSd: null,
    });
    expect(one.difference).toEqual({ value: 0.5, lower: null, upper: null });
  });

  it('the running mean of d with its paired t interval: at all pairs, scipy.stats.ttest_rel(...).confidence_interval()', () => {
    for (const c of fixture.cases) {
      const a = c.expected.champion_loss;
      const b = c.expected.challenger_loss;
      const d = a.map((x, i) => x - b[i]!);
      // Running sums every 50 pairs and at the last, as the checkpoint query returns them.
      const checkpoints = [];
      let s1 = 0;
      let s2 = 0;
      for (const [i, x] of d.entries()) {
        s1 += x;
        s2 += x * x;
        if ((i + 1) % 50 === 0 || i === d.length - 1)
          checkpoints.push({ n: i + 1, sumDifference: s1, sumSquaredDifference: s2 });
      }
      const path = runningImprovement(checkpoints);
      expect(path.map((p) => p.n)).toEqual(checkpoints.map((x) => x.n));
      const last = path.at(-1)!;
      expect(last.mean).toBeCloseTo(c.expected.improvement, 10);
      expect(last.lower!).toBeCloseTo(c.expected.lower, 8);
      expect(last.upper!).toBeCloseTo(c.expected.upper, 8);
      // Every earlier point is the mean of its own prefix, inside its own interval.
      for (const p of path) {
        const prefix = d.slice(0, p.n);
        expect(p.mean).toBeCloseTo(prefix.reduce((s, x) => s + x, 0) / p.n, 10);
        expect(p.lower!).toBeLessThanOrEqual(p.mean);
        expect(p.upper!).toBeGreaterThanOrEqual(p.mean);
      }
    }
    // One pair has a mean but no interval; a pair count below one is refused, saying so.
    expect(runningImprovement([{ n: 1, sumDifference: 0.3, sumSquaredDifference: 0.09 }])).toEqual([
      { n: 1, mean: 0.3, lower: null, upper: null },
    ]);
    expect(() => runningImprovement([{ n: 0, sumDifference: 0, sumSquaredDifference: 0 }])).toThrow(
      /pair count of at least 1, got 0/,
    );
  });
});
