/**
 * What finished probes say about the gap g a fresh model would find (rule revision 8). The explore
 * value (schedule.ts) starts from a half-normal prior on g of scale s — a normal N(0, s²) kept to
 * g ≥ 0. Each finished probe of the version in service is a measurement of g: its gap with the
 * standard error its interval implies. Combined with the prior (normal × normal), the posterior is
 * that normal N(m, τ²) kept to g ≥ 0, and the explore value is the value of knowing g under it.
 * Without it, a probe that found the challenger worse by 0.02 on 2,600 events (employment, 2016)
 * left the prior where it was, and a year later the same prior on a longer life paid for a second
 * probe that found the same.
 *
 * A measurement stands until the data moves after it — a window with dataset drift or a change
 * point in the quality series — as a challenger-better gap lapses (evidence.ts): the gap is
 * evidence about the data it was measured on. Without a move, nothing says g has changed, which is
 * what the prior's one scale for the whole life already assumes.
 */
import { normalCdf, twoSidedZ } from '../quality/distributions.ts';
import { dataMovedSince, type DataSince } from './evidence.ts';
import type { ProbeResult, ProbeView } from './types.ts';

/** A probe's gap and its standard error. */
export interface GapMeasurement {
  gap: number;
  standardError: number;
}

/** The posterior of the gap before it is kept to g ≥ 0: N(mean, sd²). */
export interface GapPosterior {
  mean: number;
  sd: number;
  measurements: number;
}

/**
 * A probe's measurement of the gap: its estimate and the standard error its interval implies. When
 * the two models agreed on every paired event the interval has no width; the standard error is
 * then what at most 3 discordant pairs in n (the rule of three) would give, √3 / n.
 */
export function gapMeasurementOf(result: ProbeResult): GapMeasurement | null {
  if (result.gap === null || result.lower === null || result.upper === null || !(result.events > 0)) return null;
  const fromInterval = (result.upper - result.lower) / (2 * twoSidedZ(result.level));
  return { gap: result.gap, standardError: Math.max(fromInterval, Math.sqrt(3) / result.events) };
}

/** Measurements by the version in service's finished probes that the data has not moved away from since. */
export function standingGapMeasurements(view: ProbeView | undefined, since: DataSince): GapMeasurement[] {
  const measurements: GapMeasurement[] = [];
  for (const result of view?.results ?? []) {
    if (result.version !== view?.version || dataMovedSince(result.completedAt, since) !== null) continue;
    const measurement = gapMeasurementOf(result);
    if (measurement !== null) measurements.push(measurement);
  }
  return measurements;
}

/** The prior N(0, priorScale²) updated by each measurement in turn (precision-weighted). */
export function gapPosterior(priorScale: number, measurements: readonly GapMeasurement[]): GapPosterior {
  let precision = 1 / (priorScale * priorScale);
  let weighted = 0;
  for (const m of measurements) {
    const p = 1 / (m.standardError * m.standardError);
    precision += p;
    weighted += p * m.gap;
  }
  return { mean: weighted / precision, sd: 1 / Math.sqrt(precision), measurements: measurements.length };
}

const GRID_STEPS = 2000;
/** Below this chance of a positive gap under the untruncated posterior, nothing is worth learning. */
const NEGLIGIBLE_POSITIVE_MASS = 1e-12;

/**
 * Expected value of learning g before deciding, E[max(0, k·g − C)], with g ~ N(mean, sd²) kept to
 * g ≥ 0 (k = value × events served, C the hurdle). Integrated numerically on the truncated
 * density, scaled to its mode so that a posterior far below zero stays finite. With mean 0 it is
 * the half-normal prior's closed form (schedule.ts `exploreValue`).
 */
export function posteriorExploreValue(
  valuePerQualityUnit: number,
  eventsServed: number,
  hurdle: number,
  posterior: GapPosterior,
): number {
  const k = valuePerQualityUnit * eventsServed;
  const { mean, sd } = posterior;
  if (!(k > 0) || !(sd > 0)) return 0;
  if (normalCdf(mean / sd) < NEGLIGIBLE_POSITIVE_MASS) return 0;
  const threshold = hurdle / k;
  const mode = Math.max(0, mean);
  // The density's width on g ≥ 0: sd around a positive mean, sd² / |mean| on the tail of a negative one.
  const width = mean >= 0 ? sd : Math.min(sd, (sd * sd) / -mean);
  const upper = mode + 12 * Math.max(width, sd * 1e-6);
  if (threshold >= upper) return 0;
  const step = upper / GRID_STEPS;
  let mass = 0;
  let excess = 0;
  for (let i = 0; i <= GRID_STEPS; i++) {
    const g = i * step;
    const weight =
      (i === 0 || i === GRID_STEPS ? 0.5 : 1) * Math.exp(-((g - mean) ** 2 - (mode - mean) ** 2) / (2 * sd * sd));
    mass += weight;
    if (g > threshold) excess += weight * (g - threshold);
  }
  return mass > 0 ? Math.max(0, (k * excess) / mass) : 0;
}
