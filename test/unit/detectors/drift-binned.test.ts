// Binned (push-down) path: edge construction, counting, binned KS / Wasserstein against
// their raw counterparts, and the O(bins) cost on a million values.
import { describe, expect, it } from 'vitest';
import {
  binIndex,
  compareBinnedFeature,
  compareFeature,
  countIntoBins,
  categoricalProfile,
  ksFromBinnedCounts,
  ksTwoSample,
  nextUp,
  numericReferenceProfile,
  numericWindowCounts,
  proportions,
  referenceBinEdges,
  wassersteinDistance,
  wassersteinFromBinnedCounts,
} from '../../../detectors/drift/index.ts';
import { normalSample, seededRandom } from '../../fixtures/drift/seeded-random.ts';

describe('referenceBinEdges', () => {
  it('starts at the reference minimum, ends just above its maximum, strictly increasing', () => {
    const x = Array.from(normalSample(seededRandom(21), 1000));
    const cuts = referenceBinEdges(x, 10);
    expect(cuts).toHaveLength(11);
    expect(cuts[0]).toBe(Math.min(...x));
    expect(cuts[cuts.length - 1]).toBe(nextUp(Math.max(...x)));
    for (let i = 1; i < cuts.length; i++) expect(cuts[i]).toBeGreaterThan(cuts[i - 1] ?? Infinity);
    // Reference counts: nothing in the open outer bins, ~10% in each quantile bin.
    const counts = countIntoBins(x, cuts);
    expect(counts[0]).toBe(0);
    expect(counts[counts.length - 1]).toBe(0);
    for (const c of counts.slice(1, -1)) expect(Math.abs(c - 100)).toBeLessThanOrEqual(1);
  });

  it('dedupes tied quantiles (few distinct values) and handles a constant column', () => {
    const ties = [...new Array(90).fill(0), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const cuts = referenceBinEdges(ties, 20);
    expect(new Set(cuts).size).toBe(cuts.length);
    expect(cuts.length).toBeLessThan(21);
    expect(referenceBinEdges([7, 7, 7], 20)).toEqual([7, nextUp(7)]);
    // Constant reference: a shift either way lands outside the reference's bin.
    expect(countIntoBins([6, 7, 8], [7, nextUp(7)])).toEqual([1, 1, 1]);
  });

  it('ignores non-finite values and returns no cuts for an empty reference', () => {
    expect(referenceBinEdges([Number.NaN, Number.POSITIVE_INFINITY], 5)).toEqual([]);
    expect(referenceBinEdges([1, Number.NaN, 2], 1)).toEqual([1, nextUp(2)]);
    expect(() => referenceBinEdges([1], 0)).toThrow(RangeError);
  });

  it('nextUp is the next double (also for negatives and zero)', () => {
    expect(nextUp(1)).toBe(1 + Number.EPSILON);
    expect(nextUp(-1)).toBeGreaterThan(-1);
    expect(nextUp(-1) - -1).toBeLessThan(Number.EPSILON);
    expect(nextUp(0)).toBe(Number.MIN_VALUE);
  });
});

describe('countIntoBins (the contract the SQL side implements)', () => {
  it('bin index = number of cuts ≤ x: values equal to a cut go right', () => {
    const cuts = [0, 1, 2];
    expect([-5, 0, 0.5, 1, 1.999, 2, 99].map((x) => binIndex(x, cuts))).toEqual([0, 1, 1, 2, 2, 3, 3]);
    expect(countIntoBins([-5, 0, 0.5, 1, 2, 99, null, Number.NaN], cuts)).toEqual([1, 2, 1, 2]);
  });

  it('agrees with a linear scan on random data', () => {
    const random = seededRandom(5);
    const cuts = referenceBinEdges(normalSample(random, 500), 13);
    const values = Array.from(normalSample(random, 2000, 0.2, 1.3));
    const scan = new Array<number>(cuts.length + 1).fill(0);
    for (const v of values) {
      const index = cuts.filter((c) => c <= v).length;
      scan[index] = (scan[index] ?? 0) + 1;
    }
    expect(countIntoBins(values, cuts)).toEqual(scan);
  });
});

describe('binned KS and Wasserstein vs raw', () => {
  const random = seededRandom(99);
  const scenarios = [
    { label: 'no change', shift: 0, sd: 1 },
    { label: 'shift 0.1σ', shift: 0.1, sd: 1 },
    { label: 'shift 0.5σ', shift: 0.5, sd: 1 },
    { label: 'spread ×1.5', shift: 0, sd: 1.5 },
    { label: 'shift 2σ', shift: 2, sd: 1 },
  ];
  for (const s of scenarios) {
    it(s.label, () => {
      const ref = normalSample(random, 5000);
      const cur = normalSample(random, 4000, s.shift, s.sd);
      const profile = numericReferenceProfile(ref, 20);
      const window = numericWindowCounts(cur, profile.cuts);

      // D over the cuts is a sup over a subset of points: never above the raw D.
      const raw = ksTwoSample(ref, cur, { method: 'asymptotic' });
      const binned = ksFromBinnedCounts(profile.counts, window.counts);
      expect(binned.statistic).toBeLessThanOrEqual(raw.statistic + 1e-12);
      // Hence the binned p-value (same asymptotic formula) is conservative.
      expect(binned.pvalue).toBeGreaterThanOrEqual(raw.pvalue - 1e-12);
      // With 5% bins the ECDFs move at most ~one bin's share between cuts.
      expect(raw.statistic - binned.statistic).toBeLessThan(0.05);

      const wRaw = wassersteinDistance(ref, cur);
      const range = {
        min: Math.min(profile.min, window.min ?? Infinity),
        max: Math.max(profile.max, window.max ?? -Infinity),
      };
      const wBinned = wassersteinFromBinnedCounts(profile.cuts, profile.counts, window.counts, range);
      // Documented bound: |W_binned − W_raw| ≤ Σ_k width_k (p_k + q_k).
      const p = proportions(profile.counts);
      const q = proportions(window.counts);
      let bound = 0;
      for (let k = 0; k < p.length; k++) {
        const lo = k === 0 ? range.min : (profile.cuts[k - 1] ?? 0);
        const hi = k === profile.cuts.length ? range.max : (profile.cuts[k] ?? 0);
        bound += (hi - lo) * ((p[k] ?? 0) + (q[k] ?? 0));
      }
      expect(Math.abs(wBinned - wRaw)).toBeLessThanOrEqual(bound);
      // In practice (normal data, 20 bins) the uniform-within-bin tails overstate W by ≤ ~15%;
      // allow 25% relative plus 0.02 absolute for the sampling-noise level of "no change".
      expect(Math.abs(wBinned - wRaw)).toBeLessThanOrEqual(0.25 * wRaw + 0.02);
    });
  }

  it('binned and raw paths reach the same verdicts and share PSI/JS over the same edges', () => {
    const r = seededRandom(3);
    const ref = normalSample(r, 8000);
    for (const shift of [0, 0.05, 0.3, 1]) {
      const cur = normalSample(r, 6000, shift);
      const rawResult = compareFeature(ref, cur, { name: 'x' });
      const profile = numericReferenceProfile(ref);
      const binnedResult = compareBinnedFeature(profile, numericWindowCounts(cur, profile.cuts), { name: 'x' });
      expect(binnedResult.drifted).toBe(rawResult.drifted);
      // Both paths count into referenceBinEdges(ref, 20), so the binned metrics are identical.
      expect(binnedResult.psi).toBe(rawResult.psi);
      expect(binnedResult.jensen_shannon).toBe(rawResult.jensen_shannon);
      expect(binnedResult.test).toBe('ks_binned');
    }
  });

  it('without a range the open outer bins collapse onto the outer cuts (W shrinks, never grows)', () => {
    const cuts = [0, 1];
    const ref = [0, 10, 0];
    const cur = [0, 0, 10];
    const closed = wassersteinFromBinnedCounts(cuts, ref, cur, { min: 0, max: 5 });
    const open = wassersteinFromBinnedCounts(cuts, ref, cur);
    expect(open).toBeLessThan(closed);
    // Reference uniform on [0,1], current uniform on [1,5]: W = difference of means = 3 − 0.5 = 2.5.
    expect(closed).toBeCloseTo(2.5, 12);
  });

  it('rejects count vectors that do not match the cuts', () => {
    const profile = numericReferenceProfile([1, 2, 3, 4, 5], 2);
    expect(() => compareBinnedFeature(profile, { counts: [1, 2], missing: 0 })).toThrow(RangeError);
    expect(() => compareBinnedFeature(profile, categoricalProfile(['a']))).toThrow(TypeError);
  });
});

describe('scale: one million values', () => {
  // Timings live in bench/drift.ts (BENCHMARKS.md); this checks the large-n behaviour.
  it('counts a 1e6-row window into reference bins and calls a negligible shift no drift', () => {
    const r = seededRandom(1234);
    const reference = numericReferenceProfile(normalSample(r, 1_000_000));
    const current = normalSample(r, 1_000_000, 0.02);
    const counts = numericWindowCounts(current, reference.cuts);
    const result = compareBinnedFeature(reference, counts, { name: 'x' });
    expect(counts.counts.reduce((a, b) => a + b, 0)).toBe(1_000_000);
    // 0.02σ on 1e6 rows is significant (even binned) and negligible: no drift.
    expect(result.pvalue).toBeLessThan(1e-6);
    expect(result.drifted).toBe(false);
  });
});
