/**
 * Every query a monitor tick runs over a window of one model's traffic: the features and
 * predictions counted into a reference's bins, the versions that served, dead letters, score
 * histograms with and without labels, and when each version was trained; and, to build a
 * version's reference, the window its training snapshot covers and a labelled score sample.
 * Each query aggregates in ClickHouse: what comes back is O(features × bins), never rows (the
 * labelled sample is capped). A label side reads only the labels its events can join
 * (labels-of-events.ts), never every label stored.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { CountedWindow, TopValue } from '../../detectors/drift/window-comparison.ts';
import type { BelowCountBar, StuckValueScreen } from '../../detectors/drift/window-follow-ups.ts';
import type { LabelledScoreGroup, ScoreBinCount } from '../../detectors/monitor/window-histograms.ts';
import type { SegmentKey } from '../../detectors/segments/types.ts';
import { countQuery, type ColumnsToCount } from './binned-counts-query.ts';
import { queryRows } from './client.ts';
import { eventWindowSql, type EventWindow } from './event-window.ts';
import { labelsArrivedIn, labelsOfEvents } from './labels-of-events.ts';
import { MISSING_SEGMENT, segmentGrouping, segmentValueSql, type SegmentsToCount } from './segment-grouping.ts';
import { floatArrayParam, num } from './sql-values.ts';
import { namedWindowFilter, windowFilter, type TimeWindow } from './time-window.ts';

/**
 * Count the events of a window into `columns`' bins and categories: every feature and
 * prediction column in ONE aggregate query (one read of each row). Throws ValidationError on
 * bad bounds.
 */
export async function countWindowColumns(
  client: ClickHouseClient,
  columns: ColumnsToCount,
  events: EventWindow,
): Promise<CountedWindow> {
  return (await countWindowSegments(client, columns, events, [])).whole;
}

/** One segment of a window counted into the reference's bins. */
export interface CountedSegment {
  /** Index of the key in the request. */
  key: number;
  value: string;
  counted: CountedWindow;
}

/**
 * Count a window as {@link countWindowColumns} does and, in the same query, each segment of
 * `segments`' keys (segment-grouping.ts). Without keys the query is the ungrouped one. Segments
 * without events are absent.
 */
export async function countWindowSegments(
  client: ClickHouseClient,
  columns: ColumnsToCount,
  events: EventWindow,
  segments: readonly SegmentsToCount[],
): Promise<{ whole: CountedWindow; segments: CountedSegment[] }> {
  const query = countQuery(columns);
  const grouping = segmentGrouping(segments);
  const window = eventWindowSql(events);
  const inner = [...query.inner, ...grouping.inner];
  const innerColumns = inner.length > 0 ? inner.join(',\n    ') : '1 AS one';
  const groupBy = grouping.groupBy();
  const sql = `SELECT\n  ${[...query.select, ...grouping.select].join(',\n  ')}\nFROM (\n  SELECT\n    ${innerColumns}\n  FROM ${window.source}\n)${groupBy ? `\n${groupBy}` : ''}${window.settings}`;
  const rows = await queryRows<Record<string, unknown>>(client, sql, {
    ...query.params,
    ...grouping.params,
    ...window.params,
  });
  let whole: CountedWindow | null = null;
  const out: CountedSegment[] = [];
  for (const row of rows) {
    const segment = grouping.segmentOf(row);
    if (segment === null) whole = query.read(row);
    else out.push({ ...segment, counted: query.read(row) });
  }
  // An empty window still has its whole row when ungrouped; grouped, it has none: count it ungrouped.
  if (whole === null && segments.length > 0)
    return { whole: await countWindowColumns(client, columns, events), segments: out };
  return { whole: whole ?? query.read({}), segments: out };
}

/** The `k` most frequent values of a segment key in a window (`__missing__` for events without one), most frequent first. */
export async function segmentTopValues(
  client: ClickHouseClient,
  events: EventWindow,
  key: SegmentKey,
  k: number,
): Promise<{ value: string; events: number }[]> {
  const window = eventWindowSql(events);
  const rows = await queryRows<{ value: string; events: string }>(
    client,
    `SELECT ifNull(${segmentValueSql(key, 'key')}, {missing:String}) AS value, count() AS events
     FROM ${window.source}
     GROUP BY value ORDER BY events DESC, value LIMIT {k:UInt32}${window.settings}`,
    { ...window.params, key: 'feature' in key ? key.feature : key.metadata, missing: MISSING_SEGMENT, k },
  );
  return rows.map((r) => ({ value: r.value, events: Number(r.events) }));
}

/** Records of this model dead-lettered in the window, by `received_at` (the only time a rejected record has). */
export async function deadLettersInWindow(
  client: ClickHouseClient,
  modelId: string,
  window: TimeWindow,
): Promise<number> {
  const received = windowFilter('received_at', window);
  const [dead] = await queryRows<{ n: string | number }>(
    client,
    `SELECT count() AS n FROM dead_letters FINAL WHERE model_id = {model:String} AND ${received.sql}`,
    { model: modelId, ...received.params },
  );
  return num(dead?.n ?? 0);
}

export interface VersionInWindow {
  version: string;
  events: number;
  /** Epoch ms of its first event in the window. */
  firstSeen: number;
}

/** The versions that scored the window's events, with their event counts. */
export async function versionsInWindow(
  client: ClickHouseClient,
  modelId: string,
  window: TimeWindow,
): Promise<VersionInWindow[]> {
  const ts = windowFilter('ts', window);
  const rows = await queryRows<{ version: string; events: string; first_seen: string }>(
    client,
    `SELECT model_version AS version, count() AS events, toUnixTimestamp64Milli(min(ts)) AS first_seen
     FROM scoring_events FINAL
     WHERE model_id = {model:String} AND ${ts.sql}
     GROUP BY model_version`,
    { model: modelId, ...ts.params },
  );
  return rows.map((r) => ({ version: r.version, events: Number(r.events), firstSeen: Number(r.first_seen) }));
}

/** When each of `versions` was registered (trained by halflife), epoch ms; versions the registry does not know are absent. */
export async function versionsTrainedAt(
  client: ClickHouseClient,
  modelId: string,
  versions: string[],
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (versions.length === 0) return out;
  const rows = await queryRows<{ version: string; created: string }>(
    client,
    'SELECT version, toUnixTimestamp64Milli(max(created_at)) AS created FROM model_versions FINAL WHERE model_id = {model:String} AND version IN {versions:Array(String)} GROUP BY version',
    { model: modelId, versions },
  );
  for (const r of rows) out.set(r.version, Number(r.created));
  return out;
}

/** The bin of a score among `bins` equal-width bins over [0, 1] (1 goes to the last bin). */
const scoreBin = (score: string): string => `least(toUInt32(floor(${score} * {bins:UInt32})), {bins:UInt32} - 1)`;

/** The model's scored events in a time filter, as `scoring_events` SQL: the events a label side can join. */
const scoredEventsIn = (tsSql: string): string =>
  `model_id = {model:String} AND ${tsSql} AND prediction_score IS NOT NULL`;

/** Events with a score, per equal-width score bin (empty bins absent). */
export async function scoreBinCounts(
  client: ClickHouseClient,
  modelId: string,
  window: TimeWindow,
  bins: number,
): Promise<ScoreBinCount[]> {
  const ts = windowFilter('ts', window);
  const rows = await queryRows<{ bin: number; events: string }>(
    client,
    `SELECT ${scoreBin('prediction_score')} AS bin, count() AS events
     FROM scoring_events FINAL
     WHERE model_id = {model:String} AND ${ts.sql}
       AND prediction_score IS NOT NULL
     GROUP BY bin`,
    { model: modelId, ...ts.params, bins },
  );
  return rows.map((r) => ({ bin: Number(r.bin), events: Number(r.events) }));
}

/**
 * The window's scored events joined with their labels by event_id, grouped by score bin and
 * label (label_numeric ≥ 0.5 is positive), with the median label delay (t-digest) of each group.
 * The newest label of an event wins (labels is a ReplacingMergeTree by label_ts).
 */
export async function labelledScoreGroups(
  client: ClickHouseClient,
  modelId: string,
  window: TimeWindow,
  bins: number,
  /** Only labels that had arrived (label_ts) before this instant. @default every stored label */
  arrivedBefore: number | null = null,
): Promise<LabelledScoreGroup[]> {
  return (await labelledScoreGroupsBySegment(client, modelId, window, bins, arrivedBefore, [])).whole;
}

/** A segment's labelled score groups. */
export interface SegmentLabelledGroups {
  key: number;
  value: string;
  groups: LabelledScoreGroup[];
}

/**
 * {@link labelledScoreGroups} and, in the same query, each segment's (segment-grouping.ts).
 * Without keys the query is the ungrouped one.
 */
export async function labelledScoreGroupsBySegment(
  client: ClickHouseClient,
  modelId: string,
  window: TimeWindow,
  bins: number,
  arrivedBefore: number | null,
  segments: readonly SegmentsToCount[],
): Promise<{ whole: LabelledScoreGroup[]; segments: SegmentLabelledGroups[] }> {
  const ts = windowFilter('ts', window);
  const arrived =
    arrivedBefore === null ? null : namedWindowFilter('label_ts', 'arrived', { start: null, end: arrivedBefore });
  const grouping = segmentGrouping(segments);
  const segmentColumns = grouping.inner.map((c) => `, ${c}`).join('');
  const rows = await queryRows<LabelledGroupRow & Record<string, unknown>>(
    client,
    `SELECT ${scoreBin('e.prediction_score')} AS bin,
            l.label_numeric >= 0.5 AS positive,
            count() AS events, sum(e.prediction_score) AS score_sum, sum(e.prediction_score * e.prediction_score) AS score_sq,
            quantilesTDigest(0.5, 0.99)(dateDiff('second', e.ts, l.label_ts) / 3600.0) AS delay_q,
            delay_q[1] AS delay_p50, delay_q[2] AS delay_p99${grouping.select.map((c) => `, ${c}`).join('')}
     FROM (SELECT event_id, prediction_score, ts${segmentColumns} FROM scoring_events FINAL
           WHERE model_id = {model:String} AND ${ts.sql}
             AND prediction_score IS NOT NULL) AS e
     INNER JOIN (SELECT event_id, label_numeric, label_ts FROM labels FINAL ${labelsOfEvents(scoredEventsIn(ts.sql))}
                 WHERE label_numeric IS NOT NULL${arrived ? ` AND ${arrived.sql}` : ''}) AS l USING (event_id)
     ${grouping.groupBy(['bin', 'positive'])}`,
    { model: modelId, ...ts.params, bins, ...arrived?.params, ...grouping.params },
  );
  const whole: LabelledScoreGroup[] = [];
  const bySegment = new Map<string, SegmentLabelledGroups>();
  for (const row of rows) {
    const segment = grouping.segmentOf(row);
    if (segment === null) {
      whole.push(labelledGroupOf(row));
      continue;
    }
    const id = `${segment.key}\u0000${segment.value}`;
    const entry = bySegment.get(id) ?? { ...segment, groups: [] };
    entry.groups.push(labelledGroupOf(row));
    bySegment.set(id, entry);
  }
  return { whole, segments: [...bySegment.values()] };
}

/** A labelled score group as the labelled-score queries return it (the batched one too). */
export interface LabelledGroupRow {
  bin: number;
  positive: number;
  events: string | number;
  score_sum: number;
  score_sq: number;
  delay_p50?: number | null;
  delay_p99?: number | null;
}

export function labelledGroupOf(r: LabelledGroupRow): LabelledScoreGroup {
  return {
    bin: Number(r.bin),
    positive: Number(r.positive) === 1,
    events: Number(r.events),
    scoreSum: Number(r.score_sum),
    scoreSquareSum: Number(r.score_sq),
    labelDelayHoursP50: r.delay_p50 === null || r.delay_p50 === undefined ? null : Number(r.delay_p50),
    ...(r.delay_p99 === null || r.delay_p99 === undefined ? {} : { labelDelayHoursP99: Number(r.delay_p99) }),
  };
}

/** Late labels of one earlier window (its start), grouped as {@link labelledScoreGroups} groups them. */
export interface LateLabelGroup extends LabelledScoreGroup {
  windowStart: number;
}

/**
 * Labels that arrived (label_ts) in [arrived.start, arrived.end) for the model's events scored in
 * one of `windows` (ascending, not overlapping: the monitor's earlier windows, whatever their
 * offset within the cadence or length), grouped by that window's start, score bin and label: what
 * late labels add to windows already evaluated. The labels are picked by arrival first (the ids
 * of labels that arrived in the range: the label side and the events are both looked up by key),
 * so neither side is read whole; what still grows with stored labels is the scan of `labels`'
 * arrival column that finds those ids. A corrected label that arrives late counts again
 * (rare; the newest label of an event is the one joined). Throws RangeError on unordered windows.
 */
export async function lateLabelledScoreGroups(
  client: ClickHouseClient,
  modelId: string,
  windows: readonly TimeWindow[],
  arrived: TimeWindow,
  bins: number,
): Promise<LateLabelGroup[]> {
  if (windows.length === 0) return [];
  windows.forEach((w, i) => {
    if (!(w.start < w.end) || (i > 0 && w.start < windows[i - 1]!.end))
      throw new RangeError(`late-label windows must be ascending and not overlap (window ${i}: ${w.start}..${w.end})`);
  });
  const ts = windowFilter('ts', { start: windows[0]!.start, end: windows[windows.length - 1]!.end });
  const arrival = namedWindowFilter('label_ts', 'arrived', arrived);
  const rows = await queryRows<{
    window_start: string;
    bin: number;
    positive: number;
    events: string;
    score_sum: number;
    score_sq: number;
  }>(
    client,
    `SELECT {starts:Array(Int64)}[e.k] AS window_start,
            ${scoreBin('e.prediction_score')} AS bin,
            l.label_numeric >= 0.5 AS positive,
            count() AS events, sum(e.prediction_score) AS score_sum, sum(e.prediction_score * e.prediction_score) AS score_sq
     FROM (SELECT event_id, label_numeric FROM labels FINAL ${labelsArrivedIn(arrival.sql)}
           WHERE label_numeric IS NOT NULL AND ${arrival.sql}) AS l
     INNER JOIN (SELECT event_id, prediction_score, ms, arrayCount(s -> s <= ms, {starts:Array(Int64)}) AS k
                 FROM (SELECT event_id, prediction_score, toUnixTimestamp64Milli(ts) AS ms FROM scoring_events FINAL
                       WHERE model_id = {model:String} AND ${ts.sql} AND prediction_score IS NOT NULL
                         AND event_id IN (SELECT event_id FROM labels WHERE ${arrival.sql}))) AS e USING (event_id)
     WHERE e.k > 0 AND e.ms < {ends:Array(Int64)}[e.k]
     GROUP BY window_start, bin, positive`,
    {
      model: modelId,
      ...ts.params,
      ...arrival.params,
      starts: windows.map((w) => w.start),
      ends: windows.map((w) => w.end),
      bins,
    },
  );
  // Late labels carry no delay median: their delay is by construction past the window's close.
  return rows.map((r) => ({ windowStart: Number(r.window_start), ...labelledGroupOf({ ...r, delay_p50: null }) }));
}

/**
 * The window a training snapshot's events span ([first ts, last ts + 1 ms)), or null when the
 * snapshot has no events left (e.g. all erased).
 */
export async function snapshotEventWindow(client: ClickHouseClient, snapshotId: string): Promise<TimeWindow | null> {
  const rows = await queryRows<{ start: string; end: string }>(
    client,
    `SELECT toUnixTimestamp64Milli(min(e.ts)) AS start, toUnixTimestamp64Milli(max(e.ts)) + 1 AS end
     FROM training_lineage AS t INNER JOIN scoring_events AS e ON e.event_id = t.event_id AND e.model_id = t.model_id
     WHERE t.snapshot_id = {snapshot:String}`,
    { snapshot: snapshotId },
  );
  if (rows[0] && Number(rows[0].end) > Number(rows[0].start))
    return { start: Number(rows[0].start), end: Number(rows[0].end) };
  return null;
}

/** A labelled, scored event: its score and its label as 0/1 (label_numeric ≥ 0.5 is 1). */
export interface LabelledScore {
  score: number;
  label: number;
}

/**
 * Up to `limit` labelled, scored events of the window, a deterministic pseudo-random sample
 * (ordered by a hash of the event id), for fitting the label-free estimator.
 */
export async function labelledScoreSample(
  client: ClickHouseClient,
  modelId: string,
  window: TimeWindow,
  limit: number,
): Promise<LabelledScore[]> {
  const ts = windowFilter('ts', window);
  const rows = await queryRows<{ score: number; label: number }>(
    client,
    `SELECT e.prediction_score AS score, if(l.label_numeric >= 0.5, 1, 0) AS label
     FROM (SELECT event_id, prediction_score FROM scoring_events FINAL
           WHERE model_id = {model:String} AND ${ts.sql}
             AND prediction_score IS NOT NULL) AS e
     INNER JOIN (SELECT event_id, label_numeric FROM labels FINAL ${labelsOfEvents(scoredEventsIn(ts.sql))}
                 WHERE label_numeric IS NOT NULL) AS l USING (event_id)
     ORDER BY cityHash64(event_id) LIMIT {limit:UInt32}`,
    { model: modelId, ...ts.params, limit },
  );
  return rows.map((r) => ({ score: Number(r.score), label: Number(r.label) }));
}

/**
 * The most frequent finite value of each of `features` (numeric) in the window and its share of
 * the finite values, counted exactly; and, for a value `wantsRuns` accepts, its runs in event-time
 * order (detectors/drift/value-runs.ts: how its repeats are spread, what tells a stuck stretch
 * from a ceiling). Meant for the few features whose counts suggest a stuck value
 * (detectors/drift/data-quality.ts `stuckValueCandidates`), not for every feature of every window.
 * A feature with no finite value maps to null. Of values equally frequent, the largest is named,
 * so the answer does not depend on the order rows are read in; events are ordered by (ts, event_id).
 *
 * A feature with a screen (detectors/drift/window-follow-ups.ts `StuckValueScreen`) is answered
 * `'below-count-bar'` when none of its values holds `countBar` of the window's finite values, and
 * its most frequent value only when one does; while the window has the `finite` values the screen
 * was set for (rows that arrived since are counted by the GROUP BY). See {@link screenedTopValue}.
 *
 * The value comes from one GROUP BY. The runs need every finite value of the window sorted by
 * (ts, event_id) in window functions: at 10M rows ~5 CPU s and ~1.8 GB more than the GROUP BY
 * (BENCHMARKS.md "Drift report", 2026-12-07), so they are a second query, run only for a value
 * `wantsRuns` accepts — the window read asks where the stuck-value check could read them
 * (window-follow-ups.ts `readsValueRuns`). It is built from the batched read's pieces, so both
 * count the same runs.
 */
export async function topValueShares(
  client: ClickHouseClient,
  features: readonly string[],
  events: EventWindow,
  /** Whether to count the runs of feature `name`'s most frequent value at `share`. @default always */
  wantsRuns: (name: string, share: number) => boolean = () => true,
  /** Per feature, the screen that settles it without counting every value. @default none: every feature counted */
  screens: Readonly<Record<string, StuckValueScreen>> = {},
): Promise<Record<string, TopValue | BelowCountBar | null>> {
  const out: Record<string, TopValue | BelowCountBar | null> = {};
  const window = eventWindowSql(events);
  const finiteValues = `SELECT ts, event_id, assumeNotNull(arrayElementOrNull(num_features, {name:String})) AS v
                 FROM ${window.source}
                 WHERE arrayElementOrNull(num_features, {name:String}) IS NOT NULL`;
  for (const name of features) {
    const params = { ...window.params, name };
    const screen = screens[name];
    const screened = screen ? await screenedTopValue(client, finiteValues, window.settings, params, screen) : null;
    const counted =
      screened ??
      (
        await queryRows<Pick<TopValueRow, 'value' | 'top' | 'finite'>>(
          client,
          `SELECT argMax(v, (c, v)) AS value, max(c) AS top, sum(c) AS finite
       FROM (
         SELECT v, count() AS c
         FROM (${finiteValues})
         WHERE isFinite(v)
         GROUP BY v
       )${window.settings}`,
          params,
        )
      )[0];
    const finite = num(counted?.finite ?? 0);
    if (screen && finite === screen.finite && num(counted?.top ?? 0) < screen.countBar) {
      out[name] = 'below-count-bar';
      continue;
    }
    const top =
      finite > 0 && counted?.value != null ? { value: Number(counted.value), share: num(counted.top) / finite } : null;
    if (top === null || !wantsRuns(name, top.share)) {
      out[name] = top;
      continue;
    }
    const [row] = await queryRows<TopValueRow>(
      client,
      `SELECT ${TOP_VALUE_COLUMNS}
       FROM (
         SELECT ${STRETCH_COLUMNS}
         FROM (
           SELECT v, ${STARTS_STRETCH} AS starts, ${FIRST_AND_LAST}
           FROM (${finiteValues})
           WHERE isFinite(v)
           WINDOW ${eventOrderWindows('')}
         )
         GROUP BY v
       )${window.settings}`,
      params,
    );
    out[name] = row ? topValueOfRow(row) : null;
  }
  return out;
}

/** The most ranks a screen's query reads (window-follow-ups.ts `STUCK_SCREEN_RANKS`), in fixed slots. */
const RANK_SLOTS = Array.from({ length: 32 }, (_, i) => `rank${i}`);

/**
 * The screen of one feature by order statistics (the rule: window-follow-ups.ts
 * `StuckValueScreen`): the values at the screen's ranks of the window's sorted finite values, in
 * one pass; a value that can hold `countBar` rows sits at two consecutive ones. Returns the window's
 * finite values with no value (`top` 0) when no two consecutive ranks hold the same value; else
 * counts the values repeated there in a second pass and returns the most frequent of them with
 * its count (a {@link TopValueRow}'s first columns) — the most frequent value of the window
 * whenever it holds `countBar` rows. Null where the screen cannot settle the feature and the
 * caller counts every value: no ranks (a low bar), or a window whose finite values are no longer
 * the screen's `finite` (rows arrived since it was counted, and the ranks were placed for the old
 * number).
 *
 * Measured against the GROUP BY it replaces (BENCHMARKS.md "Drift report", 2026-12-07): reading a
 * feature's values out of the window's maps is most of either query's CPU, so the screen reads
 * them once where it settles the feature (a first version, which always counted the values at
 * its ranks in a second pass, cost more CPU than the GROUP BY); `quantilesExact` keeps them in
 * one array (8 bytes each) and selects the ranks in place (nth_element), where the GROUP BY keeps
 * a hash table of every distinct value. `quantilesExact` at level l returns the element at 0-based
 * index ⌊l · size⌋ (QuantileExact.h), so rank r is asked for at level (r − 0.5) / finite, half a
 * place from either neighbour (test/integration/stuck-value-screen.test.ts holds the ranks exact).
 * Not used: SpaceSaving (`approx_top_count`/`topK`), whose counts merged across threads are not
 * known to keep its error bound, so it could not settle the check exactly.
 */
async function screenedTopValue(
  client: ClickHouseClient,
  finiteValues: string,
  settings: string,
  params: Record<string, unknown>,
  screen: StuckValueScreen,
): Promise<Pick<TopValueRow, 'value' | 'top' | 'finite'> | null> {
  const ranks = screen.ranks;
  if (ranks === null || ranks.length < 2 || ranks.length > RANK_SLOTS.length) return null;
  // Unused slots repeat the last rank, so the query's text is one.
  const levels = Object.fromEntries(
    RANK_SLOTS.map((slot, i) => [slot, ((ranks[i] ?? ranks.at(-1)!) - 0.5) / screen.finite]),
  );
  const [ranked] = await queryRows<{ finite: string | number; at: number[] }>(
    client,
    `SELECT count() AS finite, quantilesExact(${RANK_SLOTS.map((slot) => `{${slot}:Float64}`).join(', ')})(v) AS at
     FROM (${finiteValues})
     WHERE isFinite(v)${settings}`,
    { ...params, ...levels },
  );
  if (num(ranked?.finite ?? 0) !== screen.finite) return null;
  const at = (ranked?.at ?? []).slice(0, ranks.length).map(Number);
  const repeated = [...new Set(at.filter((v, i) => i > 0 && v === at[i - 1]))];
  if (repeated.length === 0) return { value: null, top: 0, finite: screen.finite };
  // Grouped by value as the GROUP BY groups them, every other value in one group.
  const [counted] = await queryRows<Pick<TopValueRow, 'value' | 'top' | 'finite'>>(
    client,
    `SELECT argMaxIf(key, (c, key), repeated) AS value, maxIf(c, repeated) AS top, sum(c) AS finite
     FROM (
       SELECT has({repeated:Array(Float64)}, v) AS repeated, if(repeated, v, 0) AS key, count() AS c
       FROM (${finiteValues})
       WHERE isFinite(v)
       GROUP BY repeated, key
     )${settings}`,
    { ...params, repeated: floatArrayParam(repeated) },
  );
  if (num(counted?.finite ?? 0) !== screen.finite) return null;
  return counted ?? null;
}

/**
 * The SQL pieces of a most-frequent-value query with its runs, shared with the batched query
 * (window-batch-repository.ts): per value, its rows and how many stretches of consecutive events
 * it occupies (an event starts a stretch when the previous event's value differs), and the
 * window's first and last values; then the most frequent value (ties: the largest) with those.
 */
export const eventOrderWindows = (partition: string): string =>
  `ordered AS (${partition}ORDER BY ts, event_id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW),
      whole AS (${partition}ORDER BY ts, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)`;
export const STARTS_STRETCH = `(row_number() OVER ordered = 1 OR lagInFrame(v) OVER ordered != v)`;
export const FIRST_AND_LAST = `first_value(v) OVER whole AS first_v, last_value(v) OVER whole AS last_v`;
export const STRETCH_COLUMNS = `v, count() AS c, countIf(starts) AS stretches, any(first_v) AS first_v, any(last_v) AS last_v`;
export const TOP_VALUE_COLUMNS = `argMax(v, (c, v)) AS value, max(c) AS top, sum(c) AS finite,
       argMax(stretches, (c, v)) AS top_stretches,
       argMax(v, (c, v)) = any(first_v) AS top_first, argMax(v, (c, v)) = any(last_v) AS top_last`;

/** A row of {@link TOP_VALUE_COLUMNS}. */
export interface TopValueRow {
  value: number | null;
  top: string | number;
  finite: string | number;
  top_stretches: string | number;
  top_first: number | boolean;
  top_last: number | boolean;
}

/**
 * The most frequent value, its share and its runs from a {@link TopValueRow}: with other values
 * present, the indicator's runs are the value's stretches, the other values' stretches between
 * them (one fewer), and one more at each end the value does not hold. Null when nothing is finite.
 */
export function topValueOfRow(row: TopValueRow): TopValue | null {
  const finite = num(row.finite);
  if (!(finite > 0) || row.value == null) return null;
  const matches = num(row.top);
  const others = finite - matches;
  const stretches = num(row.top_stretches);
  const runs = others === 0 ? 1 : 2 * stretches - 1 + (truthy(row.top_first) ? 0 : 1) + (truthy(row.top_last) ? 0 : 1);
  return { value: Number(row.value), share: matches / finite, runs: { runs, matches, others } };
}

const truthy = (x: number | boolean | string): boolean => x === true || Number(x) === 1;

/**
 * Feature keys the window's rows carry that are not in `known`, with the rows carrying each,
 * most frequent first (at most `limit`). Run only when the window's key count says there are some.
 */
export async function unknownFeatureKeys(
  client: ClickHouseClient,
  known: readonly string[],
  events: EventWindow,
  limit = 10,
): Promise<{ name: string; rows: number }[]> {
  const window = eventWindowSql(events);
  const rows = await queryRows<{ name: string; rows: string }>(
    client,
    `SELECT k AS name, count() AS rows
     FROM (SELECT arrayConcat(mapKeys(num_features), mapKeys(cat_features)) AS ks FROM ${window.source})
     ARRAY JOIN ks AS k
     WHERE NOT has({known:Array(String)}, k)
     GROUP BY k ORDER BY rows DESC, k LIMIT {limit:UInt32}${window.settings}`,
    { ...window.params, known: [...known], limit },
  );
  return rows.map((r) => ({ name: r.name, rows: Number(r.rows) }));
}
