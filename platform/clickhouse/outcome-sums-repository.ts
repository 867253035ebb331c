/**
 * The labelled outcomes of multiclass and regression models' windows, summed in ClickHouse for
 * their quality metrics (detectors/quality/outcome-sums.ts): what comes back is O(K²) per
 * multiclass window and one row per regression window, whatever the window's size.
 *
 * - **multiclass**: per (window, predicted class, true class) the labelled events, and of those
 *   with a probability vector Σ −ln p(true class) and its square (p clipped to [ε, 1 − ε], as
 *   scikit-learn's log loss). The predicted class is `prediction.class` when the event sent it,
 *   else the class of highest probability (the first listed on a tie);
 * - **regression**: per window n, Σ|e|, Σe², Σe⁴, Σy, Σy² of e = label − prediction.value.
 *
 * Windows are batched as the other window queries (batch-windows.ts: one text for any batch,
 * every value a parameter), labels joined by event id (only the batch's events' labels are read)
 * and cut at each window's own arrival instant. A window read on its own is a batch of one.
 *
 * Segments: a window with segment keys gets the same sums per segment of each key in the same
 * query (the segment slots of batch-windows.ts: each event once for the whole window and once
 * per key, grouped by (window, slot, value) as well), so a segment's sums are exactly the whole
 * window's sums over the segment's events, and a key's segments add up to the whole window.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import {
  emptyOutcomeSums,
  type MulticlassSums,
  type OutcomeKind,
  type OutcomeSums,
  type RegressionOutcomeSums,
} from '../../detectors/quality/outcome-sums.ts';
// −ln p is taken of p clipped to [ε, 1 − ε], the detectors' own clip.
import { LOG_LOSS_EPSILON } from '../../detectors/quality/probabilistic.ts';
import {
  anySegments,
  batchLabelsJoin,
  batchParams,
  eventsOfWindows,
  segmentSlotParams,
  slotOf,
  timedRows,
  type BatchQueryTimings,
} from './batch-windows.ts';
import { queryRows } from './client.ts';
import { labelsArrivedIn } from './labels-of-events.ts';
import type { SegmentsToCount } from './segment-grouping.ts';
import { num } from './sql-values.ts';
import { namedWindowFilter, windowFilter, type TimeWindow } from './time-window.ts';

/** One window of a multiclass or regression model to sum. */
export interface OutcomeWindowRequest extends TimeWindow {
  modelId: string;
  /** The model's kind; a multiclass model's classes in order (the confusion matrix's rows and columns). */
  kind: OutcomeKind;
  /** Count only labels that arrived (label_ts) before this instant. @default null (every stored label) */
  labelsArrivedBy?: number | null;
  /** Also sum each segment of these keys in the same query. @default none */
  segments?: readonly SegmentsToCount[];
}

/** One segment's sums: the key's index in the request's `segments`, the segment's value. */
export interface SegmentOutcomeSums {
  key: number;
  value: string;
  sums: OutcomeSums;
}

/** A window's sums, and each segment's (empty without segment keys; a segment without labelled events has none). */
export interface WindowOutcomeSums {
  whole: OutcomeSums;
  segments: SegmentOutcomeSums[];
}

/** A multiclass event's columns for the sums: its predicted class (`prediction.class`, else the class of highest probability, the first listed on a tie) and −ln p(true class) when it sent probabilities. */
const MULTICLASS_EVENT_COLUMNS = `l.label AS truth, length(e.prediction_probabilities) > 0 AS has_p,
         ifNull(e.prediction_class,
                mapKeys(e.prediction_probabilities)[indexOf(mapValues(e.prediction_probabilities), arrayMax(mapValues(e.prediction_probabilities)))]) AS predicted,
         -log(least(greatest(e.prediction_probabilities[l.label], {eps:Float64}), 1 - {eps:Float64})) AS loss`;
const MULTICLASS_SUMS = `predicted, truth, count() AS events, countIf(has_p) AS loss_n, sumIf(loss, has_p) AS loss_sum,
       sumIf(loss * loss, has_p) AS loss_sq`;
const MULTICLASS_EVENTS = '(prediction_class IS NOT NULL OR length(prediction_probabilities) > 0)';

/** A regression event's label y and error e = y − prediction.value, and their sums. */
const REGRESSION_EVENT_COLUMNS = 'assumeNotNull(l.label_numeric) AS y, y - assumeNotNull(e.prediction_value) AS err';
const REGRESSION_SUMS = `count() AS n, sum(abs(err)) AS sae, sum(err * err) AS sse, sum(err * err * err * err) AS s4,
       sum(y) AS sy, sum(y * y) AS syy`;
const USABLE_NUMERIC_LABEL = 'label_numeric IS NOT NULL AND isFinite(label_numeric)';

/** In a segmented batch, the columns that say which grouping a row belongs to (batch-windows.ts); '' otherwise. */
const slot = (segmented: boolean, prefix = ''): string => (segmented ? `${prefix}sk, ${prefix}sv, ` : '');

const multiclassSql = (segmented: boolean): string => `
SELECT w, ${slot(segmented)}${MULTICLASS_SUMS}
FROM (
  SELECT e.w AS w, ${segmented ? 'e.sk AS sk, e.sv AS sv, ' : ''}${MULTICLASS_EVENT_COLUMNS}
  FROM ${eventsOfWindows('event_id, prediction_class, prediction_probabilities', `\n    AND ${MULTICLASS_EVENTS}`, segmented)} AS e
  ${batchLabelsJoin('label')}
)
GROUP BY w, ${slot(segmented)}predicted, truth`;

const regressionSql = (segmented: boolean): string => `
SELECT w, ${slot(segmented)}${REGRESSION_SUMS}
FROM (
  SELECT e.w AS w, ${segmented ? 'e.sk AS sk, e.sv AS sv, ' : ''}${REGRESSION_EVENT_COLUMNS}
  FROM ${eventsOfWindows('event_id, prediction_value', '\n    AND prediction_value IS NOT NULL', segmented)} AS e
  ${batchLabelsJoin('label_numeric', '\n      AND prediction_value IS NOT NULL', USABLE_NUMERIC_LABEL)}
)
GROUP BY w${segmented ? ', sk, sv' : ''}`;

/**
 * The late-label queries: the sums above per earlier window (k) instead of per batch window. The
 * labels read are those of events whose newest label arrived in the range (labels-of-events.ts),
 * the events those labels belong to.
 */
const lateEvents = (columns: string, ts: string, arrival: string, where: string) => `(
  SELECT event_id, ${columns}, ms, arrayCount(s -> s <= ms, {starts:Array(Int64)}) AS k
  FROM (SELECT event_id, ${columns}, toUnixTimestamp64Milli(ts) AS ms FROM scoring_events FINAL
        WHERE model_id = {model:String} AND ${ts} AND ${where}
          AND event_id IN (SELECT event_id FROM labels WHERE ${arrival}))) AS e`;

const LATE_MULTICLASS_SQL = (ts: string, arrival: string) => `
SELECT k, ${MULTICLASS_SUMS}
FROM (
  SELECT e.k AS k, ${MULTICLASS_EVENT_COLUMNS}
  FROM (SELECT event_id, label FROM labels FINAL ${labelsArrivedIn(arrival)} WHERE ${arrival}) AS l
  INNER JOIN ${lateEvents('prediction_class, prediction_probabilities', ts, arrival, MULTICLASS_EVENTS)} USING (event_id)
  WHERE e.k > 0 AND e.ms < {ends:Array(Int64)}[e.k]
)
GROUP BY k, predicted, truth`;

const LATE_REGRESSION_SQL = (ts: string, arrival: string) => `
SELECT k, ${REGRESSION_SUMS}
FROM (
  SELECT e.k AS k, ${REGRESSION_EVENT_COLUMNS}
  FROM (SELECT event_id, label_numeric FROM labels FINAL ${labelsArrivedIn(arrival)}
        WHERE ${USABLE_NUMERIC_LABEL} AND ${arrival}) AS l
  INNER JOIN ${lateEvents('prediction_value', ts, arrival, 'prediction_value IS NOT NULL')} USING (event_id)
  WHERE e.k > 0 AND e.ms < {ends:Array(Int64)}[e.k]
)
GROUP BY k`;

/**
 * Labels that arrived in `arrived` for events of one model's earlier `windows` (ascending, not
 * overlapping), summed per window: what late labels add to windows already evaluated (as
 * window-repository.ts `lateLabelledScoreGroups` for binary models; a correction arriving late
 * counts again). Only windows with late labels are returned. Throws RangeError on unordered windows.
 */
export async function lateOutcomeSums(
  client: ClickHouseClient,
  modelId: string,
  kind: OutcomeWindowRequest['kind'],
  windows: readonly TimeWindow[],
  arrived: TimeWindow,
): Promise<{ start: number; sums: OutcomeSums }[]> {
  if (windows.length === 0) return [];
  windows.forEach((w, i) => {
    if (!(w.start < w.end) || (i > 0 && w.start < windows[i - 1]!.end))
      throw new RangeError(`late-label windows must be ascending and not overlap (window ${i}: ${w.start}..${w.end})`);
  });
  const ts = windowFilter('ts', { start: windows[0]!.start, end: windows[windows.length - 1]!.end });
  const arrival = namedWindowFilter('label_ts', 'arrived', arrived);
  const params = {
    model: modelId,
    ...ts.params,
    ...arrival.params,
    starts: windows.map((w) => w.start),
    ends: windows.map((w) => w.end),
    eps: LOG_LOSS_EPSILON,
  };
  const byWindow = new Map<number, OutcomeSums>();
  const sumsOf = (k: number): OutcomeSums => {
    let sums = byWindow.get(k);
    if (!sums) byWindow.set(k, (sums = emptyOutcomeSums(kind)));
    return sums;
  };
  if (kind.kind === 'multiclass') {
    const rows = await queryRows<MulticlassRow & { k: number }>(
      client,
      LATE_MULTICLASS_SQL(ts.sql, arrival.sql),
      params,
    );
    for (const r of rows) addMulticlassRow(sumsOf(Number(r.k)) as MulticlassSums, r);
  } else {
    const rows = await queryRows<RegressionRow & { k: number }>(
      client,
      LATE_REGRESSION_SQL(ts.sql, arrival.sql),
      params,
    );
    for (const r of rows) setRegressionRow(sumsOf(Number(r.k)) as RegressionOutcomeSums, r);
  }
  return [...byWindow].sort((a, b) => a[0] - b[0]).map(([k, sums]) => ({ start: windows[k - 1]!.start, sums }));
}

interface MulticlassRow {
  predicted: string;
  truth: string;
  events: string;
  loss_n: string;
  loss_sum: number;
  loss_sq: number;
}

interface RegressionRow {
  n: string;
  sae: number;
  sse: number;
  s4: number;
  sy: number;
  syy: number;
}

/**
 * The outcome sums of every window of `requests` (at most one window per model), in request
 * order: zero sums for a window without labelled events. Throws ValidationError on bad bounds.
 */
export async function outcomeSums(
  client: ClickHouseClient,
  requests: readonly OutcomeWindowRequest[],
  timings?: BatchQueryTimings,
): Promise<OutcomeSums[]> {
  return (await outcomeSumsBySegment(client, requests, timings)).map((s) => s.whole);
}

/**
 * {@link outcomeSums} and, for windows with segment keys, each segment's sums from the same
 * query. A batch without segment keys runs the unsegmented text.
 */
export async function outcomeSumsBySegment(
  client: ClickHouseClient,
  requests: readonly OutcomeWindowRequest[],
  timings?: BatchQueryTimings,
): Promise<WindowOutcomeSums[]> {
  const out: WindowOutcomeSums[] = requests.map((r) => ({ whole: emptyOutcomeSums(r.kind), segments: [] }));
  // Each window's segment sums by slot id (`key\u0000value`), created at their first row.
  const segmentMaps = requests.map(() => new Map<string, SegmentOutcomeSums>());
  const sumsOf = (i: number, row: { sk?: unknown; sv?: unknown }): OutcomeSums => {
    const segment = slotOf(row);
    if (segment === null) return out[i]!.whole;
    const id = `${segment.key}\u0000${segment.value}`;
    let entry = segmentMaps[i]!.get(id);
    if (!entry) segmentMaps[i]!.set(id, (entry = { ...segment, sums: emptyOutcomeSums(requests[i]!.kind) }));
    return entry.sums;
  };
  const multiclass = requests.flatMap((r, i) => (r.kind.kind === 'multiclass' ? [i] : []));
  const regression = requests.flatMap((r, i) => (r.kind.kind === 'regression' ? [i] : []));
  const paramsOf = (batch: readonly OutcomeWindowRequest[]) => {
    const keys = batch.map((r) => r.segments);
    const segmented = anySegments(keys);
    return {
      segmented,
      params: {
        ...batchParams(batch),
        ...(segmented ? segmentSlotParams(keys) : {}),
        arrivedBy: batch.map((r) => r.labelsArrivedBy ?? null),
      },
    };
  };
  if (multiclass.length > 0) {
    const { segmented, params } = paramsOf(multiclass.map((i) => requests[i]!));
    const rows = await timedRows<MulticlassRow & { w: number; sk?: number; sv?: string }>(
      client,
      'outcomes',
      multiclassSql(segmented),
      { ...params, eps: LOG_LOSS_EPSILON },
      timings,
    );
    for (const r of rows) {
      const i = multiclass[Number(r.w) - 1]!;
      addMulticlassRow(sumsOf(i, r) as MulticlassSums, r);
    }
  }
  if (regression.length > 0) {
    const { segmented, params } = paramsOf(regression.map((i) => requests[i]!));
    const rows = await timedRows<RegressionRow & { w: number; sk?: number; sv?: string }>(
      client,
      'outcomes',
      regressionSql(segmented),
      params,
      timings,
    );
    for (const r of rows) {
      const i = regression[Number(r.w) - 1]!;
      setRegressionRow(sumsOf(i, r) as RegressionOutcomeSums, r);
    }
  }
  out.forEach((o, i) => (o.segments = [...segmentMaps[i]!.values()]));
  return out;
}

/** One (predicted, true) group into the window's sums; a class the model does not list is counted apart. */
function addMulticlassRow(sums: MulticlassSums, r: MulticlassRow): void {
  const t = sums.classes.indexOf(r.truth);
  const p = sums.classes.indexOf(r.predicted);
  const events = num(r.events);
  if (t < 0 || p < 0) {
    sums.unknownClass += events;
    return;
  }
  sums.confusion[t]![p]! += events;
  sums.lossN += num(r.loss_n);
  sums.lossSum += Number(r.loss_sum);
  sums.lossSquares += Number(r.loss_sq);
}

function setRegressionRow(sums: RegressionOutcomeSums, r: RegressionRow): void {
  sums.n = num(r.n);
  sums.sumAbsoluteError = Number(r.sae);
  sums.sumSquaredError = Number(r.sse);
  sums.sumFourthPowerError = Number(r.s4);
  sums.sumTruth = Number(r.sy);
  sums.sumSquaredTruth = Number(r.syy);
}
