/**
 * Hellinger distance between two discrete distributions, in [0, 1]:
 * H = (1/√2) · ‖√p − √q‖₂ (equivalently sqrt(1 − Σ√(p·q))).
 * The norm form is used because 1 − Σ√(pq) cancels catastrophically for close inputs.
 * Bounded, symmetric and defined for empty bins, so no epsilon is needed.
 */
import { assertSameBins, proportions, total } from './bins.ts';

/** Hellinger distance from counts or shares over the same bins/categories. NaN if either side is empty. */
export function hellingerDistance(reference: readonly number[], current: readonly number[]): number {
  assertSameBins(reference, current);
  if (total(reference) === 0 || total(current) === 0) return Number.NaN;
  const p = proportions(reference);
  const q = proportions(current);
  let sum = 0;
  for (let k = 0; k < p.length; k++) {
    const d = Math.sqrt(p[k] ?? 0) - Math.sqrt(q[k] ?? 0);
    sum += d * d;
  }
  return Math.min(1, Math.sqrt(sum / 2));
}
