/**
 * What a counted window points at that only a second look at its rows can settle: numeric
 * features whose values crowd into one bin more than the reference's did (stuck-value
 * candidates: whether a value reaches the stuck bar is settled next, exactly, and the value
 * counted where one might), and feature keys the reference does not know (named only when they
 * are frequent enough to report). One rule for every way a window is read
 * (operations/window-drift.ts one by one, activities/window-batcher.ts in batches), so both ask
 * the same follow-up questions of the same counts.
 */
import type { NumericCounts } from './profiles.ts';
import { DEFAULT_QUALITY_THRESHOLDS, stuckValueCandidates, type AppearedFeatures } from './data-quality.ts';
import {
  appearedOccurrences,
  type CountedWindow,
  type ReferenceProfiles,
  type TopValue,
  type TopValueRead,
} from './window-comparison.ts';

/**
 * What settles whether any value of a stuck-value candidate reaches the stuck bar. The check
 * flags a value only when its share of the window's finite values rose over the reference's most
 * frequent share by the stuck bar (data-quality.ts `featureChecks`), that is when it holds at
 * least `countBar` of the `finite` values. Finding the most frequent value by counting every value
 * is a GROUP BY over every finite value of the window, which on a continuous feature costs a 10M-row
 * window ~1–1.5 CPU s and ~700 MiB (BENCHMARKS.md "Drift report"), for an answer the check
 * ignores unless a value reaches the bar. So the read screens first, exactly:
 *  - from the counts alone: a value lies in one reference bin, so none holds more than the
 *    window's fullest bin; when that is under `countBar`, nothing is asked
 *    ({@link stuckValuesToCount});
 *  - otherwise by order statistics (platform/clickhouse/window-repository.ts `topValueShares`), in
 *    one pass over the window's values: a value holding m = `countBar` rows fills ≥ m consecutive
 *    places of the sorted values, and any m consecutive places hold two consecutive multiples of
 *    s = ⌊m/2⌋; so a value that can reach the bar sits at two consecutive ranks s·k, s·(k+1) of
 *    the few read ({@link screenRanks}). When no two consecutive ranks hold the same value, no
 *    value reaches the bar and the read says so ({@link BelowCountBar}); otherwise only the values
 *    repeated there are counted, and one that reaches the bar is the most frequent value (every
 *    value as frequent is among them), counted as before.
 * Either way the check's verdict is the one a full count gives; a screened candidate carries a
 * bound on its most frequent share instead of the share ({@link stuckValueReads}).
 */
export interface StuckValueScreen {
  /** The window's finite values of the feature: its counted bins' sum. */
  finite: number;
  /** The fewest rows one value needs for the check to flag it ({@link stuckCountBar}); `finite + 1` when none can. */
  countBar: number;
  /** The ranks a value holding `countBar` rows sits at two consecutive ones of ({@link screenRanks}); null: count every value. */
  ranks: number[] | null;
}

/** The most ranks a screen reads: its count bar over a 16th of the window's values (the default stuck bar is a 5th). */
export const STUCK_SCREEN_RANKS = 32;

/**
 * The ranks (1-based, in the window's sorted finite values) a screen reads: every multiple of
 * s = ⌊m/2⌋ up to `finite`, m = `countBar`. A value holding m rows fills m or more consecutive
 * places, which hold at least ⌊m/s⌋ ≥ 2 multiples of s, consecutive ones: it sits at two
 * consecutive ranks. Null when fewer than two (then no value can hold m rows: finite < 2s ≤ m), or
 * more than {@link STUCK_SCREEN_RANKS} (a bar so low that the read counts every value instead).
 */
export function screenRanks(finite: number, countBar: number): number[] | null {
  const spacing = Math.floor(countBar / 2);
  const count = spacing >= 1 ? Math.floor(finite / spacing) : 0;
  if (!Number.isInteger(countBar) || count < 2 || count > STUCK_SCREEN_RANKS) return null;
  return Array.from({ length: count }, (_, k) => (k + 1) * spacing);
}

/** A numeric feature whose window might hold a stuck value, with its screen. */
export interface StuckCandidate extends StuckValueScreen {
  name: string;
  /** Rows in the window's fullest reference bin: no value of the feature holds more. */
  fullestBin: number;
}

/** A read's answer for a screened feature none of whose values holds the screen's `countBar` rows. */
export type BelowCountBar = 'below-count-bar';

export interface WindowFollowUps {
  /** Numeric features whose values crowd a bin: whether any value reaches the stuck bar is settled next. */
  stuckCandidates: StuckCandidate[];
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
    stuckCandidates: stuckValueCandidates(reference.features, counted.features, bars.stuckCandidateRise).map((name) =>
      stuckCandidate(reference, counted, name, bars),
    ),
    appearedOccurrences: occurrences,
    nameAppeared: occurrences !== null && occurrences > 0 && occurrences >= bars.appearedNamedRate * counted.rows,
  };
}

function stuckCandidate(
  reference: ReferenceProfiles,
  counted: CountedWindow,
  name: string,
  bars: FollowUpBars,
): StuckCandidate {
  const profile = reference.features[name];
  const counts = (counted.features[name] as NumericCounts).counts;
  let finite = 0;
  let fullestBin = 0;
  for (const c of counts) {
    finite += c;
    fullestBin = Math.max(fullestBin, c);
  }
  // A reference built before it kept its most frequent share gives the check nothing to compare
  // with (it never flags the feature); screening at the bar itself still bounds the share.
  const referenceTop = profile?.kind === 'numeric' ? (profile.topShare ?? 0) : 0;
  const countBar = stuckCountBar(finite, referenceTop, 2 * bars.stuckCandidateRise);
  return { name, finite, fullestBin, countBar, ranks: screenRanks(finite, countBar) };
}

/**
 * The fewest of `finite` rows one value needs for the stuck-value check to flag it: the smallest
 * count c whose share c / finite rose over `referenceTop` by `stuckBar`, in floating point as the
 * check computes it (data-quality.ts `featureChecks`: share − reference ≥ bar; it also asks for 3
 * standard errors and enough values, which only flag less). The stuck bar is twice the candidate
 * rise, as {@link readsValueRuns} takes it. `finite + 1` when no value can be flagged.
 */
export function stuckCountBar(finite: number, referenceTop: number, stuckBar: number): number {
  // c / finite is monotone in c, so the counts that reach the bar are all those from one on.
  const reaches = (c: number): boolean => c / finite - referenceTop >= stuckBar;
  const estimate = Math.ceil((referenceTop + stuckBar) * finite);
  let c = Number.isFinite(estimate) ? Math.min(finite + 1, Math.max(1, estimate)) : finite + 1;
  while (c > 1 && reaches(c - 1)) c--;
  while (c <= finite && !reaches(c)) c++;
  return c;
}

/** The candidates the counts leave open (their fullest bin reaches the count bar): the ones a read asks about. */
export function stuckValuesToCount(followUps: WindowFollowUps): StuckCandidate[] {
  return followUps.stuckCandidates.filter((c) => c.fullestBin >= c.countBar);
}

/** The screens of `candidates` by name, as the repositories take them. */
export function screensOf(candidates: readonly StuckCandidate[]): Record<string, StuckValueScreen> {
  return Object.fromEntries(
    candidates.map((c) => [c.name, { finite: c.finite, countBar: c.countBar, ranks: c.ranks }]),
  );
}

/**
 * A window's stuck-value candidates as its read hands them on: the most frequent value where the
 * read counted it (null for a feature without a finite value); otherwise a bound on its share —
 * the fullest bin, or one row short of the count bar, whichever is less, of the finite values.
 * Both reads give the same: the one-by-one read screens in ClickHouse, the batched one counts
 * every value of its small windows and answers {@link BelowCountBar} below the bar.
 */
export function stuckValueReads(
  followUps: WindowFollowUps,
  answers: Readonly<Record<string, TopValue | BelowCountBar | null>>,
): Record<string, TopValueRead> {
  return Object.fromEntries(
    followUps.stuckCandidates.map((c) => {
      const answer = answers[c.name];
      return [
        c.name,
        answer === undefined || answer === 'below-count-bar'
          ? { shareAtMost: Math.min(c.fullestBin, c.countBar - 1) / c.finite }
          : answer,
      ];
    }),
  );
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
  topValues: Readonly<Record<string, TopValue | BelowCountBar | null>>,
  bars: FollowUpBars = DEFAULT_FOLLOW_UP_BARS,
): Record<string, TopValue | BelowCountBar | null> {
  return Object.fromEntries(
    Object.entries(topValues).map(([name, top]) => [
      name,
      top && top !== 'below-count-bar' && top.runs !== undefined && !readsValueRuns(reference, name, top.share, bars)
        ? { value: top.value, share: top.share }
        : top,
    ]),
  );
}
