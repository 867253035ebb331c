import { describe, expect, it } from 'vitest';
import { bestPeriodic, periodicRetrainSteps } from '../../bench/lib/periodic.ts';
import { priceRun, type RealMatrix, retrainValues, trueCostModel } from '../../bench/real-data.ts';
import { type CostModel, scheduleCost } from '../../bench/lib/oracle.ts';

const WEEK = 7 * 86_400_000;
const START = Date.UTC(2021, 5, 3);

const iso = (t: number) => new Date(START + t * WEEK).toISOString();
/** The policy's fixed training window: the two weeks before the retrain. */
const fixedWindow = (k: number) => ({ training_start: iso(k - 2), training_end: iso(k) });
const quality = [
  Float64Array.from([0.9, 0.7, 0.6]),
  Float64Array.from([Number.NaN, 0.95, 0.9]),
  Float64Array.from([Number.NaN, Number.NaN, 0.92]),
];
/** The model of window 1 trained on its last week only (the data-quality guard left out an earlier broken week). */
const shortModel = Float64Array.from([Number.NaN, 0.8, 0.85]);

/** Three weekly windows; the first model decays, the model of window 1 is good. */
const matrix: RealMatrix = {
  steps: 3,
  monitoredStart: START,
  cadenceMs: WEEK,
  events: [100, 100, 50],
  quality,
  rowFor: (k, from, to) => {
    if (to !== START + k * WEEK) throw new Error(`window ${k}: training ends at ${to}`);
    if (from === START + (k - 2) * WEEK) return quality[k] as Float64Array;
    if (k === 1 && from === START) return shortModel;
    throw new Error(`window ${k}: no model for a training window from ${from}`);
  },
};

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
        { time: iso(1), kind: 'retrain', reason: '', retrain: fixedWindow(1) },
        { time: iso(2), kind: 'blocked', reason: '' },
        { time: iso(3), kind: 'retrain', reason: 'after the last window: serves nothing', retrain: fixedWindow(3) },
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

  it("prices a retrain on the model of the training window the CLI reports, not the policy's full window", () => {
    const shortened = { training_start: iso(0), training_end: iso(1) };
    const report = {
      retrains: 1,
      failed_retrains: 0,
      total_cost: null,
      decisions: [{ time: iso(1), kind: 'retrain', reason: '', retrain: shortened }],
      windows: [window(0, 'file', 0.9), window(1, 'v1', 0.8), window(2, 'v1', 0.85)],
    };
    const run = priceRun('cost-aware', 'cmd', report, matrix, 40);
    expect(run.stalenessPart).toBeCloseTo(100 * 0.1 + 100 * 0.2 + 50 * 0.15, 9);
    expect(retrainValues(matrix, run, report.decisions)[0]?.saved).toBeCloseTo(100 * 0.1 + 50 * (0.4 - 0.15), 9);
    // The same qualities under a retrain that reports the fixed window: the harness would not replay it.
    const fixed = { ...report, decisions: [{ ...report.decisions[0], retrain: fixedWindow(1) }] };
    expect(() => priceRun('cost-aware', 'cmd', fixed as typeof report, matrix, 40)).toThrow(
      /window 1 quality 0.8 differs from the matrix's 0.95/,
    );
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
