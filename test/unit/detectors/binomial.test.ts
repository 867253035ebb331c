import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Random } from '../../../detectors/random.ts';
import { binomial, multinomialCounts } from '../../../detectors/sampling/binomial.ts';

interface Bin {
  low: number;
  high: number;
  probability: number;
}
interface Case {
  n: number;
  p: number;
  samples: number;
  bins: Bin[];
  critical: number;
  mean: number;
  variance: number;
}
const fixture = JSON.parse(readFileSync(new URL('../../fixtures/sampling/binomial.json', import.meta.url), 'utf8')) as {
  cases: Case[];
  multinomial: { n: number; p: number[]; samples: number; mean: number[]; covariance: number[][] };
};

/** Pearson's chi-square statistic of the draws against the case's bins. */
function chiSquare(draws: Int32Array, bins: readonly Bin[]): number {
  const observed = new Float64Array(bins.length);
  for (const k of draws) {
    // Bins are sorted and contiguous: binary search.
    let lo = 0;
    let hi = bins.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (k > (bins[mid] as Bin).high) lo = mid + 1;
      else hi = mid;
    }
    const j = k >= (bins[lo] as Bin).low && k <= (bins[lo] as Bin).high ? lo : -1;
    if (j < 0) throw new Error(`draw ${k} outside every bin`);
    observed[j]! += 1;
  }
  let statistic = 0;
  bins.forEach((b, j) => {
    const expected = b.probability * draws.length;
    statistic += ((observed[j] as number) - expected) ** 2 / expected;
  });
  return statistic;
}

describe('binomial sampler against scipy.stats.binom (test/fixtures/sampling/generate_binomial.py)', () => {
  it.each(fixture.cases.map((c) => [`n=${c.n} p=${c.p}`, c] as const))(
    '%s: chi-square below its α = 0.001 critical value, mean and variance within 5 standard errors',
    (_name, c) => {
      const random = new Random(20240611 + c.n);
      const draws = Int32Array.from({ length: c.samples }, () => binomial(random, c.n, c.p));
      expect(draws.every((k) => k >= 0 && k <= c.n)).toBe(true);
      if (c.bins.length > 1) expect(chiSquare(draws, c.bins)).toBeLessThan(c.critical);
      const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
      const variance = draws.reduce((a, b) => a + (b - mean) ** 2, 0) / (draws.length - 1);
      expect(Math.abs(mean - c.mean)).toBeLessThan(5 * Math.sqrt(c.variance / c.samples) + 1e-12);
      // The sample variance's standard error ≈ σ²·√(2/(N−1)) for a near-normal variate.
      expect(Math.abs(variance - c.variance)).toBeLessThan(5 * c.variance * Math.sqrt(2 / (c.samples - 1)) + 1e-12);
    },
  );

  it('fails the chi-square test for a sampler off by one (the test can fail)', () => {
    const c = fixture.cases.find((x) => x.n === 1000 && x.p === 0.05)!;
    const random = new Random(1);
    const shifted = Int32Array.from({ length: c.samples }, () => binomial(random, c.n, c.p) + 1);
    expect(chiSquare(shifted, c.bins)).toBeGreaterThan(c.critical);
  });

  it('handles the degenerate cases and rejects bad arguments', () => {
    const random = new Random(3);
    expect(binomial(random, 0, 0.4)).toBe(0);
    expect(binomial(random, 17, 0)).toBe(0);
    expect(binomial(random, 17, 1)).toBe(17);
    expect(() => binomial(random, -1, 0.5)).toThrow(/non-negative integer/);
    expect(() => binomial(random, 2.5, 0.5)).toThrow(/non-negative integer/);
    expect(() => binomial(random, 10, 1.5)).toThrow(/\[0, 1\]/);
    expect(() => binomial(random, 10, Number.NaN)).toThrow(/\[0, 1\]/);
  });

  it('is deterministic for a seed', () => {
    const a = new Random(5);
    const b = new Random(5);
    const xs = Array.from({ length: 50 }, () => binomial(a, 1_000_000, 0.03));
    expect(Array.from({ length: 50 }, () => binomial(b, 1_000_000, 0.03))).toEqual(xs);
  });
});

describe('multinomial counts against scipy.stats.multinomial', () => {
  it('sum to n, with means and covariances within 5 standard errors', () => {
    const m = fixture.multinomial;
    const random = new Random(77);
    const k = m.p.length;
    const sums = new Float64Array(k);
    const draws: Int32Array[] = [];
    for (let s = 0; s < m.samples; s++) {
      const counts = multinomialCounts(random, m.n, m.p);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(m.n);
      draws.push(counts);
      for (let j = 0; j < k; j++) sums[j]! += counts[j] as number;
    }
    const means = Array.from(sums, (x) => x / m.samples);
    for (let i = 0; i < k; i++) {
      const varI = m.covariance[i]![i]!;
      expect(Math.abs(means[i]! - m.mean[i]!)).toBeLessThan(5 * Math.sqrt(varI / m.samples));
      for (let j = i; j < k; j++) {
        let cov = 0;
        for (const d of draws) cov += ((d[i] as number) - means[i]!) * ((d[j] as number) - means[j]!);
        cov /= m.samples - 1;
        const expected = m.covariance[i]![j]!;
        // se of a sample covariance ≈ √((σᵢ²σⱼ² + σᵢⱼ²)/(N−1)) for near-normal variates.
        const se = Math.sqrt((varI * m.covariance[j]![j]! + expected * expected) / (m.samples - 1));
        expect(Math.abs(cov - expected)).toBeLessThan(5 * se);
      }
    }
  });
});
