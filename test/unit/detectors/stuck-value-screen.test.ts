// The exact screen of a window's stuck-value candidates (detectors/drift/window-follow-ups.ts): a
// read settles that no value reaches the stuck bar without counting every value, and the check's
// verdicts are the ones the counted share gives, on every window.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_QUALITY_THRESHOLDS,
  dataQualityReport,
  featureChecks,
  type QualityThresholds,
} from '../../../detectors/drift/data-quality.ts';
import { numericReferenceProfile, type NumericCounts } from '../../../detectors/drift/profiles.ts';
import { valueRuns } from '../../../detectors/drift/value-runs.ts';
import { windowQualityCounts, type CountedWindow, type TopValue } from '../../../detectors/drift/window-comparison.ts';
import {
  screenRanks,
  STUCK_SCREEN_RANKS,
  stuckCountBar,
  stuckValueReads,
  stuckValuesToCount,
  windowFollowUps,
  type BelowCountBar,
} from '../../../detectors/drift/window-follow-ups.ts';
import { followUpBarsOf, qualityThresholdsOf } from '../../../detectors/policy/data-quality-bars.ts';
import { Random } from '../../../detectors/random.ts';
import { oneFeatureReference, oneFeatureWindow } from '../../helpers/one-feature-window.ts';

/** Whether the stuck-value check flags a value holding `count` of `finite` values (its z and minimum off). */
function flags(count: number, finite: number, referenceTop: number, bar: number): boolean {
  const thresholds: QualityThresholds = {
    ...DEFAULT_QUALITY_THRESHOLDS,
    stuck_share_increase: bar,
    stuck_share_z: Number.NEGATIVE_INFINITY,
    stuck_min_values: 0,
  };
  return featureChecks(
    {
      name: 'x',
      kind: 'numeric',
      rows: finite,
      missing: 0,
      top_value_share: count / finite,
      top_value: 1,
      reference_top_value_share: referenceTop,
    },
    thresholds,
  ).some((c) => c.check === 'stuck-value');
}

describe('the count bar', () => {
  it('is the fewest rows the check flags, in floating point as the check computes it, in small windows too', () => {
    for (const finite of [1, 2, 3, 5, 7, 10, 19, 20, 21, 49, 50, 51, 99, 100, 101, 333, 1000])
      for (const referenceTop of [0, 1e-6, 0.001, 0.05, 0.1, 0.2, 1 / 3, 0.7, 0.81, 0.9])
        for (const bar of [0.2, 0.1, 0.05, 0.25, 1 / 3]) {
          const m = stuckCountBar(finite, referenceTop, bar);
          expect(m).toBeGreaterThanOrEqual(1);
          expect(m).toBeLessThanOrEqual(finite + 1);
          for (let count = 0; count <= finite; count++)
            expect(flags(count, finite, referenceTop, bar), `${count}/${finite} over ${referenceTop} by ${bar}`).toBe(
              count >= m,
            );
        }
  });

  it('takes a value exactly at the bar as flagged, and follows the rounding where the arithmetic falls short', () => {
    // 10 of 50 over a reference share of 0 is exactly the 0.2 bar: flagged.
    expect(stuckCountBar(50, 0, 0.2)).toBe(10);
    // 3 of 10 over 0.1 is 0.19999999999999998 in floating point: the check does not flag it, so 4.
    expect(3 / 10 - 0.1).toBeLessThan(0.2);
    expect(stuckCountBar(10, 0.1, 0.2)).toBe(4);
    // No value can rise 0.2 over a reference whose most frequent value held 0.9.
    expect(stuckCountBar(100, 0.9, 0.2)).toBe(101);
    // Nor by a bar the check cannot reach (NaN: rise ≥ NaN is false).
    expect(stuckCountBar(100, 0, Number.NaN)).toBe(101);
    expect(flags(100, 100, 0, Number.NaN)).toBe(false);
  });
});

describe('the ranks a screen reads', () => {
  /** Whether the 1-based places a+1 … a+len hold two consecutive ranks. */
  const holdsTwoInARow = (ranks: number[], a: number, len: number): boolean =>
    ranks.some((r, i) => i > 0 && ranks[i - 1]! > a && r <= a + len);

  it('put a value of m rows at two consecutive ranks wherever its block of the sorted values falls, at either end too', () => {
    let checked = 0;
    for (let finite = 1; finite <= 80; finite++)
      for (let m = 1; m <= finite; m++) {
        const ranks = screenRanks(finite, m);
        const spacing = Math.floor(m / 2);
        if (ranks === null) {
          // None: a bar of one row (every value reaches it), or more ranks than the query reads.
          expect(spacing === 0 || Math.floor(finite / spacing) > STUCK_SCREEN_RANKS).toBe(true);
          continue;
        }
        expect(ranks).toHaveLength(Math.floor(finite / spacing));
        for (let a = 0; a + m <= finite; a++) {
          expect(holdsTwoInARow(ranks, a, m), `${m} rows at ${a + 1} of ${finite}`).toBe(true);
          checked += 1;
        }
      }
    expect(checked).toBeGreaterThan(10_000);
  });

  it('find every value of m rows or more repeated at consecutive ranks, ties included; a repeat means at least m/2 rows', () => {
    const random = new Random(2026_12_07);
    let found = 0;
    for (let trial = 0; trial < 3000; trial++) {
      const finite = random.integer(1, 200);
      // Few distinct values, so several reach m and tie.
      const values = Array.from({ length: finite }, () => random.integer(0, random.integer(1, 12)));
      const m = random.integer(1, finite);
      const ranks = screenRanks(finite, m);
      if (ranks === null) continue;
      const sorted = [...values].sort((a, b) => a - b);
      const at = ranks.map((r) => sorted[r - 1]!);
      const repeated = new Set(at.filter((v, i) => i > 0 && v === at[i - 1]));
      const counts = new Map<number, number>();
      for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
      for (const [v, c] of counts) {
        if (c >= m) {
          expect(repeated.has(v), `value ${v} of ${c} rows, m ${m}, ${finite} values`).toBe(true);
          found += 1;
        }
        // A value at two consecutive ranks fills the places between them.
        if (repeated.has(v)) expect(c).toBeGreaterThan(Math.floor(m / 2));
      }
    }
    expect(found).toBeGreaterThan(1000);
  });

  it('are none when no value can hold m rows, and none beyond the limit (the read counts every value)', () => {
    expect(screenRanks(5, 6)).toBeNull();
    expect(screenRanks(100, 1)).toBeNull();
    expect(screenRanks(329, 20)).toHaveLength(32);
    expect(screenRanks(330, 20)).toBeNull();
    // The default bar over a 10M-row window: nine ranks, half the bar apart.
    expect(screenRanks(10_000_000, 2_000_010)).toEqual(Array.from({ length: 9 }, (_, k) => (k + 1) * 1_000_005));
  });
});

/** A sensor read to 0.01 (values repeat), in [0, 40]. */
const sensor = (random: Random, n: number, mean: number, sd: number): number[] =>
  Array.from({ length: n }, () => Math.min(40, Math.max(0, Math.round(random.normal(mean, sd) * 100) / 100)));

const referenceRandom = new Random(5);
const referenceValues = sensor(referenceRandom, 5000, 20, 6);
const profile = numericReferenceProfile(referenceValues, 20);
const reference = oneFeatureReference(profile, referenceValues.length);
const countedOf = (values: number[]): CountedWindow => oneFeatureWindow(values, profile);

/** The window's most frequent value as the SQL counts it (ties: the largest), with its runs. */
function counted(values: number[]): TopValue {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let value = Number.NEGATIVE_INFINITY;
  let top = 0;
  for (const [v, c] of counts)
    if (c > top || (c === top && v > value)) {
      value = v;
      top = c;
    }
  return { value, share: top / values.length, runs: valueRuns(values, value) };
}

describe("a screened window's verdicts", () => {
  it('are the counted window’s on every window: spread, spiky, stuck, at a ceiling, small', () => {
    const random = new Random(20261207);
    const seen = { bins: 0, belowBar: 0, counted: 0, flagged: 0 };
    // A policy's stuck bar sets both the follow-ups and the check (policy/data-quality-bars.ts).
    const policies = [undefined, { stuckShareIncrease: 0.1 }, { stuckShareIncrease: 0.3 }];
    for (let trial = 0; trial < 1500; trial++) {
      const n = [20, 37, 100, 400][trial % 4]!;
      const sd = [6, 12, 18, 3][random.integer(0, 3)]!;
      let values = sensor(random, n, random.uniform(10, 30), sd);
      // A spike at one value: its share around the bar, in a stretch or interleaved.
      const share = random.uniform(0, 0.6);
      const spike = [23.45, 40, profile.topValue ?? 20, 0][random.integer(0, 3)]!;
      const stretch = random.bernoulli(0.5);
      const from = random.integer(0, n - 1);
      values = values.map((v, i) =>
        stretch ? (i >= from && i < from + share * n ? spike : v) : random.bernoulli(share) ? spike : v,
      );
      const window = countedOf(values);
      for (const policy of policies) {
        const followUps = windowFollowUps(reference, window, followUpBarsOf(policy));
        const exact = Object.fromEntries(followUps.stuckCandidates.map((c) => [c.name, counted(values)]));
        // What a read answers (the repositories' contract): below the bar, or the counted value.
        const answers: Record<string, TopValue | BelowCountBar | null> = {};
        for (const c of stuckValuesToCount(followUps)) {
          const top = exact[c.name]!;
          answers[c.name] = Math.round(top.share * c.finite) < c.countBar ? 'below-count-bar' : top;
        }
        const reads = stuckValueReads(followUps, answers);
        for (const c of followUps.stuckCandidates) {
          const read = reads[c.name]!;
          if ('shareAtMost' in read) {
            // Honest: at least the counted share; and under the bar, so the check could not flag it.
            expect(read.shareAtMost).toBeGreaterThanOrEqual(exact[c.name]!.share);
            expect(read.shareAtMost * c.finite).toBeLessThan(c.countBar);
            if (c.fullestBin < c.countBar) seen.bins += 1;
            else seen.belowBar += 1;
          } else seen.counted += 1;
        }
        for (const aware of [{}, { stuck_shift_aware: true }, { stuck_shift_aware: true, stuck_order_aware: true }]) {
          const thresholds = { ...DEFAULT_QUALITY_THRESHOLDS, ...qualityThresholdsOf(policy), ...aware };
          const screened = windowQualityCounts(reference, window, reads).map((q) => featureChecks(q, thresholds));
          const full = windowQualityCounts(reference, window, exact).map((q) => featureChecks(q, thresholds));
          expect(screened).toEqual(full);
          if (full.flat().some((c) => c.check === 'stuck-value' || c.check === 'frequent-value')) seen.flagged += 1;
        }
      }
    }
    // Not vacuous: candidates settled by their bins, by the ranks, and counted; and flagged windows.
    expect(seen.bins).toBeGreaterThan(50);
    expect(seen.belowBar).toBeGreaterThan(50);
    expect(seen.counted).toBeGreaterThan(50);
    expect(seen.flagged).toBeGreaterThan(50);
  });

  it('carry the bound into the report where the share was not counted, and nothing else', () => {
    const random = new Random(11);
    // The spread doubled: the tail bins gain, no value repeats much.
    const values = sensor(random, 400, 20, 12);
    const window = countedOf(values);
    const followUps = windowFollowUps(reference, window);
    expect(followUps.stuckCandidates.map((c) => c.name)).toEqual(['x']);
    const [candidate] = followUps.stuckCandidates;
    expect(candidate!.finite).toBe(400);
    expect(candidate!.fullestBin).toBe(Math.max(...(window.features.x as NumericCounts).counts));
    expect(candidate!.countBar).toBe(stuckCountBar(400, profile.topShare!, 0.2));
    const reads = stuckValueReads(followUps, {});
    const bound = Math.min(candidate!.fullestBin, candidate!.countBar - 1) / 400;
    expect(reads).toEqual({ x: { shareAtMost: bound } });
    const [x] = windowQualityCounts(reference, window, reads);
    expect(x).toMatchObject({ top_value_share_at_most: bound });
    expect(x!.top_value_share).toBeUndefined();
    expect(x!.top_value).toBeUndefined();
    const report = dataQualityReport({ rows: 400, dead_lettered: 0, features: [x!] });
    expect(report.features[0]).toMatchObject({ top_value_share: null, top_value_share_at_most: bound });
    // A counted share carries no bound.
    const exact = windowQualityCounts(reference, window, { x: counted(values) });
    expect(exact[0]!.top_value_share_at_most).toBeUndefined();
    expect(dataQualityReport({ rows: 400, dead_lettered: 0, features: exact }).features[0]).not.toHaveProperty(
      'top_value_share_at_most',
    );
  });
});
