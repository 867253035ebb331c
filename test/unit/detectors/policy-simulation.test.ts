import { describe, expect, it } from 'vitest';
import { fitDecay } from '../../../detectors/decay/index.ts';
import type { QualityObservation } from '../../../detectors/decay/index.ts';
import { type CostModel, oracleSchedule, scheduleCost } from '../../../bench/lib/oracle.ts';
import { evaluatePolicy } from '../../../detectors/policy/index.ts';
import type { RetrainPolicy, WindowSummary } from '../../../detectors/policy/index.ts';
import { gaussian, prng } from './decay-fixtures.ts';
import { costAwarePolicy } from '../../helpers/policies.ts';

/**
 * End to end on a simulated stream: hourly windows, a decay fit per tick, the cost-aware policy
 * deciding — then the schedule it produced priced against the oracle. (The full comparison with
 * baselines lives in bench/; this guards the decision rule against regressions.)
 */
const H = 3_600_000;
const STEPS = 24 * 30;
const EVENTS = 1000;

function simulate(
  halfLifeHours: number,
  retrainCost: number,
): { policy: number; oracle: number; never: number; retrains: number } {
  const quality = (retrainedAt: number, t: number): number =>
    0.6 + 0.3 * Math.exp((-Math.LN2 * (t - retrainedAt)) / halfLifeHours);
  const model: CostModel = {
    steps: STEPS,
    qualityAt: quality,
    eventsAt: () => EVENTS,
    valuePerQualityUnit: 0.05,
    retrainCost,
  };
  const policy: RetrainPolicy = costAwarePolicy({
    name: 'sim',
    trigger: { valuePerQualityUnit: 0.05, retrainCost },
    guards: { cooldown: '0h', budget: { maxRetrains: 1000, per: '7d' }, requireDataQuality: true },
    trainingWindow: { kind: 'all' },
  });
  const noise = gaussian(prng(1));
  let last = 0;
  const retrains: number[] = [];
  const windows: WindowSummary[] = [];
  let observations: QualityObservation[] = [];
  for (let t = 0; t < STEPS; t++) {
    const q = quality(last, t) + noise() * Math.sqrt(0.2 / EVENTS);
    windows.push({
      start: t * H,
      end: (t + 1) * H,
      events: EVENTS,
      quality: { metric: 'accuracy', value: q, source: 'realised' },
    });
    observations.push({ ageHours: t - last + 1, quality: q, weight: EVENTS });
    const decision = evaluatePolicy(
      policy,
      {
        windows: windows.slice(-48),
        decay: fitDecay(observations),
        versionTrainedAt: last * H,
        lastRetrainAt: last * H,
      },
      (t + 1) * H,
    );
    if (decision.kind === 'retrain' && t + 1 < STEPS) {
      last = t + 1;
      retrains.push(last);
      observations = [];
    }
  }
  return {
    policy: scheduleCost(model, retrains).totalCost,
    oracle: oracleSchedule(model).totalCost,
    never: scheduleCost(model, []).totalCost,
    retrains: retrains.length,
  };
}

describe('cost-aware policy against the oracle (simulated 30 days, hourly)', () => {
  it.each([
    [48, 300],
    [12, 100],
  ])('half-life %i h, retrain cost %i: within 5 percent of the oracle and far below never retraining', (h, cost) => {
    const r = simulate(h, cost);
    expect(r.policy).toBeLessThanOrEqual(r.oracle * 1.05);
    expect(r.policy).toBeLessThan(r.never * 0.85);
    expect(r.retrains).toBeGreaterThan(0);
  });
});
