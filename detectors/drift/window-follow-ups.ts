/**
 * What a counted window points at that only a second look at its rows can settle: numeric
 * features whose values crowd into one bin more than the reference's did (stuck-value
 * candidates: their exact most frequent value is counted next), and feature keys the reference
 * does not know (named only when they are frequent enough to report). One rule for every way a
 * window is read (operations/window-drift.ts one by one, activities/window-batcher.ts in batches),
 * so both ask the same follow-up questions of the same counts.
 */
import { DEFAULT_QUALITY_THRESHOLDS, stuckValueCandidates, type AppearedFeatures } from './data-quality.ts';
import { appearedOccurrences, type CountedWindow, type ReferenceProfiles, type TopValue } from './window-comparison.ts';

export interface WindowFollowUps {
  /** Numeric features whose most frequent value to count exactly. */
  stuckCandidates: string[];
  /** Key occurrences the reference does not know; null when the keys were not counted. */
  appearedOccurrences: number | null;
  /** Whether the unknown keys are frequent enough to be looked up by name. */
  nameAppeared: boolean;
}

/**
 * The bars the follow-ups are settled at: the bin rise that makes a numeric feature a stuck-value
 * candidate (half the stuck bar, see `stuckValueCandidates`) and the share of rows with unknown
 * keys that has them named (the feature-appeared bar). A policy's `dataQuality` sets both
 * (detectors/policy/data-quality-bars.ts `followUpBarsOf`).
 */
export interface FollowUpBars {
  stuckCandidateRise: number;
  appearedNamedRate: number;
}

/** The follow-up bars at the detector's default thresholds. @default */
export const DEFAULT_FOLLOW_UP_BARS: FollowUpBars = {
  stuckCandidateRise: DEFAULT_QUALITY_THRESHOLDS.stuck_share_increase / 2,
  appearedNamedRate: DEFAULT_QUALITY_THRESHOLDS.appeared_rate,
};

export function windowFollowUps(
  reference: ReferenceProfiles,
  counted: CountedWindow,
  bars: FollowUpBars = DEFAULT_FOLLOW_UP_BARS,
): WindowFollowUps {
  const occurrences = appearedOccurrences(reference, counted);
  return {
    stuckCandidates: stuckValueCandidates(reference.features, counted.features, bars.stuckCandidateRise),
    appearedOccurrences: occurrences,
    nameAppeared: occurrences !== null && occurrences > 0 && occurrences >= bars.appearedNamedRate * counted.rows,
  };
}

/** The appeared features of a window from its follow-ups and the unknown keys looked up (if any). */
export function appearedFeatures(
  followUps: WindowFollowUps,
  names: readonly { name: string; rows: number }[],
): AppearedFeatures | null {
  if (followUps.appearedOccurrences === null) return null;
  return { occurrences: followUps.appearedOccurrences, names: followUps.nameAppeared ? [...names] : [] };
}

/**
 * Whether the stuck-value check could read the runs of a window's most frequent value of `name`
 * at `share`: only when that share rose above the reference's by the stuck bar (data-quality.ts:
 * the order is read only for a value that grew). The stuck bar is twice the candidate rise, as
 * a policy sets both (detectors/policy/data-quality-bars.ts `followUpBarsOf`). Counting runs
 * sorts every event of the window, so a window read asks for them only then.
 */
export function readsValueRuns(
  reference: ReferenceProfiles,
  name: string,
  share: number,
  bars: FollowUpBars = DEFAULT_FOLLOW_UP_BARS,
): boolean {
  const profile = reference.features[name];
  const referenceTop = profile?.kind === 'numeric' ? (profile.topShare ?? null) : null;
  return referenceTop !== null && share - referenceTop >= 2 * bars.stuckCandidateRise;
}

/**
 * A window's most frequent values with their runs kept only where {@link readsValueRuns} asks for
 * them: what a window read hands on however it counted them (the batched query counts every
 * candidate's runs; a window read alone counts only these), so both reads give the same counts.
 */
export function runsWhereRead(
  reference: ReferenceProfiles,
  topValues: Readonly<Record<string, TopValue | null>>,
  bars: FollowUpBars = DEFAULT_FOLLOW_UP_BARS,
): Record<string, TopValue | null> {
  return Object.fromEntries(
    Object.entries(topValues).map(([name, top]) => [
      name,
      top && top.runs !== undefined && !readsValueRuns(reference, name, top.share, bars)
        ? { value: top.value, share: top.share }
        : top,
    ]),
  );
}
