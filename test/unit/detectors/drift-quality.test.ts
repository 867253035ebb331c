// Data quality per window, from counts only.
import { describe, expect, it } from 'vitest';
import {
  categoricalProfile,
  dataQualityReport,
  featureQuality,
  numericReferenceProfile,
  numericWindowCounts,
  outOfRangeFromCounts,
  unseenFromProfiles,
} from '../../../detectors/drift/index.ts';

describe('featureQuality', () => {
  it('computes rates and raises only the alerts whose thresholds are reached', () => {
    const q = featureQuality({
      name: 'age',
      kind: 'numeric',
      rows: 1000,
      missing: 80,
      type_violations: 5,
      out_of_range: 60,
      reference_missing_rate: 0.02,
    });
    expect(q.missing_rate).toBe(0.08);
    expect(q.type_violation_rate).toBe(0.005);
    expect(q.out_of_range_rate).toBe(0.06);
    // missing: 0.08 − 0.02 = 0.06 ≥ 0.05; types 0.5% < 1%; out of range 6% ≥ 5%.
    expect(q.alerts).toHaveLength(2);
    expect(q.alerts.join(' ')).toMatch(/missing rate/);
    expect(q.alerts.join(' ')).toMatch(/out of reference range/);
  });

  it('all-missing is its own alert (the feature vanished), and zero rows do not divide by zero', () => {
    expect(featureQuality({ name: 'x', kind: 'numeric', rows: 10, missing: 10 }).alerts).toEqual([
      'all 10 values missing (reference 0.0% missing): the feature vanished',
    ]);
    const empty = featureQuality({ name: 'x', kind: 'numeric', rows: 0, missing: 0 });
    expect(empty.missing_rate).toBe(0);
    expect(empty.alerts).toEqual([]);
  });
});

describe('dataQualityReport', () => {
  it('adds window-level alerts (few rows, dead letters) and prefixes feature alerts', () => {
    const report = dataQualityReport({
      rows: 50,
      dead_lettered: 5,
      features: [{ name: 'country', kind: 'categorical', rows: 50, missing: 0, unseen: 10 }],
    });
    expect(report.dead_letter_rate).toBeCloseTo(5 / 55, 15);
    expect(report.alerts).toEqual([
      'only 50 rows (< 100)',
      'dead-letter rate 0.091',
      'country: unseen categories 0.200',
    ]);
    expect(report.ok).toBe(false);
  });

  it('a clean window is ok; thresholds can be overridden', () => {
    const window = {
      rows: 10_000,
      dead_lettered: 20,
      features: [{ name: 'x', kind: 'numeric' as const, rows: 10_000, missing: 100 }],
    };
    expect(dataQualityReport(window).ok).toBe(true);
    expect(dataQualityReport(window, { dead_letter_rate: 0.001 }).ok).toBe(false);
  });
});

describe('counts from profiles', () => {
  it('out-of-range = the two open outer bins of the reference edges', () => {
    const reference = numericReferenceProfile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 5);
    const window = numericWindowCounts([0, 1, 5, 10, 10.5, 11, null], reference.cuts);
    expect(outOfRangeFromCounts(reference, window)).toBe(3); // 0, 10.5, 11 (10 is the reference max)
    expect(window.missing).toBe(1);
  });

  it('unseen categories are counted from the two profiles', () => {
    expect(unseenFromProfiles(categoricalProfile(['a', 'b']), categoricalProfile(['a', 'c', 'c', 'd', null]))).toBe(3);
  });
});
