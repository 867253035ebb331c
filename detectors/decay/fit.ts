import { exponentialQuality } from './curve.ts';
import { profileCutoff, weightedLine } from './stats.ts';
import type {
  DecayFit,
  DecayFitOptions,
  GoodnessOfFit,
  HalfLifePrior,
  ProfilePoint,
  QualityObservation,
  TimeToBreach,
} from './types.ts';

/**
 * Fit how a model version's quality decays with age.
 *
 * Family: exponential decay toward a floor, q(a) = floor + (q0 − floor)·exp(−ln2·a/h). It has
 * the three things a retrain decision needs — a fresh quality, a floor the model settles at
 * (models rarely fall to zero: stable patterns stay learnt) and a rate, expressed as the
 * half-life h of the excess quality — and it covers Vela et al.'s gradual (h comparable to the
 * observed ages) and explosive (h short) patterns. Their variance-growing pattern is handled by
 * weights and by the profile interval, which widens with the scatter.
 *
 * Method: profile likelihood over h. For a fixed h the curve is linear in (floor, q0), so those
 * come from a closed-form 2×2 weighted least-squares solve (with floor kept within its bounds
 * and not above q0). Scanning ln h on a grid and refining the minimum by golden-section search
 * finds the global optimum with no starting values and no divergence — the usual failure of
 * Levenberg–Marquardt on flat, three-parameter decay curves — and the same profile gives the
 * half-life interval directly (profile-likelihood interval with a small-sample F cut-off).
 *
 * Fallbacks: fewer than two points, or quality that does not fall significantly with age, give
 * `model: 'none'` with a reason; a decay the exponential cannot pin down (best h at the top of
 * the grid, floor not identifiable, or a straight line with a lower AIC — the curvature must earn
 * its extra parameter) gives `linear`.
 */

const LN2 = Math.LN2;
const GRID_POINTS = 161;
/** Keep profile points up to this deviance for uncertainty propagation (≈ a 99.9% region). */
const PROFILE_KEEP_DEVIANCE = 12;
const PROFILE_MAX_POINTS = 41;

interface Prepared {
  age: number[];
  y: number[];
  w: number[];
  sign: 1 | -1;
  floorMin: number | null;
  floorMax: number | null;
}

interface CurveAtH {
  h: number;
  q0: number;
  floor: number;
  rss: number;
}

/** Fit a decay curve to one version's quality-versus-age observations. */
export function fitDecay(observations: readonly QualityObservation[], options: DecayFitOptions = {}): DecayFit {
  const direction = options.direction ?? 'higher-is-better';
  const level = options.level ?? 0.9;
  const minPoints = options.minPointsExponential ?? 4;
  const minTrendT = options.minTrendT ?? 2;
  const prior = options.prior ?? null;
  const data = prepare(observations, options);
  const windowHours = options.windowHours !== undefined && options.windowHours > 0 ? options.windowHours : null;
  const n = data.age.length;
  const maxAge = n > 0 ? Math.max(...data.age) : 0;
  const nowAge = options.nowAgeHours ?? maxAge;
  const base: DecayFit = {
    model: 'none',
    reason: '',
    direction,
    n,
    totalWeight: data.w.reduce((s, v) => s + v, 0),
    maxAgeHours: maxAge,
    nowAgeHours: nowAge,
    q0: null,
    floor: null,
    halfLifeHours: null,
    halfLifeInterval: null,
    slopePerHour: null,
    slopeStdError: null,
    goodness: null,
    profile: [],
    prior,
    timeToBreach: null,
  };
  if (windowHours !== null) base.windowHours = windowHours;
  if (n < 2) return { ...base, reason: `too few observations (${n}); need at least 2 (4 without a population prior)` };
  const distinctAges = new Set(data.age).size;
  if (distinctAges < 2) return { ...base, reason: 'all observations have the same age: cannot see a trend' };

  const rawLine = weightedLine(data.age, data.y, data.w);
  // Windows that come in runs (every model scores low for a few hours) carry less independent
  // evidence of a trend than their count suggests: widen the slope's error by the AR(1) factor.
  const inflation = options.serialCorrelation === true ? serialInflation(data, rawLine) : 1;
  const ownLine =
    inflation === 1 || rawLine.slopeSe === null ? rawLine : { ...rawLine, slopeSe: rawLine.slopeSe * inflation };
  if (options.serialCorrelation === true) base.slopeSeInflation = inflation;
  const ratePrior = options.ratePrior ?? null;
  const line =
    ratePrior === null ? ownLine : shrinkLine(data, ownLine, data.sign * ratePrior.slopePerHour, ratePrior.sd);
  if (ratePrior !== null) {
    base.ratePrior = ratePrior;
    base.ownSlopePerHour = data.sign * ownLine.slope;
    base.ownSlopeStdError = ownLine.slopeSe;
  }
  const slopeT = line.slopeSe !== null && line.slopeSe > 0 ? line.slope / line.slopeSe : null;
  const meanY = weightedMean(data.y, data.w);
  if (line.slope >= 0) {
    return { ...base, q0: data.sign * meanY, reason: 'quality does not decrease with age: no decay detected' };
  }
  if (slopeT !== null && slopeT > -minTrendT) {
    return {
      ...base,
      q0: data.sign * meanY,
      reason: `no significant decreasing trend (slope t = ${slopeT.toFixed(2)} > −${minTrendT})`,
    };
  }

  const linearFit = (reason: string): DecayFit => finishLinear(base, data, line, reason, options, meanY);
  if (n < minPoints && prior === null)
    return linearFit(
      `only ${n} observations: a straight line instead of a 3-parameter curve (need ${minPoints}, or a population prior)`,
    );

  const minPositiveAge = Math.min(...data.age.filter((a) => a > 0), maxAge);
  // Bounded: no half-life shorter than the windows that measured the points.
  const hMin = Math.max(minPositiveAge / 20, maxAge / 2000, 1e-6, windowHours ?? 0);
  const hMax = Math.max(maxAge * 200, hMin * 2);
  const bounded = windowHours !== null;
  const at = (h: number): CurveAtH => curveAt(data, h, bounded);

  // Grid over ln h, then golden-section refinement around the best grid point.
  const grid: CurveAtH[] = [];
  for (let i = 0; i < GRID_POINTS; i++) grid.push(at(hMin * (hMax / hMin) ** (i / (GRID_POINTS - 1))));
  const objective = (c: CurveAtH): number => n * Math.log(Math.max(c.rss, 1e-300)) + priorPenalty(prior, c.h);
  let bestIndex = 0;
  grid.forEach((c, i) => {
    if (objective(c) < objective(grid[bestIndex] as CurveAtH)) bestIndex = i;
  });
  const lo = grid[Math.max(0, bestIndex - 1)] as CurveAtH;
  const hi = grid[Math.min(GRID_POINTS - 1, bestIndex + 1)] as CurveAtH;
  const best = goldenSection(at, lo.h, hi.h, objective);
  const all = [...grid, best].sort((a, b) => a.h - b.h);
  const bestObjective = objective(best);
  const profileAll = all.map((c) => ({ c, dev: objective(c) - bestObjective }));

  const atTop = best.h >= hMax / 1.2;
  const flatFloor = best.q0 - best.floor <= 1e-9;
  const expGoodness = goodness(
    data,
    (a) => exponentialQuality({ q0: best.q0, floor: best.floor, halfLifeHours: best.h }, a),
    3,
    ownLine.rss,
  );
  if (atTop) return linearFit('decay looks linear over the observed ages: the floor cannot be identified yet');
  if (flatFloor) return linearFit('the exponential fit has no excess quality above its floor');
  if (bounded) {
    const none = (reason: string): DecayFit => ({ ...base, q0: data.sign * meanY, reason });
    const hours = (h: number) => `${(h * 60).toPrecision(3)} min`;
    if (best.h <= hMin * 1.05)
      return none(
        `quality falls faster than one window (${hours(hMin)}) can show: a half-life that short is no evidence of decay`,
      );
    if (data.floorMax !== null && best.q0 >= data.floorMax)
      return none(
        `the fitted decay starts beyond the metric's range (half-life ${hours(best.h)}): the windows do not show where it starts`,
      );
    const leftAtFirst = 2 ** (-Math.min(...data.age) / best.h);
    if (leftAtFirst < 0.25)
      return none(
        `the fitted decay (half-life ${hours(best.h)}) is over before the first window: the windows show only its end`,
      );
  }
  if (expGoodness.aicLinear !== null && expGoodness.aicLinear < expGoodness.aic && prior === null) {
    return linearFit(
      `a straight line fits better (AIC ${expGoodness.aicLinear.toFixed(1)} vs ${expGoodness.aic.toFixed(1)})`,
    );
  }

  const cutoff = profileCutoff(level, n, 3);
  const interval = profileInterval(profileAll, best.h, cutoff, hMin, hMax);
  const kept = profileAll.filter(
    (p) => p.dev <= Math.max(PROFILE_KEEP_DEVIANCE, Number.isFinite(cutoff) ? cutoff * 2 : 0),
  );
  const step = Math.max(1, Math.ceil(kept.length / PROFILE_MAX_POINTS));
  const profile: ProfilePoint[] = kept
    .filter((_, i) => i % step === 0 || kept[i]?.c === best)
    .map((p) => ({
      halfLifeHours: p.c.h,
      q0: data.sign * p.c.q0,
      floor: data.sign * p.c.floor,
      deviance: Math.max(0, p.dev),
    }));

  const fit: DecayFit = {
    ...base,
    model: 'exponential',
    reason:
      prior !== null
        ? 'exponential decay toward a floor (half-life shrunk toward the population prior)'
        : 'exponential decay toward a floor',
    q0: data.sign * best.q0,
    floor: data.sign * best.floor,
    halfLifeHours: best.h,
    halfLifeInterval: { lower: interval.lower, upper: interval.upper, level, method: 'profile-likelihood' },
    goodness: expGoodness,
    profile,
  };
  if (options.slo !== undefined) {
    const inside = profileAll.filter((p) => p.dev <= cutoff).map((p) => p.c);
    fit.timeToBreach = exponentialBreach(best, inside, interval.upper === null, options.slo, data.sign, nowAge);
  }
  return fit;
}

function prepare(observations: readonly QualityObservation[], options: DecayFitOptions): Prepared {
  const direction = options.direction ?? 'higher-is-better';
  const sign: 1 | -1 = direction === 'higher-is-better' ? 1 : -1;
  const factor = options.estimatedWeightFactor ?? 0.5;
  const bounds = options.bounds ?? (direction === 'higher-is-better' ? { min: 0, max: 1 } : { min: 0, max: null });
  const age: number[] = [];
  const y: number[] = [];
  const w: number[] = [];
  for (const o of observations) {
    const weight = (o.weight ?? 1) * (o.source === 'estimated' ? factor : 1);
    if (
      !Number.isFinite(o.ageHours) ||
      o.ageHours < 0 ||
      !Number.isFinite(o.quality) ||
      !(weight > 0) ||
      !Number.isFinite(weight)
    )
      continue;
    age.push(o.ageHours);
    y.push(sign * o.quality);
    w.push(weight);
  }
  // In the sign-flipped space quality always falls; the floor's bounds flip with it.
  const floorMin = sign > 0 ? bounds.min : bounds.max === null ? null : -bounds.max;
  const floorMax = sign > 0 ? bounds.max : bounds.min === null ? null : -bounds.min;
  return { age, y, w, sign, floorMin, floorMax };
}

/** The weighted sums of the least-squares fit on the basis [e, 1 − e] at decay rate `k`, and each point's e. */
function weightedSums(data: Prepared, k: number) {
  let see = 0;
  let sef = 0;
  let sff = 0;
  let sey = 0;
  let sfy = 0;
  let sw = 0;
  let swy = 0;
  let syy = 0;
  const e: number[] = [];
  for (let i = 0; i < data.age.length; i++) {
    const ei = Math.exp(-k * (data.age[i] ?? 0));
    const fi = 1 - ei;
    const wi = data.w[i] ?? 0;
    const yi = data.y[i] ?? 0;
    e.push(ei);
    see += wi * ei * ei;
    sef += wi * ei * fi;
    sff += wi * fi * fi;
    sey += wi * ei * yi;
    sfy += wi * fi * yi;
    sw += wi;
    swy += wi * yi;
    syy += wi * yi * yi;
  }
  return { see, sef, sff, sey, sfy, sw, swy, syy, e };
}

/**
 * Best (q0, floor) for a fixed half-life: weighted least squares on the basis [e, 1 − e].
 * `bounded`: q0 is kept within the metric's bounds too (the exact box-constrained optimum).
 */
function curveAt(data: Prepared, h: number, bounded = false): CurveAtH {
  if (bounded) return boundedCurveAt(data, h);
  const { see, sef, sff, sey, sfy, sw, swy, e } = weightedSums(data, LN2 / h);
  const det = see * sff - sef * sef;
  let q0: number;
  let floor: number;
  if (Math.abs(det) > 1e-12 * Math.max(1, see * sff)) {
    q0 = (sey * sff - sfy * sef) / det;
    floor = (sfy * see - sey * sef) / det;
  } else {
    q0 = swy / sw;
    floor = q0;
  }
  const fixFloor = (value: number): void => {
    floor = value;
    q0 = see > 0 ? (sey - floor * sef) / see : swy / sw;
  };
  if (data.floorMin !== null && floor < data.floorMin) fixFloor(data.floorMin);
  else if (data.floorMax !== null && floor > data.floorMax) fixFloor(data.floorMax);
  if (floor > q0) {
    // Quality would rise with age: the constrained optimum is a flat line.
    q0 = swy / sw;
    floor = q0;
  }
  let rss = 0;
  for (let i = 0; i < data.age.length; i++) {
    const r = (data.y[i] ?? 0) - floor - (q0 - floor) * (e[i] ?? 0);
    rss += (data.w[i] ?? 0) * r * r;
  }
  return { h, q0, floor, rss };
}

/**
 * Best (q0, floor) for a fixed half-life with both inside the metric's bounds and floor ≤ q0:
 * the least-squares problem is a convex quadratic in (q0, floor), so its optimum over the box is
 * the best of the unconstrained optimum (if inside), the optima along each edge, and the corners.
 */
function boundedCurveAt(data: Prepared, h: number): CurveAtH {
  const { see, sef, sff, sey, sfy, sw, swy, syy, e } = weightedSums(data, LN2 / h);
  const lo = data.floorMin ?? Number.NEGATIVE_INFINITY;
  const hi = data.floorMax ?? Number.POSITIVE_INFINITY;
  const clamp = (v: number) => Math.min(hi, Math.max(lo, v));
  const objective = (q: number, f: number) =>
    syy - 2 * q * sey - 2 * f * sfy + q * q * see + 2 * q * f * sef + f * f * sff;
  const candidates: [number, number][] = [];
  const det = see * sff - sef * sef;
  if (Math.abs(det) > 1e-12 * Math.max(1, see * sff))
    candidates.push([(sey * sff - sfy * sef) / det, (sfy * see - sey * sef) / det]);
  const mean = clamp(swy / sw);
  candidates.push([mean, mean]);
  for (const b of [lo, hi].filter(Number.isFinite)) {
    candidates.push([b, clamp(sff > 0 ? (sfy - b * sef) / sff : b)]);
    candidates.push([clamp(see > 0 ? (sey - b * sef) / see : b), b]);
    for (const c of [lo, hi].filter(Number.isFinite)) candidates.push([b, c]);
  }
  let q0 = mean;
  let floor = mean;
  let bestValue = objective(mean, mean);
  for (const [q, f] of candidates) {
    if (!(q >= lo && q <= hi && f >= lo && f <= hi && f <= q)) continue;
    const value = objective(q, f);
    if (value < bestValue) {
      bestValue = value;
      q0 = q;
      floor = f;
    }
  }
  let rss = 0;
  for (let i = 0; i < data.age.length; i++) {
    const r = (data.y[i] ?? 0) - floor - (q0 - floor) * (e[i] ?? 0);
    rss += (data.w[i] ?? 0) * r * r;
  }
  return { h, q0, floor, rss };
}

function goldenSection(
  curveAtH: (h: number) => CurveAtH,
  hLo: number,
  hHi: number,
  objective: (c: CurveAtH) => number,
): CurveAtH {
  const phi = (Math.sqrt(5) - 1) / 2;
  let a = Math.log(hLo);
  let b = Math.log(hHi);
  let c = b - phi * (b - a);
  let d = a + phi * (b - a);
  let fc = curveAtH(Math.exp(c));
  let fd = curveAtH(Math.exp(d));
  for (let i = 0; i < 60 && b - a > 1e-7; i++) {
    if (objective(fc) < objective(fd)) {
      b = d;
      d = c;
      fd = fc;
      c = b - phi * (b - a);
      fc = curveAtH(Math.exp(c));
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + phi * (b - a);
      fd = curveAtH(Math.exp(d));
    }
  }
  return objective(fc) < objective(fd) ? fc : fd;
}

/** Normal prior on ln(h), as a deviance penalty: shrinks a thinly observed version toward its population. */
function priorPenalty(prior: HalfLifePrior | null, h: number): number {
  if (prior === null) return 0;
  const z = (Math.log(h) - Math.log(prior.halfLifeHours)) / Math.max(prior.logSd, 1e-6);
  return z * z;
}

/** Where the profile deviance crosses the cut-off on each side of the best h (interpolated in ln h). */
function profileInterval(
  profile: { c: CurveAtH; dev: number }[],
  bestH: number,
  cutoff: number,
  hMin: number,
  hMax: number,
): { lower: number; upper: number | null } {
  if (!Number.isFinite(cutoff)) return { lower: hMin, upper: null };
  const crossing = (inner: { c: CurveAtH; dev: number }, outer: { c: CurveAtH; dev: number }): number => {
    const t = (cutoff - inner.dev) / (outer.dev - inner.dev);
    return Math.exp(Math.log(inner.c.h) + t * (Math.log(outer.c.h) - Math.log(inner.c.h)));
  };
  // Walk outwards from the best h; null when the deviance never crosses the cut-off on that side.
  const firstCrossing = (outwards: { c: CurveAtH; dev: number }[]): number | null => {
    for (let i = 1; i < outwards.length; i++) {
      const inner = outwards[i - 1] as { c: CurveAtH; dev: number };
      const outer = outwards[i] as { c: CurveAtH; dev: number };
      if (outer.dev > cutoff) return crossing(inner, outer);
    }
    return null;
  };
  const lower = firstCrossing(profile.filter((p) => p.c.h <= bestH).reverse()) ?? hMin;
  let upper = firstCrossing(profile.filter((p) => p.c.h >= bestH));
  if (upper !== null && upper >= hMax / 1.2) upper = null;
  return { lower, upper };
}

/**
 * Variance inflation of a trend's slope under lag-1 autocorrelation ρ of the residuals (in age
 * order): √((1 + ρ)/(1 − ρ)), the effective-sample-size correction n_eff = n(1 − ρ)/(1 + ρ) used
 * for trends in serially correlated series; 1 when ρ ≤ 0 or there are fewer than 5 points. ρ is
 * capped at 0.8 (a few points cannot measure more).
 */
function serialInflation(data: Prepared, line: ReturnType<typeof weightedLine>): number {
  const order = data.age
    .map((a, i) => ({ a, i }))
    .sort((x, y) => x.a - y.a)
    .map((x) => x.i);
  if (order.length < 5) return 1;
  const r = order.map(
    (i) => ((data.y[i] ?? 0) - line.intercept - line.slope * (data.age[i] ?? 0)) * Math.sqrt(data.w[i] ?? 0),
  );
  let num = 0;
  let den = 0;
  r.forEach((v, k) => {
    den += v * v;
    if (k > 0) num += v * (r[k - 1] as number);
  });
  const rho = den > 0 ? Math.min(0.8, num / den) : 0;
  return rho > 0 ? Math.sqrt((1 + rho) / (1 - rho)) : 1;
}

/**
 * The version's own line with its slope replaced by the precision-weighted combination of its
 * own slope and the population's (normal–normal posterior), through the weighted means.
 */
function shrinkLine(
  data: Prepared,
  own: ReturnType<typeof weightedLine>,
  priorSlope: number,
  priorSd: number,
): ReturnType<typeof weightedLine> {
  if (own.slopeSe === null || !(own.slopeSe > 0) || !(priorSd > 0)) return own;
  const wOwn = 1 / own.slopeSe ** 2;
  const wPrior = 1 / priorSd ** 2;
  const slope = (wOwn * own.slope + wPrior * priorSlope) / (wOwn + wPrior);
  const mx = weightedMean(data.age, data.w);
  const my = weightedMean(data.y, data.w);
  const intercept = my - slope * mx;
  let rss = 0;
  data.age.forEach((a, i) => {
    rss += (data.w[i] ?? 0) * ((data.y[i] ?? 0) - intercept - slope * a) ** 2;
  });
  return { intercept, slope, slopeSe: 1 / Math.sqrt(wOwn + wPrior), rss };
}

function weightedMean(y: readonly number[], w: readonly number[]): number {
  let s = 0;
  let sw = 0;
  y.forEach((v, i) => {
    s += (w[i] ?? 0) * v;
    sw += w[i] ?? 0;
  });
  return s / sw;
}

function goodness(
  data: Prepared,
  predict: (age: number) => number,
  parameters: number,
  linearRss: number | null,
): GoodnessOfFit {
  const n = data.age.length;
  const mean = weightedMean(data.y, data.w);
  let rss = 0;
  let tss = 0;
  let sw = 0;
  for (let i = 0; i < n; i++) {
    const wi = data.w[i] ?? 0;
    const yi = data.y[i] ?? 0;
    const r = yi - predict(data.age[i] ?? 0);
    rss += wi * r * r;
    tss += wi * (yi - mean) ** 2;
    sw += wi;
  }
  const aicOf = (value: number, k: number): number => n * Math.log(Math.max(value, 1e-300) / n) + 2 * (k + 1);
  return {
    rmse: Math.sqrt(rss / sw),
    r2: tss > 0 ? 1 - rss / tss : 0,
    aic: aicOf(rss, parameters),
    aicLinear: linearRss === null ? null : aicOf(linearRss, 2),
  };
}

function finishLinear(
  base: DecayFit,
  data: Prepared,
  line: ReturnType<typeof weightedLine>,
  reason: string,
  options: DecayFitOptions,
  meanY: number,
): DecayFit {
  const bound = data.floorMin;
  const bounded = base.windowHours !== undefined;
  // Bounded: the fresh quality stays within the metric's range (a steep line through a few
  // points may cross it when extended back to age 0).
  const q0 = bounded && data.floorMax !== null ? Math.min(line.intercept, data.floorMax) : line.intercept;
  // Half-life of a line: the age at which half the quality above the lower bound is gone.
  const halfLife = bound !== null && q0 > bound ? (q0 - bound) / 2 / -line.slope : null;
  if (bounded && halfLife !== null && halfLife < (base.windowHours as number))
    return {
      ...base,
      q0: data.sign * meanY,
      reason: `a line losing half the quality within one window (${((base.windowHours as number) * 60).toPrecision(3)} min) is no evidence of decay`,
    };
  const fit: DecayFit = {
    ...base,
    model: 'linear',
    reason,
    q0: data.sign * q0,
    floor: bound === null ? null : data.sign * bound,
    halfLifeHours: halfLife,
    slopePerHour: data.sign * line.slope,
    slopeStdError: line.slopeSe,
    goodness: goodness(data, (a) => line.intercept + line.slope * a, 2, line.rss),
  };
  if (options.slo !== undefined) {
    const slo = data.sign * options.slo;
    const t = 1.645;
    const breachAge = (slope: number): number | null => (slope < 0 ? Math.max(0, (slo - q0) / slope) : null);
    const toHours = (age: number | null): number | null => (age === null ? null : Math.max(0, age - base.nowAgeHours));
    const se = line.slopeSe ?? 0;
    const fast = toHours(breachAge(line.slope - t * se));
    const slow = toHours(breachAge(line.slope + t * se));
    fit.timeToBreach = {
      slo: options.slo,
      hours: q0 <= slo ? 0 : toHours(breachAge(line.slope)),
      interval: q0 <= slo ? { lower: 0, upper: 0 } : { lower: fast ?? 0, upper: slow },
    };
  }
  return fit;
}

function exponentialBreach(
  best: CurveAtH,
  inside: CurveAtH[],
  unbounded: boolean,
  sloMetric: number,
  sign: 1 | -1,
  nowAge: number,
): TimeToBreach {
  const slo = sign * sloMetric;
  const breachIn = (c: CurveAtH): number | null => {
    if (c.floor >= slo) return null;
    if (c.q0 <= slo) return 0;
    const age = c.h * Math.log2((c.q0 - c.floor) / (slo - c.floor));
    return Math.max(0, age - nowAge);
  };
  const hours = breachIn(best);
  const candidates = [best, ...inside].map(breachIn);
  const finite = candidates.filter((v): v is number => v !== null);
  const lower = finite.length > 0 ? Math.min(...finite) : null;
  const upper = unbounded || candidates.some((v) => v === null) ? null : Math.max(...finite);
  return { slo: sloMetric, hours, interval: lower === null ? null : { lower, upper } };
}
