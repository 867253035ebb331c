/**
 * The smallest shapes the drift and data-quality detectors read: one numeric feature `x`, its
 * reference profiles and a window's counts into its bins. For unit tests of one feature's checks.
 */
import { numericWindowCounts, type NumericReferenceProfile } from '../../detectors/drift/profiles.ts';
import type { CountedWindow, ReferenceProfiles } from '../../detectors/drift/window-comparison.ts';

/** Reference profiles holding only feature `x`, built from `rowCount` rows. */
export const oneFeatureReference = (profile: NumericReferenceProfile, rowCount: number): ReferenceProfiles => ({
  features: { x: profile },
  prediction: null,
  predictionClass: null,
  predictionValue: null,
  cappedCategorical: [],
  rowCount,
});

/** A window whose rows carry only feature `x` (null: missing), counted into `profile`'s bins. */
export const oneFeatureWindow = (
  values: readonly (number | null)[],
  profile: Pick<NumericReferenceProfile, 'cuts'>,
  extra: Partial<CountedWindow> = {},
): CountedWindow => ({
  rows: values.length,
  features: { x: numericWindowCounts([...values], profile.cuts) },
  prediction: null,
  predictionClass: null,
  predictionValue: null,
  typeViolations: {},
  ...extra,
});
