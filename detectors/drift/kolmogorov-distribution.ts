/**
 * Distribution of the one-sample Kolmogorov statistic D_n, used for the asymptotic
 * two-sample KS p-value exactly as scipy does: scipy.stats.ks_2samp (method 'asymp')
 * returns kstwo.sf(D, round(n·m/(n+m))), i.e. the one-sample distribution at the
 * effective sample size.
 *
 * The regimes follow Simard & L'Ecuyer (2011), "Computing the Two-Sided
 * Kolmogorov–Smirnov Distribution", J. Stat. Softw. 39(11), which scipy also follows:
 *  - Ruben–Gambino closed forms at the extremes (n·x ≤ 1, n·x ≥ n−1);
 *  - 2 × the exact one-sided Smirnov tail (Birnbaum–Tingey sum) where the two one-sided
 *    events cannot (x ≥ 0.5) or practically cannot (n·x² ≥ 2.2) happen together;
 *  - the Durbin matrix (Marsaglia–Tsang–Wang) where it is cheap;
 *  - the Pelz–Good asymptotic series otherwise.
 * Differences from scipy: for n ≤ 140 and 0.75 < n·x² ≤ 4 scipy uses Pomeranz's
 * recursion; we use the Durbin matrix there too (both exact: they agree to rounding).
 * For n > 140 we switch from the Durbin matrix to Pelz–Good once ⌈n·x⌉ > 20, only
 * where the p-value exceeds 0.9999 (agreement ~1e-11), to keep each call sub-millisecond.
 */
import { logBinomial, logGamma } from './special-functions.ts';

/** 2^128, the rescaling step that keeps matrix powers inside double range. */
const SCALE = 2 ** 128;
const LOG_SCALE = 128 * Math.LN2;

/**
 * Exact one-sided Smirnov tail P(D_n⁺ ≥ x) (Birnbaum & Tingey 1951):
 * x · Σ_{j=0}^{⌊n(1−x)⌋} C(n,j) (1 − x − j/n)^{n−j} (x + j/n)^{j−1}.
 * Every term is positive, so summing in log space keeps relative accuracy.
 * Equals scipy.special.smirnov(n, x) to ~1e-9 relative (see the kstwo fixture test).
 *
 * Cost: the terms form one smooth, unimodal bump in j (checked against scipy for
 * n = 1…500,000). We locate its peak by ternary search and sum outwards until terms fall
 * below e^−60 of the peak. When the bump is wide (σ ≳ 64 terms, i.e. large n) we sum
 * every h-th term with h = σ/8 and multiply by h: for a smooth bump the trapezoid rule
 * is exponentially accurate (error ~ e^(−2π²σ²/h²) ≈ e^(−1260)), so n = 500,000 costs a
 * few hundred terms instead of ~180,000 — this keeps the binned KS p-value O(bins)-cheap.
 */
export function smirnovOneSidedSurvival(n: number, x: number): number {
  if (x <= 0) return 1;
  if (x >= 1) return 0;
  const jMax = Math.floor(n * (1 - x));
  const logTerm = (j: number): number => {
    const left = 1 - x - j / n;
    // 0^(n−j) with n−j ≥ 1 contributes nothing.
    return left <= 0
      ? Number.NEGATIVE_INFINITY
      : logBinomial(n, j) + (n - j) * Math.log(left) + (j - 1) * Math.log(x + j / n);
  };
  // Ternary search for the largest term on the integers 0…jMax.
  let lo = 0;
  let hi = jMax;
  while (hi - lo > 2) {
    const m1 = lo + Math.floor((hi - lo) / 3);
    const m2 = hi - Math.floor((hi - lo) / 3);
    if (logTerm(m1) < logTerm(m2)) lo = m1 + 1;
    else hi = m2 - 1;
  }
  let peak = lo;
  for (let j = lo + 1; j <= hi; j++) if (logTerm(j) > logTerm(peak)) peak = j;
  const peakLog = logTerm(peak);
  if (peakLog === Number.NEGATIVE_INFINITY) return 0;
  // Width of the bump from the curvature at the peak: σ² ≈ −δ² / (f(p+δ) + f(p−δ) − 2 f(p)).
  const delta = Math.max(1, Math.floor(Math.sqrt(n) / 4));
  const curvature =
    peak - delta >= 0 && peak + delta <= jMax
      ? logTerm(peak + delta) + logTerm(peak - delta) - 2 * peakLog
      : Number.NEGATIVE_INFINITY;
  const sigma = curvature < 0 && Number.isFinite(curvature) ? delta / Math.sqrt(-curvature) : 0;
  const step = sigma >= 64 ? Math.floor(sigma / 8) : 1;
  const CUTOFF = 60;
  let scaledSum = 1;
  for (let j = peak + step; j <= jMax; j += step) {
    const value = logTerm(j) - peakLog;
    if (value < -CUTOFF) break;
    scaledSum += Math.exp(value);
  }
  for (let j = peak - step; j >= 0; j -= step) {
    const value = logTerm(j) - peakLog;
    if (value < -CUTOFF) break;
    scaledSum += Math.exp(value);
  }
  return x * step * scaledSum * Math.exp(peakLog);
}

/** Square matrix product of two row-major m×m matrices. */
function multiply(a: Float64Array, b: Float64Array, m: number): Float64Array<ArrayBuffer> {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const aik = a[i * m + k] ?? 0;
      if (aik === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j] = (out[i * m + j] ?? 0) + aik * (b[k * m + j] ?? 0);
    }
  }
  return out;
}

/**
 * P(D_n < x) by Durbin's matrix formula as organised by Marsaglia, Tsang & Wang (2003):
 * with k = ⌈n·x⌉, h = k − n·x and an m×m matrix H (m = 2k − 1) built from
 * factorial reciprocals, the CDF is n!/nⁿ · (Hⁿ)[k−1][k−1]. Cost O(m³ log n).
 */
export function kolmogorovCdfDurbin(n: number, x: number): number {
  if (x >= 1) return 1;
  const nx = n * x;
  if (nx <= 0.5) return 0;
  const k = Math.ceil(nx);
  const h = k - nx;
  const m = 2 * k - 1;
  // reciprocalFactorial[i] = 1 / i!
  const reciprocalFactorial = new Float64Array(m + 1);
  reciprocalFactorial[0] = 1;
  for (let i = 1; i <= m; i++) reciprocalFactorial[i] = (reciprocalFactorial[i - 1] ?? 0) / i;
  const fact = (i: number): number => reciprocalFactorial[i] ?? 0;

  let base = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      const d = i - j + 1;
      if (d >= 0) base[i * m + j] = fact(d);
    }
  }
  for (let i = 0; i < m; i++) {
    base[i * m] = (1 - h ** (i + 1)) * fact(i + 1);
    base[(m - 1) * m + (m - 1 - i)] = (1 - h ** (i + 1)) * fact(i + 1);
  }
  base[(m - 1) * m] = (1 - 2 * h ** m + Math.max(0, 2 * h - 1) ** m) * fact(m);

  // Hⁿ by repeated squaring; each factor carries its own power-of-2 exponent.
  let power: Float64Array<ArrayBuffer> | undefined;
  let powerExponent = 0;
  let baseExponent = 0;
  const centre = (k - 1) * m + (k - 1);
  for (let e = n; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) {
      power = power === undefined ? base.slice() : multiply(power, base, m);
      powerExponent += baseExponent;
      if (Math.abs(power[centre] ?? 0) > SCALE) {
        for (let i = 0; i < power.length; i++) power[i] = (power[i] ?? 0) / SCALE;
        powerExponent += 1;
      }
    }
    if (e > 1) {
      base = multiply(base, base, m);
      baseExponent *= 2;
      if (Math.abs(base[centre] ?? 0) > SCALE) {
        for (let i = 0; i < base.length; i++) base[i] = (base[i] ?? 0) / SCALE;
        baseExponent += 1;
      }
    }
  }
  let p = power?.[centre] ?? 0;
  // Multiply by n!/nⁿ one factor at a time, rescaling to avoid underflow.
  let exponent = powerExponent;
  for (let i = 1; i <= n; i++) {
    p = (p * i) / n;
    if (p !== 0 && Math.abs(p) < 1 / SCALE) {
      p *= SCALE;
      exponent -= 1;
    }
  }
  return Math.min(1, Math.max(0, p * Math.exp(exponent * LOG_SCALE)));
}

/**
 * Pelz–Good (1976) asymptotic expansion of P(D_n ≤ x) in z = x√n, in the form suited
 * to small z (theta-function transform of the Li-Chien/Korolyuk series), keeping
 * terms to order n^(−3/2).
 */
export function kolmogorovCdfPelzGood(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const z8 = z4 * z4;
  const pi2 = Math.PI * Math.PI;
  const pi4 = pi2 * pi2;
  const pi6 = pi4 * pi2;
  if (-pi2 / (8 * z2) < -708) return 0;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  // Sums over odd m = 2k − 1 of polynomial(m²) · exp(−m²π²/(8z²)).
  for (let k = 1; k < 10_000; k++) {
    const m2 = (2 * k - 1) ** 2;
    const w = Math.exp((-m2 * pi2) / (8 * z2));
    if (w === 0) break;
    s0 += w;
    s1 += ((pi2 * m2) / 4 - z2) * w;
    s2 += (6 * z6 + 2 * z4 + ((2 * z4 - 5 * z2) * pi2 * m2) / 4 + (pi4 * (1 - 2 * z2) * m2 * m2) / 16) * w;
    s3 +=
      (-30 * z6 -
        90 * z8 +
        (pi2 * (135 * z4 - 96 * z6) * m2) / 4 +
        (pi4 * (212 * z4 - 60 * z2) * m2 * m2) / 16 +
        (pi6 * (5 - 30 * z2) * m2 * m2 * m2) / 64) *
      w;
    if (w < 1e-18 * Math.abs(s0)) break;
  }
  // Sums over all integers k of k² e^{−k²π²/(2z²)} terms that complete K2 and K3.
  let t2 = 0;
  let t3 = 0;
  for (let k = 1; k < 10_000; k++) {
    const w = Math.exp((-k * k * pi2) / (2 * z2));
    if (w === 0) break;
    t2 += k * k * w;
    t3 += (3 * z2 - pi2 * k * k) * k * k * w;
    if (w < 1e-18) break;
  }
  const root = Math.sqrt(2 * Math.PI);
  const k0 = (root * s0) / z;
  const k1 = (root * s1) / (6 * z4);
  const k2 = (root * s2) / (72 * z ** 7) - (pi2 * root * t2) / (36 * z2 * z);
  const k3 = (root * s3) / (6480 * z ** 10) + (pi2 * root * t3) / (216 * z6);
  return k0 + k1 / Math.sqrt(n) + k2 / n + k3 / (n * Math.sqrt(n));
}

/** log(n!/nⁿ), for the Ruben–Gambino lower tail. */
function logFactorialOverPower(n: number): number {
  return logGamma(n + 1) - n * Math.log(n);
}

const clip = (p: number): number => Math.min(1, Math.max(0, p));

/**
 * Survival function P(D_n ≥ x) of the two-sided one-sample Kolmogorov statistic for
 * sample size n (an integer ≥ 1). Equals scipy.stats.kstwo.sf(x, n).
 */
export function kolmogorovSurvival(n: number, x: number): number {
  if (!Number.isInteger(n) || n < 1 || Number.isNaN(x)) return Number.NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    const cdf = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    return clip(1 - cdf);
  }
  if (t >= n - 1) return clip(2 * (1 - x) ** n);
  if (x >= 0.5) return clip(2 * smirnovOneSidedSurvival(n, x));
  const nxx = t * x;
  if (n <= 140) {
    if (nxx <= 4) return clip(1 - kolmogorovCdfDurbin(n, x));
    return clip(2 * smirnovOneSidedSurvival(n, x));
  }
  if (nxx >= 370) return 0;
  if (nxx >= 2.2) return clip(2 * smirnovOneSidedSurvival(n, x));
  // scipy uses the Durbin matrix whenever n ≤ 100,000 and n·x^1.5 ≤ 1.4. We also require
  // the matrix to stay small (⌈n·x⌉ ≤ 20, m ≤ 39): beyond that the region is n·x² < 0.1,
  // where the p-value is > 0.9999 and Pelz–Good agrees with the exact value to ~1e-11
  // while the matrix power would cost tens of milliseconds per call.
  if (n <= 100_000 && n * x ** 1.5 <= 1.4 && Math.ceil(t) <= 20) return clip(1 - kolmogorovCdfDurbin(n, x));
  return clip(1 - kolmogorovCdfPelzGood(n, x));
}
