import { localiseStep } from '../economics/staleness.ts';
import { fitDecay } from './fit.ts';
import { profileCutoff, weightedLine } from './stats.ts';
import type { DecayFit, DecayFitOptions, HalfLifePrior, QualityObservation, RatePrior } from './types.ts';

/**
 * The population view: how fast do a model's versions age?
 *
 * Versions are aligned by age (each observation's age is time since *its* version was trained).
 * The population half-life is fitted with one shared h and a fresh quality and floor per version
 * (versions differ in how good they start and where they settle, far more than in how fast they
 * age), by the same profile likelihood as a single fit: for each h the per-version (q0, floor)
 * are closed-form, so the total residual is a sum over versions.
 *
 * The spread between versions — the standard deviation of ln(h) across individually fitted
 * versions, less what their own estimation error explains (a method-of-moments estimate in the
 * style of DerSimonian–Laird) — becomes the width of a normal prior on ln(h). A new version
 * with few points is then fitted with that prior ({@link fitVersionWithPopulation}): its
 * half-life is the maximum a posteriori estimate, shrunk toward the population the less its
 * own data say.
 */

export interface VersionObservations {
  version: string;
  observations: QualityObservation[];
}

export interface PopulationDecay {
  /** Versions that contributed (at least `minPointsPerVersion` usable points each). */
  versionsUsed: string[];
  /** Shared half-life across versions, or `null` when there is no decay to pool. */
  halfLifeHours: number | null;
  halfLifeInterval: { lower: number; upper: number | null; level: number } | null;
  /** Between-version standard deviation of ln(half-life). */
  logSd: number;
  /** The prior a thinly observed version can borrow, or `null` when there is none. */
  prior: HalfLifePrior | null;
  /** Each version's own fit. */
  versions: { version: string; fit: DecayFit }[];
  reason: string;
}

export interface PopulationOptions extends DecayFitOptions {
  /** Fewest points for a version to join the pooled fit. @default 3 */
  minPointsPerVersion?: number;
  /** ln(h) spread assumed when fewer than two versions have their own fit (≈ a factor of 1.65). @default 0.5 */
  defaultLogSd?: number;
  /** Smallest ln(h) spread, so one lucky agreement does not freeze new versions to the population. @default 0.15 */
  minLogSd?: number;
}

const LN2 = Math.LN2;

/** Pool versions of one model into a population half-life and a prior for new versions. */
export function fitPopulation(
  versions: readonly VersionObservations[],
  options: PopulationOptions = {},
): PopulationDecay {
  const minPoints = options.minPointsPerVersion ?? 3;
  const level = options.level ?? 0.9;
  const sign = (options.direction ?? 'higher-is-better') === 'higher-is-better' ? 1 : -1;
  const individual = versions.map((v) => ({
    version: v.version,
    fit: fitDecay(v.observations, { ...options, prior: undefined, slo: undefined }),
  }));
  const usable = versions
    .map((v) => ({
      version: v.version,
      points: v.observations.filter(
        (o) => Number.isFinite(o.ageHours) && o.ageHours >= 0 && Number.isFinite(o.quality),
      ),
    }))
    .filter((v) => v.points.length >= minPoints);
  const empty: PopulationDecay = {
    versionsUsed: usable.map((v) => v.version),
    halfLifeHours: null,
    halfLifeInterval: null,
    logSd: options.defaultLogSd ?? 0.5,
    prior: null,
    versions: individual,
    reason: '',
  };
  if (usable.length === 0) return { ...empty, reason: `no version has ${minPoints} or more observations` };
  const decaying = individual.filter((v) => v.fit.model !== 'none');
  if (decaying.length === 0) return { ...empty, reason: 'no version shows decay' };

  const factor = options.estimatedWeightFactor ?? 0.5;
  const series = usable.map((v) => ({
    age: v.points.map((o) => o.ageHours),
    y: v.points.map((o) => sign * o.quality),
    w: v.points.map((o) => (o.weight ?? 1) * (o.source === 'estimated' ? factor : 1)),
  }));
  const n = series.reduce((s, v) => s + v.age.length, 0);
  const maxAge = Math.max(...series.flatMap((v) => v.age));
  // Bounded fits (windowHours): no shared half-life shorter than a window either.
  const windowHours = options.windowHours !== undefined && options.windowHours > 0 ? options.windowHours : null;
  const hMin = Math.max(maxAge / 2000, windowHours ?? 0);
  const hMax = Math.max(maxAge * 200, hMin * 2);
  const totalRss = (h: number): number => series.reduce((s, v) => s + versionRss(v.age, v.y, v.w, h), 0);
  const grid: { h: number; dev: number }[] = [];
  for (let i = 0; i < 161; i++) {
    const h = hMin * (hMax / hMin) ** (i / 160);
    grid.push({ h, dev: n * Math.log(Math.max(totalRss(h), 1e-300)) });
  }
  const best = grid.reduce((a, b) => (b.dev < a.dev ? b : a));
  const cutoff = profileCutoff(level, n, 1 + 2 * series.length);
  const inside = grid.filter((g) => g.dev - best.dev <= cutoff);
  const lower = Math.min(...inside.map((g) => g.h));
  const upperRaw = Math.max(...inside.map((g) => g.h));
  const upper = upperRaw >= hMax / 1.2 ? null : upperRaw;

  // Between-version spread of ln(h) from the individual exponential fits.
  const logs = individual
    .filter(
      (v) => v.fit.model === 'exponential' && v.fit.halfLifeHours !== null && v.fit.halfLifeInterval?.upper != null,
    )
    .map((v) => {
      const iv = v.fit.halfLifeInterval as { lower: number; upper: number };
      const z = 2 * 1.645;
      return {
        logH: Math.log(v.fit.halfLifeHours as number),
        within: ((Math.log(iv.upper) - Math.log(iv.lower)) / z) ** 2,
      };
    });
  let logSd = options.defaultLogSd ?? 0.5;
  if (logs.length >= 2) {
    const mean = logs.reduce((s, v) => s + v.logH, 0) / logs.length;
    const between = logs.reduce((s, v) => s + (v.logH - mean) ** 2, 0) / (logs.length - 1);
    const within = logs.reduce((s, v) => s + v.within, 0) / logs.length;
    logSd = Math.sqrt(Math.max(between - within, 0));
  }
  logSd = Math.max(logSd, options.minLogSd ?? 0.15);
  const atTop = best.h >= hMax / 1.2;
  if (windowHours !== null && best.h <= hMin * 1.05)
    return {
      ...empty,
      logSd,
      reason: 'versions lose quality faster than one window can show: no shared half-life to borrow',
    };
  return {
    ...empty,
    halfLifeHours: atTop ? null : best.h,
    halfLifeInterval: atTop ? null : { lower, upper, level },
    logSd,
    prior: atTop ? null : { halfLifeHours: best.h, logSd },
    reason: atTop
      ? 'versions decay too slowly over the observed ages to pin down a shared half-life'
      : `shared half-life over ${series.length} version(s), ${n} observations; between-version ln(h) sd ${logSd.toFixed(2)}`,
  };
}

/** Fit one version with the population prior (shrinkage of its half-life toward the population). */
export function fitVersionWithPopulation(
  observations: readonly QualityObservation[],
  population: PopulationDecay,
  options: DecayFitOptions = {},
): DecayFit {
  return fitDecay(observations, population.prior === null ? options : { ...options, prior: population.prior });
}

/** Residual sum of squares of one version's best (q0, floor) at a given half-life (floor left free). */
function versionRss(age: readonly number[], y: readonly number[], w: readonly number[], h: number): number {
  const k = LN2 / h;
  let see = 0;
  let sef = 0;
  let sff = 0;
  let sey = 0;
  let sfy = 0;
  const e = age.map((a) => Math.exp(-k * a));
  e.forEach((ei, i) => {
    const wi = w[i] ?? 0;
    const yi = y[i] ?? 0;
    see += wi * ei * ei;
    sef += wi * ei * (1 - ei);
    sff += wi * (1 - ei) ** 2;
    sey += wi * ei * yi;
    sfy += wi * (1 - ei) * yi;
  });
  const det = see * sff - sef * sef;
  if (Math.abs(det) < 1e-12 * Math.max(1, see * sff)) return Number.POSITIVE_INFINITY;
  let q0 = (sey * sff - sfy * sef) / det;
  let floor = (sfy * see - sey * sef) / det;
  if (floor > q0) {
    const sw = w.reduce((s, v) => s + v, 0);
    q0 = y.reduce((s, v, i) => s + v * (w[i] ?? 0), 0) / sw;
    floor = q0;
  }
  return e.reduce((s, ei, i) => s + (w[i] ?? 0) * ((y[i] ?? 0) - floor - (q0 - floor) * ei) ** 2, 0);
}

/** A version's own linear rate of quality change, from the part of its life before any step down. */
export interface VersionRate {
  version: string;
  /** Change of quality per hour of age (negative while a higher-is-better metric decays). */
  slopePerHour: number;
  /** Its standard error (residual scale, so overdispersed windows widen it). */
  slopeStdError: number;
  /** Points used (before the step, when one was cut off). */
  points: number;
  /** Age at which the version's quality stepped down, when it did (later points are left out). */
  stepAtAgeHours: number | null;
}

/** How fast versions of this model lose quality per hour of age, pooled over versions. */
export interface PopulationRate {
  /** Prior for a new version's rate, or `null` when no version has enough points. */
  prior: RatePrior | null;
  versions: VersionRate[];
  reason: string;
}

export interface PopulationRateOptions {
  /** @default "higher-is-better" */
  direction?: 'higher-is-better' | 'lower-is-better';
  /** Fewest points (before a step) for a version to count. @default 4 */
  minPointsPerVersion?: number;
  /** Smallest prior standard deviation, in quality per hour. @default 0.0005 (0.05 accuracy points an hour) */
  minSd?: number;
  /** Smallest prior standard deviation as a multiple of the mean rate's size. @default 2 */
  relativeSd?: number;
}

/**
 * Population rate of decay, for the linear view of ageing: each earlier version's least-squares
 * rate of quality change per hour — over its life *before* a step down, if its quality stepped
 * (a change point is not ageing, and most versions of an abruptly changing model end with one) —
 * pooled by a random-effects mean (DerSimonian–Laird: between-version variance τ² from Cochran's
 * Q). The prior for a new version is normal with that mean and a standard deviation of at least
 * √(τ² + se(mean)²) (the predictive spread of a new version's rate), `relativeSd` × |mean| and
 * `minSd`.
 *
 * Why, and why so wide: a version's own rate from 10–40 hourly points is noisy, and in a model
 * whose versions do not age (abrupt changes only) a run of low windows reads as decay — and the
 * forecast's restart value grows with the square of the age, so a long-lived flat version
 * retrains on a slope of a few hundredths of a point an hour. A prior centred near zero holds
 * those slopes at what they are. When the versions do age (gradual drift) they age at different
 * rates (measured: shrinking toward the mean cost more than it saved on the tuning streams), so
 * the prior is kept at least twice as wide as the mean rate and hardly moves such a version.
 */
export function populationRate(
  versions: readonly VersionObservations[],
  options: PopulationRateOptions = {},
): PopulationRate {
  const direction = options.direction ?? 'higher-is-better';
  const minPoints = options.minPointsPerVersion ?? 4;
  const minSd = options.minSd ?? 0.0005;
  const relativeSd = options.relativeSd ?? 2;
  const rates: VersionRate[] = [];
  for (const v of versions) {
    const points = v.observations
      .filter(
        (o) => Number.isFinite(o.ageHours) && o.ageHours >= 0 && Number.isFinite(o.quality) && (o.weight ?? 1) > 0,
      )
      .sort((a, b) => a.ageHours - b.ageHours);
    const step = localiseStep(
      points.map((o) => ({ start: o.ageHours, end: o.ageHours, events: o.weight ?? 1, quality: o.quality })),
      direction,
    );
    const before = step === null ? points : points.filter((o) => o.ageHours < step.at);
    if (before.length < minPoints) continue;
    const line = weightedLine(
      before.map((o) => o.ageHours),
      before.map((o) => o.quality),
      before.map((o) => o.weight ?? 1),
    );
    if (line.slopeSe === null || !(line.slopeSe > 0)) continue;
    rates.push({
      version: v.version,
      slopePerHour: line.slope,
      slopeStdError: line.slopeSe,
      points: before.length,
      stepAtAgeHours: step?.at ?? null,
    });
  }
  if (rates.length === 0)
    return { prior: null, versions: rates, reason: `no version has ${minPoints} or more points before any step` };
  const w = rates.map((r) => 1 / r.slopeStdError ** 2);
  const sw = w.reduce((s, x) => s + x, 0);
  const fixed = rates.reduce((s, r, i) => s + (w[i] as number) * r.slopePerHour, 0) / sw;
  const q = rates.reduce((s, r, i) => s + (w[i] as number) * (r.slopePerHour - fixed) ** 2, 0);
  const tau2 =
    rates.length < 2 ? 0 : Math.max(0, (q - (rates.length - 1)) / (sw - w.reduce((s, x) => s + x * x, 0) / sw));
  const wr = rates.map((r) => 1 / (r.slopeStdError ** 2 + tau2));
  const swr = wr.reduce((s, x) => s + x, 0);
  const mean = rates.reduce((s, r, i) => s + (wr[i] as number) * r.slopePerHour, 0) / swr;
  const sd = Math.max(minSd, Math.sqrt(tau2 + 1 / swr), relativeSd * Math.abs(mean));
  return {
    prior: { slopePerHour: mean, sd, versions: rates.length },
    versions: rates,
    reason: `${rates.length} version(s): mean rate ${mean.toExponential(2)}/h, between-version sd ${Math.sqrt(tau2).toExponential(2)}, prior sd ${sd.toExponential(2)}`,
  };
}
