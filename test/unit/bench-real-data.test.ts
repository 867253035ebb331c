import { describe, expect, it } from 'vitest';
import { bestPeriodic, periodicRetrainSteps } from '../../bench/lib/periodic.ts';
import { priceRun, type RealMatrix, trueCostModel } from '../../bench/real-data.ts';
import { type CostModel, scheduleCost } from '../../bench/lib/oracle.ts';

const WEEK = 7 * 86_400_000;
const START = Date.UTC(2021, 5, 3);

/** Three weekly windows; the first model decays, the model of window 1 is good. */
const matrix: RealMatrix = {
  steps: 3,
  monitoredStart: START,
  cadenceMs: WEEK,
  events: [100, 100, 50],
  quality: [
    Float64Array.from([0.9, 0.7, 0.6]),
    Float64Array.from([Number.NaN, 0.95, 0.9]),
    Float64Array.from([Number.NaN, Number.NaN, 0.92]),
  ],
};

const iso = (t: number) => new Date(START + t * WEEK).toISOString();
const window = (t: number, version: string, quality: number, atClose: number = quality) => ({
  start: iso(t),
  end: iso(t + 1),
  events: matrix.events[t] as number,
  labelled: matrix.events[t] as number,
  version,
  quality: atClose,
  hindsight_quality: quality,
});

describe('real-data harness: true cost from a backtest run', () => {
  it('prices events × (1 − accuracy) + C × retrains, leaving out a retrain decided as the last window closes', () => {
    const report = {
      retrains: 2,
      failed_retrains: 0,
      total_cost: 12,
      decisions: [
        { time: iso(1), kind: 'retrain', reason: '' },
        { time: iso(2), kind: 'blocked', reason: '' },
        { time: iso(3), kind: 'retrain', reason: 'after the last window: serves nothing' },
      ],
      // Window 1 read 0.5 when it closed (labels still to come, or pooled): priced on every label.
      windows: [window(0, 'file', 0.9), window(1, 'v1', 0.95, 0.5), window(2, 'v1', 0.9)],
    };
    const run = priceRun('cost-aware', 'cmd', report, matrix, 40);
    expect(run.retrains).toBe(1);
    expect(run.retrainsAtTheEnd).toBe(1);
    expect(run.blocked).toBe(1);
    expect(run.stalenessPart).toBeCloseTo(100 * 0.1 + 100 * 0.05 + 50 * 0.1, 9);
    expect(run.trueCost).toBeCloseTo(run.stalenessPart + 40, 9);
    // The same schedule priced on the matrix's true-cost model.
    expect(scheduleCost(trueCostModel(matrix, 40), [1]).totalCost).toBeCloseTo(run.trueCost, 9);
  });

  it('refuses a run whose window quality is not what the matrix says its model scores', () => {
    const report = {
      retrains: 0,
      failed_retrains: 0,
      total_cost: null,
      decisions: [],
      windows: [window(0, 'file', 0.9), window(1, 'file', 0.95), window(2, 'file', 0.6)],
    };
    expect(() => priceRun('never', 'cmd', report, matrix, 40)).toThrow(
      /window 1 quality 0.95 differs from the matrix's 0.7/,
    );
  });

  it("schedules a file's own model, already as old as the reference, by the engine's rule", () => {
    // 34.7 windows old at the start: a 25-window period is overdue (retrain for window 1), then every 25.
    expect(periodicRetrainSteps(25, 49, 243 / 7)).toEqual([1, 26]);
    expect(periodicRetrainSteps(46, 49, 243 / 7)).toEqual([12]);
    // Every period searched retrains at least once (never is a policy of its own).
    const flat: CostModel = {
      steps: 10,
      qualityAt: () => 0.9,
      eventsAt: () => 10,
      valuePerQualityUnit: 1,
      retrainCost: 5,
    };
    const search = bestPeriodic(flat, undefined, 2.5);
    expect(search.costs).toHaveLength(11);
    expect(periodicRetrainSteps(11, 10, 2.5)).toEqual([9]);
    expect(search.cost.retrainSteps).toHaveLength(1);
    // Exactly due: age equal to the period fires.
    expect(periodicRetrainSteps(4, 10, 2)).toEqual([2, 6]);
  });
});
