/**
 * A segment's own reference: the reference window's events of that segment, counted into the
 * whole reference's cuts and categories. A segment is compared with its own past, not with the
 * whole reference: segments differ from each other by design (incomes by country, devices by
 * channel), so comparing one with the mix would call every unusual segment drifted in every window.
 */
import type { CategoricalProfile, NumericCounts, NumericReferenceProfile } from '../drift/profiles.ts';
import type { CountedWindow, ReferenceProfiles } from '../drift/window-comparison.ts';

/** The whole reference's columns a segment reference takes its cuts and kinds from. */
export type WholeReference = Pick<ReferenceProfiles, 'features' | 'prediction'> &
  Partial<Pick<ReferenceProfiles, 'predictionClass' | 'predictionValue' | 'cappedCategorical'>>;

function numericProfile(whole: NumericReferenceProfile, counts: NumericCounts): NumericReferenceProfile {
  return {
    kind: 'numeric',
    cuts: whole.cuts,
    counts: counts.counts,
    missing: counts.missing,
    min: counts.min ?? 0,
    max: counts.max ?? 0,
    mean: counts.mean ?? 0,
    std: counts.std ?? 0,
    // The most frequent value was counted for the whole reference only: no stuck-value baseline per segment.
    topShare: null,
  };
}

/** The segment's reference profiles from its counted reference events; columns the counts lack are left out. */
export function segmentReferenceProfiles(whole: WholeReference, counted: CountedWindow): ReferenceProfiles {
  const features: ReferenceProfiles['features'] = {};
  for (const [name, profile] of Object.entries(whole.features)) {
    const c = counted.features[name];
    if (!c) continue;
    features[name] =
      profile.kind === 'numeric'
        ? numericProfile(profile, c as NumericCounts)
        : { kind: 'categorical', counts: (c as CategoricalProfile).counts, missing: c.missing };
  }
  return {
    features,
    prediction: whole.prediction && counted.prediction ? numericProfile(whole.prediction, counted.prediction) : null,
    predictionClass: whole.predictionClass && counted.predictionClass ? counted.predictionClass : null,
    predictionValue:
      whole.predictionValue && counted.predictionValue
        ? numericProfile(whole.predictionValue, counted.predictionValue)
        : null,
    cappedCategorical: whole.cappedCategorical ?? [],
    rowCount: counted.rows,
  };
}
