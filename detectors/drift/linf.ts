/**
 * L∞ distance of category (or bin) shares: max_k |p_k − q_k|.
 * The most readable categorical effect size for an operator: "the share of one category
 * moved by this many percentage points".
 */
import { assertSameBins, proportions, total } from './bins.ts';

/** Largest absolute change of a share. NaN if either side is empty. */
export function linfDistance(reference: readonly number[], current: readonly number[]): number {
  assertSameBins(reference, current);
  if (total(reference) === 0 || total(current) === 0) return Number.NaN;
  const p = proportions(reference);
  const q = proportions(current);
  let max = 0;
  for (let k = 0; k < p.length; k++) max = Math.max(max, Math.abs((p[k] ?? 0) - (q[k] ?? 0)));
  return max;
}
