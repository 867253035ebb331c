/**
 * The late labels of many monitors' earlier windows at once: one query for a batch of models,
 * where `lateLabelledScoreGroups` (window-repository.ts) reads one model's.
 *
 * Why (measured, BENCHMARKS.md "Window reads at fleet shape"): a monitor tick read its window in
 * the batch (6–7 queries for up to 32 windows) but its late labels on its own, one query per model
 * per tick; at 1,000 models a minute those single-model queries were most of the engine's one
 * query lane (chDB runs one parameterised query at a time per process), and each also scans the
 * arrival column of every stored label. Batched, a tick's late labels cost one query and one scan
 * of that column per batch.
 *
 * Each window of the batch (window w, 1-based, model models[w]) asks for the labels that arrived in
 * its own range [arrivedStarts[w], arrivedEnds[w]) for its model's events scored in its own earlier
 * windows (lateStarts[w][k], lateEnds[w][k]). The label side is the newest label of each of the
 * batch's events among those that arrived since the earliest range's start (see lateLabelsSql),
 * and each window keeps the events whose newest label arrived in its own range — exactly the
 * single-model query's rows. The event side is the batch's models in the span of all their earlier
 * windows, filtered in PREWHERE before FINAL (exact: every copy of an event has the same model and
 * ts, event-window.ts), and restricted by the join.
 *
 * Every value travels as a query parameter; the SQL text is constant.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { timedRows, type BatchQueryTimings } from './batch-windows.ts';
import type { TimeWindow } from './time-window.ts';
import { labelledGroupOf, type LateLabelGroup } from './window-repository.ts';

/** One model's late-label read: its earlier windows and the arrival range of the labels wanted. */
export interface LateLabelRequest {
  modelId: string;
  /** The model's earlier windows, ascending and not overlapping. */
  windows: readonly TimeWindow[];
  /** Labels that arrived (label_ts) in [start, end). */
  arrived: TimeWindow;
}

const scoreBin = (score: string): string => `least(toUInt32(floor(${score} * {bins:UInt32})), {bins:UInt32} - 1)`;

/**
 * The batch's models' events in the span of their earlier windows. `final`: de-duplicated (the
 * rows joined); without it, a superset of their ids (duplicates only repeat an id), enough to
 * restrict the label side.
 */
const eventsOfBatch = (columns: string, where: string, final: boolean): string => `
    SELECT ${columns}
    FROM scoring_events${final ? ' FINAL' : ''}
    PREWHERE model_id IN {models:Array(String)}
      AND ts >= fromUnixTimestamp64Milli({from:Int64}) AND ts < fromUnixTimestamp64Milli({to:Int64})${where ? `\n    WHERE ${where}` : ''}${final ? '\n    SETTINGS do_not_merge_across_partitions_select_final = 1' : ''}`;

/**
 * `arrivedFrom`: the start of the union of the batch's arrival ranges. The label side is the
 * newest label of each of the batch's events among the labels that arrived since then — newest by
 * label time, then by insert, as ReplacingMergeTree(label_ts) keeps it — read from the labels'
 * arrival projection (migration 76: ids, times and labels) or by key through the batch's event
 * ids, whichever selects fewer granules: O(labels arrived since the batch's earliest range) or
 * O(the batch's events), never O(labels stored). Exact: an event with a label in its window's
 * range has its newest label at or after the range's start, so the labels before it never win.
 * Each window then keeps the events whose newest label arrived in its own range, as FINAL would.
 */
const lateLabelsSql = `
SELECT e.w AS w, {lateStarts:Array(Array(Int64))}[e.w][e.k] AS window_start,
       ${scoreBin('e.prediction_score')} AS bin, l.newest_label >= 0.5 AS positive,
       count() AS events, sum(e.prediction_score) AS score_sum, sum(e.prediction_score * e.prediction_score) AS score_sq
FROM (
  SELECT event_id, tupleElement(argMax(tuple(label_numeric), (label_ts, ingested_at)), 1) AS newest_label,
         max(label_ts) AS newest_at
  FROM labels
  WHERE label_ts >= fromUnixTimestamp64Milli({arrivedFrom:Int64})
    AND event_id IN (${eventsOfBatch('event_id', '', false)})
  GROUP BY event_id
  HAVING newest_label IS NOT NULL
) AS l
INNER JOIN (
  SELECT w, event_id, prediction_score, ms, arrayCount(s -> s <= ms, {lateStarts:Array(Array(Int64))}[w]) AS k
  FROM (${eventsOfBatch(
    'indexOf({models:Array(String)}, model_id) AS w, event_id, prediction_score, toUnixTimestamp64Milli(ts) AS ms',
    'prediction_score IS NOT NULL',
    true,
  )}
  )
) AS e USING (event_id)
WHERE e.k > 0 AND e.ms < {lateEnds:Array(Array(Int64))}[e.w][e.k]
  AND l.newest_at >= fromUnixTimestamp64Milli({arrivedStarts:Array(Int64)}[e.w])
  AND l.newest_at < fromUnixTimestamp64Milli({arrivedEnds:Array(Int64)}[e.w])
GROUP BY w, window_start, bin, positive`;

/**
 * The late labels of every request (at most one per model), grouped per earlier window, score bin
 * and label as `lateLabelledScoreGroups` groups them, in request order. Requests without windows
 * get none. Throws RangeError on unordered windows or an empty arrival range, Error when a model
 * appears twice.
 */
export async function batchedLateLabelledScoreGroups(
  client: ClickHouseClient,
  requests: readonly LateLabelRequest[],
  bins: number,
  timings?: BatchQueryTimings,
): Promise<LateLabelGroup[][]> {
  const out: LateLabelGroup[][] = requests.map(() => []);
  const asking = requests.flatMap((r, i) => (r.windows.length > 0 ? [i] : []));
  if (asking.length === 0) return out;
  const models = asking.map((i) => requests[i]!.modelId);
  if (new Set(models).size !== models.length) throw new Error('a batch holds at most one late-label read per model');
  for (const i of asking) {
    const { windows, arrived, modelId } = requests[i]!;
    windows.forEach((w, k) => {
      if (!(w.start < w.end) || (k > 0 && w.start < windows[k - 1]!.end))
        throw new RangeError(
          `late-label windows of ${modelId} must be ascending and not overlap (window ${k}: ${w.start}..${w.end})`,
        );
    });
    if (!(arrived.start < arrived.end))
      throw new RangeError(`late-label arrival range of ${modelId} is empty (${arrived.start}..${arrived.end})`);
  }
  const picked = asking.map((i) => requests[i]!);
  const rows = await timedRows<{
    w: number;
    window_start: string;
    bin: number;
    positive: number;
    events: string;
    score_sum: number;
    score_sq: number;
  }>(
    client,
    'lateLabels',
    lateLabelsSql,
    {
      models,
      lateStarts: picked.map((r) => r.windows.map((w) => w.start)),
      lateEnds: picked.map((r) => r.windows.map((w) => w.end)),
      from: Math.min(...picked.map((r) => r.windows[0]!.start)),
      to: Math.max(...picked.map((r) => r.windows[r.windows.length - 1]!.end)),
      arrivedStarts: picked.map((r) => r.arrived.start),
      arrivedEnds: picked.map((r) => r.arrived.end),
      arrivedFrom: Math.min(...picked.map((r) => r.arrived.start)),
      bins,
    },
    timings,
  );
  for (const r of rows) {
    const i = asking[Number(r.w) - 1]!;
    // Late labels carry no delay median: their delay is by construction past the window's close.
    out[i]!.push({ windowStart: Number(r.window_start), ...labelledGroupOf({ ...r, delay_p50: null }) });
  }
  return out;
}
