import { describe, it, expect } from 'vitest';
import {
  AGRAWAL_FUNCTIONS,
  agrawalStream,
  decayingScores,
  hyperplaneStream,
  recurringSchedule,
  seaStream,
  take,
} from '../../synthetic/index.ts';
import type { AgrawalRecord, SyntheticEvent } from '../../synthetic/index.ts';
import { rocAuc } from '../../detectors/quality/index.ts';

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const positiveRate = (events: readonly SyntheticEvent<unknown>[]) => mean(events.map((e) => e.label));

describe('SEA (Street & Kim 2001)', () => {
  it('is deterministic for a seed', () => {
    expect(take(seaStream({ seed: 5 }), 50)).toEqual(take(seaStream({ seed: 5 }), 50));
    expect(take(seaStream({ seed: 5 }), 50)).not.toEqual(take(seaStream({ seed: 6 }), 50));
  });

  it('labels follow f1 + f2 ≤ θ and change exactly at an abrupt drift point (θ 8 → 7)', () => {
    const events = take(
      seaStream({ seed: 1, noise: 0, schedule: { initial: 0, changes: [{ position: 5000, concept: 2 }] } }),
      10_000,
    );
    for (const e of events) {
      const theta = e.index < 5000 ? 8 : 7;
      expect(e.concept).toBe(e.index < 5000 ? 0 : 2);
      expect(e.label).toBe((e.features[0] as number) + (e.features[1] as number) <= theta ? 1 : 0);
    }
    // P(f1 + f2 ≤ θ) = θ²/200: 0.32 before, 0.245 after (tolerance 0.03 ≈ 4.5 standard errors).
    expect(Math.abs(positiveRate(events.slice(0, 5000)) - 0.32)).toBeLessThan(0.03);
    expect(Math.abs(positiveRate(events.slice(5000)) - 0.245)).toBeLessThan(0.03);
  });

  it('class noise flips about the requested share of labels', () => {
    const events = take(seaStream({ seed: 2, noise: 0.1 }), 20_000);
    const flipped = events.filter(
      (e) => e.label !== ((e.features[0] as number) + (e.features[1] as number) <= 8 ? 1 : 0),
    ).length;
    expect(Math.abs(flipped / events.length - 0.1)).toBeLessThan(0.01);
  });

  it('gradual drift mixes concepts around the position (sigmoid width 1000)', () => {
    const events = take(
      seaStream({ seed: 3, schedule: { initial: 0, changes: [{ position: 5000, concept: 1, width: 1000 }] } }),
      10_000,
    );
    const shareNew = (from: number, to: number) => mean(events.slice(from, to).map((e) => (e.concept === 1 ? 1 : 0)));
    expect(shareNew(0, 4000)).toBeLessThan(0.05);
    expect(Math.abs(shareNew(4900, 5100) - 0.5)).toBeLessThan(0.15);
    expect(shareNew(6000, 10_000)).toBeGreaterThan(0.95);
  });

  it('recurring schedule cycles back to the first concept', () => {
    const schedule = recurringSchedule({ concepts: [0, 3], period: 2000, length: 8000 });
    const events = take(seaStream({ seed: 4, schedule }), 8000);
    expect([events[1000]?.concept, events[3000]?.concept, events[5000]?.concept, events[7000]?.concept]).toEqual([
      0, 3, 0, 3,
    ]);
  });

  it('covariate shift moves the features but not the labelling rule', () => {
    const events = take(
      seaStream({
        seed: 5,
        noise: 0,
        covariateShift: {
          timing: { position: 3000 },
          ranges: [
            [5, 10],
            [5, 10],
            [0, 10],
          ],
        },
      }),
      6000,
    );
    expect(events.slice(3000).every((e) => e.shifted && (e.features[0] as number) >= 5)).toBe(true);
    expect(events.slice(0, 3000).some((e) => (e.features[0] as number) < 5)).toBe(true);
    for (const e of events) expect(e.label).toBe((e.features[0] as number) + (e.features[1] as number) <= 8 ? 1 : 0);
    expect(positiveRate(events.slice(3000))).toBeLessThan(0.1);
  });
});

/** Nearest-centroid classifier fitted on `train`, accuracy on `test`. */
function centroidAccuracy(train: SyntheticEvent<number[]>[], test: SyntheticEvent<number[]>[]): number {
  const d = (train[0] as SyntheticEvent<number[]>).features.length;
  const centroid = (label: number) => {
    const rows = train.filter((e) => e.label === label);
    return Array.from({ length: d }, (_, j) => mean(rows.map((e) => e.features[j] as number)));
  };
  const c0 = centroid(0);
  const c1 = centroid(1);
  const dist = (x: number[], c: number[]) => x.reduce((s, v, j) => s + (v - (c[j] as number)) ** 2, 0);
  return mean(test.map((e) => ((dist(e.features, c1) < dist(e.features, c0) ? 1 : 0) === e.label ? 1 : 0)));
}

describe('rotating hyperplane (Hulten et al. 2001)', () => {
  it('is deterministic, roughly balanced, and a concept change breaks a model fitted before it', () => {
    expect(take(hyperplaneStream({ seed: 9 }), 20)).toEqual(take(hyperplaneStream({ seed: 9 }), 20));
    const events = take(
      hyperplaneStream({
        seed: 9,
        noise: 0,
        magnitude: 0,
        schedule: { initial: 0, changes: [{ position: 5000, concept: 1 }] },
      }),
      10_000,
    );
    expect(Math.abs(positiveRate(events) - 0.5)).toBeLessThan(0.1);
    const train = events.slice(0, 3000);
    const before = centroidAccuracy(train, events.slice(3000, 5000));
    const after = centroidAccuracy(train, events.slice(5000, 7000));
    expect(before).toBeGreaterThan(0.8);
    // Weight vectors of independent concepts are all positive, hence correlated: the drop is moderate.
    expect(after).toBeLessThan(before - 0.08);
  });

  it('continuous rotation alone degrades a frozen model over time', () => {
    const events = take(
      hyperplaneStream({ seed: 10, noise: 0, magnitude: 0.002, driftingFeatures: 10, reversalProbability: 0.001 }),
      12_000,
    );
    const train = events.slice(0, 1000);
    const early = centroidAccuracy(train, events.slice(1000, 2000));
    const late = centroidAccuracy(train, events.slice(11_000, 12_000));
    expect(late).toBeLessThan(early - 0.05);
  });
});

describe('Agrawal (Agrawal et al. 1993)', () => {
  const base: AgrawalRecord = {
    salary: 60_000,
    commission: 20_000,
    age: 30,
    elevel: 1,
    car: 5,
    zipcode: 3,
    hvalue: 400_000,
    hyears: 25,
    loan: 150_000,
  };

  it('implements the published functions (spot checks)', () => {
    const f = (k: number, r: Partial<AgrawalRecord>) =>
      (AGRAWAL_FUNCTIONS[k] as (x: AgrawalRecord) => boolean)({ ...base, ...r });
    expect(f(0, { age: 30 })).toBe(true);
    expect(f(0, { age: 50 })).toBe(false);
    expect(f(0, { age: 60 })).toBe(true);
    expect(f(1, { age: 45, salary: 80_000 })).toBe(true);
    expect(f(1, { age: 45, salary: 60_000 })).toBe(false);
    // Function 5 compares the loan (the paper), not the salary.
    expect(f(4, { age: 30, salary: 60_000, loan: 150_000 })).toBe(true);
    expect(f(4, { age: 30, salary: 60_000, loan: 350_000 })).toBe(false);
    // Function 7: 0.67·(salary + commission) − 0.2·loan − 20000 > 0.
    expect(f(6, { salary: 60_000, commission: 20_000, loan: 150_000 })).toBe(true); // 53600 − 30000 − 20000 > 0
    expect(f(6, { salary: 60_000, commission: 20_000, loan: 200_000 })).toBe(false); // 53600 − 40000 − 20000 < 0
    // Function 10: equity = 0.1·hvalue·(hyears − 20) counts only from 20 years.
    expect(f(9, { salary: 20_000, commission: 10_000, elevel: 4, hvalue: 400_000, hyears: 25 })).toBe(true);
    expect(f(9, { salary: 20_000, commission: 10_000, elevel: 4, hvalue: 400_000, hyears: 19 })).toBe(false);
  });

  it('draws attributes in their published ranges', () => {
    const events = take(agrawalStream({ seed: 12 }), 5000);
    for (const { features: r } of events) {
      expect(r.salary).toBeGreaterThanOrEqual(20_000);
      expect(r.salary).toBeLessThan(150_000);
      expect(r.salary >= 75_000 ? r.commission === 0 : r.commission >= 10_000 && r.commission < 75_000).toBe(true);
      expect(Number.isInteger(r.age) && r.age >= 20 && r.age <= 80).toBe(true);
      expect(r.zipcode >= 0 && r.zipcode <= 8).toBe(true);
      const k = 9 - r.zipcode;
      expect(r.hvalue >= 50_000 * k && r.hvalue < 150_000 * k).toBe(true);
      expect(r.loan >= 0 && r.loan < 500_000).toBe(true);
    }
    expect(new Set(events.map((e) => e.features.elevel))).toEqual(new Set([0, 1, 2, 3, 4]));
  });

  it('an abrupt change from function 1 to function 2 is visible in the labels', () => {
    const events = take(
      agrawalStream({ seed: 13, schedule: { initial: 0, changes: [{ position: 4000, concept: 1 }] } }),
      8000,
    );
    const f1 = AGRAWAL_FUNCTIONS[0] as (r: AgrawalRecord) => boolean;
    const agreeWithF1 = (slice: SyntheticEvent<AgrawalRecord>[]) =>
      mean(slice.map((e) => ((f1(e.features) ? 1 : 0) === e.label ? 1 : 0)));
    expect(agreeWithF1(events.slice(0, 4000))).toBe(1);
    expect(agreeWithF1(events.slice(4000))).toBeLessThan(0.7);
    // Positive rate of function 1 is 41/61 ≈ 0.672 (ages 20–39 and 60–80); tolerance 0.03.
    expect(Math.abs(positiveRate(events.slice(0, 4000)) - 41 / 61)).toBeLessThan(0.03);
  });

  it('covariate shift of age changes the positive rate under a fixed concept', () => {
    const events = take(
      agrawalStream({ seed: 14, covariateShift: { timing: { position: 3000 }, age: [40, 59] } }),
      6000,
    );
    expect(positiveRate(events.slice(3000))).toBe(0);
    expect(events.slice(3000).every((e) => e.shifted)).toBe(true);
  });

  it('perturbation keeps attributes in range and labels unchanged by construction', () => {
    const clean = take(agrawalStream({ seed: 15 }), 2000);
    const noisy = take(agrawalStream({ seed: 15, perturbation: 0.2 }), 2000);
    expect(noisy.every((e) => e.features.salary >= 20_000 && e.features.salary <= 150_000)).toBe(true);
    expect(noisy.map((e) => e.label).slice(0, 1)).toEqual(clean.map((e) => e.label).slice(0, 1));
  });
});

describe('decayingScores (Vela et al. 2022 patterns)', () => {
  const aucOf = (d: ReturnType<typeof decayingScores>, from: number, to: number) =>
    rocAuc(d.label.slice(from, to), d.score.slice(from, to)) as number;

  it('is deterministic for a seed', () => {
    expect(decayingScores({ seed: 1, events: 100 })).toEqual(decayingScores({ seed: 1, events: 100 }));
  });

  it('gradual: quality falls steadily with age; stable: it does not', () => {
    const gradual = decayingScores({ seed: 2, pattern: 'gradual', events: 20_000 });
    const stable = decayingScores({ seed: 2, pattern: 'stable', events: 20_000 });
    expect(aucOf(gradual, 0, 4000)).toBeGreaterThan(aucOf(gradual, 8000, 12_000) + 0.02);
    expect(aucOf(gradual, 8000, 12_000)).toBeGreaterThan(aucOf(gradual, 16_000, 20_000) + 0.02);
    expect(Math.abs(aucOf(stable, 0, 4000) - aucOf(stable, 16_000, 20_000))).toBeLessThan(0.02);
    expect(gradual.separation[10_000]).toBeCloseTo(1, 2); // halved at half the horizon
  });

  it('explosive: flat until the onset, then collapses', () => {
    const d = decayingScores({ seed: 3, pattern: 'explosive', events: 20_000 });
    expect(Math.abs(aucOf(d, 0, 5000) - aucOf(d, 6000, 11_000))).toBeLessThan(0.02);
    expect(aucOf(d, 16_000, 20_000)).toBeLessThan(aucOf(d, 6000, 11_000) - 0.2);
  });

  it('variance-growing: per-day quality spreads out with age while the mean separation holds', () => {
    const d = decayingScores({ seed: 4, pattern: 'variance-growing', events: 36_500, finalOffsetStandardDeviation: 1 });
    const perDay = (fromDay: number, toDay: number) => {
      const values: number[] = [];
      for (let day = fromDay; day < toDay; day++) values.push(d.separation[day * 100] as number);
      const m = mean(values);
      return { m, sd: Math.sqrt(mean(values.map((v) => (v - m) ** 2))) };
    };
    const early = perDay(0, 60);
    const late = perDay(300, 365);
    expect(late.sd).toBeGreaterThan(3 * early.sd);
    expect(Math.abs(late.m - 2)).toBeLessThan(0.4);
  });
});
