// A value far more frequent than in the reference: stuck (breakage) only where it replaces spread;
// a value the reference already had with mass, grown frequent in a window that keeps its spread,
// or one of many values crowding a narrow range, is shift (rule revision 4).
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_QUALITY_THRESHOLDS,
  dataQualityReport,
  featureChecks,
  type FeatureQualityCounts,
} from '../../../detectors/drift/data-quality.ts';
import { numericReferenceProfile, numericWindowCounts, topValueOf } from '../../../detectors/drift/profiles.ts';
import { stuckValueInputs } from '../../../detectors/drift/window-comparison.ts';
import { Random } from '../../../detectors/random.ts';

const random = new Random(11);
const AWARE = { ...DEFAULT_QUALITY_THRESHOLDS, stuck_shift_aware: true };

function counts(reference: number[], window: number[]): FeatureQualityCounts {
  const profile = numericReferenceProfile(reference, 20);
  const c = numericWindowCounts(window, profile.cuts);
  return {
    name: 'x',
    kind: 'numeric',
    rows: window.length,
    missing: c.missing,
    reference_missing_rate: 0,
    ...stuckValueInputs(profile, c, topValueOf(window)),
  };
}

/** Whole years of a house's age, top-coded at 52 as the 1990 census does (about 5% at the code). */
const houseAge = (n: number, mean = 28) =>
  Array.from({ length: n }, () => Math.min(52, Math.max(1, Math.round(mean + 12 * normal()))));
function normal(): number {
  return Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
}

describe('a stuck value told from shift', () => {
  const reference = houseAge(5000);

  it('a top-coded boundary value grown frequent (old blocks of one region) is shift, not breakage', () => {
    const window = [...houseAge(70, 30), ...Array.from({ length: 98 }, () => 52)]; // 58% at 52
    const c = counts(reference, window);
    expect(c.reference_max).toBe(52);
    // Without telling them apart: a stuck value.
    expect(featureChecks(c).map((x) => x.check)).toEqual(['stuck-value']);
    const [check] = featureChecks(c, AWARE);
    expect(check).toMatchObject({ check: 'frequent-value', kind: 'shift', feature: 'x' });
    expect(check?.detail).toMatch(
      /value 52 in \d+\.\d% of 168 values .*the reference's largest value, the window keeping its spread/,
    );
    const report = dataQualityReport({ rows: 168, dead_lettered: 0, features: [c] }, AWARE);
    expect(report.broken).toBe(false);
  });

  it('a sensor stuck at an in-range value of a feature whose values repeat is still breakage', () => {
    const window = [...houseAge(100), ...Array.from({ length: 68 }, () => 17)]; // 17: neither the top nor a boundary
    expect(featureChecks(counts(reference, window), AWARE).map((x) => x.check)).toEqual(['stuck-value']);
  });

  it('the reference’s own value taking over the window (its spread collapsed) is breakage', () => {
    const top = topValueOf(reference)!.value;
    const window = [...houseAge(10), ...Array.from({ length: 158 }, () => top)];
    const [check] = featureChecks(counts(reference, window), AWARE);
    expect(check?.check).toBe('stuck-value');
    expect(check?.kind).toBe('breakage');
  });

  it('a continuous feature stuck in range, or stuck at zero, is breakage', () => {
    const continuous = Array.from({ length: 2000 }, () => random.uniform(0, 10));
    const partly = [
      ...Array.from({ length: 140 }, () => random.uniform(0, 10)),
      ...Array.from({ length: 60 }, () => 4.2),
    ];
    expect(featureChecks(counts(continuous, partly), AWARE).map((x) => x.check)).toEqual(['stuck-value']);
    const zeros = Array.from({ length: 200 }, () => 0);
    expect(featureChecks(counts(continuous, zeros), AWARE).map((x) => x.kind)).toContain('breakage');
  });

  it('many values crowding a narrow range (one city’s latitudes) is shift, though one of them is a quarter of the window', () => {
    const state = Array.from({ length: 5000 }, () => Math.round(random.uniform(32.5, 42) * 100) / 100);
    const city = [37.72, 37.73, 37.74, 37.75, 37.76, 37.77, 37.78, 37.79, 37.8];
    const window = [
      ...Array.from({ length: 42 }, () => 37.76),
      ...Array.from({ length: 126 }, (_, i) => city[i % city.length] as number),
    ];
    const c = counts(state, window);
    expect(featureChecks(c).map((x) => x.check)).toEqual(['stuck-value']);
    const [check] = featureChecks(c, AWARE);
    expect(check).toMatchObject({ check: 'frequent-value', kind: 'shift' });
    expect(check?.detail).toMatch(/many values crowd a narrow range, shift$/);
  });
});
