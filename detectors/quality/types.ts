/** Shapes shared by every quality metric: a value, its sample size and an interval or a reason. */

export type IntervalMethod = 'wilson' | 'delong' | 'bootstrap-percentile' | 'normal';

export interface ConfidenceInterval {
  lower: number;
  upper: number;
  /** Two-sided confidence level, e.g. 0.95. */
  level: number;
  method: IntervalMethod;
}

export interface MetricEstimate {
  /** Point estimate; null when the metric is undefined for this sample (reason in `note`). */
  value: number | null;
  /** Events the estimate rests on (for precision: predicted positives; for recall: actual positives). */
  n: number;
  /** Null when the sample cannot support an interval (reason in `note`). */
  interval: ConfidenceInterval | null;
  /** Why `value` or `interval` is null, or how the value was approximated. */
  note?: string;
}

/** Binary labels are 0 or 1; anything else is a caller bug. */
export function assertBinaryLabels(labels: readonly number[]): void {
  for (const y of labels) {
    if (y !== 0 && y !== 1) throw new RangeError(`binary labels must be 0 or 1, got ${String(y)}`);
  }
}

export function assertSameLength(a: readonly unknown[], b: readonly unknown[], what: string): void {
  if (a.length !== b.length) throw new RangeError(`${what}: lengths differ (${a.length} vs ${b.length})`);
}

/** Probability scores must be finite numbers in [0, 1]. */
export function assertProbabilities(scores: readonly number[]): void {
  for (const p of scores) {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`probability scores must be in [0, 1], got ${String(p)}`);
  }
}
