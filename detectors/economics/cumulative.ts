/**
 * Staleness cost accumulated since the last retrain — the quantity of Cara's cumulative rule.
 * Measured, not forecast: per window, value × events × how much worse than fresh the window's
 * quality was. Windows that were better than fresh count as zero (noise does not earn credit).
 */

export interface WindowQuality {
  /** Window start and end, epoch milliseconds. */
  start: number;
  end: number;
  /** Events scored in the window. */
  events: number;
  /** Quality in the window (realised or estimated), or `null` when unknown. */
  quality: number | null;
}

export interface AccumulatedCostOptions {
  /** Quality of a freshly retrained version (e.g. its validation quality or the decay fit's q0). */
  freshQuality: number;
  /** Money lost per event per 1.0 of quality lost. */
  valuePerQualityUnit: number;
  /** Only windows that end after this instant count (the last retrain). @default -Infinity */
  sinceMs?: number;
  /** @default "higher-is-better" */
  direction?: 'higher-is-better' | 'lower-is-better';
}

/** Sum of value × events × max(0, fresh − quality) over windows since the last retrain. */
export function accumulatedStalenessCost(windows: readonly WindowQuality[], options: AccumulatedCostOptions): number {
  const sign = (options.direction ?? 'higher-is-better') === 'higher-is-better' ? 1 : -1;
  const since = options.sinceMs ?? Number.NEGATIVE_INFINITY;
  let total = 0;
  for (const w of windows) {
    if (w.end <= since || w.quality === null || !Number.isFinite(w.quality)) continue;
    // Only the part of a window after the retrain counts.
    const share = w.start >= since ? 1 : (w.end - since) / Math.max(1, w.end - w.start);
    total += options.valuePerQualityUnit * w.events * share * Math.max(0, sign * (options.freshQuality - w.quality));
  }
  return total;
}
