/**
 * Jensen–Shannon DISTANCE with base-2 logarithms, in [0, 1]:
 * sqrt( (KL(p‖m) + KL(q‖m)) / 2 ), m = (p + q)/2, logs base 2.
 * Equals scipy.spatial.distance.jensenshannon(p, q, base=2) (which normalises its inputs).
 * Base 2 matters: with natural logs the distance tops out at sqrt(ln 2) ≈ 0.83, so a
 * 0.1 threshold means something different (the bug reported as evidently#494).
 * No smoothing is needed: 0·log 0 = 0 and m > 0 wherever p or q is.
 */
import { assertSameBins, proportions, total } from './bins.ts';

/** p·log2(p/m), with 0·log 0 = 0. */
function relativeEntropyTerm(p: number, m: number): number {
  return p > 0 ? p * Math.log2(p / m) : 0;
}

/** JS distance (base 2) from counts or shares over the same bins/categories. NaN if either side is empty. */
export function jensenShannonDistance(reference: readonly number[], current: readonly number[]): number {
  assertSameBins(reference, current);
  if (total(reference) === 0 || total(current) === 0) return Number.NaN;
  const p = proportions(reference);
  const q = proportions(current);
  let divergence = 0;
  for (let k = 0; k < p.length; k++) {
    const pk = p[k] ?? 0;
    const qk = q[k] ?? 0;
    const m = (pk + qk) / 2;
    divergence += relativeEntropyTerm(pk, m) + relativeEntropyTerm(qk, m);
  }
  // Rounding can leave a tiny negative for identical inputs; clamp into [0, 1].
  return Math.min(1, Math.sqrt(Math.max(0, divergence / 2)));
}
