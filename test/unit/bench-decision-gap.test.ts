import { describe, expect, it } from 'vitest';
import { decomposeGap, gapTotals } from '../../bench/decision-gap.ts';
import { type CostModel, oracleSchedule, scheduleCost } from '../../bench/lib/oracle.ts';

/** A model trained at k loses `rate` per step of age, plus a per-model offset (its luck). */
function linearModel(steps: number, rate: number, luck: (k: number) => number = () => 0): CostModel {
  return {
    steps,
    qualityAt: (k, t) => 0.95 - rate * (t - k) - luck(k),
    eventsAt: () => 300,
    valuePerQualityUnit: 1,
    retrainCost: 150,
  };
}

function parts(g: ReturnType<typeof decomposeGap>, c: number): number {
  return g.delay + g.ahead + g.model + g.missedWindows - c * g.missed.length + g.extraWindows + c * g.extra.length;
}

describe('decomposeGap', () => {
  it('is exact: delay + ahead + model + missed + extra add up to the gap', () => {
    const model = linearModel(120, 0.003, (k) => (k % 7 === 3 ? 0.02 : 0));
    const oracle = oracleSchedule(model).retrainSteps;
    for (const policy of [[], [30], [25, 50, 75, 100], [5, 10, 15, 60, 61, 62], oracle.map((s) => s + 3)]) {
      const g = decomposeGap(model, policy, oracle);
      expect(g.gap).toBeCloseTo(scheduleCost(model, policy).totalCost - scheduleCost(model, oracle).totalCost, 6);
      expect(parts(g, 150)).toBeCloseTo(g.gap, 6);
    }
  });

  it('charges a late retrain to detection delay and an unmatched one to extra', () => {
    const model = linearModel(60, 0.004);
    const g = decomposeGap(model, [25, 27], [20]);
    expect(g.matched).toEqual([{ oracle: 20, policy: 25, delay: 5, cost: expect.any(Number) }]);
    // Windows 20–24: the policy still serves the initial model, 20 steps older (0.08 worse) than the oracle's.
    expect(g.delay).toBeCloseTo(5 * 300 * 0.004 * 20, 6);
    expect(g.extra.map((e) => e.policy)).toEqual([27]);
    expect(g.missed).toEqual([]);
  });

  it('reports each part as a share of the oracle cost, adding up to the ratio minus one', () => {
    const model = linearModel(80, 0.003);
    const oracle = oracleSchedule(model).retrainSteps;
    const g = decomposeGap(model, [40], oracle);
    const t = gapTotals([{ g, retrainCost: 150 }]);
    expect(t.delay + t.ahead + t.model + t.missed + t.extra).toBeCloseTo(t.ratio - 1, 9);
  });
});
