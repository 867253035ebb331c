/**
 * The gap a probe measured: challenger − champion accuracy on the same events, with a paired
 * t interval on the per-event correctness difference d ∈ {−1, 0, 1}. From counts only, so a
 * query (or the backtest) can aggregate the events: Σd = challengerCorrect − championCorrect,
 * Σd² = events on which exactly one of the two was right.
 */
import { studentTQuantile } from '../decay/stats.ts';
import type { PairedCounts } from './types.ts';

export interface PairedGap {
  events: number;
  champion: number;
  challenger: number;
  gap: number;
  lower: number;
  upper: number;
  level: number;
  /** Standard error of the gap. */
  se: number;
}

/** Gap and interval, or null with fewer than 2 events. */
export function pairedGap(counts: PairedCounts, level = 0.95): PairedGap | null {
  const n = counts.events;
  if (!(n >= 2)) return null;
  const mean = (counts.challengerCorrect - counts.championCorrect) / n;
  const disagreements = counts.championCorrect + counts.challengerCorrect - 2 * counts.bothCorrect;
  const variance = Math.max(0, (disagreements - n * mean * mean) / (n - 1));
  const se = Math.sqrt(variance / n);
  const t = studentTQuantile(1 - (1 - level) / 2, n - 1);
  return {
    events: n,
    champion: counts.championCorrect / n,
    challenger: counts.challengerCorrect / n,
    gap: mean,
    lower: mean - t * se,
    upper: mean + t * se,
    level,
    se,
  };
}

/** Sum of two windows' paired counts. */
export function addPairedCounts(a: PairedCounts, b: PairedCounts): PairedCounts {
  return {
    events: a.events + b.events,
    championCorrect: a.championCorrect + b.championCorrect,
    challengerCorrect: a.challengerCorrect + b.challengerCorrect,
    bothCorrect: a.bothCorrect + b.bothCorrect,
  };
}

/**
 * What a window added to a probe, for runners that re-read every event since the probe started
 * (so late labels of earlier windows count once): the cumulative counts now minus those already
 * recorded. A component that went down (a label corrected since) counts as nothing new.
 */
export function pairedCountsSince(cumulative: PairedCounts, recorded: PairedCounts): PairedCounts {
  const d = (k: keyof PairedCounts) => Math.max(0, cumulative[k] - recorded[k]);
  const events = d('events');
  const championCorrect = Math.min(events, d('championCorrect'));
  const challengerCorrect = Math.min(events, d('challengerCorrect'));
  return {
    events,
    championCorrect,
    challengerCorrect,
    bothCorrect: Math.min(championCorrect, challengerCorrect, d('bothCorrect')),
  };
}

/**
 * Paired counts of scored events (score ≥ threshold predicts 1), for runners that hold the events.
 * The challenger is read at `challengerThreshold` (its own decision threshold). @default threshold
 */
export function pairedCountsOf(
  labels: readonly number[],
  championScores: readonly number[],
  challengerScores: readonly number[],
  threshold = 0.5,
  challengerThreshold = threshold,
): PairedCounts {
  let championCorrect = 0;
  let challengerCorrect = 0;
  let bothCorrect = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    const a = ((championScores[i] as number) >= threshold ? 1 : 0) === y;
    const b = ((challengerScores[i] as number) >= challengerThreshold ? 1 : 0) === y;
    if (a) championCorrect++;
    if (b) challengerCorrect++;
    if (a && b) bothCorrect++;
  }
  return { events: labels.length, championCorrect, challengerCorrect, bothCorrect };
}
