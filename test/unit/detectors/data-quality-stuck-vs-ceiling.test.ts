// A value grown far more frequent, judged by the window's event order (stuck_order_aware): a fill
// or a frozen sensor repeats its value in stretches (breakage); a ceiling or floor reached more
// often after a shift interleaves with varied readings (shift). Synthetic sequences, the runs
// counted over them in order as the window read counts them in SQL.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_QUALITY_THRESHOLDS,
  dataQualityReport,
  featureChecks,
  type FeatureQualityCounts,
  type QualityThresholds,
} from '../../../detectors/drift/data-quality.ts';
import { numericReferenceProfile, numericWindowCounts, topValueOf } from '../../../detectors/drift/profiles.ts';
import { valueRuns } from '../../../detectors/drift/value-runs.ts';
import { stuckValueInputs } from '../../../detectors/drift/window-comparison.ts';
import { Random } from '../../../detectors/random.ts';

const random = new Random(2026_12_06);
/** Rule revision 4's checks (as the tick runs them), without and with the event order. */
const VALUE_AWARE: QualityThresholds = { ...DEFAULT_QUALITY_THRESHOLDS, stuck_shift_aware: true };
const ORDER_AWARE: QualityThresholds = { ...VALUE_AWARE, stuck_order_aware: true };

function counts(reference: number[], window: number[]): FeatureQualityCounts {
  const profile = numericReferenceProfile(reference, 20);
  const c = numericWindowCounts(window, profile.cuts);
  const top = topValueOf(window);
  return {
    name: 'x',
    kind: 'numeric',
    rows: window.length,
    missing: c.missing,
    reference_missing_rate: 0,
    ...stuckValueInputs(profile, c, top && { ...top, runs: valueRuns(window, top.value) }),
  };
}

const checksOf = (c: FeatureQualityCounts, t: QualityThresholds) => featureChecks(c, t).map((x) => [x.check, x.kind]);

/** A sensor reading to 0.01, clipped at its maximum 40 (the reference, centred at 20, reaches it a few times in 5,000). */
const sensor = (n: number, mean: number) =>
  Array.from({ length: n }, () => Math.min(40, Math.max(0, Math.round(random.normal(mean, 6) * 100) / 100)));
/** Replace `length` consecutive values from `start` by `value`: a fill or a frozen sensor. */
const withStretch = (values: number[], start: number, length: number, value: number) =>
  values.map((v, i) => (i >= start && i < start + length ? value : v));

describe('a stuck value told from a ceiling by event order', () => {
  const reference = sensor(5000, 20);

  it('the reference touches the ceiling rarely: no mass there, so value-aware checks alone call a shift to it stuck', () => {
    const profile = numericReferenceProfile(reference, 20);
    expect(profile.max).toBe(40);
    expect(profile.topShare!).toBeLessThan(DEFAULT_QUALITY_THRESHOLDS.stuck_reference_mass);
  });

  it('a ceiling reached more often under a shift (interleaved) is shift, named with its runs', () => {
    // Half the readings at 40, hit between varied ones: more than half of its reference bin's
    // share, so the value-aware checks do not see many values crowding a narrow range either.
    const window = sensor(400, 40);
    const c = counts(reference, window);
    expect(c.top_value).toBe(40);
    expect(checksOf(c, VALUE_AWARE)).toEqual([['stuck-value', 'breakage']]);
    const [check] = featureChecks(c, ORDER_AWARE);
    expect(check).toMatchObject({ check: 'frequent-value', kind: 'shift', feature: 'x' });
    expect(check?.runs?.p).toBeGreaterThan(DEFAULT_QUALITY_THRESHOLDS.stuck_runs_p);
    expect(check?.detail).toMatch(
      /^value 40 in \d+\.\d% of 400 values \(reference: most frequent value [0-9.]+%\): the reference's largest value, its repeats interleaved with other values in \d+ runs where a random order gives [0-9.]+ \(z -?\d+\.\d, p [0-9.e-]+\), the others keeping their spread \(std [0-9.]+ vs reference [0-9.]+\): a ceiling or floor reached more often, shift$/,
    );
    const report = dataQualityReport({ rows: 400, dead_lettered: 0, features: [c] }, ORDER_AWARE);
    expect(report.broken).toBe(false);
  });

  it('a fill incident (one value for a contiguous stretch) is still breakage, its runs named', () => {
    const window = withStretch(sensor(400, 20), 150, 120, 23.4);
    const [check] = featureChecks(counts(reference, window), ORDER_AWARE);
    expect(check).toMatchObject({ check: 'stuck-value', kind: 'breakage' });
    expect(check?.runs?.runs).toBeLessThanOrEqual(5);
    expect(check?.runs?.p).toBeLessThan(1e-20);
    expect(check?.detail).toMatch(
      /, its repeats in stretches in \d runs where a random order gives [0-9.]+ \(z -\d+\.\d, p [0-9.e-]+\): stuck$/,
    );
  });

  it('a sensor frozen at its maximum (a stretch at the ceiling) is still breakage', () => {
    const window = withStretch(sensor(400, 20), 100, 150, 40);
    const c = counts(reference, window);
    expect(c.top_value).toBe(40);
    expect(checksOf(c, ORDER_AWARE)).toEqual([['stuck-value', 'breakage']]);
  });

  it('a scattered fill at an in-range value of a continuous feature: the order cannot tell, the value says stuck', () => {
    const window = sensor(400, 20).map((v) => (random.bernoulli(0.3) ? 23.4 : v));
    const [check] = featureChecks(counts(reference, window), ORDER_AWARE);
    expect(check).toMatchObject({ check: 'stuck-value', kind: 'breakage' });
    expect(check?.detail).toMatch(
      /, interleaved in \d+ runs .* but not at a value the reference had or without the others' spread: stuck$/,
    );
  });

  it('the order never turns shift into breakage: a top-code in a stretch stays what the value-aware check said', () => {
    const ages = (n: number, mean: number) =>
      Array.from({ length: n }, () => Math.min(52, Math.max(1, Math.round(random.normal(mean, 12)))));
    const window = [...ages(70, 30), ...Array.from({ length: 98 }, () => 52)];
    const c = counts(ages(5000, 28), window);
    expect(checksOf(c, VALUE_AWARE)).toEqual([['frequent-value', 'shift']]);
    expect(checksOf(c, ORDER_AWARE)).toEqual([['frequent-value', 'shift']]);
  });
});

describe('a legitimately discrete feature', () => {
  const draw = (n: number, probabilities: number[]) =>
    Array.from({ length: n }, () => {
      let u = random.next();
      for (const [value, p] of probabilities.entries()) {
        if (u < p) return value;
        u -= p;
      }
      return probabilities.length - 1;
    });
  const reference = draw(5000, [0.3, 0.25, 0.2, 0.12, 0.08, 0.05]);

  it('an interior value becoming the most frequent at random positions is shift', () => {
    const window = draw(300, [0.05, 0.1, 0.15, 0.5, 0.1, 0.1]);
    const c = counts(reference, window);
    expect(c.top_value).toBe(3);
    expect(checksOf(c, VALUE_AWARE)).toEqual([['stuck-value', 'breakage']]);
    const [check] = featureChecks(c, ORDER_AWARE);
    expect(check).toMatchObject({ check: 'frequent-value', kind: 'shift' });
    expect(check?.detail).toMatch(
      /a value of a feature whose values repeat \(reference most frequent 3\d\.\d%\), its repeats interleaved/,
    );
  });

  it('the same value in one stretch is stuck', () => {
    const window = withStretch(draw(300, [0.3, 0.25, 0.2, 0.12, 0.08, 0.05]), 100, 150, 3);
    expect(checksOf(counts(reference, window), ORDER_AWARE)).toEqual([['stuck-value', 'breakage']]);
  });
});

describe('tiny windows', () => {
  const reference = sensor(5000, 20);

  it('under stuck_min_values values: no stuck-value check at all, whatever the order', () => {
    const window = Array.from({ length: 15 }, () => 40);
    window[3] = 22.5;
    expect(checksOf(counts(reference, window), ORDER_AWARE)).toEqual([]);
  });

  it('thirty values: a ceiling hit at random positions is shift; a stretch of twelve is stuck', () => {
    const interleaved = [
      40, 31.2, 40, 28.4, 35.1, 40, 33.3, 40, 29.9, 38.2, 40, 30.5, 40, 36.7, 32.2, 40, 34.8, 40, 27.5, 40, 37.1, 33.9,
      40, 30.8, 40, 35.5, 40, 31.7, 36.1, 40,
    ];
    const [shift] = featureChecks(counts(reference, interleaved), ORDER_AWARE);
    expect(shift).toMatchObject({ check: 'frequent-value', kind: 'shift' });
    const stretch = withStretch(sensor(30, 20), 10, 12, 40);
    const [stuck] = featureChecks(counts(reference, stretch), ORDER_AWARE);
    expect(stuck).toMatchObject({ check: 'stuck-value', kind: 'breakage' });
    expect(stuck?.runs?.p).toBeLessThan(DEFAULT_QUALITY_THRESHOLDS.stuck_runs_p);
  });

  it('too few other values for the order to tell: the value-aware verdict stands and says so', () => {
    const window = Array.from({ length: 24 }, () => 40);
    window[11] = 18.3;
    const [check] = featureChecks(counts(reference, window), ORDER_AWARE);
    expect(check).toMatchObject({ check: 'stuck-value', kind: 'breakage' });
    expect(check?.runs?.minimumP).toBeGreaterThan(DEFAULT_QUALITY_THRESHOLDS.stuck_runs_p);
    expect(check?.detail).toMatch(
      /too few other values for the order to tell \(one stretch would have p 0\.083\): stuck$/,
    );
  });
});
