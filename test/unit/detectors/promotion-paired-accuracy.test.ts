import { describe, expect, it } from 'vitest';
import { pairedAccuracy } from '../../../detectors/promotion/paired-accuracy.ts';

/** The Wilson score interval written out (95%). */
function wilson(p: number, n: number): { lower: number; upper: number } {
  const z = 1.959963984540054;
  const denom = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denom;
  return { lower: centre - half, upper: centre + half };
}

describe('pairedAccuracy', () => {
  it('gives each side its Wilson interval and the mean difference a normal interval', () => {
    const out = pairedAccuracy({ n: 800, candidate: 0.81, champion: 0.78, differenceMean: 0.03, differenceSd: 0.3 });
    for (const [side, p] of [
      ['candidate', 0.81],
      ['champion', 0.78],
    ] as const) {
      const expected = wilson(p, 800);
      expect(out[side].value).toBe(p);
      expect(out[side].lower).toBeCloseTo(expected.lower, 12);
      expect(out[side].upper).toBeCloseTo(expected.upper, 12);
    }
    const se = 0.3 / Math.sqrt(800);
    expect(out.difference.value).toBe(0.03);
    expect(out.difference.lower).toBeCloseTo(0.03 - 1.959963984540054 * se, 12);
    expect(out.difference.upper).toBeCloseTo(0.03 + 1.959963984540054 * se, 12);
  });

  it('has no difference interval when the differences have no spread estimate (one event)', () => {
    const out = pairedAccuracy({ n: 1, candidate: 1, champion: 0, differenceMean: 1, differenceSd: null });
    expect(out.difference).toEqual({ value: 1, lower: null, upper: null });
    expect(out.candidate.upper).toBe(1);
    expect(out.champion.lower).toBe(0);
  });
});
