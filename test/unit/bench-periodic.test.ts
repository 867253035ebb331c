import { describe, expect, it } from 'vitest';
import { benchPolicy } from '../../bench/decisions.ts';
import { buildScenario } from '../../bench/lib/decision-streams.ts';
import { type CostModel, scheduleCost } from '../../bench/lib/oracle.ts';
import { bestPeriodic, hoursText, periodicRetrainSteps } from '../../bench/lib/periodic.ts';
import { parseSeeds, REPORT_SEEDS, seedSet, TUNING_SEEDS } from '../../bench/lib/decision-seeds.ts';
import { runBacktest } from '../../detectors/backtest/engine.ts';
import { builtInTrainer } from '../../training/backtest-trainer.ts';

const HOUR = 3_600_000;

describe('best periodic schedule, every whole-window period', () => {
  /** Quality decays linearly with age, faster in the second half (so the best period is not trivial). */
  const model = (steps: number, retrainCost: number): CostModel => ({
    steps,
    qualityAt: (k, t) => 0.9 - (t - k) * (t > steps / 2 ? 0.02 : 0.005),
    eventsAt: () => 100,
    valuePerQualityUnit: 1,
    retrainCost,
  });

  it('retrains at p, 2p, … within the stream', () => {
    expect(periodicRetrainSteps(5, 17)).toEqual([5, 10, 15]);
    expect(periodicRetrainSteps(1, 4)).toEqual([1, 2, 3]);
    expect(periodicRetrainSteps(20, 17)).toEqual([]);
    expect(() => periodicRetrainSteps(0, 10)).toThrow(/whole number ≥ 1/);
  });

  it('finds the cheapest period among all of them, the shortest of equals', () => {
    for (const cost of [5, 30, 200]) {
      const m = model(60, cost);
      const search = bestPeriodic(m);
      const brute = Array.from({ length: 59 }, (_, i) => scheduleCost(m, periodicRetrainSteps(i + 1, 60)).totalCost);
      expect(search.costs).toEqual(brute);
      expect(search.cost.totalCost).toBe(Math.min(...brute));
      expect(search.period).toBe(brute.indexOf(Math.min(...brute)) + 1);
    }
    // A grid can only do as well or worse than the full search.
    const m = model(60, 30);
    expect(bestPeriodic(m, [2, 6, 24]).cost.totalCost).toBeGreaterThanOrEqual(bestPeriodic(m).cost.totalCost);
  });

  it('writes periods as policy durations', () => {
    expect(hoursText(17)).toBe('17h');
    expect(hoursText(48)).toBe('2d');
  });

  it("matches the engine's periodic trigger (no phase; age counted from the last retrain) for short and long periods", async () => {
    const spec = {
      kind: 'gradual' as const,
      seed: 9,
      days: 1,
      eventsPerHour: 60,
      referenceHours: 4,
      trainingWindow: '2h',
    };
    const scenario = buildScenario(spec);
    const monitoredStart = Math.floor((scenario.rows[0]?.time ?? 0) / HOUR) * HOUR + spec.referenceHours * HOUR;
    const steps = Math.ceil(((scenario.rows.at(-1)?.time ?? 0) + 1 - monitoredStart) / HOUR);
    for (const period of [1, 3, 7, 24]) {
      const report = await runBacktest({
        rows: scenario.rows,
        numeric: scenario.numeric,
        hasPrediction: false,
        policy: benchPolicy('p', { kind: 'periodic', every: hoursText(period) }, spec.trainingWindow),
        cadenceMs: HOUR,
        referenceWindowMs: spec.referenceHours * HOUR,
        trainer: builtInTrainer(),
      });
      const retrained = report.decisions
        .filter((d) => d.kind === 'retrain')
        .map((d) => Math.round((d.time - monitoredStart) / HOUR))
        .filter((s) => s < steps);
      expect(retrained).toEqual(periodicRetrainSteps(period, steps));
    }
  });
});

describe('decision seeds', () => {
  it('keeps the report seeds apart from the tuning seeds (1–3, 4101–4105 … 7401–7405 were report seeds once: tuning now)', () => {
    expect(TUNING_SEEDS).toEqual(expect.arrayContaining([1, 2, 3, 101, 102, 103, 104, 105, 4101, 4105, 7401, 7405]));
    for (const s of REPORT_SEEDS) expect(TUNING_SEEDS).not.toContain(s);
    expect(parseSeeds('report')).toEqual(REPORT_SEEDS);
    expect(parseSeeds('tuning')).toEqual(TUNING_SEEDS);
    expect(parseSeeds('1-3,101')).toEqual([1, 2, 3, 101]);
    expect(seedSet(parseSeeds('report'))).toBe('report');
    expect(seedSet([1, 101])).toBe('tuning');
    expect(seedSet([1, 4101])).toBe('tuning');
    expect(seedSet([7401, 7402, 7403, 7404, 7405])).toBe('tuning');
    expect(seedSet([1, REPORT_SEEDS[0] as number])).toBe('other');
    expect(() => parseSeeds('fresh')).toThrow(/"tuning", "report"/);
  });
});
