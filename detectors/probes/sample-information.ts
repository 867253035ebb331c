/**
 * What an exploring probe of its size can tell (rule revision 9). Up to revision 8 the explore
 * value (schedule.ts, gap-posterior.ts) is that of *perfect* information, E[max(0, k·g − C)]: as
 * if the probe measured the gap g exactly. A probe scores n paired labelled events and measures g
 * with the standard error of a paired difference, σ = √(v / n), v the per-event variance of the
 * difference (for accuracy: the share of events on which exactly one of the two models is right,
 * less g²). What it is worth is the value of *sample* information: the decision after the probe
 * follows the posterior mean E[g | ĝ], not g — E[max(0, k·E[g | ĝ] − C)].
 *
 * The normal approximation, not the half-normal: the signed gap has the prior N(m, s²) (m = 0 before
 * any probe; a fresh model may be worse, as revision 8's posterior already allows), ĝ = g + N(0, σ²).
 * The posterior mean, before ĝ is drawn, is then N(m, s⁴ / (s² + σ²)): the prior shrunk to the
 * scale s' = s² / √(s² + σ²) (the preposterior mean). The value is revision 8's with s' in place of
 * s — the half-normal closed form (mean 0: twice the normal prior's value for C ≥ 0, revision 8's
 * factor kept) or the posterior's integral kept to g ≥ 0 with its sd shrunk the same way. So it is
 * revision 8's value exactly at σ = 0 (n → ∞), falls as n falls, and is 0 as σ → ∞: a probe that can
 * measure nothing buys nothing. The exact half-normal preposterior mean does not vanish as σ → ∞: it
 * tends to the prior mean s·√(2/π) > 0, and would price a probe that measures nothing at
 * max(0, k·s·√(2/π) − C) — the value of retraining without looking (a fresh model always better by
 * 0.8·s on average), not of the probe.
 *
 * Why: on windows of a few tens of labelled events, four windows measure an accuracy gap to ±0.07
 * or so, while the gaps whose value paid for the probe were a few hundredths (BENCHMARKS.md, "Retrain
 * decisions on real data").
 */
import { gapMeasurementOf, posteriorExploreValue, type GapPosterior } from './gap-posterior.ts';
import { MIN_CONCLUSIVE_EVENTS } from './progress.ts';
import { exploreValue, probeWindowsNeeded, type ExploreInputs } from './schedule.ts';
import type { ProbeResult } from './types.ts';

/**
 * Paired-difference variance per event when no finished probe measured it: twice the version's
 * error rate, at most 1. Two models disagree on at most the events either gets wrong, so the share
 * of discordant pairs — the variance of a ±1/0 correctness difference, less g² — is at most the
 * sum of their error rates, ≈ 2 × the version's own. An upper bound: it prices the first probe as
 * measuring less than it will when the two models mostly err on the same events, so it probes no
 * more than it can justify.
 */
export const UNMEASURED_VARIANCE_PER_ERROR = 2;

/** Standard error of a paired gap on `events` events (∞ with none). */
export function pairedGapStandardError(perEventVariance: number, events: number): number {
  if (!(events > 0)) return Number.POSITIVE_INFINITY;
  return Math.sqrt(Math.max(0, perEventVariance) / events);
}

/**
 * Scale of the preposterior mean: s² / √(s² + σ²) — s itself when σ = 0, 0 when σ = ∞ or s = 0.
 */
export function preposteriorScale(priorScale: number, standardError: number): number {
  if (!(priorScale > 0)) return 0;
  if (standardError === 0) return priorScale;
  if (!Number.isFinite(standardError)) return 0;
  return (priorScale * priorScale) / Math.sqrt(priorScale * priorScale + standardError * standardError);
}

/**
 * The per-event variance of the gap's difference a finished probe measured (standard error² ×
 * events, with the rule-of-three floor of gapMeasurementOf), or null without an interval or with
 * fewer than {@link MIN_CONCLUSIVE_EVENTS} events.
 */
export function measuredPerEventVariance(result: ProbeResult): number | null {
  if (!(result.events >= MIN_CONCLUSIVE_EVENTS)) return null;
  const measurement = gapMeasurementOf(result);
  return measurement === null ? null : measurement.standardError ** 2 * result.events;
}

/** The default per-event variance: {@link UNMEASURED_VARIANCE_PER_ERROR} × (1 − quality), in [0, 1]; 1 when unknown. */
export function unmeasuredPerEventVariance(quality: number | null): number {
  if (quality === null || !Number.isFinite(quality)) return 1;
  return Math.min(1, Math.max(0, UNMEASURED_VARIANCE_PER_ERROR * (1 - quality)));
}

export interface ProbeSample {
  /** Paired events the probe reads its gap on. */
  events: number;
  /** Per-event variance of the paired difference. */
  perEventVariance: number;
  /** Where the variance comes from (for the decision's inputs). */
  varianceSource: 'probe' | 'error rate';
  /** σ = √(variance / events). */
  standardError: number;
}

export interface ProbeSampleInputs {
  minPairedEvents: number;
  maxWindows: number;
  /** Labelled events a window brings. */
  labelledPerWindow: number;
  /** Finished probes of the model, oldest first: the newest with an interval gives the variance. */
  results: readonly ProbeResult[];
  /** The version's latest quality (its error rate gives the variance when no probe measured it). */
  quality: number | null;
}

/**
 * The sample a probe started now would read its gap on: the windows it needs for `minPairedEvents`
 * (at most `maxWindows`) × the labelled events a window brings — the first point at which it can
 * finish (an indecisive probe may go on to `maxWindows`; pricing the first read is the lower bound).
 */
export function plannedProbeSample(input: ProbeSampleInputs): ProbeSample {
  const perWindow = Math.max(0, input.labelledPerWindow);
  const events = probeWindowsNeeded(input.minPairedEvents, perWindow, input.maxWindows) * perWindow;
  let measured: number | null = null;
  for (let i = input.results.length - 1; i >= 0 && measured === null; i--)
    measured = measuredPerEventVariance(input.results[i] as ProbeResult);
  const perEventVariance = measured ?? unmeasuredPerEventVariance(input.quality);
  return {
    events,
    perEventVariance,
    varianceSource: measured === null ? 'error rate' : 'probe',
    standardError: pairedGapStandardError(perEventVariance, events),
  };
}

export interface SampleExploreInputs extends ExploreInputs {
  /** Standard error the probe measures the gap with (0: exactly, revision 8's value; ∞: not at all). */
  standardError: number;
  /**
   * The prior updated by the version's standing probes (gap-posterior.ts), or null for the
   * half-normal prior of scale `priorGap` alone. @default null
   */
  posterior?: GapPosterior | null;
}

/**
 * Value of what a probe measuring the gap to ±`standardError` tells before deciding (money): the
 * explore value of revision 8 under the prior — or the standing probes' posterior — with its scale
 * shrunk to the preposterior mean's, s² / √(s² + σ²).
 */
export function sampleExploreValue(input: SampleExploreInputs): number {
  const posterior = input.posterior ?? null;
  if (posterior === null)
    return exploreValue({ ...input, priorGap: preposteriorScale(input.priorGap, input.standardError) });
  return posteriorExploreValue(input.valuePerQualityUnit, input.eventsServed, input.hurdle, {
    ...posterior,
    sd: preposteriorScale(posterior.sd, input.standardError),
  });
}
