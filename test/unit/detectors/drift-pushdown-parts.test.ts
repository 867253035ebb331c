// The pure halves of the SQL push-down: reference cuts from order statistics, the capped
// vocabulary, and a counted window against its reference (drift inputs and data-quality inputs).
// The SQL halves are checked against these end to end in test/integration/statistics-pushdown.
import { describe, expect, it } from 'vitest';
import {
  OTHER_CATEGORY,
  assertCountableReference,
  capCategories,
  categoricalProfile,
  compareBinnedFeature,
  compareWindow,
  cutsFromOrderStatistics,
  numericReferenceProfile,
  numericWindowCounts,
  quantilePlan,
  referenceBinEdges,
  toReferenceProfile,
  windowQualityCounts,
  type CountedWindow,
  type ReferenceProfiles,
} from '../../../detectors/drift/index.ts';
import { normalSample, seededRandom } from '../../fixtures/drift/seeded-random.ts';

/** What ClickHouse's `quantilesExact(level)` returns: element floor(level · n) of the sorted values. */
const quantilesExact = (sorted: readonly number[], levels: readonly number[]): number[] =>
  levels.map((level) => sorted[Math.min(sorted.length - 1, Math.floor(level * sorted.length))] ?? Number.NaN);

describe('cuts from order statistics', () => {
  const random = seededRandom(7);
  const samples: [string, number[]][] = [
    ['normal', Array.from(normalSample(random, 997))],
    ['ties', Array.from({ length: 500 }, () => Math.floor(random() * 6))],
    ['constant', new Array<number>(40).fill(7)],
    ['one value', [3.5]],
    ['two values', [1, 2]],
    ['huge integers', Array.from({ length: 300 }, () => Math.round(random() * 4 + 1) * 1e20)],
  ];

  for (const [name, values] of samples) {
    it(`equal referenceBinEdges bit for bit (${name})`, () => {
      const sorted = [...values].sort((a, b) => a - b);
      for (const nBins of [1, 2, 10, 20, 50]) {
        const plan = quantilePlan(sorted.length, nBins);
        // Each level selects exactly the order statistic it stands for.
        expect(plan.indices.map((_, j) => Math.floor((plan.levels[j] ?? 0) * sorted.length))).toEqual(plan.indices);
        const cuts = cutsFromOrderStatistics(
          plan,
          quantilesExact(sorted, plan.levels),
          sorted[0] ?? 0,
          sorted[sorted.length - 1] ?? 0,
        );
        expect(cuts, `${name}, ${nBins} bins`).toEqual(referenceBinEdges(values, nBins));
      }
    });
  }

  it('asks for no order statistic with one bin, and refuses cuts that break the edge contract', () => {
    expect(quantilePlan(100, 1)).toEqual({ indices: [], levels: [], positions: [] });
    expect(() => cutsFromOrderStatistics(quantilePlan(10, 2), [0, 1], Number.POSITIVE_INFINITY, 1)).toThrow(RangeError);
  });
});

describe('capCategories', () => {
  it('keeps a vocabulary within the cap as it is', () => {
    const profile = categoricalProfile(['a', 'b', 'a']);
    expect(capCategories(profile, 2)).toEqual({ profile, capped: false });
  });

  it('keeps the max − 1 most frequent labels (ties by label) and pools the rest, counts preserved', () => {
    const profile = categoricalProfile(['d', 'c', 'c', 'b', 'b', 'a', 'a', 'a', null]);
    const { profile: capped, capped: wasCapped } = capCategories(profile, 3);
    expect(wasCapped).toBe(true);
    expect(capped.counts).toEqual({ a: 3, b: 2, [OTHER_CATEGORY]: 3 });
    expect(capped.missing).toBe(1);
    expect(capped.kind).toBe('categorical');
  });

  it('pools a literal __other__ label with the rest', () => {
    const profile = categoricalProfile(['a', 'a', 'a', 'b', 'b', OTHER_CATEGORY, 'c']);
    expect(capCategories(profile, 3).profile.counts).toEqual({ a: 3, b: 2, [OTHER_CATEGORY]: 2 });
  });
});

describe('a counted window against its reference', () => {
  const random = seededRandom(11);
  const refValues = Array.from(normalSample(random, 400));
  const curValues = Array.from(normalSample(random, 300, 0.5));
  const amount = numericReferenceProfile(refValues, 10);
  const colour = categoricalProfile(Array.from({ length: 400 }, (_, i) => (i % 3 === 0 ? 'red' : 'blue')));
  const score = numericReferenceProfile(
    refValues.map((v) => 1 / (1 + Math.exp(-v))),
    10,
  );
  const label = categoricalProfile(Array.from({ length: 400 }, (_, i) => (i % 2 === 0 ? 'yes' : 'no')));
  const reference: ReferenceProfiles = {
    features: { amount, colour: { ...colour, missing: 40 } },
    prediction: score,
    predictionClass: label,
    predictionValue: null,
    cappedCategorical: [],
    rowCount: 400,
  };
  const amountCounts = numericWindowCounts([...curValues, null, null], amount.cuts);
  const counted: CountedWindow = {
    rows: 302,
    features: {
      amount: amountCounts,
      colour: { kind: 'categorical', counts: { red: 100, blue: 150, green: 40 }, missing: 12 },
    },
    prediction: numericWindowCounts(
      curValues.map((v) => 1 / (1 + Math.exp(-v))),
      score.cuts,
    ),
    predictionClass: { kind: 'categorical', counts: { yes: 150, no: 150 }, missing: 2 },
    predictionValue: null,
    typeViolations: { amount: 2, colour: 5 },
  };

  it('compares every feature, then the prediction columns by their report names', () => {
    const results = compareWindow(reference, counted);
    expect(results.map((r) => [r.name, r.role])).toEqual([
      ['amount', 'feature'],
      ['colour', 'feature'],
      ['prediction_score', 'prediction'],
      ['prediction_class', 'prediction'],
    ]);
    expect(results[0]).toEqual(compareBinnedFeature(amount, amountCounts, { name: 'amount' }));
  });

  it('gives the data-quality inputs: type violations are not missing values; predictions have none', () => {
    expect(windowQualityCounts(reference, counted)).toEqual([
      {
        name: 'amount',
        kind: 'numeric',
        rows: 302,
        missing: 0,
        type_violations: 2,
        out_of_range: (amountCounts.counts[0] ?? 0) + (amountCounts.counts[amountCounts.counts.length - 1] ?? 0),
        reference_missing_rate: 0,
        // Stuck-value inputs: the window's top value was not counted (not a candidate), the reference's was.
        reference_top_value_share: amount.topShare,
        std: amountCounts.std,
        reference_std: amount.std,
        // What tells a stuck value from shift: the reference's own value and bounds (no window top value, no bin share).
        reference_top_value: amount.topValue,
        reference_min: amount.min,
        reference_max: amount.max,
        top_value_bin_share: null,
      },
      {
        name: 'colour',
        kind: 'categorical',
        rows: 302,
        missing: 7,
        type_violations: 5,
        unseen: 40,
        reference_missing_rate: 0.1,
        top_value: 'blue',
        top_value_share: 150 / 290,
        reference_top_value_share: colour.counts.blue! / 400,
      },
      {
        name: 'prediction_score',
        kind: 'numeric',
        rows: 302,
        missing: 0,
        out_of_range: expect.any(Number),
        reference_missing_rate: 0,
      },
      { name: 'prediction_class', kind: 'categorical', rows: 302, missing: 2, unseen: 0, reference_missing_rate: 0 },
    ]);
  });

  it('refuses a reference whose cuts break the edge contract before anything is counted', () => {
    expect(() => assertCountableReference(reference)).not.toThrow();
    const broken = { ...reference, prediction: { ...score, cuts: [0.5, 0.2] } };
    expect(() => assertCountableReference(broken)).toThrow(RangeError);
  });

  it('turns counts over its own cuts into a reference profile (absent moments are 0)', () => {
    expect(toReferenceProfile({ counts: [0], missing: 5 }, [])).toEqual({
      kind: 'numeric',
      cuts: [],
      counts: [0],
      missing: 5,
      min: 0,
      max: 0,
      mean: 0,
      std: 0,
    });
  });
});
