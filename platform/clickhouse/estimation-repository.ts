/**
 * The window query of label-free estimation: a window's scores grouped as its reference's
 * estimator asks (detectors/quality/cbpe-groups.ts: isotonic step × side of the decision threshold
 * × equal-width score bin), each group with its events, Σ score and Σ score², and the events
 * outside the reference's score range. O(steps + bins) rows come back, never scores, and the
 * estimate from them equals the one from every score (the keys are those `scoreGroupKey` computes).
 *
 * A score's step is the number of step bounds below it, found without a lambda per row (which
 * materialises the bounds for every row, as the window queries found for cuts,
 * binned-counts-query.ts): for one window, spelled-out comparisons (`multiIf`) or a binary search
 * (`roundDown`) over the bounds as parameters; for a batch of windows, whose bounds differ per
 * window, an ASOF join on (window, score > bound) against the batch's bounds (a batch of one
 * window runs the single-window query). Segments: per
 * segment in the same query, by GROUPING SETS for one window (segment-grouping.ts) and by
 * segment slots for a batch (batch-windows.ts).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { EstimationGrouping, ScoreGroup } from '../../detectors/quality/cbpe-groups.ts';
import {
  anySegments,
  batchParams,
  eventsOfWindows,
  segmentSlotParams,
  slotOf,
  timedRows,
  type BatchQueryTimings,
} from './batch-windows.ts';
import { LINEAR_BIN_MAX_CUTS } from './binned-counts-query.ts';
import { queryRows } from './client.ts';
import { eventWindowSql } from './event-window.ts';
import { segmentGrouping, type SegmentsToCount } from './segment-grouping.ts';
import { floatArrayParam, num } from './sql-values.ts';
import type { TimeWindow } from './time-window.ts';

/** What the query needs: the grouping and the reference's score range. */
export interface EstimationQuery extends EstimationGrouping {
  referenceRange: [number, number];
}

export interface WindowScoreGroups {
  groups: ScoreGroup[];
  /** Events whose score is outside the reference's score range. */
  outside: number;
}

/** A segment's score groups (the key's index in the request and the segment's value). */
export interface SegmentScoreGroups extends WindowScoreGroups {
  key: number;
  value: string;
}

/** Throws RangeError on a grouping the query cannot apply. */
function checkQuery(query: EstimationQuery): void {
  if (!(Number.isInteger(query.bins) && query.bins >= 1 && query.bins <= 10_000))
    throw new RangeError(`estimation bins ${query.bins} must be an integer between 1 and 10000`);
  if (!(query.threshold >= 0 && query.threshold <= 1))
    throw new RangeError(`decision threshold ${query.threshold} must be between 0 and 1`);
  for (let i = 1; i < query.steps.length; i++)
    if (!(query.steps[i]! >= query.steps[i - 1]!))
      throw new RangeError(`estimation step bounds must be ascending (bound ${i}: ${query.steps[i]})`);
}

/**
 * The distinct bounds, each with the number of bounds ≤ it: the step of a score s is that number
 * for the greatest distinct bound < s (0 below every bound), which keeps the step exact when a
 * bound repeats.
 */
function distinctBounds(steps: readonly number[]): { bound: number; atOrBelow: number }[] {
  const out: { bound: number; atOrBelow: number }[] = [];
  steps.forEach((b, i) => {
    const last = out[out.length - 1];
    if (last && last.bound === b) last.atOrBelow = i + 1;
    else out.push({ bound: b, atOrBelow: i + 1 });
  });
  return out;
}

/**
 * The step of score `s` among one window's bounds: #{b < s}. Few bounds: `s <= b` spelled out per
 * bound. Many: `roundDown(−s, …)` finds the least distinct bound ≥ s (−∞ in front: none), which
 * `transform` maps to the number of bounds below it.
 */
function stepKey(s: string, steps: readonly number[], params: Record<string, unknown>): string {
  if (steps.length <= LINEAR_BIN_MAX_CUTS) {
    if (steps.length === 0) return 'toUInt32(0)';
    const arms = steps.map((b, j) => {
      params[`st_${j}`] = String(b);
      return `${s} <= {st_${j}:Float64}, ${j}`;
    });
    return `toUInt32(multiIf(${arms.join(', ')}, ${steps.length}))`;
  }
  const distinct = distinctBounds(steps);
  // Ascending: −∞, then −b from the greatest bound down; the count maps to #{bounds < b}.
  const negated = [Number.NEGATIVE_INFINITY, ...distinct.map((d) => -d.bound).reverse()];
  const below = [steps.length, ...distinct.map((d, k) => (k === 0 ? 0 : distinct[k - 1]!.atOrBelow)).reverse()];
  params.st_neg = floatArrayParam(negated);
  params.st_below = below;
  return `toUInt32(transform(roundDown(-${s}, {st_neg:Array(Float64)}), {st_neg:Array(Float64)}, {st_below:Array(UInt32)}, 0))`;
}

type GroupRow = {
  bin: number;
  step: string | number;
  above: number;
  events: string | number;
  score_sum: number;
  score_sq: number;
  outside: string | number;
};

const groupOf = (r: GroupRow): ScoreGroup => ({
  bin: Number(r.bin),
  step: Number(r.step),
  above: Number(r.above) === 1,
  events: num(r.events),
  scoreSum: Number(r.score_sum),
  scoreSquareSum: Number(r.score_sq),
});

/** Rows of one grouping as the window's (or segment's) groups and its events outside the range. */
function collect(rows: readonly GroupRow[]): WindowScoreGroups {
  let outside = 0;
  const groups = rows.map((r) => {
    outside += num(r.outside);
    return groupOf(r);
  });
  return { groups, outside };
}

/** The model's scored events of `window`, grouped for estimation. Throws RangeError on a bad grouping. */
export async function estimationScoreGroups(
  client: ClickHouseClient,
  modelId: string,
  window: TimeWindow,
  query: EstimationQuery,
): Promise<WindowScoreGroups> {
  return (await estimationScoreGroupsBySegment(client, modelId, window, query, [])).whole;
}

/**
 * {@link estimationScoreGroups} and, in the same query, each segment's (segment-grouping.ts).
 * Without keys the query is the ungrouped one. Segments without scored events are absent.
 */
export async function estimationScoreGroupsBySegment(
  client: ClickHouseClient,
  modelId: string,
  window: TimeWindow,
  query: EstimationQuery,
  segments: readonly SegmentsToCount[],
): Promise<{ whole: WindowScoreGroups; segments: SegmentScoreGroups[] }> {
  checkQuery(query);
  // The window cut in PREWHERE before FINAL (event-window.ts): reads the window's rows, not the partition's.
  const events = eventWindowSql({ modelId, start: window.start, end: window.end });
  const params: Record<string, unknown> = {};
  const step = stepKey('s', query.steps, params);
  const grouping = segmentGrouping(segments);
  const rows = await queryRows<GroupRow & Record<string, unknown>>(
    client,
    `SELECT least(toUInt32(floor(s * {bins:UInt32})), {bins:UInt32} - 1) AS bin,
            ${step} AS step,
            s >= {threshold:Float64} AS above,
            count() AS events, sum(s) AS score_sum, sum(s * s) AS score_sq,
            countIf(s < {low:Float64} OR s > {high:Float64}) AS outside${grouping.select.map((c) => `, ${c}`).join('')}
     FROM (SELECT assumeNotNull(prediction_score) AS s${grouping.inner.map((c) => `, ${c}`).join('')} FROM ${events.source}
           WHERE prediction_score IS NOT NULL)
     ${grouping.groupBy(['bin', 'step', 'above'])}${events.settings}`,
    {
      ...events.params,
      ...params,
      ...grouping.params,
      bins: query.bins,
      threshold: query.threshold,
      low: query.referenceRange[0],
      high: query.referenceRange[1],
    },
  );
  const whole: GroupRow[] = [];
  const bySegment = new Map<string, { key: number; value: string; rows: GroupRow[] }>();
  for (const row of rows) {
    const segment = grouping.segmentOf(row);
    if (segment === null) whole.push(row);
    else {
      const id = `${segment.key}\u0000${segment.value}`;
      const entry = bySegment.get(id) ?? { ...segment, rows: [] };
      entry.rows.push(row);
      bySegment.set(id, entry);
    }
  }
  return {
    whole: collect(whole),
    segments: [...bySegment.values()].map((s) => ({ key: s.key, value: s.value, ...collect(s.rows) })),
  };
}

/** One window of a batched estimation read. */
export interface BatchedEstimationRequest extends TimeWindow {
  modelId: string;
  estimation: EstimationQuery;
  /** Also group each segment of these keys. @default none */
  segments?: readonly SegmentsToCount[];
}

/**
 * Per (window, segment slot, bin, step, side): scores of the batch's windows, each window grouped
 * by its own bins, threshold and step bounds. The step: the ASOF join finds, per event, the
 * greatest distinct bound of its window below its score, carrying the number of bounds ≤ it.
 */
const batchedEstimationSql = (segmented: boolean): string => `
SELECT e.w AS w, ${segmented ? 'e.sk AS sk, e.sv AS sv, ' : ''}least(toUInt32(floor(e.s * {bins:Array(UInt32)}[e.w])), {bins:Array(UInt32)}[e.w] - 1) AS bin,
       toUInt32(b.k) AS step, e.s >= {thresholds:Array(Float64)}[e.w] AS above,
       count() AS events, sum(e.s) AS score_sum, sum(e.s * e.s) AS score_sq,
       countIf(e.s < {lows:Array(Float64)}[e.w] OR e.s > {highs:Array(Float64)}[e.w]) AS outside
FROM (
  SELECT w, ${segmented ? 'sk, sv, ' : ''}assumeNotNull(prediction_score) AS s
  FROM ${eventsOfWindows('prediction_score', '\n    AND prediction_score IS NOT NULL', segmented)}
) AS e
ASOF LEFT JOIN (
  SELECT toUInt64(tupleElement(t, 1)) AS w, tupleElement(t, 2) AS bound, tupleElement(t, 3) AS k
  FROM (SELECT arrayJoin(arrayZip({boundWindows:Array(UInt64)}, {bounds:Array(Float64)}, {boundCounts:Array(UInt32)})) AS t)
) AS b ON e.w = b.w AND e.s > b.bound
GROUP BY w, ${segmented ? 'sk, sv, ' : ''}bin, step, above`;

/**
 * {@link estimationScoreGroupsBySegment} for a batch of windows (at most one per model), in one
 * query, in request order. Throws RangeError on a bad grouping, ValidationError on bad bounds.
 */
export async function batchedEstimationScoreGroups(
  client: ClickHouseClient,
  requests: readonly BatchedEstimationRequest[],
  timings?: BatchQueryTimings,
): Promise<{ whole: WindowScoreGroups; segments: SegmentScoreGroups[] }[]> {
  if (requests.length === 0) return [];
  for (const r of requests) checkQuery(r.estimation);
  // One window: the single-window query is the same grouping at about half the cost of the join.
  if (requests.length === 1) {
    const [r] = requests as [BatchedEstimationRequest];
    const t0 = performance.now();
    try {
      return [await estimationScoreGroupsBySegment(client, r.modelId, r, r.estimation, r.segments ?? [])];
    } finally {
      if (timings) timings.estimation = (timings.estimation ?? 0) + performance.now() - t0;
    }
  }
  const keys = requests.map((r) => r.segments ?? []);
  const segmented = anySegments(keys);
  const boundWindows: number[] = [];
  const bounds: number[] = [];
  const boundCounts: number[] = [];
  requests.forEach((r, i) => {
    for (const d of distinctBounds(r.estimation.steps)) {
      boundWindows.push(i + 1);
      bounds.push(d.bound);
      boundCounts.push(d.atOrBelow);
    }
  });
  const rows = await timedRows<GroupRow & { w: number; sk?: unknown; sv?: unknown }>(
    client,
    'estimation',
    batchedEstimationSql(segmented),
    {
      ...batchParams(requests),
      ...(segmented ? segmentSlotParams(keys) : {}),
      bins: requests.map((r) => r.estimation.bins),
      thresholds: requests.map((r) => r.estimation.threshold),
      lows: requests.map((r) => r.estimation.referenceRange[0]),
      highs: requests.map((r) => r.estimation.referenceRange[1]),
      boundWindows,
      bounds: floatArrayParam(bounds),
      boundCounts,
    },
    timings,
  );
  const whole = requests.map((): GroupRow[] => []);
  const bySegment = requests.map(() => new Map<string, { key: number; value: string; rows: GroupRow[] }>());
  for (const row of rows) {
    const i = Number(row.w) - 1;
    const segment = slotOf(row);
    if (segment === null) whole[i]!.push(row);
    else {
      const id = `${segment.key}\u0000${segment.value}`;
      const entry = bySegment[i]!.get(id) ?? { ...segment, rows: [] };
      entry.rows.push(row);
      bySegment[i]!.set(id, entry);
    }
  }
  return requests.map((_, i) => ({
    whole: collect(whole[i]!),
    segments: [...bySegment[i]!.values()].map((s) => ({ key: s.key, value: s.value, ...collect(s.rows) })),
  }));
}
