/**
 * Chi-square test of homogeneity on a 2×k contingency table (reference row, current row),
 * the categorical counterpart of the KS test.
 *
 * Equals scipy.stats.chi2_contingency([reference, current], correction=False).
 * Yates' continuity correction: scipy applies it by default when dof = 1 (two categories).
 * We do NOT by default: it is known to be over-conservative, makes the dof = 1 case
 * behave differently from every other table, and the verdict already rests on effect
 * sizes; pass `yates: true` to reproduce scipy's default for dof = 1 (it is ignored for
 * dof > 1, exactly as in scipy).
 * Categories with zero count on both sides are dropped (their expected count would be 0
 * and they carry no information), so dof = (non-empty categories − 1). With a single
 * non-empty category dof = 0: statistic 0, p-value 1 (as scipy reports).
 */
import { total } from './bins.ts';
import { chiSquareSurvival } from './special-functions.ts';

/** Result of the homogeneity test. */
export interface ChiSquareResult {
  statistic: number;
  pvalue: number;
  dof: number;
}

export interface ChiSquareOptions {
  /** Apply Yates' continuity correction when dof = 1. @default false */
  yates?: boolean;
}

/** Chi-square homogeneity test of two count vectors over the same categories. NaN when either side is empty. */
export function chiSquareHomogeneity(
  reference: readonly number[],
  current: readonly number[],
  options: ChiSquareOptions = {},
): ChiSquareResult {
  if (reference.length !== current.length) throw new RangeError('count vectors must cover the same categories');
  const nRef = total(reference);
  const nCur = total(current);
  if (nRef === 0 || nCur === 0) return { statistic: Number.NaN, pvalue: Number.NaN, dof: 0 };
  const columns: [number, number][] = [];
  for (let k = 0; k < reference.length; k++) {
    const r = reference[k] ?? 0;
    const c = current[k] ?? 0;
    if (r < 0 || c < 0 || !Number.isFinite(r) || !Number.isFinite(c))
      throw new RangeError('counts must be finite and non-negative');
    if (r + c > 0) columns.push([r, c]);
  }
  const dof = columns.length - 1;
  if (dof === 0) return { statistic: 0, pvalue: 1, dof: 0 };
  const n = nRef + nCur;
  const yates = options.yates === true && dof === 1;
  let statistic = 0;
  for (const [r, c] of columns) {
    for (const [observed, rowTotal] of [
      [r, nRef],
      [c, nCur],
    ] as const) {
      const expected = (rowTotal * (r + c)) / n;
      let diff = observed - expected;
      // Yates: move each observed count up to 0.5 towards its expected count.
      if (yates) diff = Math.sign(diff) * Math.max(0, Math.abs(diff) - 0.5);
      statistic += (diff * diff) / expected;
    }
  }
  return { statistic, pvalue: chiSquareSurvival(statistic, dof), dof };
}
