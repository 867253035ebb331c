// Edge cases and properties of the drift statistics that do not need scipy: identical
// samples, disjoint supports, ties, constant columns, one category, all-missing,
// n = 1 and 2, and brute-force cross-checks of the KS statistic and exact p-value.
import { describe, expect, it } from 'vitest';
import {
  compareFeature,
  chiSquareHomogeneity,
  ksExactPValue,
  ksTwoSample,
  wassersteinDistance,
  logBinomial,
  smirnovOneSidedSurvival,
  UNSEEN_CATEGORY,
} from '../../../detectors/drift/index.ts';
import { normalSample, seededRandom } from '../../fixtures/drift/seeded-random.ts';

/** KS statistic by definition: max over all observed x of |F_a(x) − F_b(x)|, O(n²). */
function bruteForceKs(a: number[], b: number[]): number {
  let d = 0;
  for (const x of [...a, ...b]) {
    const fa = a.filter((v) => v <= x).length / a.length;
    const fb = b.filter((v) => v <= x).length / b.length;
    d = Math.max(d, Math.abs(fa - fb));
  }
  return d;
}

/** All ways to choose k of n positions (as index sets). */
function* combinations(n: number, k: number, start = 0, chosen: number[] = []): Generator<number[]> {
  if (chosen.length === k) {
    yield chosen;
    return;
  }
  for (let i = start; i <= n - (k - chosen.length); i++) yield* combinations(n, k, i + 1, [...chosen, i]);
}

describe('KS statistic and exact p-value against brute force', () => {
  it('statistic equals the definition on tied integer data (200 random pairs)', () => {
    const random = seededRandom(7);
    for (let trial = 0; trial < 200; trial++) {
      const n1 = 1 + Math.floor(random() * 15);
      const n2 = 1 + Math.floor(random() * 15);
      const a = Array.from({ length: n1 }, () => Math.floor(random() * 5));
      const b = Array.from({ length: n2 }, () => Math.floor(random() * 6));
      // Rational numbers i/n1 − j/n2 computed the same way: exact to the last bit.
      expect(ksTwoSample(a, b).statistic).toBeCloseTo(bruteForceKs(a, b), 14);
    }
  });

  it('exact p-value equals the share of all C(m+n, n) orderings with D ≥ d (m = 6, n = 4 and 5 vs 5)', () => {
    for (const [m, n] of [
      [6, 4],
      [5, 5],
      [7, 3],
    ] as const) {
      const total = m + n;
      const statistics: number[] = [];
      for (const picked of combinations(total, m)) {
        const inA = new Set(picked);
        const a: number[] = [];
        const b: number[] = [];
        for (let i = 0; i < total; i++) (inA.has(i) ? a : b).push(i);
        statistics.push(bruteForceKs(a, b));
      }
      for (const d of new Set(statistics)) {
        const share = statistics.filter((s) => s >= d - 1e-12).length / statistics.length;
        const lcm = (m * n) / gcd(m, n);
        // The recursion is exact; only rounding of ~m·n operations separates the two.
        expect(ksExactPValue(m, n, Math.round(d * lcm))).toBeCloseTo(share, 12);
      }
    }
  });

  it('is symmetric in its arguments', () => {
    const random = seededRandom(11);
    const a = normalSample(random, 137);
    const b = normalSample(random, 89, 0.3);
    expect(ksTwoSample(a, b)).toEqual(ksTwoSample(b, a));
  });

  it('throws on an empty sample, as scipy does', () => {
    expect(() => ksTwoSample([], [1])).toThrow(RangeError);
  });

  // Its speed (~0.5 s here, the worst case of the band recursion) is a benchmark matter, not a test's.
  it('exact mode works at the 10,000-value limit with a large statistic', () => {
    const a = Array.from({ length: 10_000 }, (_, i) => i);
    const b = Array.from({ length: 9_999 }, (_, i) => i + 5_000);
    const result = ksTwoSample(a, b);
    expect(result.method).toBe('exact');
    expect(result.statistic).toBeCloseTo(0.5, 3);
    expect(result.pvalue).toBeLessThan(1e-100);
  });
});

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

describe('compareFeature edge cases (numeric)', () => {
  it('identical samples: zero effect sizes, p = 1, not drifted', () => {
    const x = Array.from(normalSample(seededRandom(1), 500));
    const r = compareFeature(x, x, { name: 'x' });
    expect(r.ks).toEqual({ statistic: 0, pvalue: 1 });
    expect(r.wasserstein).toEqual({ distance: 0, normalized: 0 });
    expect(r.psi).toBe(0);
    expect(r.jensen_shannon).toBe(0);
    expect(r.hellinger).toBe(0);
    expect(r.drifted).toBe(false);
  });

  it('disjoint supports: D = 1, JS = Hellinger = 1, drifted', () => {
    const r = compareFeature([1, 2, 3, 4, 5, 6, 7, 8], [101, 102, 103, 104, 105, 106, 107, 108], { name: 'x' });
    expect(r.ks?.statistic).toBe(1);
    // 2 / C(16, 8) = 1/6435 is the exact two-sided p-value for complete separation at n = 8.
    expect(r.ks?.pvalue).toBeCloseTo(2 / 12870, 15);
    expect(r.jensen_shannon).toBe(1);
    expect(r.hellinger).toBe(1);
    expect(r.wasserstein?.distance).toBe(100);
    expect(r.drifted).toBe(true);
  });

  it('constant columns: same constant is no drift; a new constant is drift, normalised by pooled σ', () => {
    const same = compareFeature(new Array(50).fill(3), new Array(60).fill(3));
    expect(same.drifted).toBe(false);
    expect(same.wasserstein).toEqual({ distance: 0, normalized: 0 });
    expect(same.psi).toBe(0);

    const moved = compareFeature(new Array(50).fill(3), new Array(50).fill(4));
    expect(moved.wasserstein?.distance).toBe(1);
    // Reference σ = 0, so W is divided by σ of the pooled sample {3×50, 4×50} = 0.5.
    expect(moved.wasserstein?.normalized).toBeCloseTo(2, 12); // Welford σ: last-bit rounding
    expect(moved.psi).toBeGreaterThan(5);
    expect(moved.drifted).toBe(true);
  });

  it('n = 1 and n = 2: computed, never significant', () => {
    const one = compareFeature([1], [5]);
    expect(one.ks).toEqual({ statistic: 1, pvalue: 1 });
    expect(one.tested).toBe(true);
    expect(one.effect_size_exceeded).toBe(true);
    expect(one.drifted).toBe(false);
    const two = compareFeature([1, 2], [10, 11]);
    // Complete separation of 2 vs 2: 2 of the C(4,2) = 6 orderings ⇒ p = 1/3.
    expect(two.ks?.pvalue).toBeCloseTo(1 / 3, 15);
    expect(two.drifted).toBe(false);
  });

  it('all-missing current window: untested, no p-value, missing counted', () => {
    const r = compareFeature([1, 2, 3], [null, Number.NaN, undefined, Number.POSITIVE_INFINITY], {
      name: 'x',
      kind: 'numeric',
    });
    expect(r.tested).toBe(false);
    expect(r.pvalue).toBeNull();
    expect(r.drifted).toBe(false);
    expect(r.missing_current).toBe(4);
    expect(r.n_current).toBe(0);
    expect(r.ks).toBeUndefined();
  });

  it('missing values are excluded from the tests and counted', () => {
    const withHoles = compareFeature([1, null, 2, 3, Number.NaN], [1, 2, 3, null]);
    const clean = compareFeature([1, 2, 3], [1, 2, 3]);
    expect(withHoles.ks).toEqual(clean.ks);
    expect(withHoles.missing_reference).toBe(2);
    expect(withHoles.missing_current).toBe(1);
    expect(withHoles.n_reference).toBe(3);
  });

  it('results are JSON-safe (no NaN or Infinity anywhere)', () => {
    const results = [
      compareFeature([1], [1]),
      compareFeature([1, 1, 1], [2, 2, 2]),
      compareFeature(['a'], ['b']),
      compareFeature([null], [null], { kind: 'numeric' }),
    ];
    for (const r of results) {
      const text = JSON.stringify(r);
      // NaN/Infinity would serialise as null and break the round trip.
      expect(JSON.parse(text)).toEqual(r);
    }
  });
});

describe('Wasserstein properties', () => {
  it('a pure shift by c moves W by exactly |c|; scaling multiplies W', () => {
    const x = Array.from(normalSample(seededRandom(3), 300));
    expect(
      wassersteinDistance(
        x,
        x.map((v) => v + 2.5),
      ),
    ).toBeCloseTo(2.5, 12);
    const y = Array.from(normalSample(seededRandom(4), 200));
    expect(
      wassersteinDistance(
        x.map((v) => 3 * v),
        y.map((v) => 3 * v),
      ),
    ).toBeCloseTo(3 * wassersteinDistance(x, y), 12);
  });
});

describe('compareFeature edge cases (categorical)', () => {
  it('one category on both sides: dof 0, p = 1, zero effect', () => {
    const r = compareFeature(['a', 'a', 'a'], ['a', 'a']);
    expect(r.kind).toBe('categorical');
    expect(r.chi2).toEqual({ statistic: 0, pvalue: 1, dof: 0 });
    expect(r.linf).toBe(0);
    expect(r.drifted).toBe(false);
  });

  it('categories unseen in the reference are listed and pooled into __unseen__', () => {
    const reference = [...new Array(300).fill('a'), ...new Array(300).fill('b')];
    const current = [
      ...new Array(200).fill('a'),
      ...new Array(200).fill('b'),
      ...new Array(150).fill('c'),
      ...new Array(50).fill('d'),
    ];
    const r = compareFeature(reference, current, { name: 'country' });
    expect(r.unseen_categories).toEqual(['c', 'd']);
    expect(r.unseen_count).toBe(200);
    // Shares: a 0.5→1/3, b 0.5→1/3, __unseen__ 0→1/3 ⇒ L∞ = 1/3; 3 categories ⇒ dof 2.
    expect(r.linf).toBeCloseTo(1 / 3, 12);
    expect(r.chi2?.dof).toBe(2);
    expect(r.drifted).toBe(true);
  });

  it('a literal __unseen__ label in the reference is merged with the pool, not duplicated', () => {
    const r = compareFeature(['a', UNSEEN_CATEGORY], ['a', 'zzz']);
    expect(r.chi2?.dof).toBe(1);
    expect(r.unseen_categories).toEqual(['zzz']);
  });

  it('a category empty on both sides is dropped from the chi-square table', () => {
    expect(chiSquareHomogeneity([10, 0, 5], [8, 0, 9])).toEqual(chiSquareHomogeneity([10, 5], [8, 9]));
  });

  it('all-missing categorical column is untested', () => {
    const r = compareFeature(['a', 'b'], [null, null], { kind: 'categorical' });
    expect(r.tested).toBe(false);
    expect(r.missing_current).toBe(2);
    expect(r.pvalue).toBeNull();
  });
});

describe('one-sided Smirnov tail: fast strided sum vs the full Birnbaum–Tingey sum', () => {
  /** Every term, exact log-binomials, no shortcuts: O(n) log-gamma calls. */
  function fullSum(n: number, x: number): number {
    const terms: number[] = [];
    for (let j = 0; j <= Math.floor(n * (1 - x)); j++) {
      const left = 1 - x - j / n;
      if (left <= 0) continue;
      terms.push(logBinomial(n, j) + (n - j) * Math.log(left) + (j - 1) * Math.log(x + j / n));
    }
    const max = terms.reduce((a, b) => Math.max(a, b), -Infinity);
    const sum = terms.reduce((s, t) => s + Math.exp(t - max), 0);
    return x * sum * Math.exp(max);
  }

  for (const [n, x] of [
    [300, 0.1],
    [20_000, 0.012],
    [200_000, 0.004],
    [200_000, 0.01],
    [50_000, 0.3],
  ] as const) {
    it(`n = ${n}, x = ${x}`, () => {
      const expected = fullSum(n, x);
      // Trapezoid over a smooth bump with h = σ/8 is exponentially accurate; the remaining
      // differences are log-gamma rounding (~1e-16·log n! ≈ 1e-10 relative at n = 2e5).
      expect(Math.abs(smirnovOneSidedSurvival(n, x) - expected)).toBeLessThanOrEqual(1e-9 * expected);
    });
  }
});
