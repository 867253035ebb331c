/**
 * Which numeric features of a segment's window may hold a stuck value, from the counts alone, so
 * the window's read counts the exact most frequent value of those only (as the whole window's
 * follow-up does, drift/window-follow-ups.ts).
 *
 * The whole window's rule (a bin gaining half the stuck bar over the reference) leans on quantile
 * bins holding ~1/bins of the reference each. A segment is counted into the whole reference's
 * cuts, so one of its bins may hold most of its reference (incomes of a poor country), and a stuck
 * value in that bin would barely lift it. A segment's rule is the bound a stuck value cannot
 * escape instead: its bin holds at least its share, and the check needs that share to reach the
 * stuck bar above the segment's own reference share. So no stuck value is missed; the price is
 * counting a feature whose values crowd one bin in every window.
 */
import type { NumericCounts } from '../drift/profiles.ts';
import type { CountedWindow } from '../drift/window-comparison.ts';
import { DEFAULT_FOLLOW_UP_BARS, type FollowUpBars } from '../drift/window-follow-ups.ts';
import type { WholeReference } from './segment-reference.ts';
import type { SegmentReferenceTopValue } from './types.ts';

/**
 * Numeric features of the segment whose largest bin holds at least the stuck bar above the
 * segment's reference most frequent share: the features whose most frequent value could be stuck.
 * None when either side has fewer than `minEvents` events (the segment is not judged) or the
 * reference has no baseline for the feature.
 */
export function segmentStuckCandidates(
  whole: WholeReference,
  segment: {
    reference: CountedWindow;
    referenceTopValues: Readonly<Record<string, SegmentReferenceTopValue | null>> | undefined;
    window: CountedWindow;
  },
  /** Events a segment needs on both sides to be judged (the policy's `segments.minEvents`). */
  minEvents: number,
  /** The window's follow-up bars (the policy's `dataQuality`). @default DEFAULT_FOLLOW_UP_BARS */
  bars: FollowUpBars = DEFAULT_FOLLOW_UP_BARS,
): string[] {
  // The candidate rise is half the stuck bar (policy/data-quality-bars.ts `followUpBarsOf`).
  const stuckShareIncrease = 2 * bars.stuckCandidateRise;
  if (segment.window.rows < minEvents || segment.reference.rows < minEvents) return [];
  const out: string[] = [];
  for (const [name, profile] of Object.entries(whole.features)) {
    if (profile.kind !== 'numeric') continue;
    const baseline = segment.referenceTopValues?.[name];
    const counts = segment.window.features[name] as NumericCounts | undefined;
    if (!baseline || !counts || 'kind' in counts) continue;
    let n = 0;
    let largest = 0;
    for (const c of counts.counts) {
      n += c;
      largest = Math.max(largest, c);
    }
    if (n > 0 && largest / n >= baseline.share + stuckShareIncrease) out.push(name);
  }
  return out;
}
