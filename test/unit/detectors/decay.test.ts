import { describe, expect, it } from 'vitest';
import {
  fitDecay,
  fitPopulation,
  fitVersionWithPopulation,
  predictQuality,
  qualityLoss,
} from '../../../detectors/decay/index.ts';
import type { DecayFit, QualityObservation } from '../../../detectors/decay/index.ts';
import { everyHours, synthesize, type SyntheticDecay } from './decay-fixtures.ts';

const GRADUAL: Omit<SyntheticDecay, 'seed'> = {
  q0: 0.9,
  floor: 0.6,
  halfLifeHours: 72,
  ages: everyHours(12, 24 * 14),
  eventsPerPoint: 500,
};
const EXPLOSIVE: Omit<SyntheticDecay, 'seed'> = {
  q0: 0.92,
  floor: 0.55,
  halfLifeHours: 6,
  ages: everyHours(2, 72),
  eventsPerPoint: 500,
};
const VARIANCE_GROWING: Omit<SyntheticDecay, 'seed'> = {
  q0: 0.88,
  floor: 0.65,
  halfLifeHours: 120,
  ages: everyHours(12, 24 * 20),
  eventsPerPoint: 500,
  varianceGrowth: 3,
};

function replicate(
  spec: Omit<SyntheticDecay, 'seed'>,
  count: number,
): { fits: DecayFit[]; coverage: number; medianLogError: number } {
  const fits: DecayFit[] = [];
  let covered = 0;
  const errors: number[] = [];
  for (let seed = 1; seed <= count; seed++) {
    const fit = fitDecay(synthesize({ ...spec, seed }));
    fits.push(fit);
    if (fit.model !== 'exponential' || fit.halfLifeHours === null || fit.halfLifeInterval === null) continue;
    errors.push(Math.abs(Math.log(fit.halfLifeHours / spec.halfLifeHours)));
    const { lower, upper } = fit.halfLifeInterval;
    if (lower <= spec.halfLifeHours && (upper === null || upper >= spec.halfLifeHours)) covered++;
  }
  errors.sort((a, b) => a - b);
  return { fits, coverage: covered / count, medianLogError: errors[Math.floor(errors.length / 2)] ?? Infinity };
}

describe('fitDecay on synthetic decays with known half-lives (200 seeded replicates each)', () => {
  it('recovers a gradual decay: median error < 15%, 90% intervals cover the truth ≥ 82% of the time', () => {
    const r = replicate(GRADUAL, 200);
    expect(r.fits.filter((f) => f.model === 'exponential').length).toBeGreaterThanOrEqual(195);
    expect(r.medianLogError).toBeLessThan(Math.log(1.15));
    expect(r.coverage).toBeGreaterThanOrEqual(0.82);
    expect(r.coverage).toBeLessThanOrEqual(0.97);
  });

  it('recovers an explosive (fast) decay: median error < 10%', () => {
    const r = replicate(EXPLOSIVE, 200);
    expect(r.medianLogError).toBeLessThan(Math.log(1.1));
    expect(r.coverage).toBeGreaterThanOrEqual(0.82);
  });

  it('handles variance-growing decay: wider intervals, still covering the truth', () => {
    const r = replicate(VARIANCE_GROWING, 200);
    expect(r.coverage).toBeGreaterThanOrEqual(0.8);
    expect(r.medianLogError).toBeLessThan(Math.log(1.5));
    const width = (f: DecayFit): number => (f.halfLifeInterval?.upper ?? 1e9) / (f.halfLifeInterval?.lower ?? 1);
    const gradualWidth =
      replicate(GRADUAL, 20)
        .fits.map(width)
        .sort((a, b) => a - b)[10] ?? 0;
    const noisyWidth =
      r.fits
        .slice(0, 20)
        .map(width)
        .sort((a, b) => a - b)[10] ?? 0;
    expect(noisyWidth).toBeGreaterThan(gradualWidth);
  });

  it('recovers q0 and floor and predicts quality along the curve', () => {
    const fit = fitDecay(synthesize({ ...GRADUAL, seed: 7, eventsPerPoint: 20_000 }));
    expect(fit.model).toBe('exponential');
    expect(fit.q0).toBeCloseTo(0.9, 1);
    expect(fit.floor).toBeCloseTo(0.6, 1);
    expect(predictQuality(fit, 72)).toBeCloseTo(0.75, 1);
    expect(fit.goodness?.r2).toBeGreaterThan(0.95);
    expect(fit.goodness?.aic).toBeLessThan(fit.goodness?.aicLinear ?? -Infinity);
  });
});

describe('fitDecay: time to SLO breach', () => {
  const exact = (h: number, ages: number[]): QualityObservation[] =>
    ages.map((a) => ({ ageHours: a, quality: 0.6 + 0.3 * Math.exp((-Math.LN2 * a) / h), weight: 1000 }));

  it('predicts when quality falls below the SLO, from the current age', () => {
    // 0.6 + 0.3·2^(−a/48) = 0.675  ⇔  a = 48·log2(4) = 96 h; now = 48 h → 48 h to go.
    const noisy = exact(48, everyHours(6, 48)).map((o, i) => ({
      ...o,
      quality: o.quality + (i % 2 === 0 ? 0.001 : -0.001),
    }));
    const fit = fitDecay(noisy, { slo: 0.675, nowAgeHours: 48 });
    expect(fit.timeToBreach?.hours).toBeGreaterThan(40);
    expect(fit.timeToBreach?.hours).toBeLessThan(58);
    const iv = fit.timeToBreach?.interval;
    expect(iv?.lower).toBeLessThanOrEqual(fit.timeToBreach?.hours ?? 0);
    expect(iv?.upper ?? Infinity).toBeGreaterThanOrEqual(fit.timeToBreach?.hours ?? Infinity);
  });

  it('says "never" (null) when the floor is above the SLO, and 0 when already breached', () => {
    const noisy = exact(24, everyHours(6, 120)).map((o, i) => ({
      ...o,
      quality: o.quality + (i % 2 === 0 ? 0.002 : -0.002),
    }));
    expect(fitDecay(noisy, { slo: 0.5 }).timeToBreach?.hours).toBeNull();
    expect(fitDecay(noisy, { slo: 0.8 }).timeToBreach?.hours).toBe(0);
  });
});

describe('fitDecay: fallbacks', () => {
  it('reports "none" with a reason for too few points', () => {
    const fit = fitDecay([{ ageHours: 1, quality: 0.9 }]);
    expect(fit.model).toBe('none');
    expect(fit.reason).toMatch(/too few/);
  });

  it('reports "none" when quality does not decrease with age', () => {
    const fit = fitDecay(everyHours(6, 60).map((a) => ({ ageHours: a, quality: 0.8 + a * 0.0001, weight: 100 })));
    expect(fit.model).toBe('none');
    expect(fit.reason).toMatch(/does not decrease/);
  });

  it('reports "none" for a flat, noisy series (no significant trend)', () => {
    const flat = everyHours(6, 120).map((a, i) => ({
      ageHours: a,
      quality: 0.8 + (i % 3 === 0 ? 0.01 : -0.005) - a * 1e-6,
      weight: 100,
    }));
    const fit = fitDecay(flat);
    expect(fit.model).toBe('none');
  });

  it('falls back to a line with fewer than 4 points', () => {
    const fit = fitDecay(
      [
        { ageHours: 0, quality: 0.9, weight: 100 },
        { ageHours: 24, quality: 0.85, weight: 100 },
        { ageHours: 48, quality: 0.81, weight: 100 },
      ],
      { minTrendT: 0 },
    );
    expect(fit.model).toBe('linear');
    expect(fit.slopePerHour).toBeLessThan(0);
    expect(fit.reason).toMatch(/straight line/);
  });

  it('falls back to a line when the decay is linear over the observed ages', () => {
    const line = everyHours(6, 240).map((a, i) => ({
      ageHours: a,
      quality: 0.9 - 0.0005 * a + (i % 2 === 0 ? 0.001 : -0.001),
      weight: 1000,
    }));
    const fit = fitDecay(line, { bounds: { min: null, max: null } });
    expect(fit.model).toBe('linear');
    expect(fit.slopePerHour).toBeCloseTo(-0.0005, 4);
  });

  it('handles lower-is-better metrics (error rising toward a ceiling)', () => {
    const obs = everyHours(6, 240).map((a, i) => ({
      ageHours: a,
      quality: 0.3 - 0.2 * Math.exp((-Math.LN2 * a) / 36) + (i % 2 === 0 ? 0.002 : -0.002),
      weight: 1000,
    }));
    const fit = fitDecay(obs, { direction: 'lower-is-better' });
    expect(fit.model).toBe('exponential');
    expect(fit.halfLifeHours).toBeGreaterThan(30);
    expect(fit.halfLifeHours).toBeLessThan(43);
    expect(fit.floor).toBeCloseTo(0.3, 1);
    expect(qualityLoss(fit, 0, 48)).toBeGreaterThan(0);
  });

  it('gives estimated points less weight than realised ones', () => {
    const realised = everyHours(12, 240).map((a) => ({
      ageHours: a,
      quality: 0.6 + 0.3 * Math.exp((-Math.LN2 * a) / 48),
      weight: 100,
      source: 'realised' as const,
    }));
    const estimated = everyHours(12, 240, 6).map((a) => ({
      ageHours: a,
      quality: 0.7 + 0.2 * Math.exp((-Math.LN2 * a) / 200),
      weight: 100,
      source: 'estimated' as const,
    }));
    const trusting = fitDecay([...realised, ...estimated], { estimatedWeightFactor: 1 });
    const sceptical = fitDecay([...realised, ...estimated], { estimatedWeightFactor: 0.01 });
    expect(Math.abs(Math.log((sceptical.halfLifeHours ?? 0) / 48))).toBeLessThan(
      Math.abs(Math.log((trusting.halfLifeHours ?? 0) / 48)),
    );
    expect(sceptical.totalWeight).toBeLessThan(trusting.totalWeight);
  });

  it('is JSON-safe: no functions, no Infinity', () => {
    const fit = fitDecay(synthesize({ ...VARIANCE_GROWING, seed: 3 }), { slo: 0.7 });
    expect(JSON.parse(JSON.stringify(fit))).toEqual(fit);
  });
});

describe('population view across versions', () => {
  const versions = [48, 60, 72, 84].map((h, i) => ({
    version: `v${i + 1}`,
    observations: synthesize({
      q0: 0.9 - i * 0.01,
      floor: 0.6 + i * 0.02,
      halfLifeHours: h,
      ages: everyHours(12, 24 * 12),
      eventsPerPoint: 800,
      seed: 100 + i,
    }),
  }));

  it('estimates a shared half-life in the range of the versions', () => {
    const pop = fitPopulation(versions);
    expect(pop.versionsUsed).toHaveLength(4);
    expect(pop.halfLifeHours).toBeGreaterThan(48);
    expect(pop.halfLifeHours).toBeLessThan(84);
    expect(pop.prior?.logSd).toBeGreaterThanOrEqual(0.15);
  });

  it('shrinks a thinly observed new version toward the population', () => {
    const pop = fitPopulation(versions);
    // Three early, noisy points of a new version suggesting a very fast decay.
    const thin = [
      { ageHours: 0, quality: 0.9, weight: 50 },
      { ageHours: 6, quality: 0.8, weight: 50 },
      { ageHours: 12, quality: 0.76, weight: 50 },
    ];
    const alone = fitDecay(thin, { minTrendT: 0 });
    const shrunk = fitVersionWithPopulation(thin, pop);
    expect(alone.model).toBe('linear');
    expect(shrunk.model).toBe('exponential');
    expect(shrunk.prior).not.toBeNull();
    const popH = pop.halfLifeHours ?? 0;
    expect(Math.abs(Math.log((shrunk.halfLifeHours ?? 0) / popH))).toBeLessThan(Math.log(3));
  });

  it('reports no pooled decay when no version decays', () => {
    const flat = [
      { version: 'a', observations: everyHours(6, 60).map((a) => ({ ageHours: a, quality: 0.8 + a * 1e-4 })) },
    ];
    const pop = fitPopulation(flat);
    expect(pop.halfLifeHours).toBeNull();
    expect(pop.prior).toBeNull();
    expect(pop.reason).toMatch(/no version shows decay/);
  });
});
