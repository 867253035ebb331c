/**
 * The one time filter of every repository. A window is half-open, [start, end), in epoch
 * milliseconds; the bounds travel as Int64 query parameters and meet the DateTime64(3) column
 * through `fromUnixTimestamp64Milli`. No time zone is named: DateTime64 values compare as
 * instants, whatever zone the column or the session carries.
 */
import { ValidationError } from '../errors.ts';

/** A time bound: epoch milliseconds or a Date. */
export type TimeBound = number | Date;

/** A half-open time window, [start, end), in epoch milliseconds. */
export interface TimeWindow {
  start: number;
  end: number;
}

/** A filter's SQL text and the query parameters it reads (spread them into the query's). */
export interface TimeFilter<Params> {
  sql: string;
  params: Params;
}

/** `column` in [start, end); reads `{start:Int64}` and `{end:Int64}`. */
export function windowFilter(column: string, window: TimeWindow): TimeFilter<TimeWindow> {
  return {
    sql: `${column} >= fromUnixTimestamp64Milli({start:Int64}) AND ${column} < fromUnixTimestamp64Milli({end:Int64})`,
    params: { start: window.start, end: window.end },
  };
}

/**
 * `column` in [start, end) under other parameter names, for a query that filters a second time
 * column beside the window's own (labels by arrival, events by time); reads `{<name>_start:Int64}`
 * and `{<name>_end:Int64}`. An open start is −∞.
 */
export function namedWindowFilter(
  column: string,
  name: string,
  window: { start: number | null; end: number },
): TimeFilter<Record<string, number>> {
  const end = `${column} < fromUnixTimestamp64Milli({${name}_end:Int64})`;
  if (window.start === null) return { sql: end, params: { [`${name}_end`]: window.end } };
  return {
    sql: `${column} >= fromUnixTimestamp64Milli({${name}_start:Int64}) AND ${end}`,
    params: { [`${name}_start`]: window.start, [`${name}_end`]: window.end },
  };
}

/** `column` at or after `since` (a window open to the right); reads `{since:Int64}`. */
export function sinceFilter(column: string, since: number): TimeFilter<{ since: number }> {
  return { sql: `${column} >= fromUnixTimestamp64Milli({since:Int64})`, params: { since } };
}

const toMs = (t: TimeBound): number => (t instanceof Date ? t.getTime() : t);

/**
 * A window from caller input: whole epoch milliseconds, end after start. Throws ValidationError
 * otherwise (an Int64 parameter cannot carry a fraction, and an empty window is a caller's
 * mistake, not an empty answer).
 */
export function checkedTimeWindow(start: TimeBound, end: TimeBound): TimeWindow {
  const s = toMs(start);
  const e = toMs(end);
  if (!Number.isSafeInteger(s) || !Number.isSafeInteger(e))
    throw new ValidationError(`window bounds must be whole epoch milliseconds, got ${s} .. ${e}`);
  if (!(e > s))
    throw new ValidationError(
      `window end (${new Date(e).toISOString()}) must be after its start (${new Date(s).toISOString()})`,
    );
  return { start: s, end: e };
}
