/**
 * What finished probes tell the cost-aware rule about the version in service:
 * - `challenger-better`: a fresh model beats it on the same events — the attainable quality the
 *   staleness is priced against is at least the challenger's level (the champion's accuracy on
 *   the probe's events plus the interval's lower end), and the version counts as stale. The gap
 *   is evidence about the data it was measured on, so it ages: it stands for as long again as
 *   the probe measured (its start to its result), and lapses at once when the data moves after
 *   the result — a window with dataset drift or a change point after it. A lapsed gap raises
 *   nothing, and a new probe may measure again;
 * - `no-better`: no fresh model beats it by a gap worth a retrain — the trigger does not retrain
 *   it, and no probe runs, until the hold ends: as long again as the version had served when the
 *   probe started (so the waits double), and at least the probe's own length. A credible step
 *   down after the probe is new evidence and lifts the hold;
 * - `inconclusive`: the trigger decides as it would without a probe; no probe runs until the
 *   same back-off ends. From rule revision 8, an inconclusive probe whose measured gap is below
 *   its worthwhile gap holds as `no-better` does (`measuredGapHolds`): the interval could not rule
 *   out a gap worth a retrain, but the best estimate of the gap is one that is not, so the retrain
 *   it would make is expected to cost more than it saves (flight delays, 2015-03-14 and
 *   2015-08-11: gaps 0.003 and 0 on ~300 events, each retrain saving less than C).
 * Only probes of the version in service count.
 */
import { formatInstant } from '../texts/format.ts';
import type { ProbeResult, ProbeView } from './types.ts';

const HOUR_MS = 3_600_000;

export interface ProbeEvidence {
  /** The newest finished probe of the version in service, or null. */
  latest: ProbeResult | null;
  /** The challenger's level at the gap's lower end, when the challenger is better. */
  raisedAttainable: number | null;
  /** When the latest probe says no fresh model beats the version: until when that holds. */
  heldUntil: number | null;
  /** No new probe of this version before this instant (after a no-better or inconclusive probe). */
  backoffUntil: number | null;
  /** Until when a challenger-better gap stands (it lapses then, or earlier when the data moves). @default undefined */
  raisedUntil?: number | null;
  /** Why a challenger-better gap no longer raises the attainable level, once it lapsed. @default undefined */
  lapsed?: string | null;
}

/** What happened to the data since a probe's result: its gap lapses when the data moved. */
export interface DataSince {
  /** Windows (start and whether they showed dataset drift), oldest first. */
  windows?: readonly { start: number; drift?: { datasetDrift: boolean } | null }[];
  /** The latest change point in the quality series, if any. */
  changePointAt?: number | null;
}

export function probeEvidence(
  view: ProbeView | undefined,
  now: number,
  since: DataSince | null = null,
  measuredGapHolds = false,
): ProbeEvidence {
  const latest = [...(view?.results ?? [])].reverse().find((r) => r.version === view?.version) ?? null;
  if (latest === null) return { latest, raisedAttainable: null, heldUntil: null, backoffUntil: null };
  if (latest.verdict === 'challenger-better' && latest.champion !== null && latest.lower !== null) {
    // Without `since` (callers from before ageing) the gap stands for the version's life.
    if (since === null)
      return { latest, raisedAttainable: latest.champion + latest.lower, heldUntil: null, backoffUntil: null };
    const raisedUntil = gapStandsUntil(latest);
    const lapsed = gapLapse(latest, raisedUntil, now, since);
    return {
      latest,
      raisedAttainable: lapsed === null ? latest.champion + latest.lower : null,
      heldUntil: null,
      backoffUntil: null,
      raisedUntil,
      lapsed,
    };
  }
  const until = holdUntil(latest);
  const pending = until > now ? until : null;
  return {
    latest,
    raisedAttainable: null,
    heldUntil: latest.verdict === 'no-better' || (measuredGapHolds && estimateBelowWorthwhile(latest)) ? pending : null,
    backoffUntil: pending,
  };
}

/** Until when a challenger-better gap stands: as long again as the probe measured (at least a millisecond). */
export function gapStandsUntil(result: ProbeResult): number {
  return result.completedAt + Math.max(1, result.completedAt - result.startedAt);
}

/** Why a challenger-better gap no longer stands, or null while it does. */
function gapLapse(result: ProbeResult, until: number, now: number, since: DataSince): string | null {
  if (now > until)
    return `the gap was measured on the windows to ${formatInstant(result.completedAt)} and stood as long again`;
  return dataMovedSince(result.completedAt, since);
}

/**
 * Why the data has moved since `at` — a later window with dataset drift, or a change point in the
 * quality series at or after it — or null: what a probe measured before then no longer stands.
 */
export function dataMovedSince(at: number, since: DataSince): string | null {
  const drifted = since.windows?.find((w) => w.start >= at && w.drift?.datasetDrift === true);
  if (drifted) return `the data drifted after the gap was measured (window of ${formatInstant(drifted.start)})`;
  const change = since.changePointAt ?? null;
  if (change !== null && change >= at)
    return `quality changed after the gap was measured (change point at ${formatInstant(change)})`;
  return null;
}

/** An inconclusive probe whose measured gap is below the gap its plan needed for a retrain to pay. */
export function estimateBelowWorthwhile(result: ProbeResult): boolean {
  return result.verdict === 'inconclusive' && result.gap !== null && result.gap < result.plan.worthwhileGap;
}

/** End of the hold after a probe that found no better model. */
export function holdUntil(result: ProbeResult): number {
  const probeLength = Math.max(0, result.completedAt - result.startedAt);
  return result.completedAt + Math.max(probeLength, result.versionAgeHours * HOUR_MS);
}

/**
 * How often a retrain of this model paid, from what was measured: retrains whose new version's
 * early quality was compared with the old version's last windows, and probes (a better
 * challenger is a retrain that would have paid); when the attainable level comes from fresh
 * versions measured in service, that counts as one retrain that helped. Laplace-smoothed: with
 * nothing measured, even odds. The `before-retrain` probe weighs this against its own cost.
 */
export function chanceRetrainDoesNotHelp(view: ProbeView | undefined, attainableMeasured = false): number {
  const outcomes = view?.retrainOutcomes ?? { helped: 0, didNotHelp: 0 };
  // Fresh versions of this model measured in service at the attainable level: one retrain that reached it.
  let helped = outcomes.helped + (attainableMeasured ? 1 : 0);
  let didNotHelp = outcomes.didNotHelp;
  for (const r of view?.results ?? []) {
    if (r.verdict === 'challenger-better') helped++;
    else if (r.verdict === 'no-better') didNotHelp++;
  }
  return (didNotHelp + 0.5) / (helped + didNotHelp + 1);
}
