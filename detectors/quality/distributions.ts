/**
 * The few distribution functions the quality and promotion statistics need, accurate to ~1e-13,
 * written here so the detectors stay dependency-free and deterministic.
 */

// ln Γ, the regularized incomplete gamma and the χ² tail live with the drift tests (checked
// against scipy down to 1e-200); one implementation serves both rooms.
export { logGamma, regularizedGammaQ as regularizedUpperGamma, chiSquareSurvival } from '../drift/special-functions.ts';
import { logGamma } from '../drift/special-functions.ts';

/** erfc(x) for x >= 0: positive-term series below 2.5, continued fraction above (no cancellation). */
function erfcNonNegative(x: number): number {
  if (x < 2.5) {
    // erf(x) = 2/√π · e^{−x²} · Σ 2ⁿ x^{2n+1} / (1·3·…·(2n+1))
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (2 * x * x) / (2 * n + 1);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
  }
  // erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated bottom-up.
  let fraction = x;
  for (let n = 60; n >= 1; n--) fraction = x + n / 2 / fraction;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / fraction;
}

/** Standard normal cumulative distribution function Φ(z). */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  const t = Math.abs(z) / Math.SQRT2;
  const tail = 0.5 * erfcNonNegative(t);
  return z < 0 ? tail : 1 - tail;
}

/** Upper tail 1 − Φ(z) without cancellation for large z. */
export function normalSurvival(z: number): number {
  return normalCdf(-z);
}

/** Standard normal quantile Φ⁻¹(p): Acklam's rational approximation polished by two Halley steps. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return Number.NEGATIVE_INFINITY;
    if (p === 1) return Number.POSITIVE_INFINITY;
    return Number.NaN;
  }
  const a = [
    -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
    2.506628277459239,
  ];
  const b = [
    -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
  ];
  const c = [
    -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const [a0, a1, a2, a3, a4, a5] = a as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = b as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = c as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = d as [number, number, number, number];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) /
      (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  for (let i = 0; i < 2; i++) {
    // Halley step on Φ(x) − p, computed from the nearer tail to avoid cancellation.
    const e = x < 0 ? normalCdf(x) - p : 1 - p - normalSurvival(x);
    const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
    x = x - u / (1 + (x * u) / 2);
  }
  return x;
}

/** Two-sided z for a confidence level, e.g. 0.95 → 1.959964. */
export function twoSidedZ(level: number): number {
  if (!(level > 0 && level < 1)) throw new RangeError('confidence level must be in (0, 1)');
  return normalQuantile(1 - (1 - level) / 2);
}

/** P(X <= k) for X ~ Binomial(n, 1/2), summed in log space (exact up to rounding). */
export function binomialHalfCdf(k: number, n: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  const logHalfN = n * Math.log(0.5);
  const logNFactorial = logGamma(n + 1);
  let sum = 0;
  for (let i = 0; i <= k; i++) {
    sum += Math.exp(logNFactorial - logGamma(i + 1) - logGamma(n - i + 1) + logHalfN);
  }
  return Math.min(1, sum);
}
