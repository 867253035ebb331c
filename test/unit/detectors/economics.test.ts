import { describe, expect, it } from 'vitest';
import { fitDecay } from '../../../detectors/decay/index.ts';
import type { DecayFit } from '../../../detectors/decay/index.ts';
import {
  accumulatedStalenessCost,
  evaluateRetrainEconomics,
  weightedQuantile,
} from '../../../detectors/economics/index.ts';

/** A near-exact exponential decay (q0 0.9, floor 0.6, h 48 h) observed for 10 days. */
function decayFit(nowAgeHours = 96): DecayFit {
  const obs = Array.from({ length: 41 }, (_, i) => {
    const a = i * 6;
    return {
      ageHours: a,
      quality: 0.6 + 0.3 * Math.exp((-Math.LN2 * a) / 48) + (i % 2 === 0 ? 0.003 : -0.003),
      weight: 1000,
    };
  });
  return fitDecay(obs, { nowAgeHours });
}

const BASE = {
  horizonHours: 168,
  valuePerQualityUnit: 0.02,
  retrainCost: 400,
  deploymentRisk: { probability: 0.1, cost: 1000 },
};

describe('evaluateRetrainEconomics (forecast rule)', () => {
  it('retrains when the restart value exceeds retrain + risk cost, and reports every number', () => {
    const e = evaluateRetrainEconomics({ ...BASE, fit: decayFit(), eventsPerHour: 5000 });
    expect(e.rule).toBe('forecast');
    expect(e.shouldRetrain).toBe(true);
    expect(e.riskCost).toBeCloseTo(100);
    expect(e.netBenefit).toBeCloseTo(e.restartValue - 400 - 100, 6);
    // Hand calculation at age A = 96 h: R·(A·loss(A) − L(A)) with R = 0.02 × 5000.
    const k = Math.LN2 / 48;
    const lossAtA = 0.3 * (1 - Math.exp(-k * 96));
    const accumulated = 0.3 * (96 - (1 - Math.exp(-k * 96)) / k);
    expect(e.restartValue).toBeGreaterThan(0.9 * 100 * (96 * lossAtA - accumulated));
    expect(e.restartValue).toBeLessThan(1.1 * 100 * (96 * lossAtA - accumulated));
    expect(e.breakEvenHours).toBe(0);
    expect(e.expectedStalenessCost).toBeGreaterThan(e.freshStalenessCost);
    // Staleness of the old model over the horizon ≈ rate × ∫ (q0 − q(96 + t)) dt.
    const handLoss = 0.3 * (168 - (Math.exp(-k * 96) - Math.exp(-k * 264)) / k);
    expect(e.expectedStalenessCost).toBeGreaterThan(0.9 * handLoss * 0.02 * 5000);
    expect(e.expectedStalenessCost).toBeLessThan(1.1 * handLoss * 0.02 * 5000);
    // The verdict is a field; the reason states the comparison that gave it.
    expect(e.reason).toMatch(/^restarting the version now is worth \d+ > retrain 400 \+ risk 100; forecast rule/);
    expect(e.inputs).toMatchObject({ horizonHours: 168, eventsPerHour: 5000, decayModel: 'exponential' });
  });

  it('waits when traffic is too low for staleness to pay for a retrain', () => {
    const e = evaluateRetrainEconomics({ ...BASE, fit: decayFit(), eventsPerHour: 5 });
    expect(e.shouldRetrain).toBe(false);
    expect(e.netBenefit).toBeLessThan(0);
    expect(e.reason).toMatch(/^restarting the version now is worth [\d.]+ ≤ retrain 400 \+ risk 100;/);
    expect(e.reason).toMatch(/due in .* if the decay continues as fitted|not due within a year/);
  });

  it('sees nothing to gain right after a retrain: a fresh version ages the same way', () => {
    const e = evaluateRetrainEconomics({ ...BASE, fit: decayFit(0), nowAgeHours: 0, eventsPerHour: 1e6 });
    expect(e.avoidableStalenessCost).toBeCloseTo(0, 6);
    expect(e.shouldRetrain).toBe(false);
  });

  it('a higher quantile never lowers the avoidable cost (risk-averse retrains earlier)', () => {
    const fit = fitDecay(
      Array.from({ length: 12 }, (_, i) => ({
        ageHours: i * 8,
        quality: 0.6 + 0.3 * Math.exp((-Math.LN2 * i * 8) / 48) + (i % 3 === 0 ? 0.02 : -0.01),
        weight: 200,
      })),
    );
    const low = evaluateRetrainEconomics({ ...BASE, fit, eventsPerHour: 1000, quantile: 0.2 });
    const high = evaluateRetrainEconomics({ ...BASE, fit, eventsPerHour: 1000, quantile: 0.9 });
    expect(high.avoidableStalenessCost).toBeGreaterThan(low.avoidableStalenessCost);
  });

  it('break-even: predicts how many hours until retraining becomes worth it', () => {
    const fit = decayFit(24);
    const e = evaluateRetrainEconomics({ ...BASE, fit, eventsPerHour: 5000 });
    expect(e.shouldRetrain).toBe(false);
    const wait = e.breakEvenHours ?? 0;
    expect(wait).toBeGreaterThan(0);
    expect(e.reason).toMatch(/due in/);
    const later = (hours: number) =>
      evaluateRetrainEconomics({ ...BASE, fit, eventsPerHour: 5000, nowAgeHours: 24 + hours });
    expect(Math.abs(later(wait).netBenefit)).toBeLessThan(25);
    expect(later(wait * 0.8).shouldRetrain).toBe(false);
    expect(later(wait * 1.2).shouldRetrain).toBe(true);
  });

  it('under linear decay the forecast rule agrees with the cumulative rule (both retrain when R·L(A) = C)', () => {
    const line = fitDecay(
      Array.from({ length: 25 }, (_, i) => ({
        ageHours: i * 4,
        quality: 0.9 - 0.001 * i * 4 + (i % 2 ? 0.0005 : -0.0005),
        weight: 1000,
      })),
      { bounds: { min: null, max: null } },
    );
    expect(line.model).toBe('linear');
    // R = 0.02 × 1000 = 20; L(A) = 0.001·A²/2; R·L(A) = C + risk = 500 at A = 223.6 h.
    const at = (age: number) => evaluateRetrainEconomics({ ...BASE, fit: line, eventsPerHour: 1000, nowAgeHours: age });
    expect(at(215).shouldRetrain).toBe(false);
    expect(at(232).shouldRetrain).toBe(true);
    expect(at(100).breakEvenHours).toBeGreaterThan(118);
    expect(at(100).breakEvenHours).toBeLessThan(130);
  });

  it('counts a fresh version that would be better than the old one started (freshQuality)', () => {
    const plain = evaluateRetrainEconomics({ ...BASE, fit: decayFit(), eventsPerHour: 100 });
    const better = evaluateRetrainEconomics({ ...BASE, fit: decayFit(), eventsPerHour: 100, freshQuality: 0.95 });
    expect(better.expectedStalenessCost).toBeGreaterThan(plain.expectedStalenessCost);
  });
});

describe('evaluateRetrainEconomics (cumulative rule and fallbacks)', () => {
  const none = fitDecay([{ ageHours: 1, quality: 0.9 }]);

  it('falls back to the cumulative rule without a decay fit', () => {
    const e = evaluateRetrainEconomics({ ...BASE, fit: none, eventsPerHour: 100, accumulatedStalenessCost: 600 });
    expect(e.rule).toBe('cumulative');
    expect(e.shouldRetrain).toBe(true);
    expect(e.netBenefit).toBeCloseTo(100);
    const below = evaluateRetrainEconomics({ ...BASE, fit: none, eventsPerHour: 100, accumulatedStalenessCost: 499 });
    expect(below.shouldRetrain).toBe(false);
  });

  it('uses the cumulative rule when asked even with a decay fit', () => {
    const e = evaluateRetrainEconomics({
      ...BASE,
      fit: decayFit(),
      eventsPerHour: 1e6,
      accumulatedStalenessCost: 10,
      rule: 'cumulative',
    });
    expect(e.rule).toBe('cumulative');
    expect(e.shouldRetrain).toBe(false);
  });

  it('does nothing when neither rule can run', () => {
    const e = evaluateRetrainEconomics({ ...BASE, fit: none, eventsPerHour: 100, rule: 'forecast' });
    expect(e.rule).toBe('none');
    expect(e.shouldRetrain).toBe(false);
    expect(e.reason).toMatch(/no decay forecast/);
  });

  it('accumulates value × events × shortfall since the last retrain', () => {
    const windows = [
      { start: 0, end: 10, events: 100, quality: 0.7 },
      { start: 10, end: 20, events: 100, quality: 0.8 },
      { start: 20, end: 30, events: 200, quality: 0.85 },
      { start: 30, end: 40, events: 100, quality: 0.95 },
      { start: 40, end: 50, events: 100, quality: null },
    ];
    const total = accumulatedStalenessCost(windows, { freshQuality: 0.9, valuePerQualityUnit: 2, sinceMs: 15 });
    // Half of window 2 (0.1 × 100 × 0.5), all of window 3 (0.05 × 200); window 4 is better than fresh.
    expect(total).toBeCloseTo(2 * (0.1 * 100 * 0.5 + 0.05 * 200), 9);
    expect(
      accumulatedStalenessCost(windows, { freshQuality: 0.1, valuePerQualityUnit: 1, direction: 'lower-is-better' }),
    ).toBeCloseTo(100 * 0.6 + 100 * 0.7 + 200 * 0.75 + 100 * 0.85, 9);
  });
});

describe('weightedQuantile', () => {
  it('inverts the cumulative weight', () => {
    const v = [
      { value: 1, weight: 1 },
      { value: 2, weight: 1 },
      { value: 3, weight: 2 },
    ];
    expect(weightedQuantile(v, 0.25)).toBe(1);
    expect(weightedQuantile(v, 0.5)).toBe(2);
    expect(weightedQuantile(v, 0.75)).toBe(3);
    expect(weightedQuantile([], 0.5)).toBe(0);
  });
});
