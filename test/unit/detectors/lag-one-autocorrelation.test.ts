import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lagOneSums } from '../../../detectors/economics/lag-one.ts';
import { lossPersistence } from '../../../detectors/economics/persistence.ts';
import type { QualityWindow } from '../../../detectors/economics/staleness.ts';
import { weightedLineResiduals } from '../../../detectors/economics/weighted-line.ts';

/**
 * The persistence estimate's lag-1 autocorrelation against statsmodels (fixture:
 * test/fixtures/economics/generate_lag_one.py → lag_one.json, statsmodels 0.14.5).
 *
 * What should equal the textbook: with windows of equal events at equal spacing, the
 * event-weighted line is statsmodels' least-squares detrend (order 1), and Σ d_t d_(t+1) ÷ Σ d_t²
 * over its residuals is statsmodels' acf at lag 1 (adjusted=False; the residuals have mean zero,
 * so acf's demeaning is a no-op). Tolerance 1e-10: the same sums in another order.
 *
 * Where the estimate differs by design (checked below against the textbook figure, corrected):
 * residuals are standardised by each window's binomial error; the lag sum is averaged over pairs
 * (n − 1) and the squares over degrees of freedom (n − 2, a line is fitted), not both over n; the
 * sampling variance (1 per standardised window) is taken off the denominator, so it is the
 * autocorrelation of the wandering beyond sampling noise, not of the observed series; it is
 * clipped to [0, 0.95]; and pooled over stretches, with no pair straddling two.
 */

interface Case {
  name: string;
  series: number[];
  detrended: number[];
  acf_lag1: number;
  sum_squares: number;
  sum_lag_products: number;
}

const fixture = JSON.parse(
  readFileSync(path.join(import.meta.dirname, '../../fixtures/economics/lag_one.json'), 'utf8'),
) as { versions: Record<string, string>; cases: Case[] };

const WEEK = 7 * 86_400_000;
const T0 = Date.parse('2026-01-05T00:00:00Z');

/** Weekly windows of equal events, one per value. */
function windows(values: readonly number[], events: number): (QualityWindow & { quality: number })[] {
  return values.map((quality, i) => ({ start: T0 + i * WEEK, end: T0 + (i + 1) * WEEK, events, quality }));
}

describe('lag-1 autocorrelation against statsmodels', () => {
  it('covers the cases the brief names', () => {
    expect(fixture.versions.statsmodels).toBe('0.14.5');
    expect(fixture.cases.map((c) => c.name)).toEqual([
      'white-noise',
      'ar1-0.3',
      'ar1-0.8',
      'trend-plus-ar1-0.5',
      'short-ar1-0.5',
    ]);
  });

  for (const c of fixture.cases) {
    it(`${c.name}: the detrend is statsmodels' and Σ lag products ÷ Σ squares is its acf(1) (1e-10)`, () => {
      const residuals = weightedLineResiduals(windows(c.series, 1));
      residuals.forEach((r, i) => expect(Math.abs(r - (c.detrended[i] as number))).toBeLessThan(1e-10));
      const sums = lagOneSums([residuals]);
      expect(sums.values).toBe(c.series.length);
      expect(sums.pairs).toBe(c.series.length - 1);
      expect(Math.abs(sums.sumSquares - c.sum_squares) / c.sum_squares).toBeLessThan(1e-10);
      expect(Math.abs(sums.sumLagProducts / sums.sumSquares - c.acf_lag1)).toBeLessThan(1e-10);
    });
  }

  it('pools stretches without pairing the end of one with the start of the next', () => {
    const [a, b] = [fixture.cases[1] as Case, fixture.cases[2] as Case];
    const pooled = lagOneSums([a.detrended, b.detrended]);
    expect(pooled.pairs).toBe(a.detrended.length - 1 + b.detrended.length - 1);
    const expected = (a.sum_lag_products + b.sum_lag_products) / (a.sum_squares + b.sum_squares);
    expect(Math.abs(pooled.sumLagProducts / pooled.sumSquares - expected)).toBeLessThan(1e-10);
    // Run together as one stretch, the seam adds one product that pooling must leave out.
    const joined = lagOneSums([[...a.detrended, ...b.detrended]]);
    const seam = (a.detrended.at(-1) as number) * (b.detrended[0] as number);
    expect(Math.abs(joined.sumLagProducts - pooled.sumLagProducts - seam)).toBeLessThan(1e-10);
  });

  for (const c of fixture.cases) {
    it(`${c.name}: lossPersistence's autocorrelation is acf(1) with the documented corrections (1e-3)`, () => {
      // Quality 0.5 ± 0.005, so every window's binomial error is √(0.25 / events) to within 1e-4
      // relative (p(1 − p) = 0.25 − δ², δ ≤ 0.005): standardising is then one common factor k.
      const scale = 0.005 / Math.max(...c.series.map(Math.abs));
      const n = c.series.length;
      // Events enough that the wandering is ~100× the sampling variance (far above the dispersion bar).
      const events = Math.ceil((100 * (n - 2)) / (4 * scale * scale * c.sum_squares));
      const result = lossPersistence(
        windows(
          c.series.map((x) => 0.5 + scale * x),
          events,
        ),
        { retrainTimes: [], currentStepAt: null },
      );
      // Standardising multiplies every square and product by k = 1 / (0.25 / events) × scale².
      const k = 4 * events * scale * scale;
      const dispersion = (k * c.sum_squares) / (n - 2);
      const lagMean = (k * c.acf_lag1 * c.sum_squares) / (n - 1);
      const expected = Math.min(0.95, Math.max(0, lagMean / (dispersion - 1)));
      expect(result.pairs).toBe(n - 1);
      expect(Math.abs((result.dispersion as number) / dispersion - 1)).toBeLessThan(1e-3);
      expect(result.autocorrelation).not.toBeNull();
      expect(Math.abs((result.autocorrelation as number) - expected)).toBeLessThan(1e-3);
    });
  }
});
