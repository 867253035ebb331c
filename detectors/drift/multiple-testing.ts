/**
 * Benjamini–Hochberg adjustment of p-values across the features of one window.
 * With hundreds of features some will look significant by chance; BH controls the
 * expected share of false discoveries among the features called drifted.
 *
 * adjusted_(i) = min_{j ≥ i} ( m / j · p_(j) ), capped at 1, for p sorted ascending.
 * Equals scipy.stats.false_discovery_control(ps, method='bh') and statsmodels'
 * multipletests(ps, method='fdr_bh')[1].
 * NaN entries (features that could not be tested, e.g. all values missing) are left
 * NaN and do not count towards m.
 */

/** BH-adjusted p-values, in the input order. */
export function benjaminiHochberg(pvalues: readonly number[]): number[] {
  const indexed: { p: number; index: number }[] = [];
  pvalues.forEach((p, index) => {
    if (!Number.isNaN(p)) {
      if (p < 0 || p > 1) throw new RangeError(`p-values must be in [0, 1], got ${p}`);
      indexed.push({ p, index });
    }
  });
  const adjusted = pvalues.map(() => Number.NaN);
  const m = indexed.length;
  indexed.sort((a, b) => a.p - b.p);
  let running = 1;
  for (let rank = m; rank >= 1; rank--) {
    const entry = indexed[rank - 1];
    if (entry === undefined) continue;
    running = Math.min(running, (entry.p * m) / rank);
    adjusted[entry.index] = running;
  }
  return adjusted;
}
