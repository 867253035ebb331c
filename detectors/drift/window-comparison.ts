/**
 * A window counted into a reference's bins and categories, against that reference: the
 * per-column drift results and the data-quality inputs. Pure and O(features × bins): the
 * counting itself happens next to the data, in one query per window
 * (platform/clickhouse/window-repository.ts `countWindowColumns`).
 */
import { assertValidCuts } from './bins.ts';
import { compareBinnedFeature, type CompareOptions } from './compare-feature.ts';
import { outOfRangeFromCounts, unseenFromProfiles, type FeatureQualityCounts } from './data-quality.ts';
import type { FeatureDriftResult } from './feature-result.ts';
import type { CategoricalProfile, NumericCounts, NumericReferenceProfile } from './profiles.ts';

/** Report names of the prediction columns (role 'prediction'). */
export const PREDICTION_NAMES = {
  score: 'prediction_score',
  class: 'prediction_class',
  value: 'prediction_value',
} as const;

/** What a window is compared with: a profile per feature and per prediction column. JSON-safe. */
export interface ReferenceProfiles {
  /** Per feature name: numeric (cuts + counts + moments) or categorical (label counts). */
  features: Record<string, NumericReferenceProfile | CategoricalProfile>;
  /** `prediction_score` (probability / score); null when the reference window had none. */
  prediction: NumericReferenceProfile | null;
  /** `prediction_class` (predicted label); null when absent. */
  predictionClass: CategoricalProfile | null;
  /** `prediction_value` (regression output); null when absent. */
  predictionValue: NumericReferenceProfile | null;
  /** Categorical features whose vocabulary was capped (the rest pooled as `__other__`, categories.ts). */
  cappedCategorical: string[];
  /** Events in the reference window: the denominator of its missing rates. */
  rowCount: number;
}

/** One window counted into a reference's bins: the same keys as the reference's profiles. JSON-safe. */
export interface WindowColumnCounts {
  features: Record<string, NumericCounts | CategoricalProfile>;
  /** Counts of `prediction_score` over the reference's score bins; null when the reference has no score profile. */
  prediction: NumericCounts | null;
  predictionClass: CategoricalProfile | null;
  predictionValue: NumericCounts | null;
}

/** What one count query returns for a window: the counts, its rows, and per feature the values of the wrong type. */
export interface CountedWindow extends WindowColumnCounts {
  rows: number;
  /** Per feature: rows carrying it in the other map (a string in a numeric feature, a number in a categorical one). */
  typeViolations: Record<string, number>;
}

/** Throws RangeError unless every numeric profile's cuts keep the edge contract (bins.ts): counting relies on it. */
export function assertCountableReference(
  reference: Pick<ReferenceProfiles, 'features' | 'prediction' | 'predictionValue'>,
): void {
  for (const profile of Object.values(reference.features))
    if (profile.kind === 'numeric') assertValidCuts(profile.cuts);
  for (const profile of [reference.prediction, reference.predictionValue]) if (profile) assertValidCuts(profile.cuts);
}

/** Per-column results of a counted window against its reference (features, then the prediction columns). */
export function compareWindow(
  reference: Pick<ReferenceProfiles, 'features' | 'prediction' | 'predictionClass' | 'predictionValue'>,
  counts: WindowColumnCounts,
  options: Pick<CompareOptions, 'psiEpsilon' | 'chi2'> = {},
): FeatureDriftResult[] {
  const results: FeatureDriftResult[] = [];
  for (const [name, profile] of Object.entries(reference.features)) {
    const current = counts.features[name];
    if (current) results.push(compareBinnedFeature(profile, current, { ...options, name }));
  }
  const pairs: [
    keyof typeof PREDICTION_NAMES,
    NumericReferenceProfile | CategoricalProfile | null,
    NumericCounts | CategoricalProfile | null,
  ][] = [
    ['score', reference.prediction, counts.prediction],
    ['class', reference.predictionClass, counts.predictionClass],
    ['value', reference.predictionValue, counts.predictionValue],
  ];
  for (const [key, profile, current] of pairs) {
    if (profile && current)
      results.push(
        compareBinnedFeature(profile, current, { ...options, name: PREDICTION_NAMES[key], role: 'prediction' }),
      );
  }
  return results;
}

const referenceMissingRate = (missing: number, rows: number): number => (rows > 0 ? missing / rows : 0);

/**
 * Data-quality inputs of a counted window, one per feature (in the reference's order), then per
 * prediction column (score, value, class), for `dataQualityReport`. A value of the wrong type
 * is absent from its own map, so it is a type violation, not a missing value.
 */
export function windowQualityCounts(reference: ReferenceProfiles, window: CountedWindow): FeatureQualityCounts[] {
  const rows = window.rows;
  const out: FeatureQualityCounts[] = [];
  for (const [name, profile] of Object.entries(reference.features)) {
    const current = window.features[name];
    if (!current) continue;
    const typeViolations = window.typeViolations[name] ?? 0;
    if (profile.kind === 'numeric') {
      const counts = current as NumericCounts;
      out.push({
        name,
        kind: 'numeric',
        rows,
        missing: Math.max(0, counts.missing - typeViolations),
        type_violations: typeViolations,
        out_of_range: outOfRangeFromCounts(profile, counts),
        reference_missing_rate: referenceMissingRate(profile.missing, reference.rowCount),
      });
    } else {
      const counts = current as CategoricalProfile;
      out.push({
        name,
        kind: 'categorical',
        rows,
        missing: Math.max(0, counts.missing - typeViolations),
        type_violations: typeViolations,
        unseen: unseenFromProfiles(profile, counts),
        reference_missing_rate: referenceMissingRate(profile.missing, reference.rowCount),
      });
    }
  }
  const numericPredictions = [
    ['score', reference.prediction, window.prediction],
    ['value', reference.predictionValue, window.predictionValue],
  ] as const;
  for (const [key, profile, counts] of numericPredictions) {
    if (!profile || !counts) continue;
    out.push({
      name: PREDICTION_NAMES[key],
      kind: 'numeric',
      rows,
      missing: counts.missing,
      out_of_range: outOfRangeFromCounts(profile, counts),
      reference_missing_rate: referenceMissingRate(profile.missing, reference.rowCount),
    });
  }
  if (reference.predictionClass && window.predictionClass) {
    out.push({
      name: PREDICTION_NAMES.class,
      kind: 'categorical',
      rows,
      missing: window.predictionClass.missing,
      unseen: unseenFromProfiles(reference.predictionClass, window.predictionClass),
      reference_missing_rate: referenceMissingRate(reference.predictionClass.missing, reference.rowCount),
    });
  }
  return out;
}
