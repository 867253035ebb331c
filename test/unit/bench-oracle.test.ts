import { describe, expect, it } from 'vitest';
import { type CostModel, oracleSchedule, scheduleCost } from '../../bench/lib/oracle.ts';

describe('oracle and schedule cost', () => {
  /** Each model decays exponentially from 0.9 toward 0.6 (h = 5 steps); 100 events a step. */
  function model(steps: number, retrainCost: number): CostModel {
    return {
      steps,
      qualityAt: (r, t) => 0.6 + 0.3 * Math.exp((-Math.LN2 * (t - r)) / 5),
      eventsAt: () => 100,
      valuePerQualityUnit: 1,
      retrainCost,
    };
  }

  it('prices a schedule: staleness per step plus retrains', () => {
    const m = model(4, 7);
    const never = scheduleCost(m, []);
    const expected = [0, 1, 2, 3].reduce((s, t) => s + 100 * 0.3 * (1 - Math.exp((-Math.LN2 * t) / 5)), 0);
    expect(never.stalenessCost).toBeCloseTo(expected, 9);
    expect(never.retrainCost).toBe(0);
    const once = scheduleCost(m, [2, 2, 0, 9]);
    expect(once.retrainSteps).toEqual([2]);
    expect(once.retrainCost).toBe(7);
    expect(once.stalenessCost).toBeLessThan(never.stalenessCost);
  });

  it('the DP matches brute force over every schedule', () => {
    for (const cost of [5, 40, 200]) {
      const m = model(11, cost);
      let bruteBest = Number.POSITIVE_INFINITY;
      for (let mask = 0; mask < 1 << 10; mask++) {
        const steps = Array.from({ length: 10 }, (_, i) => i + 1).filter((_, i) => (mask >> i) & 1);
        bruteBest = Math.min(bruteBest, scheduleCost(m, steps).totalCost);
      }
      expect(oracleSchedule(m).totalCost).toBeCloseTo(bruteBest, 9);
    }
  });

  it('retrains more often when retraining is cheap, and beats every periodic schedule', () => {
    const cheap = oracleSchedule(model(200, 20));
    const dear = oracleSchedule(model(200, 400));
    expect(cheap.retrainSteps.length).toBeGreaterThan(dear.retrainSteps.length);
    for (let period = 1; period <= 60; period++) {
      const periodic = Array.from({ length: Math.floor(199 / period) }, (_, i) => (i + 1) * period);
      expect(dear.totalCost).toBeLessThanOrEqual(scheduleCost(model(200, 400), periodic).totalCost + 1e-9);
    }
  });
});
