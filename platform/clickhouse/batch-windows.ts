/**
 * The pieces every batched window query shares (window-batch-repository.ts, and the batched
 * estimation query of estimation-repository.ts): the batch's windows as parameters, the batch's
 * events of their own windows, and the segment slots of segmented windows.
 *
 * Segments in a batch: the windows of a batch have segment keys of their own (or none), so a
 * segmented batch repeats each event once per grouping it belongs to — slot 0 for the whole
 * window, slot k for its window's k-th key, the segment value alongside (`__missing__` when the
 * event has none, `__other__` outside the key's kept values) — and the queries group by
 * (window, slot, value) as well. That is the GROUPING SETS of a single-window query
 * (segment-grouping.ts) with the sets keyed by window: only a segmented window's events are
 * repeated (an unsegmented window of the same batch reads as before), and the SQL text does not
 * depend on the batch's keys, which travel as parameters. A batch without segment keys runs the
 * unsegmented text.
 *
 * Every value travels as a query parameter.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from './client.ts';
import { labelsOfEvents } from './labels-of-events.ts';
import { MISSING_SEGMENT, OTHER_SEGMENT, type SegmentsToCount } from './segment-grouping.ts';
import { checkedTimeWindow, type TimeWindow } from './time-window.ts';

/** Wall time of each query of a batch (ms), summed over the batches it is passed to; in the embedded engine it includes the wait for the query lane. */
export interface BatchQueryTimings {
  versions?: number;
  numeric?: number;
  categorical?: number;
  labelled?: number;
  deadLetters?: number;
  trainedAt?: number;
  topValues?: number;
  unknownKeys?: number;
  estimation?: number;
  outcomes?: number;
  lateLabels?: number;
}

/** The batch's windows, as parameters: window i+1 (SQL arrays are 1-based) is model models[i] in [starts[i], ends[i]). */
export type BatchParams = {
  models: string[];
  starts: number[];
  ends: number[];
  from: number;
  to: number;
};

/** The batch's windows as parameters. Throws ValidationError on bad bounds, Error when a model appears twice. */
export function batchParams(requests: readonly ({ modelId: string } & TimeWindow)[]): BatchParams {
  const windows = requests.map((r) => checkedTimeWindow(r.start, r.end));
  const models = requests.map((r) => r.modelId);
  if (new Set(models).size !== models.length) throw new Error('a batch holds at most one window per model');
  return {
    models,
    starts: windows.map((w) => w.start),
    ends: windows.map((w) => w.end),
    from: Math.min(...windows.map((w) => w.start)),
    to: Math.max(...windows.map((w) => w.end)),
  };
}

/**
 * The batch's scored events of their own windows, with `w` the 1-based window number. PREWHERE
 * narrows to the batch's models and the span of all its windows before FINAL de-duplicates (exact:
 * every copy of an event has the same model and ts, see event-window.ts); WHERE then keeps each
 * model's own window. `columns` are plain column names.
 *
 * `segmented`: each event once more per segment key of its window, with `sk` (0: the whole
 * window; k: the window's k-th key) and `sv` (the segment's value; '' in slot 0); the query
 * needs {@link segmentSlotParams}.
 */
export const eventsOfWindows = (columns: string, where = '', segmented = false): string => {
  const plain = (extra: string) => `(
  SELECT indexOf({models:Array(String)}, model_id) AS w, ${columns}${extra}
  FROM scoring_events FINAL
  PREWHERE model_id IN {models:Array(String)}
    AND ts >= fromUnixTimestamp64Milli({from:Int64}) AND ts < fromUnixTimestamp64Milli({to:Int64})
  WHERE ts >= fromUnixTimestamp64Milli({starts:Array(Int64)}[w]) AND ts < fromUnixTimestamp64Milli({ends:Array(Int64)}[w])${where}
  SETTINGS do_not_merge_across_partitions_select_final = 1
)`;
  if (!segmented) return plain('');
  const key = '{segKeys:Array(Array(String))}[w][sk]';
  return `(
  SELECT w, sk, if(sk = 0, '', if(has({segValues:Array(Array(Array(String)))}[w][sk], sr), sr, {seg_other:String})) AS sv, ${columns}
  FROM (
    SELECT w, sk, ${columns},
           if(sk = 0, '', ifNull(if({segMaps:Array(Array(UInt8))}[w][sk] = 1, arrayElementOrNull(seg_cat, ${key}), arrayElementOrNull(seg_meta, ${key})), {seg_missing:String})) AS sr
    FROM ${plain(', cat_features AS seg_cat, metadata AS seg_meta')}
    ARRAY JOIN range(toUInt64(1 + length({segKeys:Array(Array(String))}[w]))) AS sk
  )
)`;
};

/**
 * The batch's labels of its events (labels-of-events.ts), the newest of each event, joined to
 * {@link eventsOfWindows} aliased `e` and cut per window at its arrival instant ({arrivedBy}).
 * `labelColumns` are the labels' columns the query reads; `labelWhere` further conditions on them,
 * `eventWhere` on the events whose ids restrict the read.
 */
export const batchLabelsJoin = (labelColumns: string, eventWhere = '', labelWhere = ''): string => `
INNER JOIN (
  SELECT event_id, ${labelColumns}, label_ts FROM labels FINAL
  ${labelsOfEvents(`model_id IN {models:Array(String)}
      AND ts >= fromUnixTimestamp64Milli({from:Int64}) AND ts < fromUnixTimestamp64Milli({to:Int64})${eventWhere}`)}${labelWhere ? `\n  WHERE ${labelWhere}` : ''}
) AS l USING (event_id)
WHERE ifNull(l.label_ts < fromUnixTimestamp64Milli({arrivedBy:Array(Nullable(Int64))}[e.w]), 1)`;

/** The segment keys of each window of a batch as parameters of {@link eventsOfWindows}(…, segmented). */
export function segmentSlotParams(
  segments: readonly (readonly SegmentsToCount[] | undefined)[],
): Record<string, unknown> {
  const keys = segments.map((s) => s ?? []);
  return {
    segKeys: keys.map((ks) => ks.map((s) => ('feature' in s.key ? s.key.feature : s.key.metadata))),
    segMaps: keys.map((ks) => ks.map((s) => ('feature' in s.key ? 1 : 0))),
    segValues: keys.map((ks) => ks.map((s) => [...s.values])),
    seg_missing: MISSING_SEGMENT,
    seg_other: OTHER_SEGMENT,
  };
}

/** Whether any window of a batch counts segments (the batch then runs the segmented texts). */
export const anySegments = (segments: readonly (readonly SegmentsToCount[] | undefined)[]): boolean =>
  segments.some((s) => (s?.length ?? 0) > 0);

/** The segment a row of a segmented query belongs to: null for the whole window's row (slot 0). */
export function slotOf(row: { sk?: unknown; sv?: unknown }): { key: number; value: string } | null {
  const slot = Number(row.sk ?? 0);
  return slot === 0 ? null : { key: slot - 1, value: String(row.sv) };
}

/**
 * Where the rows the engine read for each query of a batch are summed, for the timings they are
 * registered with (`countRowsRead`): the window batcher registers its own, so /metrics shows
 * which query's reads grow with stored history. Kept beside the timings, not in them, so the
 * timings stay one number per query.
 */
const rowsReadOf = new WeakMap<BatchQueryTimings, BatchQueryTimings>();

/** From now on, the batch queries timed into `timings` also add the rows they read to `rowsRead`. */
export function countRowsRead(timings: BatchQueryTimings, rowsRead: BatchQueryTimings): void {
  rowsReadOf.set(timings, rowsRead);
}

/** Rows of one batch query, its wall time added to `timings[name]` (and rows read, see countRowsRead). */
export async function timedRows<T>(
  client: ClickHouseClient,
  name: keyof BatchQueryTimings,
  sql: string,
  params: Record<string, unknown>,
  timings: BatchQueryTimings | undefined,
): Promise<T[]> {
  const t0 = performance.now();
  const rowsRead = timings ? rowsReadOf.get(timings) : undefined;
  try {
    if (!rowsRead) return await queryRows<T>(client, sql, params);
    // JSON rather than JSONEachRow: its body carries the engine's statistics of the query.
    const result = await client.query({ query: sql, query_params: params, format: 'JSON' });
    const body = (await result.json()) as unknown as {
      data: T[];
      statistics?: { rows_read?: number | string };
    };
    rowsRead[name] = (rowsRead[name] ?? 0) + Number(body.statistics?.rows_read ?? 0);
    return body.data;
  } finally {
    if (timings) timings[name] = (timings[name] ?? 0) + performance.now() - t0;
  }
}
