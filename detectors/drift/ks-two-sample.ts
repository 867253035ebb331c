/**
 * Two-sample Kolmogorov–Smirnov test on raw samples, matching
 * scipy.stats.ks_2samp(reference, current, alternative='two-sided', method='auto').
 *
 * Statistic: D = max |F_ref(x) − F_cur(x)| over all observed x, ECDFs right-continuous,
 * so ties are handled exactly as scipy's searchsorted(side='right').
 *
 * p-value, as scipy 1.16 does it:
 *  - 'exact' when max(n_ref, n_cur) ≤ 10,000 (scipy's MAX_AUTO_N): D is snapped to the
 *    lattice, D = h / lcm(n_ref, n_cur), and P(D ≥ d) is the share of monotone lattice
 *    paths from (0,0) to (n_ref, n_cur) that touch |i/n_ref − j/n_cur| ≥ d. We compute it
 *    with the probability-valued recursion of Viehmann (2021, arXiv:2102.08037):
 *    Q(i,j) = (i·Q(i−1,j) + j·Q(i,j−1)) / (i+j), Q = 1 outside the band. Values stay in
 *    [0,1], so no overflow and tiny p-values keep relative accuracy.
 *    Difference from scipy: scipy uses a closed alternating sum when n_ref = n_cur; we use
 *    the recursion for all sizes. Both are exact, so they agree to rounding error.
 *  - 'asymptotic' otherwise: kstwo.sf(D, round(n·m/(n+m))) — the one-sample Kolmogorov
 *    distribution at the effective sample size (round half to even, as numpy does).
 * The exact p-value assumes continuous data; with ties it is conservative (as in scipy).
 */
import { kolmogorovSurvival } from './kolmogorov-distribution.ts';
import { sortedFinite } from './missing-values.ts';

/** Result of a KS test. */
export interface KsResult {
  /** D ∈ [0, 1], the largest absolute ECDF difference. */
  statistic: number;
  /** Two-sided p-value. */
  pvalue: number;
  /** Which p-value computation was used. */
  method: 'exact' | 'asymptotic';
}

export interface KsOptions {
  /**
   * 'auto' picks 'exact' when both samples have at most `exactMaxN` values.
   * @default 'auto'
   */
  method?: 'auto' | 'exact' | 'asymptotic';
  /** Largest sample size for which 'auto' uses the exact p-value. @default 10000 (scipy's MAX_AUTO_N) */
  exactMaxN?: number;
}

/** scipy's threshold between exact and asymptotic p-values in method='auto'. */
export const KS_EXACT_MAX_N = 10_000;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Round half to even, like numpy.round, so the effective n matches scipy's. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * KS statistic of two ascending sorted samples: walk both in merged order and evaluate
 * the ECDF difference after each distinct value.
 */
export function ksStatisticSorted(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n1 || j < n2) {
    const ai = i < n1 ? (a[i] ?? Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY;
    const bj = j < n2 ? (b[j] ?? Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY;
    const v = ai <= bj ? ai : bj;
    while (i < n1 && a[i] === v) i++;
    while (j < n2 && b[j] === v) j++;
    const diff = Math.abs(i / n1 - j / n2);
    if (diff > d) d = diff;
  }
  return d;
}

/**
 * Exact two-sided P(D ≥ h / lcm) under H0 for sample sizes m, n, where h is an integer ≥ 1.
 * Band recursion over the lattice; cost O(max(m,n) · band width).
 */
export function ksExactPValue(m: number, n: number, h: number): number {
  if (h <= 0) return 1;
  // Iterate columns over the larger sample, rows over the smaller (shorter arrays).
  if (m < n) [m, n] = [n, m];
  const g = gcd(m, n);
  const mg = m / g;
  const ng = n / g;
  // Point (i, j) is inside the band iff |i·ng − j·mg| < h.
  const q = new Float64Array(n + 1);
  for (let j = 0; j <= n; j++) q[j] = j * mg < h ? 0 : 1;
  let previousLow = 0;
  for (let i = 1; i <= m; i++) {
    const low = Math.max(0, Math.floor((i * ng - h) / mg) + 1);
    const high = Math.min(n, Math.ceil((i * ng + h) / mg) - 1);
    if (low > high) return 1;
    for (let j = previousLow; j < low; j++) q[j] = 1;
    for (let j = low; j <= high; j++) {
      const fromLeft = q[j] ?? 1;
      q[j] = j === 0 ? fromLeft : (i * fromLeft + j * (q[j - 1] ?? 1)) / (i + j);
    }
    previousLow = low;
  }
  return Math.min(1, Math.max(0, q[n] ?? 1));
}

/** KS p-value from a statistic and the two sample sizes, by the chosen method. */
export function ksPValue(
  statistic: number,
  n1: number,
  n2: number,
  method: 'exact' | 'asymptotic',
): { statistic: number; pvalue: number } {
  if (method === 'exact') {
    const g = gcd(n1, n2);
    const lcm = (n1 / g) * n2;
    const h = Math.round(statistic * lcm);
    return { statistic: h / lcm, pvalue: ksExactPValue(n1, n2, h) };
  }
  const effectiveN = roundHalfEven((n1 * n2) / (n1 + n2));
  return { statistic, pvalue: kolmogorovSurvival(Math.max(1, effectiveN), statistic) };
}

/**
 * Two-sample KS test on raw finite samples (filter missing values first).
 * @throws RangeError when either sample is empty (as scipy raises ValueError).
 */
export function ksTwoSample(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
  options: KsOptions = {},
): KsResult {
  const n1 = reference.length;
  const n2 = current.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('ksTwoSample needs two non-empty samples');
  const exactMaxN = options.exactMaxN ?? KS_EXACT_MAX_N;
  const requested = options.method ?? 'auto';
  const method = requested === 'auto' ? (Math.max(n1, n2) <= exactMaxN ? 'exact' : 'asymptotic') : requested;
  const d = ksStatisticSorted(sortedFinite(reference), sortedFinite(current));
  const { statistic, pvalue } = ksPValue(d, n1, n2, method);
  return { statistic, pvalue, method };
}
