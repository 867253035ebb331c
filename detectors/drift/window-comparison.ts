/**
 * A window counted into a reference's bins and categories, against that reference: the
 * per-column drift results and the data-quality inputs. Pure and O(features × bins): the
 * counting itself happens next to the data, in one query per window
 * (platform/clickhouse/window-repository.ts `countWindowColumns`).
 */
import { assertValidCuts, binIndex } from './bins.ts';
import { compareBinnedFeature, type CompareOptions } from './compare-feature.ts';
import { outOfRangeFromCounts, topCategory, unseenFromProfiles, type FeatureQualityCounts } from './data-quality.ts';
import type { FeatureDriftResult } from './feature-result.ts';
import type { CategoricalProfile, NumericCounts, NumericReferenceProfile } from './profiles.ts';
import type { ValueRuns } from './value-runs.ts';

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
  /** Feature keys carried by the rows, both maps together (absent: not counted). @default undefined */
  keyOccurrences?: number;
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
export function windowQualityCounts(
  reference: ReferenceProfiles,
  window: CountedWindow,
  topValues: Readonly<Record<string, TopValueRead>> = {},
): FeatureQualityCounts[] {
  const rows = window.rows;
  const out: FeatureQualityCounts[] = [];
  for (const [name, profile] of Object.entries(reference.features)) {
    const current = window.features[name];
    if (!current) continue;
    const typeViolations = window.typeViolations[name] ?? 0;
    if (profile.kind === 'numeric') {
      const counts = current as NumericCounts;
      const top = topValues[name];
      out.push({
        name,
        kind: 'numeric',
        rows,
        missing: Math.max(0, counts.missing - typeViolations),
        type_violations: typeViolations,
        out_of_range: outOfRangeFromCounts(profile, counts),
        reference_missing_rate: referenceMissingRate(profile.missing, reference.rowCount),
        ...stuckValueInputs(profile, counts, top),
      });
    } else {
      const counts = current as CategoricalProfile;
      const top = topCategory(counts);
      out.push({
        name,
        kind: 'categorical',
        rows,
        missing: Math.max(0, counts.missing - typeViolations),
        type_violations: typeViolations,
        unseen: unseenFromProfiles(profile, counts),
        reference_missing_rate: referenceMissingRate(profile.missing, reference.rowCount),
        top_value_share: top?.share ?? null,
        top_value: top?.value ?? null,
        reference_top_value_share: topCategory(profile)?.share ?? null,
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

/**
 * A window's most frequent finite value of a numeric feature, its share of the finite values, and
 * (when the read counted them) its runs in event-time order (value-runs.ts).
 */
export interface TopValue {
  value: number;
  share: number;
  /** @default undefined (the order was not read) */
  runs?: ValueRuns | null;
}

/**
 * What a window read knows of a stuck-value candidate's most frequent value when it settled,
 * without counting that value, that no value reaches the stuck bar (the exact screen,
 * window-follow-ups.ts `stuckValueReads`): a bound on its share of the finite values, below the
 * reference's most frequent share plus the stuck bar. The stuck-value check reads such a feature
 * as not stuck, exactly as it would the counted share.
 */
export interface TopValueBound {
  shareAtMost: number;
}

/** A stuck-value candidate as a window read hands it on: counted, bounded, or null (no finite value). */
export type TopValueRead = TopValue | TopValueBound | null;

export const isTopValueBound = (top: TopValueRead | undefined): top is TopValueBound =>
  top != null && 'shareAtMost' in top;

/**
 * The stuck-value inputs of a numeric feature: the window's most frequent value (when it was
 * counted: only for candidates, data-quality.ts `stuckValueCandidates`) with its runs in event
 * order, or the bound the window's read settled it by instead, the reference's, both spreads
 * for the zero-variance check, and the spread of the window's other values.
 */
export function stuckValueInputs(
  profile: NumericReferenceProfile,
  counts: NumericCounts,
  read: TopValueRead | undefined,
): Pick<
  FeatureQualityCounts,
  | 'top_value_share'
  | 'top_value_share_at_most'
  | 'top_value'
  | 'reference_top_value_share'
  | 'std'
  | 'reference_std'
  | 'reference_top_value'
  | 'reference_min'
  | 'reference_max'
  | 'top_value_bin_share'
  | 'top_value_runs'
  | 'others_std'
> {
  const top = isTopValueBound(read) ? null : read;
  const n = counts.counts.reduce((s, c) => s + c, 0);
  const single = !top && n > 0 && counts.min !== undefined && counts.min === counts.max;
  const topValue = top ? top.value : single ? (counts.min as number) : null;
  return {
    ...(top ? { top_value_share: top.share, top_value: top.value } : {}),
    // One value left in the window: its share is 1 whether or not it was counted.
    ...(single ? { top_value_share: 1, top_value: counts.min } : {}),
    ...(isTopValueBound(read) && !single ? { top_value_share_at_most: read.shareAtMost } : {}),
    reference_top_value_share: profile.topShare ?? null,
    std: n > 0 ? (counts.std ?? null) : null,
    reference_std: profile.std,
    reference_top_value: profile.topValue ?? null,
    reference_min: profile.min,
    reference_max: profile.max,
    top_value_bin_share:
      topValue === null || n === 0 ? null : (counts.counts[binIndex(topValue, profile.cuts)] ?? 0) / n,
    ...(top?.runs ? { top_value_runs: top.runs } : {}),
    ...(top ? { others_std: othersStd(counts, n, top) } : {}),
  };
}

/**
 * Population standard deviation of the finite values other than `top.value`, from the window's
 * mean and deviation: about the window's mean μ, the others hold Σ(x−μ)² = nσ² − n₁(v−μ)² and
 * Σ(x−μ) = −n₁(v−μ) (no cancellation of large squares). Null without moments or other values.
 */
function othersStd(counts: NumericCounts, n: number, top: TopValue): number | null {
  if (counts.mean === undefined || counts.std === undefined || n <= 0) return null;
  const matches = top.runs ? top.runs.matches : Math.round(top.share * n);
  const rest = n - matches;
  if (rest <= 0) return null;
  const d = top.value - counts.mean;
  const meanShift = (matches * d) / rest;
  const variance = (n * counts.std * counts.std - matches * d * d) / rest - meanShift * meanShift;
  return Math.sqrt(Math.max(0, variance));
}

/**
 * Occurrences of feature keys the reference does not know: every key a row carries is a known
 * feature in its own map (its present values), a known feature in the other map (a type
 * violation), or unknown. Null when the window's keys were not counted.
 */
export function appearedOccurrences(reference: ReferenceProfiles, window: CountedWindow): number | null {
  if (window.keyOccurrences === undefined) return null;
  let known = 0;
  for (const [name, profile] of Object.entries(reference.features)) {
    const current = window.features[name];
    if (!current) continue;
    const present =
      profile.kind === 'numeric'
        ? (current as NumericCounts).counts.reduce((s, c) => s + c, 0)
        : window.rows - current.missing;
    known += present + (window.typeViolations[name] ?? 0);
  }
  return Math.max(0, window.keyOccurrences - known);
}
