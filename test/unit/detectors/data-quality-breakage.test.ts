// Data quality: breakage (blocks training on the window) told from shift and small windows (never block).
import { describe, expect, it } from 'vitest';
import {
  dataQualityReport,
  featureChecks,
  legacyQualityOk,
  stuckValueCandidates,
  topCategory,
  type FeatureQualityCounts,
} from '../../../detectors/drift/data-quality.ts';
import {
  categoricalProfile,
  numericReferenceProfile,
  numericWindowCounts,
  topValueOf,
} from '../../../detectors/drift/profiles.ts';
import { appearedOccurrences, stuckValueInputs } from '../../../detectors/drift/window-comparison.ts';
import { Random } from '../../../detectors/random.ts';

const random = new Random(3);
const uniform = (n: number, low = 0, high = 10) => Array.from({ length: n }, () => random.uniform(low, high));

function numericCounts(reference: number[], window: (number | null)[], counted = true): FeatureQualityCounts {
  const profile = numericReferenceProfile(reference, 20);
  const counts = numericWindowCounts(window, profile.cuts);
  const finite = window.filter((v): v is number => v !== null);
  return {
    name: 'x',
    kind: 'numeric',
    rows: window.length,
    missing: counts.missing,
    reference_missing_rate: profile.missing / reference.length,
    ...stuckValueInputs(profile, counts, counted ? topValueOf(finite) : null),
  };
}

describe('stuck values', () => {
  const reference = uniform(2000);

  it('a value stuck in range for part of a window is breakage, with the value and both shares', () => {
    const window = [...uniform(140), ...Array.from({ length: 60 }, () => 4.2)];
    const [check] = featureChecks(numericCounts(reference, window));
    expect(check).toMatchObject({ check: 'stuck-value', kind: 'breakage', feature: 'x', value: 0.3 });
    expect(check?.detail).toMatch(
      /^value 4\.2 in 30\.0% of 200 values \(reference: most frequent value 0\.05%\): stuck$/,
    );
  });

  it('a value 10% of the window, or a handful of rows, is not stuck', () => {
    expect(
      featureChecks(numericCounts(reference, [...uniform(180), ...Array.from({ length: 20 }, () => 4.2)])),
    ).toEqual([]);
    // 19 values: below the minimum the check needs.
    expect(
      featureChecks(
        numericCounts(
          reference,
          Array.from({ length: 19 }, () => 4.2),
        ),
      ),
    ).toEqual([]);
  });

  it('a feature whose reference already has an atom is stuck only well above it', () => {
    const zeroInflated = [...uniform(1400), ...Array.from({ length: 600 }, () => 0)]; // 30% zeros
    const atThirtyFive = [...uniform(130), ...Array.from({ length: 70 }, () => 0)];
    expect(featureChecks(numericCounts(zeroInflated, atThirtyFive))).toEqual([]);
    const allZero = Array.from({ length: 200 }, () => 0);
    expect(featureChecks(numericCounts(zeroInflated, allZero)).map((c) => c.check)).toEqual(['stuck-value']);
  });

  it('zero variance without a counted top value: stuck when the reference makes it implausible', () => {
    const constant = Array.from({ length: 50 }, () => 3);
    // Not a candidate in SQL (no top value counted): one value left still gives share 1 from min = max.
    expect(featureChecks(numericCounts(reference, constant, false)).map((c) => c.check)).toEqual(['stuck-value']);
    // A binary feature, 0 in 95% of the reference: 30 zeros in a row happen one window in five.
    const binary = [...Array.from({ length: 1900 }, () => 0), ...Array.from({ length: 100 }, () => 1)];
    expect(
      featureChecks(
        numericCounts(
          binary,
          Array.from({ length: 30 }, () => 0),
        ),
      ),
    ).toEqual([]);
    expect(0.95 ** 30).toBeGreaterThan(0.2);
    // …but 500 zeros in a row do not (0.95^500 ≈ 7e-12).
    expect(
      featureChecks(
        numericCounts(
          binary,
          Array.from({ length: 500 }, () => 0),
        ),
      ).map((c) => c.check),
    ).toEqual(['zero-variance']);
  });

  it('candidates for the exact count are the features whose values crowd into one bin', () => {
    const profile = numericReferenceProfile(reference, 20);
    const stuck = numericWindowCounts([...uniform(140), ...Array.from({ length: 60 }, () => 4.2)], profile.cuts);
    const fine = numericWindowCounts(uniform(200), profile.cuts);
    const shifted = numericWindowCounts(uniform(200, 3, 13), profile.cuts);
    expect(
      stuckValueCandidates(
        { a: profile, b: profile, c: profile, d: categoricalProfile(['u']) },
        { a: stuck, b: fine, c: shifted, d: categoricalProfile(['u']) },
      ),
    ).toEqual(['a', 'c']);
  });

  it('a categorical feature stuck at one category', () => {
    const ref = categoricalProfile(Array.from({ length: 600 }, (_, i) => ['a', 'b', 'c'][i % 3] as string));
    const stuck = categoricalProfile(Array.from({ length: 100 }, () => 'b'));
    expect(topCategory(stuck)).toEqual({ value: 'b', share: 1 });
    const [check] = featureChecks({
      name: 'plan',
      kind: 'categorical',
      rows: 100,
      missing: 0,
      top_value_share: 1,
      top_value: 'b',
      reference_top_value_share: topCategory(ref)?.share ?? null,
    });
    expect(check?.detail).toMatch(
      /^value "b" in 100\.0% of 100 values \(reference: most frequent value 33\.3%\): stuck$/,
    );
  });
});

describe('breakage, shift and evidence', () => {
  it('out of range and unseen categories are shift; few rows is evidence; neither breaks the window', () => {
    const window = {
      rows: 60,
      dead_lettered: 0,
      features: [
        { name: 'temperature', kind: 'numeric' as const, rows: 60, missing: 0, out_of_range: 30 },
        { name: 'country', kind: 'categorical' as const, rows: 60, missing: 0, unseen: 12 },
      ],
    };
    const report = dataQualityReport(window);
    expect(report.checks.map((c) => [c.check, c.kind])).toEqual([
      ['few-rows', 'evidence'],
      ['out-of-range', 'shift'],
      ['unseen-categories', 'shift'],
    ]);
    expect(report.alerts).toEqual([
      'only 60 rows (< 100)',
      'temperature: out of reference range 0.500',
      'country: unseen categories 0.200',
    ]);
    expect(report.broken).toBe(false);
    expect(report.ok).toBe(true);
    // Revisions 1–2 failed the same window on every alert.
    expect(legacyQualityOk(window)).toBe(false);
    expect(legacyQualityOk({ ...window, rows: 100, features: [] })).toBe(true);
  });

  it('a missing-rate rise must be significant: one missing value in a few rows is not breakage', () => {
    expect(featureChecks({ name: 'x', kind: 'numeric', rows: 10, missing: 1 })).toEqual([]);
    expect(
      featureChecks({ name: 'x', kind: 'numeric', rows: 1000, missing: 80, reference_missing_rate: 0.02 }),
    ).toMatchObject([{ check: 'missing-rate', kind: 'breakage', value: 0.08, reference: 0.02 }]);
    // Legacy: the same one missing value of ten failed the window.
    expect(
      legacyQualityOk({
        rows: 200,
        dead_lettered: 0,
        features: [{ name: 'x', kind: 'numeric', rows: 10, missing: 1 }],
      }),
    ).toBe(false);
  });

  it('a feature vanishing or appearing is breakage', () => {
    const vanished = dataQualityReport({
      rows: 500,
      dead_lettered: 0,
      features: [{ name: 'x', kind: 'numeric', rows: 500, missing: 500 }],
    });
    expect(vanished.checks).toMatchObject([{ check: 'feature-vanished', kind: 'breakage', feature: 'x' }]);
    const appeared = dataQualityReport({
      rows: 500,
      dead_lettered: 0,
      features: [],
      appeared: { occurrences: 400, names: [{ name: 'x_v2', rows: 400 }] },
    });
    expect(appeared.broken).toBe(true);
    expect(appeared.alerts).toEqual(['features unknown to the reference in 80.0% of rows: x_v2 (400 rows)']);
    expect(dataQualityReport({ rows: 500, dead_lettered: 0, features: [], appeared: { occurrences: 10 } }).broken).toBe(
      false,
    );
  });

  it('appeared occurrences: the keys a window carried less the known features in either map', () => {
    const reference = {
      features: {
        amount: numericReferenceProfile([1, 2, 3, 4], 2),
        plan: categoricalProfile(['a', 'b']),
      },
      prediction: null,
      predictionClass: null,
      predictionValue: null,
      cappedCategorical: [],
      rowCount: 4,
    };
    const window = {
      rows: 10,
      // 9 finite amounts, 1 amount sent as a string; 8 plans, 1 plan sent as a number; 5 unknown keys.
      features: {
        amount: numericWindowCounts([1, 2, 3, 4, 1, 2, 3, 4, 1, null], reference.features.amount.cuts),
        plan: { kind: 'categorical' as const, counts: { a: 4, b: 4 }, missing: 2 },
      },
      prediction: null,
      predictionClass: null,
      predictionValue: null,
      typeViolations: { amount: 1, plan: 1 },
      keyOccurrences: 9 + 1 + 8 + 1 + 5,
    };
    expect(appearedOccurrences(reference, window)).toBe(5);
    expect(appearedOccurrences(reference, { ...window, keyOccurrences: undefined })).toBeNull();
  });
});
