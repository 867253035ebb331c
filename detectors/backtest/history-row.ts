/**
 * One event of a backtest history, whatever the model's kind, and what the replay reads of a
 * history kept in time order.
 */

export interface HistoryRow<Prediction, Label> {
  /** Epoch milliseconds; rows in non-decreasing time order. */
  time: number;
  /** Raw feature values by name; null marks a missing value. */
  features: Readonly<Record<string, number | string | null>>;
  /** The serving model's prediction from the file; null when the file has none. */
  prediction: Prediction | null;
  /** The label; null when the event was never labelled. */
  label: Label | null;
  /** When the label arrived (epoch ms); absent: `time` + the run's `labelDelayMs`. @default undefined */
  labelTime?: number | null;
}

/** First index whose time is ≥ `time` (rows sorted by time). */
export function lowerBound(rows: readonly { time: number }[], time: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((rows[mid] as { time: number }).time < time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A feature's values as numbers; missing (null, absent or empty) as null. */
export function numericColumn(
  rows: readonly Pick<HistoryRow<unknown, unknown>, 'features'>[],
  name: string,
): (number | null)[] {
  return rows.map((r) => {
    const v = r.features[name];
    return typeof v === 'number' ? v : v === null || v === undefined || v === '' ? null : Number(v);
  });
}
