/**
 * How `halflife backtest` cuts a history into windows: by duration (the monitor's cadence,
 * aligned to the epoch as the ModelMonitor workflow aligns its windows), by row count (every N
 * rows, as NannyML's size-based chunks: a window ends at the timestamp of the row after its
 * last), or by calendar period in UTC (day, week from Monday, month).
 */

export type BacktestWindowing =
  { kind: 'duration'; ms: number } | { kind: 'rows'; rows: number } | { kind: 'period'; period: CalendarPeriod };

export const CALENDAR_PERIODS = ['day', 'week', 'month'] as const;
export type CalendarPeriod = (typeof CALENDAR_PERIODS)[number];

const DAY = 86_400_000;

/** Whether `text` names a calendar period. */
export function isCalendarPeriod(text: string): text is CalendarPeriod {
  return (CALENDAR_PERIODS as readonly string[]).includes(text);
}

/** Start of the period containing `time` (UTC; weeks start on Monday). */
export function periodStart(period: CalendarPeriod, time: number): number {
  const day = Math.floor(time / DAY) * DAY;
  if (period === 'day') return day;
  if (period === 'week') {
    const weekday = (new Date(day).getUTCDay() + 6) % 7; // Monday 0
    return day - weekday * DAY;
  }
  const d = new Date(time);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** Start of the period after the one containing `time`. */
export function nextPeriodStart(period: CalendarPeriod, time: number): number {
  const start = periodStart(period, time);
  if (period === 'day') return start + DAY;
  if (period === 'week') return start + 7 * DAY;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Where the first window (and the reference period) starts, for a history whose first row is at `firstTime`. */
export function windowingOrigin(windowing: BacktestWindowing, firstTime: number): number {
  switch (windowing.kind) {
    case 'duration':
      return Math.floor(firstTime / windowing.ms) * windowing.ms;
    case 'rows':
      return firstTime;
    case 'period':
      return periodStart(windowing.period, firstTime);
  }
}

/** When the window starting at `start` ends by time; null when windows end by row count. */
export function windowEndByTime(windowing: BacktestWindowing, start: number): number | null {
  switch (windowing.kind) {
    case 'duration':
      return start + windowing.ms;
    case 'rows':
      return null;
    case 'period':
      return nextPeriodStart(windowing.period, start);
  }
}

/** The windowing in words: "1h windows", "windows of 5000 rows", "calendar weeks (UTC)". */
export function describeWindowing(windowing: BacktestWindowing, cadence?: string): string {
  switch (windowing.kind) {
    case 'duration':
      return `windows of ${cadence ?? `${windowing.ms / 3_600_000} h`}`;
    case 'rows':
      return `windows of ${windowing.rows} rows`;
    case 'period':
      return `calendar ${windowing.period}s (UTC)`;
  }
}
