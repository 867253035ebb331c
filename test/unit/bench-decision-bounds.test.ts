import { describe, expect, it } from 'vitest';
import { adaptiveExpectedCostSchedule, perfectHindsightCara } from '../../bench/decision-bounds.ts';
import { meanInterval } from '../../bench/decisions.ts';
import { buildQualityMatrix, meanStaleness } from '../../bench/lib/quality-matrix.ts';
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

describe('perfectHindsightCara', () => {
  it('retrains once the staleness accumulated by the serving model reaches θ × C', () => {
    // 300 events × 0.005 × age: after windows of age 0…n−1 the sum is 0.75 n(n−1), which first reaches 150 at n = 15.
    const model = linearModel(60, 0.005);
    expect(perfectHindsightCara(model, 1)).toEqual([15, 30, 45]);
    // Half the threshold: 0.75 n(n−1) ≥ 75 first at n = 11.
    expect(perfectHindsightCara(model, 0.5)).toEqual([11, 22, 33, 44, 55]);
  });

  it('never retrains a model that does not age', () => {
    expect(perfectHindsightCara(linearModel(50, 0), 1)).toEqual([]);
  });
});

describe('meanStaleness', () => {
  it('gives the oracle the mean of the models’ staleness, window by window', () => {
    const a = linearModel(40, 0.004);
    const b = linearModel(40, 0.002, (k) => (k % 5 === 0 ? 0.03 : 0));
    const mean = meanStaleness([a, b]);
    for (const steps of [[], [10], [7, 19, 33]]) {
      const expected = (scheduleCost(a, steps).stalenessCost + scheduleCost(b, steps).stalenessCost) / 2;
      expect(scheduleCost(mean, steps).stalenessCost).toBeCloseTo(expected, 9);
    }
    expect(oracleSchedule(meanStaleness([a])).retrainSteps).toEqual(oracleSchedule(a).retrainSteps);
  });

  it('refuses an empty list', () => {
    expect(() => meanStaleness([])).toThrow(/at least one/);
  });
});

describe('twin streams (sampleSeed)', () => {
  const spec = {
    kind: 'gradual' as const,
    seed: 5,
    days: 1,
    eventsPerHour: 300,
    referenceHours: 12,
    trainingWindow: '4h',
  };
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

  it('share the concept path, not the events: a twin’s models age like the stream’s, a different seed’s do not', () => {
    const own = buildQualityMatrix(spec);
    const twin = buildQualityMatrix({ ...spec, sampleSeed: 5 + 7919 });
    const other = buildQualityMatrix({ ...spec, seed: 6 });
    expect(own.scenario.rows[0]?.features).not.toEqual(twin.scenario.rows[0]?.features);
    // The initial model's accuracy over the day, window by window.
    const curve = (m: typeof own) => Array.from(m.quality[0] ?? []);
    const gap = (x: number[], y: number[]) => mean(x.map((v, i) => Math.abs(v - (y[i] as number))));
    expect(gap(curve(own), curve(twin))).toBeLessThan(0.03);
    expect(gap(curve(own), curve(other))).toBeGreaterThan(2 * gap(curve(own), curve(twin)));
  });

  it('default to the stream itself: sampleSeed = seed', () => {
    for (const kind of ['gradual', 'abrupt'] as const) {
      const a = buildQualityMatrix({ ...spec, kind });
      const b = buildQualityMatrix({ ...spec, kind, sampleSeed: 5 });
      expect(b.scenario.rows.map((r) => r.label)).toEqual(a.scenario.rows.map((r) => r.label));
    }
  });
});

describe('meanInterval (the report’s 95% interval of a mean ratio over streams)', () => {
  it('is the t-interval: mean ± t(0.975, n−1) × s / √n', () => {
    // 30 values 1…30: mean 15.5, s = √77.5; t(0.975, 29) = 2.0452 (scipy.stats.t.ppf).
    const values = Array.from({ length: 30 }, (_, i) => i + 1);
    const [low, high] = meanInterval(values) as [number, number];
    const half = (2.0452 * Math.sqrt(77.5)) / Math.sqrt(30);
    expect((low + high) / 2).toBeCloseTo(15.5, 9);
    expect(high - 15.5).toBeCloseTo(half, 2);
  });

  it('has no interval for a single stream', () => {
    expect(meanInterval([1.2])).toBeNull();
  });
});

describe('adaptiveExpectedCostSchedule', () => {
  it('is the oracle when the expectation is exact (no luck to learn)', () => {
    const model = linearModel(120, 0.003, (k) => (k % 7 === 3 ? 0.01 : 0));
    const adaptive = scheduleCost(model, adaptiveExpectedCostSchedule(model, model)).totalCost;
    expect(adaptive).toBeCloseTo(oracleSchedule(model).totalCost, 6);
  });

  it('keeps a model that turns out luckier than expected for longer, and retires an unlucky one sooner', () => {
    const expected = linearModel(80, 0.004);
    const planned = oracleSchedule(expected).retrainSteps;
    // The initial model ages at half the expected rate; later models as expected.
    const lucky: CostModel = {
      ...expected,
      qualityAt: (k, t) => (k === 0 ? 0.95 - 0.002 * t : expected.qualityAt(k, t)),
    };
    const unlucky: CostModel = {
      ...expected,
      qualityAt: (k, t) => (k === 0 ? 0.95 - 0.008 * t : expected.qualityAt(k, t)),
    };
    expect(adaptiveExpectedCostSchedule(lucky, expected)[0]).toBeGreaterThan(planned[0] as number);
    expect(adaptiveExpectedCostSchedule(unlucky, expected)[0]).toBeLessThan(planned[0] as number);
  });
});
