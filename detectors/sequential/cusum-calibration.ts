/**
 * Threshold calibration for the standardized two-sided tabular CUSUM.
 *
 * Siegmund's (1985) corrected-diffusion approximation of the one-sided average run length, for
 * standardized observations whose mean is `shift` (0 in control) and allowance `k`:
 *
 *   Δ = shift − k,  b = h + 1.166,  ARL ≈ (exp(−2Δb) + 2Δb − 1) / (2Δ²)   (Δ ≠ 0),  ≈ b² at Δ = 0.
 *
 * The two-sided scheme alarms when either side does: 1/ARL = 1/ARL⁺ + 1/ARL⁻.
 * The approximation is for a *known* in-control mean and standard deviation; estimating them from
 * a warm-up makes false alarms more frequent (see {@link Cusum} and the measured rates in the tests).
 */

/** One-sided CUSUM average run length by Siegmund's approximation. */
export function siegmundOneSidedArl(h: number, k: number, shift = 0): number {
  const drift = shift - k;
  const b = h + 1.166;
  if (Math.abs(drift) < 1e-9) return b * b;
  return (Math.exp(-2 * drift * b) + 2 * drift * b - 1) / (2 * drift * drift);
}

/** Two-sided CUSUM average run length (both sides with the same h and k). */
export function siegmundTwoSidedArl(h: number, k: number, shift = 0): number {
  const up = siegmundOneSidedArl(h, k, shift);
  const down = siegmundOneSidedArl(h, k, -shift);
  return 1 / (1 / up + 1 / down);
}

/**
 * Smallest h (to 1e-6) whose two-sided in-control ARL reaches `targetArl` by Siegmund's
 * approximation. For k = 0.5: ARL0 = 10,000 gives h ≈ 8.05 (textbook h = 5 gives ARL0 ≈ 465).
 */
export function cusumThresholdForArl(targetArl: number, k: number): number {
  if (!(targetArl > 1)) throw new RangeError('targetArl must be > 1');
  if (!(k > 0)) throw new RangeError('k must be > 0');
  let low = 0;
  let high = 1;
  while (siegmundTwoSidedArl(high, k) < targetArl) high *= 2;
  while (high - low > 1e-6) {
    const mid = (low + high) / 2;
    if (siegmundTwoSidedArl(mid, k) < targetArl) low = mid;
    else high = mid;
  }
  return high;
}
