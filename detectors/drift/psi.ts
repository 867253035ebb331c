/**
 * Population Stability Index over shared bins (or categories):
 * PSI = Σ_k (q_k − p_k) · ln(q_k / p_k), p = reference shares, q = current shares.
 * It is the symmetrised Kullback–Leibler divergence (Jeffreys) of the binned shares.
 *
 * Empty bins: ln(0) is undefined, so a share of 0 on EITHER side is replaced by
 * `epsilon` (no renormalisation). The contribution of a bin that is empty on one side
 * is then (q − ε)·ln(q/ε): large but finite, e.g. ≈ 0.46 for q = 5% with ε = 1e-4.
 * Bins empty on both sides contribute 0. ε is a choice, not a law: PSI values are only
 * comparable between runs that used the same ε and the same bins.
 */
import { assertSameBins, proportions, total } from './bins.ts';

/** Share substituted for an empty bin. @default 1e-4 (the value most PSI tools use) */
export const DEFAULT_PSI_EPSILON = 1e-4;

/** PSI from counts over the same bins. NaN when either side has no values. */
export function populationStabilityIndex(
  reference: readonly number[],
  current: readonly number[],
  epsilon: number = DEFAULT_PSI_EPSILON,
): number {
  assertSameBins(reference, current);
  if (total(reference) === 0 || total(current) === 0) return Number.NaN;
  const p = proportions(reference);
  const q = proportions(current);
  let psi = 0;
  for (let k = 0; k < p.length; k++) {
    const pk = p[k] ?? 0;
    const qk = q[k] ?? 0;
    if (pk === 0 && qk === 0) continue;
    const ps = Math.max(pk, epsilon);
    const qs = Math.max(qk, epsilon);
    psi += (qs - ps) * Math.log(qs / ps);
  }
  return psi;
}
