/**
 * Special functions needed by the drift tests: log-gamma, the regularized incomplete
 * gamma functions and the chi-square survival function.
 *
 * Written here (rather than taken from a dependency) because p-values far in the tail
 * must stay accurate in relative terms: a p-value of 1e-40 must not round to 0 before
 * Benjamini–Hochberg sees it. Checked against scipy.special / scipy.stats.chi2 in
 * test/unit/detectors/drift-special.test.ts.
 */

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Coefficients B_2k / (2k (2k-1)) of Stirling's series for log Γ, k = 1..8.
 * With the argument shifted to at least 15 the truncation error is below 1e-17.
 */
const STIRLING_SERIES = [1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156, -3617 / 122400];

/**
 * Natural log of Γ(x) for x > 0.
 * Shifts small arguments up with Γ(x+1) = xΓ(x) and then sums Stirling's series, which
 * is accurate to double precision for arguments ≥ 15.
 */
export function logGamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  if (x === 1 || x === 2) return 0;
  let shift = 0;
  let z = x;
  // Accumulate the product x(x+1)…(x+k-1) and take one log (fewer rounding errors).
  let product = 1;
  while (z < 15) {
    product *= z;
    z += 1;
  }
  if (product !== 1) shift = Math.log(product);
  const inv = 1 / z;
  const inv2 = inv * inv;
  let series = 0;
  for (let k = STIRLING_SERIES.length - 1; k >= 0; k--) series = series * inv2 + (STIRLING_SERIES[k] ?? 0);
  series *= inv;
  return (z - 0.5) * Math.log(z) - z + HALF_LOG_TWO_PI + series - shift;
}

/** Natural log of the binomial coefficient C(n, k) for 0 ≤ k ≤ n. */
export function logBinomial(n: number, k: number): number {
  if (k < 0 || k > n) return Number.NEGATIVE_INFINITY;
  if (k === 0 || k === n) return 0;
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/** Iteration cap for the series and continued fraction; generous because dof may reach ~2,000. */
const MAX_ITERATIONS = 100_000;
const RELATIVE_EPSILON = 1e-16;
const TINY = 1e-300;

/** log of the common prefactor x^a e^-x / Γ(a) of both incomplete gamma expansions. */
function logGammaPrefactor(a: number, x: number): number {
  return a * Math.log(x) - x - logGamma(a);
}

/** P(a, x) by its power series; converges fast for x < a + 1. */
function lowerGammaSeries(a: number, x: number): number {
  let term = 1 / a;
  let sum = term;
  for (let n = 1; n < MAX_ITERATIONS; n++) {
    term *= x / (a + n);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * RELATIVE_EPSILON) break;
  }
  return sum * Math.exp(logGammaPrefactor(a, x));
}

/** Q(a, x) by Legendre's continued fraction (modified Lentz); converges fast for x ≥ a + 1. */
function upperGammaContinuedFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let fraction = d;
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    fraction *= delta;
    if (Math.abs(delta - 1) < RELATIVE_EPSILON) break;
  }
  return Math.exp(logGammaPrefactor(a, x)) * fraction;
}

/** Regularized lower incomplete gamma P(a, x) = γ(a, x) / Γ(a), for a > 0, x ≥ 0. */
export function regularizedGammaP(a: number, x: number): number {
  if (!(a > 0) || Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return 0;
  if (x === Number.POSITIVE_INFINITY) return 1;
  return x < a + 1 ? lowerGammaSeries(a, x) : 1 - upperGammaContinuedFraction(a, x);
}

/**
 * Regularized upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a), for a > 0, x ≥ 0.
 * The tail (x ≥ a + 1) comes straight from the continued fraction, so tiny values keep
 * their relative accuracy instead of being computed as 1 − P.
 */
export function regularizedGammaQ(a: number, x: number): number {
  if (!(a > 0) || Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return 1;
  if (x === Number.POSITIVE_INFINITY) return 0;
  return x < a + 1 ? 1 - lowerGammaSeries(a, x) : upperGammaContinuedFraction(a, x);
}

/**
 * Survival function of the chi-square distribution, P(X > x) for X ~ χ²(dof):
 * Q(dof/2, x/2). Equals scipy.stats.chi2.sf(x, dof).
 * @returns 1 for x ≤ 0; NaN for dof ≤ 0 (callers treat dof = 0 themselves).
 */
export function chiSquareSurvival(x: number, dof: number): number {
  if (!(dof > 0)) return Number.NaN;
  return regularizedGammaQ(dof / 2, x / 2);
}
