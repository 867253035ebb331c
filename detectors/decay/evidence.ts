import type { DecayFit } from './types.ts';

/**
 * When a decay fit has the evidence to report a half-life: the one rule the API, CLI and dashboard
 * read before they show a half-life (with its interval) as a property of the model.
 *
 * A fit can carry a `halfLifeHours` without it: a straight line has one (the age at which half of
 * the quality above the metric's bound would be gone, an extrapolation far past the data); an
 * exponential from two or three windows leans on the population prior or fits noise; one whose
 * interval has no upper end is not pinned down by its windows; and a half-life shorter than the
 * windows that measured it (an unbounded fit through four noisy one-minute windows found 23 s)
 * is no evidence of anything. Bounded fits (`windowHours`, decay/fit.ts) already refuse the last
 * one; this predicate refuses it in fits made before.
 */

export interface HalfLifeEvidence {
  /** Whether the half-life (and its interval) may be shown as the model's. */
  reportable: boolean;
  /** Why, for a reader: what the fit is, or what it still lacks. */
  reason: string;
}

/** Fewest windows of its own a version needs before its half-life is reported. @default 4 */
export const MIN_POINTS_FOR_HALF_LIFE = 4;

/** Whether `fit` has the evidence to report its half-life (see the module comment). */
export function halfLifeEvidence(
  fit: DecayFit | null | undefined,
  options: { minPoints?: number } = {},
): HalfLifeEvidence {
  const minPoints = options.minPoints ?? MIN_POINTS_FOR_HALF_LIFE;
  if (!fit) return { reportable: false, reason: 'no decay fit yet' };
  if (fit.model === 'none') return { reportable: false, reason: `no decay detected: ${fit.reason}` };
  if (fit.n < minPoints)
    return {
      reportable: false,
      reason: `only ${fit.n} window${fit.n === 1 ? '' : 's'} of this version: a half-life needs at least ${minPoints}`,
    };
  if (fit.model === 'linear')
    return { reportable: false, reason: `a straight-line fit has no half-life of its own: ${fit.reason}` };
  const interval = fit.halfLifeInterval;
  if (fit.halfLifeHours === null || interval === null)
    return { reportable: false, reason: 'the fit has no half-life interval' };
  if (interval.upper === null)
    return { reportable: false, reason: 'its interval has no upper bound yet: the windows do not pin it down' };
  if (fit.windowHours !== undefined && interval.lower < fit.windowHours)
    return {
      reportable: false,
      reason: 'its interval reaches below one window: the windows cannot tell a half-life that short',
    };
  if (fit.maxAgeHours > 0 && fit.halfLifeHours < shortestSpan(fit))
    return { reportable: false, reason: 'the half-life is shorter than the windows that measured it' };
  return { reportable: true, reason: fit.reason };
}

/**
 * The window length the fit was bounded by, or for a fit made before bounded fits the mean
 * spacing of its points from age 0 (about one window when the version was watched from its start).
 */
function shortestSpan(fit: DecayFit): number {
  if (fit.windowHours !== undefined) return fit.windowHours;
  return fit.n > 0 ? fit.maxAgeHours / fit.n : 0;
}
