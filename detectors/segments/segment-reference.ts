/**
 * A segment's own reference: the reference window's events of that segment, counted into the
 * whole reference's cuts and categories. A segment is compared with its own past, not with the
 * whole reference: segments differ from each other by design (incomes by country, devices by
 * channel), so comparing one with the mix would call every unusual segment drifted in every window.
 */
import type { CategoricalProfile, NumericCounts, NumericReferenceProfile } from '../drift/profiles.ts';
import type { CountedWindow, ReferenceProfiles } from '../drift/window-comparison.ts';
import type { SegmentReferenceTopValue } from './types.ts';

/** The whole reference's columns a segment reference takes its cuts and kinds from. */
export type WholeReference = Pick<ReferenceProfiles, 'features' | 'prediction'> &
  Partial<Pick<ReferenceProfiles, 'predictionClass' | 'predictionValue' | 'cappedCategorical'>>;

function numericProfile(
  whole: NumericReferenceProfile,
  counts: NumericCounts,
  top: SegmentReferenceTopValue | null | undefined,
): NumericReferenceProfile {
  return {
    kind: 'numeric',
    cuts: whole.cuts,
    counts: counts.counts,
    missing: counts.missing,
    min: counts.min ?? 0,
    max: counts.max ?? 0,
    mean: counts.mean ?? 0,
    std: counts.std ?? 0,
    // The segment's own most frequent value: a segment whose values repeat (one country's integer
    // ages) is not stuck for repeating them, one that never repeated is when it starts to.
    // Counts made before it was counted have none: no stuck-value baseline.
    topShare: top?.share ?? null,
    ...(top ? { topValue: top.value } : {}),
  };
}

/**
 * The segment's reference profiles from its counted reference events and, when counted, its most
 * frequent value per numeric feature (the stuck-value baseline); columns the counts lack are left out.
 */
export function segmentReferenceProfiles(
  whole: WholeReference,
  counted: CountedWindow,
  /** The segment's most frequent values in the reference. @default none (no stuck-value baseline) */
  topValues: Readonly<Record<string, SegmentReferenceTopValue | null>> = {},
): ReferenceProfiles {
  const features: ReferenceProfiles['features'] = {};
  for (const [name, profile] of Object.entries(whole.features)) {
    const c = counted.features[name];
    if (!c) continue;
    features[name] =
      profile.kind === 'numeric'
        ? numericProfile(profile, c as NumericCounts, topValues[name])
        : { kind: 'categorical', counts: (c as CategoricalProfile).counts, missing: c.missing };
  }
  return {
    features,
    prediction:
      whole.prediction && counted.prediction ? numericProfile(whole.prediction, counted.prediction, null) : null,
    predictionClass: whole.predictionClass && counted.predictionClass ? counted.predictionClass : null,
    predictionValue:
      whole.predictionValue && counted.predictionValue
        ? numericProfile(whole.predictionValue, counted.predictionValue, null)
        : null,
    cappedCategorical: whole.cappedCategorical ?? [],
    rowCount: counted.rows,
  };
}
