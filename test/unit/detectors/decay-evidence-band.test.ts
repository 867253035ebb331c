import { describe, expect, it } from 'vitest';
import { decayCurveBand, fitDecay, halfLifeEvidence } from '../../../detectors/decay/index.ts';
import { Random } from '../../../detectors/random.ts';

/** Windows of a version decaying toward 0.7 with half-life `h`, binomial-like noise at `events` per window. */
function windows(count: number, h: number, events: number, seed = 3) {
  const random = new Random(seed);
  return Array.from({ length: count }, (_, i) => {
    const age = (i + 1) * 1.5;
    const q = 0.7 + 0.22 * 2 ** (-age / h);
    return { ageHours: age, quality: q + random.normal(0, Math.sqrt((q * (1 - q)) / events)), weight: events };
  });
}

describe('halfLifeEvidence: a half-life is reported only with the evidence for one', () => {
  it('reports an exponential fit with enough windows and a bounded interval', () => {
    const fit = fitDecay(windows(30, 12, 2000));
    expect(fit.model).toBe('exponential');
    expect(fit.halfLifeInterval?.upper).not.toBeNull();
    expect(halfLifeEvidence(fit)).toEqual({ reportable: true, reason: fit.reason });
  });

  it('does not report a straight line through two windows, though the fit carries a half-life', () => {
    const fit = fitDecay([
      { ageHours: 0.02, quality: 0.942, weight: 120 },
      { ageHours: 0.03, quality: 0.936, weight: 120 },
    ]);
    expect(fit.model).toBe('linear');
    expect(fit.halfLifeHours).not.toBeNull();
    expect(halfLifeEvidence(fit)).toEqual({
      reportable: false,
      reason: 'only 2 windows of this version: a half-life needs at least 4',
    });
  });

  it('does not report a line, a flat version, an open interval or no fit', () => {
    const line = fitDecay(
      Array.from({ length: 12 }, (_, i) => ({ ageHours: i, quality: 0.95 - 0.004 * i, weight: 5000 })),
    );
    expect(line.model).toBe('linear');
    expect(halfLifeEvidence(line).reportable).toBe(false);
    expect(halfLifeEvidence(line).reason).toMatch(/^a straight-line fit has no half-life of its own/);
    const flat = fitDecay(Array.from({ length: 12 }, (_, i) => ({ ageHours: i, quality: 0.94, weight: 500 })));
    expect(halfLifeEvidence(flat)).toMatchObject({
      reportable: false,
      reason: expect.stringMatching(/^no decay detected/),
    });
    const fit = fitDecay(windows(30, 12, 2000));
    const open = { ...fit, halfLifeInterval: { ...fit.halfLifeInterval!, upper: null } };
    expect(halfLifeEvidence(open).reason).toMatch(/no upper bound/);
    expect(halfLifeEvidence(null)).toEqual({ reportable: false, reason: 'no decay fit yet' });
  });
});

describe('decayCurveBand: the fitted curve with its band over the observed ages', () => {
  it('holds the curve inside its band, and the band narrows with more events per window', () => {
    const ages = Array.from({ length: 20 }, (_, i) => 1.5 + i * 2);
    const width = (events: number) => {
      const fit = fitDecay(windows(30, 12, events));
      expect(fit.model).toBe('exponential');
      const band = decayCurveBand(fit, ages);
      expect(band).toHaveLength(ages.length);
      for (const p of band) {
        expect(p.lower!).toBeLessThan(p.quality);
        expect(p.upper!).toBeGreaterThan(p.quality);
      }
      return band.reduce((s, p) => s + (p.upper! - p.lower!), 0) / band.length;
    };
    expect(width(500)).toBeGreaterThan(width(20000));
  });

  it('gives a line its band from the slope error, and no band to a line through two points', () => {
    const line = fitDecay(
      Array.from({ length: 12 }, (_, i) => ({
        ageHours: i,
        quality: 0.95 - 0.004 * i + (i % 2 ? 0.003 : -0.003),
        weight: 500,
      })),
    );
    const band = decayCurveBand(line, [0, 5, 11]);
    expect(band[2]!.upper! - band[2]!.lower!).toBeGreaterThan(band[0]!.upper! - band[0]!.lower!);
    const two = fitDecay([
      { ageHours: 0.02, quality: 0.942, weight: 120 },
      { ageHours: 0.03, quality: 0.936, weight: 120 },
    ]);
    expect(decayCurveBand(two, [0.02, 0.03]).every((p) => p.lower === null && p.upper === null)).toBe(true);
    expect(decayCurveBand(fitDecay([]), [1, 2])).toEqual([]);
  });
});
