/**
 * Small numeric helpers for the decay model (kept local so the fit has no dependencies).
 */

/** Standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const [a0, a1, a2, a3, a4, a5] = a as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = b as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = c as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = d as [number, number, number, number];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) /
    (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1)
  );
}

/**
 * Student-t quantile by the Cornish–Fisher expansion around the normal quantile. Accurate to
 * about 1% for ν ≥ 3 at the levels used here; ν → ∞ gives the normal quantile.
 */
export function studentTQuantile(p: number, dof: number): number {
  const z = normalQuantile(p);
  if (!Number.isFinite(dof) || dof > 1e6) return z;
  const v = Math.max(dof, 1);
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  return (
    z +
    (z3 + z) / (4 * v) +
    (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v) +
    (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v ** 3)
  );
}

/**
 * Profile-deviance cut-off for a `level` interval of one parameter when the noise scale is
 * unknown: n·ln(1 + F₁,ν / ν) with ν = n − p residual degrees of freedom. This is exact for
 * linear models and much better than the asymptotic χ²₁ cut-off for the small samples a
 * decay fit usually has.
 */
export function profileCutoff(level: number, n: number, parameters: number): number {
  const dof = n - parameters;
  if (dof < 1) return Number.POSITIVE_INFINITY;
  const t = studentTQuantile((1 + level) / 2, dof);
  return n * Math.log(1 + (t * t) / dof);
}

/** Weighted least squares of y on x: intercept, slope, slope standard error, residual sum of squares. */
export function weightedLine(
  x: readonly number[],
  y: readonly number[],
  w: readonly number[],
): { intercept: number; slope: number; slopeSe: number | null; rss: number } {
  let sw = 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < x.length; i++) {
    const wi = w[i] ?? 0;
    sw += wi;
    sx += wi * (x[i] ?? 0);
    sy += wi * (y[i] ?? 0);
  }
  const mx = sx / sw;
  const my = sy / sw;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < x.length; i++) {
    const wi = w[i] ?? 0;
    const dx = (x[i] ?? 0) - mx;
    sxx += wi * dx * dx;
    sxy += wi * dx * ((y[i] ?? 0) - my);
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  const intercept = my - slope * mx;
  let rss = 0;
  for (let i = 0; i < x.length; i++) {
    const r = (y[i] ?? 0) - intercept - slope * (x[i] ?? 0);
    rss += (w[i] ?? 0) * r * r;
  }
  const dof = x.length - 2;
  // Weights are relative inverse variances: estimate the scale from the residuals.
  const slopeSe = dof > 0 && sxx > 0 ? Math.sqrt(rss / dof / sxx) : null;
  return { intercept, slope, slopeSe, rss };
}
