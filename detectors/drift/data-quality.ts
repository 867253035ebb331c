/**
 * Data quality of one window, from counts only (all computed by SQL next to the data).
 * Drift tests exclude missing and malformed values, so without this report a feature
 * that silently turns 40% null, or a producer that starts sending strings, would look
 * "stable". Quality alerts are reported beside drift, never folded into it.
 *
 * Default alert thresholds (each configurable, each a rate over the window's rows):
 *  - missing rate rises ≥ 0.05 above the reference's missing rate (5 points: beyond the
 *    noise of any window of a few hundred rows, well before a model degrades);
 *  - type violations ≥ 0.01 (1% of values of the wrong type is a producer bug, not noise);
 *  - out-of-reference-range ≥ 0.05 (under no drift about 2/n_ref of values land outside
 *    [min_ref, max_ref]; 5% means the feature left the range the model was trained on);
 *  - unseen categories ≥ 0.05 (same reasoning for labels the model never saw);
 *  - dead-lettered events ≥ 0.01 of the window (events rejected at ingest);
 *  - fewer than 100 rows: drift verdicts on such windows are weak.
 */
import type { FeatureKind } from './feature-result.ts';
import type { CategoricalProfile, NumericCounts, NumericReferenceProfile } from './profiles.ts';
import { alignCategories } from './categories.ts';

/** Counts for one feature in one window. */
export interface FeatureQualityCounts {
  name: string;
  kind: FeatureKind;
  /** Rows in the window that should carry this feature. */
  rows: number;
  /** Null / NaN / absent values. */
  missing: number;
  /** Values of the wrong type (e.g. a string in a numeric feature). @default 0 */
  type_violations?: number;
  /** Numeric: values below the reference minimum or above its maximum. @default 0 */
  out_of_range?: number;
  /** Categorical: values in categories absent from the reference. @default 0 */
  unseen?: number;
  /** The reference's own missing rate, the baseline for the missing-rate alert. @default 0 */
  reference_missing_rate?: number;
}

export interface QualityThresholds {
  /** @default 0.05 */
  missing_rate_increase: number;
  /** @default 0.01 */
  type_violation_rate: number;
  /** @default 0.05 */
  out_of_range_rate: number;
  /** @default 0.05 */
  unseen_rate: number;
  /** @default 0.01 */
  dead_letter_rate: number;
  /** @default 100 */
  min_rows: number;
}

export const DEFAULT_QUALITY_THRESHOLDS: QualityThresholds = {
  missing_rate_increase: 0.05,
  type_violation_rate: 0.01,
  out_of_range_rate: 0.05,
  unseen_rate: 0.05,
  dead_letter_rate: 0.01,
  min_rows: 100,
};

export interface FeatureQuality {
  name: string;
  kind: FeatureKind;
  rows: number;
  missing: number;
  missing_rate: number;
  type_violations: number;
  type_violation_rate: number;
  out_of_range: number;
  out_of_range_rate: number;
  unseen: number;
  unseen_rate: number;
  alerts: string[];
}

export interface DataQualityReport {
  rows: number;
  dead_lettered: number;
  /** Dead-lettered / (accepted rows + dead-lettered). */
  dead_letter_rate: number;
  features: FeatureQuality[];
  /** Window-level alerts followed by "feature: alert" lines. */
  alerts: string[];
  ok: boolean;
}

const rate = (count: number, rows: number): number => (rows > 0 ? count / rows : 0);

/** Rates and alerts for one feature. */
export function featureQuality(
  counts: FeatureQualityCounts,
  thresholds: QualityThresholds = DEFAULT_QUALITY_THRESHOLDS,
): FeatureQuality {
  const rows = counts.rows;
  const typeViolations = counts.type_violations ?? 0;
  const outOfRange = counts.out_of_range ?? 0;
  const unseen = counts.unseen ?? 0;
  const missingRate = rate(counts.missing, rows);
  const alerts: string[] = [];
  const baseline = counts.reference_missing_rate ?? 0;
  if (rows > 0 && counts.missing === rows) alerts.push('all values missing');
  else if (missingRate - baseline >= thresholds.missing_rate_increase)
    alerts.push(`missing rate ${missingRate.toFixed(3)} vs reference ${baseline.toFixed(3)}`);
  const typeRate = rate(typeViolations, rows);
  if (typeRate >= thresholds.type_violation_rate) alerts.push(`type violations ${typeRate.toFixed(3)}`);
  const rangeRate = rate(outOfRange, rows);
  if (rangeRate >= thresholds.out_of_range_rate) alerts.push(`out of reference range ${rangeRate.toFixed(3)}`);
  const unseenRate = rate(unseen, rows);
  if (unseenRate >= thresholds.unseen_rate) alerts.push(`unseen categories ${unseenRate.toFixed(3)}`);
  return {
    name: counts.name,
    kind: counts.kind,
    rows,
    missing: counts.missing,
    missing_rate: missingRate,
    type_violations: typeViolations,
    type_violation_rate: typeRate,
    out_of_range: outOfRange,
    out_of_range_rate: rangeRate,
    unseen,
    unseen_rate: unseenRate,
    alerts,
  };
}

/** The data quality report of one window. */
export function dataQualityReport(
  window: { rows: number; dead_lettered: number; features: readonly FeatureQualityCounts[] },
  thresholds: Partial<QualityThresholds> = {},
): DataQualityReport {
  const t = { ...DEFAULT_QUALITY_THRESHOLDS, ...thresholds };
  const features = window.features.map((f) => featureQuality(f, t));
  const deadLetterRate = rate(window.dead_lettered, window.rows + window.dead_lettered);
  const alerts: string[] = [];
  if (window.rows < t.min_rows) alerts.push(`only ${window.rows} rows (< ${t.min_rows})`);
  if (deadLetterRate >= t.dead_letter_rate) alerts.push(`dead-letter rate ${deadLetterRate.toFixed(3)}`);
  for (const f of features) for (const a of f.alerts) alerts.push(`${f.name}: ${a}`);
  return {
    rows: window.rows,
    dead_lettered: window.dead_lettered,
    dead_letter_rate: deadLetterRate,
    features,
    alerts,
    ok: alerts.length === 0,
  };
}

/**
 * Out-of-range count from window counts over edges made by referenceBinEdges: its first
 * bin is (−∞, min_ref) and its last is (max_ref, +∞), so their counts are exactly the
 * values outside the reference range.
 */
export function outOfRangeFromCounts(reference: NumericReferenceProfile, current: NumericCounts): number {
  if (reference.cuts.length === 0) return 0;
  return (current.counts[0] ?? 0) + (current.counts[current.counts.length - 1] ?? 0);
}

/** Unseen-category count of a categorical window against its reference. */
export function unseenFromProfiles(reference: CategoricalProfile, current: CategoricalProfile): number {
  return alignCategories(reference.counts, current.counts).unseenCount;
}
