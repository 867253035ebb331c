/**
 * The statistics of many monitors' windows at once: one set of queries for a batch of windows
 * (each its own model, bounds and reference), whose SQL text does not depend on the batch.
 *
 * Why (measured, BENCHMARKS.md "Fleet"): a monitor tick's SQL cost is almost all fixed cost per
 * query (parsing and planning an expression per bin and aggregate: the single-window count query
 * spells out ~30 aggregates and a comparison per cut, ~15 ms for a window of 300 events), not
 * reading the window. Here the references travel as parameters, so one query serves every window
 * of the batch and its cost is paid once per batch:
 *
 * - **numeric columns**: the feature map (and the prediction score and value, as the reserved
 *   slots `:score` and `:value`) is unrolled with ARRAY JOIN and grouped by (window, name), giving
 *   counts and moments of the finite values with the same aggregates as the single-window query;
 *   each group's values are then counted below each of its reference's cuts (a small join on
 *   (window, name)), and bin j = below(cut j+1) − below(cut j): the number of cuts ≤ x, exactly
 *   as the single-window query bins;
 * - **categorical features**: the label map unrolled and counted per (window, name, label); a
 *   capped feature's labels outside its reference are pooled in TypeScript (same counts);
 * - **versions**: events, first event, predicted classes and score-histogram bins per (window,
 *   version) — all sums, so the window's totals add up exactly;
 * - **labelled score groups**: the windows' scored events joined with the labels of *those
 *   events only* (`event_id IN` the batch's events: the label side reads O(window), not every
 *   label ever stored), each window's labels cut at its own arrival instant (`labelsArrivedBy`);
 * - **dead letters** and **when each version was trained**;
 * - **segments**: windows with segment keys get every statistic above per segment too, in the
 *   same queries (the segment slots of batch-windows.ts: grouping sets keyed by window);
 * - **estimation groups**: the scores of windows that estimate, grouped for CBPE at each
 *   window's own grouping (per segment too), one query for the batch (estimation-repository.ts);
 * - **feature keys** the rows carry (what tells appeared features): the (window, name) groups
 *   above already count every key of both maps, so their sum is the count query's `key_occurrences`;
 * - and the two follow-ups the counts may call for, batched alike: the exact most frequent value
 *   of stuck-value candidates ({@link batchedTopValueShares}; a segment's candidates in the same
 *   query, by segment slot) and the names of keys a window's reference does not know
 *   ({@link batchedUnknownFeatureKeys}).
 *
 * Results equal the single-window queries of window-repository.ts on the same data (counts
 * exactly; means and deviations up to summation order), which the integration test
 * `statistics-batched.test.ts` checks. Values are read into memory per group (`groupArray`), so
 * this is for windows of up to tens of thousands of events: larger ones are counted one by one
 * (activities/window-batcher.ts routes them).
 *
 * Every value travels as a query parameter; the SQL text is constant (one text with segment
 * slots, one without: a batch without segment keys runs the unsegmented text).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { CategoricalProfile, NumericCounts, NumericReferenceProfile } from '../../detectors/drift/profiles.ts';
import type { CountedWindow, TopValue } from '../../detectors/drift/window-comparison.ts';
import type { BelowCountBar, StuckValueScreen } from '../../detectors/drift/window-follow-ups.ts';
import type { LabelledScoreGroup, ScoreBinCount } from '../../detectors/monitor/window-histograms.ts';
import {
  anySegments,
  batchLabelsJoin,
  batchParams,
  eventsOfWindows,
  segmentSlotParams,
  slotOf,
  timedRows,
  type BatchParams,
  type BatchQueryTimings,
} from './batch-windows.ts';
import type { ColumnsToCount } from './binned-counts-query.ts';
import {
  batchedEstimationScoreGroups,
  type EstimationQuery,
  type SegmentScoreGroups,
  type WindowScoreGroups,
} from './estimation-repository.ts';
import type { SegmentsToCount } from './segment-grouping.ts';
import { countsFromMap, floatArrayParam, num } from './sql-values.ts';
import type { TimeWindow } from './time-window.ts';
import {
  eventOrderWindows,
  FIRST_AND_LAST,
  labelledGroupOf,
  STARTS_STRETCH,
  STRETCH_COLUMNS,
  TOP_VALUE_COLUMNS,
  topValueOfRow,
  type TopValueRow,
  type CountedSegment,
  type LabelledGroupRow,
  type SegmentLabelledGroups,
  type VersionInWindow,
} from './window-repository.ts';

export type { BatchQueryTimings };
export { countRowsRead } from './batch-windows.ts';

/** One window of a batch: a model's events in [start, end), counted into `columns` when given. */
export interface BatchedWindowRequest extends TimeWindow {
  modelId: string;
  /** The reference's columns and cuts; null counts no columns (no reference yet). */
  columns: ColumnsToCount | null;
  /** Count only labels that arrived (label_ts) before this instant, the decision time. @default null (every stored label) */
  labelsArrivedBy?: number | null;
  /** Also count these segment keys' segments in the same queries (only with `columns`). @default none */
  segments?: readonly SegmentsToCount[];
  /** Also group the window's scores for label-free estimation (per segment too, with `segments`). @default null */
  estimation?: EstimationQuery | null;
}

/** Everything a monitor tick reads of one window. */
export interface BatchedWindowStatistics {
  /** The window counted into its reference's bins; null without columns. */
  counted: CountedWindow | null;
  versions: VersionInWindow[];
  /** Registration time (epoch ms) of the window's versions the registry knows. */
  trainedAt: Map<string, number>;
  deadLettered: number;
  scoreBins: ScoreBinCount[];
  labelled: LabelledScoreGroup[];
  /** The window's scores grouped for estimation, when asked for. @default undefined */
  estimation?: WindowScoreGroups;
  /** Per segment, when segment keys were asked for with columns. @default undefined */
  segments?: { counted: CountedSegment[]; labelled: SegmentLabelledGroups[]; estimation?: SegmentScoreGroups[] };
}

/** Reserved slot names of the prediction columns: feature names start with a letter or `_` (contracts.ts). */
const SCORE_SLOT = ':score';
const VALUE_SLOT = ':value';

/** In a segmented batch, the columns that say which grouping a row belongs to (batch-windows.ts); '' otherwise. */
const slot = (segmented: boolean, prefix = ''): string => (segmented ? `${prefix}sk, ${prefix}sv, ` : '');

/** Per (window, numeric name): rows carrying it, finite values and their moments, and counts below each reference cut. */
const numericSlotsSql = (segmented: boolean): string => `
SELECT g.w AS w, ${segmented ? 'g.sk AS sk, g.sv AS sv, ' : ''}g.name AS name, g.present AS present, g.n AS n, g.mn AS mn, g.mx AS mx, g.mean AS mean, g.sd AS sd,
       arrayMap(c -> arrayCount(x -> x < c, g.vs), s.cuts) AS below
FROM (
  SELECT w, ${slot(segmented)}name, count() AS present, countIf(ok) AS n, minIf(v, ok) AS mn, maxIf(v, ok) AS mx,
         avgIf(v, ok) AS mean, stddevPopIf(v, ok) AS sd, groupArrayIf(v, ok) AS vs
  FROM (
    SELECT w, ${slot(segmented)}name, v, isFinite(v) AS ok
    FROM ${eventsOfWindows('num_features, prediction_score, prediction_value', '', segmented)}
    ARRAY JOIN
      arrayConcat(mapKeys(num_features), ['${SCORE_SLOT}', '${VALUE_SLOT}']) AS name,
      arrayConcat(mapValues(num_features), [ifNull(prediction_score, nan), ifNull(prediction_value, nan)]) AS v
  )
  GROUP BY w, ${slot(segmented)}name
) AS g
LEFT JOIN (
  SELECT tupleElement(t, 1) AS w, tupleElement(t, 2) AS name, tupleElement(t, 3) AS cuts
  FROM (SELECT arrayJoin(arrayZip({slotWindows:Array(UInt32)}, {slotNames:Array(String)}, {slotCuts:Array(Array(Float64))})) AS t)
) AS s ON g.w = s.w AND g.name = s.name`;

/** Per (window, categorical name, label): rows. */
const categoricalSql = (segmented: boolean): string => `
SELECT w, ${slot(segmented)}name, label, count() AS n
FROM ${eventsOfWindows('cat_features', '', segmented)}
ARRAY JOIN mapKeys(cat_features) AS name, mapValues(cat_features) AS label
GROUP BY w, ${slot(segmented)}name, label`;

/** The score bin of the single-window queries (window-repository.ts `scoreBin`). */
const scoreBin = (score: string): string => `least(toUInt32(floor(${score} * {bins:UInt32})), {bins:UInt32} - 1)`;

/** Per (window, version): events, first event, predicted classes and score-histogram bins (all additive). */
const versionsSql = (segmented: boolean): string => `
SELECT w, ${slot(segmented)}model_version AS version, count() AS events, toUnixTimestamp64Milli(min(ts)) AS first_seen,
       sumMapIf(map(assumeNotNull(prediction_class), toUInt64(1)), prediction_class IS NOT NULL) AS class_labels,
       count(prediction_class) AS class_n,
       sumMapIf(map(${scoreBin('assumeNotNull(prediction_score)')}, toUInt64(1)), prediction_score IS NOT NULL) AS score_bins
FROM ${eventsOfWindows('model_version, ts, prediction_class, prediction_score', '', segmented)}
GROUP BY w, ${slot(segmented)}version`;

/**
 * The windows' scored events joined with their labels (only those events' labels are read); a
 * window with an arrival instant keeps the labels that arrived before it (the newest label of an
 * event, as the single-window query: a correction arriving later leaves the event unlabelled).
 */
const labelledSql = (segmented: boolean): string => `
SELECT e.w AS w, ${segmented ? 'e.sk AS sk, e.sv AS sv, ' : ''}${scoreBin('e.prediction_score')} AS bin, l.label_numeric >= 0.5 AS positive,
       count() AS events, sum(e.prediction_score) AS score_sum, sum(e.prediction_score * e.prediction_score) AS score_sq,
       quantilesTDigest(0.5, 0.99)(dateDiff('second', e.ts, l.label_ts) / 3600.0) AS delay_q,
       delay_q[1] AS delay_p50, delay_q[2] AS delay_p99
FROM ${eventsOfWindows('event_id, ts, prediction_score', '\n    AND prediction_score IS NOT NULL', segmented)} AS e
${batchLabelsJoin('label_numeric', '\n      AND prediction_score IS NOT NULL', 'label_numeric IS NOT NULL')}
GROUP BY w, ${slot(segmented)}bin, positive`;

/** Dead letters of each window's model received in its window. */
const DEAD_LETTERS_SQL = `
SELECT w, count() AS n FROM (
  SELECT indexOf({models:Array(String)}, model_id) AS w, received_at FROM dead_letters FINAL
  WHERE model_id IN {models:Array(String)}
    AND received_at >= fromUnixTimestamp64Milli({from:Int64}) AND received_at < fromUnixTimestamp64Milli({to:Int64})
)
WHERE received_at >= fromUnixTimestamp64Milli({starts:Array(Int64)}[w]) AND received_at < fromUnixTimestamp64Milli({ends:Array(Int64)}[w])
GROUP BY w`;

/** When each version of the batch's models was registered (a superset of the pairs wanted: picked in TypeScript). */
const TRAINED_AT_SQL = `
SELECT model_id, version, toUnixTimestamp64Milli(max(created_at)) AS created
FROM model_versions FINAL
WHERE model_id IN {models:Array(String)} AND version IN {versions:Array(String)}
GROUP BY model_id, version`;

/**
 * The statistics of every window of `requests` (at most one window per model), in request order.
 * Throws ValidationError on bad bounds, and Error when a model appears twice.
 */
export async function batchedWindowStatistics(
  client: ClickHouseClient,
  requests: readonly BatchedWindowRequest[],
  scoreBins: number,
  timings?: BatchQueryTimings,
): Promise<BatchedWindowStatistics[]> {
  if (requests.length === 0) return [];
  const timed = <T>(name: keyof BatchQueryTimings, sql: string, params: Record<string, unknown>): Promise<T[]> =>
    timedRows<T>(client, name, sql, params, timings);
  const keys = requests.map((r) => (r.columns ? (r.segments ?? []) : []));
  const segmented = anySegments(keys);
  const batch: BatchParams & Record<string, unknown> = {
    ...batchParams(requests),
    ...(segmented ? segmentSlotParams(keys) : {}),
  };
  const models = batch.models;

  const versionRows = await timed<VersionRow>('versions', versionsSql(segmented), { ...batch, bins: scoreBins });
  const counting = requests.some((r) => r.columns !== null);
  const numericRows = counting
    ? await timed<NumericSlotRow>('numeric', numericSlotsSql(segmented), slotParams(requests, batch))
    : [];
  const categoricalRows = counting ? await timed<CategoricalRow>('categorical', categoricalSql(segmented), batch) : [];
  const labelledRows = await timed<LabelledRow>('labelled', labelledSql(segmented), {
    ...batch,
    bins: scoreBins,
    arrivedBy: requests.map((r) => r.labelsArrivedBy ?? null),
  });
  const deadRows = await timed<{ w: number; n: string }>('deadLetters', DEAD_LETTERS_SQL, batch);
  const versions = [...new Set(versionRows.map((r) => r.version))];
  const trainedRows =
    versions.length > 0
      ? await timed<{ model_id: string; version: string; created: string }>('trainedAt', TRAINED_AT_SQL, {
          models,
          versions,
        })
      : [];
  const estimating = requests.flatMap((r, i) => (r.estimation ? [i] : []));
  const estimation = await batchedEstimationScoreGroups(
    client,
    estimating.map((i) => ({ ...requests[i]!, estimation: requests[i]!.estimation!, segments: keys[i]! })),
    timings,
  );

  const out: BatchedWindowStatistics[] = requests.map(() => ({
    counted: null,
    versions: [],
    trainedAt: new Map(),
    deadLettered: 0,
    scoreBins: [],
    labelled: [],
  }));
  const versionGroups = bySlot(versionRows);
  const labelledGroups = bySlot(labelledRows);
  const numeric = bySlot(numericRows);
  const categorical = bySlot(categoricalRows);
  requests.forEach((request, i) => {
    const w = i + 1;
    const whole = versionGroups.get(w)?.get(WHOLE) ?? [];
    const scoreBinTotals = new Map<number, number>();
    for (const r of whole) {
      out[i]!.versions.push({ version: r.version, events: num(r.events), firstSeen: num(r.first_seen) });
      for (const [bin, n] of Object.entries(countsFromMap(r.score_bins)))
        scoreBinTotals.set(Number(bin), (scoreBinTotals.get(Number(bin)) ?? 0) + n);
    }
    out[i]!.scoreBins = [...scoreBinTotals].sort((a, b) => a[0] - b[0]).map(([bin, events]) => ({ bin, events }));
    out[i]!.labelled = (labelledGroups.get(w)?.get(WHOLE) ?? []).map(labelledGroupOf);
    const columns = request.columns;
    if (!columns) return;
    const countedOf = (slot: string) =>
      countedWindow(
        columns,
        totalsOf(versionGroups.get(w)?.get(slot) ?? []),
        numeric.get(w)?.get(slot) ?? [],
        categorical.get(w)?.get(slot) ?? [],
      );
    out[i]!.counted = countedOf(WHOLE);
    if (keys[i]!.length === 0) return;
    // The segments with events (as the grouped single-window query: a segment without events has no row).
    const segmentSlots = [...(versionGroups.get(w)?.keys() ?? [])].filter((slot) => slot !== WHOLE);
    out[i]!.segments = {
      counted: segmentSlots.map((slot) => ({ ...slotFromId(slot), counted: countedOf(slot) })),
      labelled: [...(labelledGroups.get(w) ?? [])]
        .filter(([slot]) => slot !== WHOLE)
        .map(([slot, rows]) => ({ ...slotFromId(slot), groups: rows.map(labelledGroupOf) })),
    };
  });
  estimating.forEach((i, k) => {
    const { whole, segments } = estimation[k]!;
    out[i]!.estimation = whole;
    if (out[i]!.segments) out[i]!.segments!.estimation = segments;
  });
  for (const r of deadRows) out[Number(r.w) - 1]!.deadLettered = num(r.n);
  const trained = new Map(trainedRows.map((r) => [`${r.model_id}\u0000${r.version}`, num(r.created)]));
  out.forEach((o, i) => {
    for (const v of o.versions) {
      const at = trained.get(`${models[i]}\u0000${v.version}`);
      if (at !== undefined) o.trainedAt.set(v.version, at);
    }
  });
  return out;
}

/** The grouping id of the whole window's rows; a segment's is `key\u0000value`. */
const WHOLE = '';

const slotFromId = (id: string): { key: number; value: string } => {
  const at = id.indexOf('\u0000');
  return { key: Number(id.slice(0, at)), value: id.slice(at + 1) };
};

/** Rows of a batch query by window (1-based) and grouping ({@link WHOLE} or a segment's id). */
function bySlot<R extends { w: number; sk?: unknown; sv?: unknown }>(
  rows: readonly R[],
): Map<number, Map<string, R[]>> {
  const out = new Map<number, Map<string, R[]>>();
  for (const r of rows) {
    const w = Number(r.w);
    const segment = slotOf(r);
    const id = segment === null ? WHOLE : `${segment.key}\u0000${segment.value}`;
    const groups = out.get(w) ?? new Map<string, R[]>();
    const list = groups.get(id) ?? [];
    list.push(r);
    groups.set(id, list);
    out.set(w, groups);
  }
  return out;
}

/** Events and predicted classes of one grouping, from its (version) rows: all sums. */
function totalsOf(rows: readonly VersionRow[]): { rows: number; classLabels: Record<string, number>; classN: number } {
  const totals = { rows: 0, classLabels: {} as Record<string, number>, classN: 0 };
  for (const r of rows) {
    totals.rows += num(r.events);
    totals.classN += num(r.class_n);
    addCounts(totals.classLabels, countsFromMap(r.class_labels));
  }
  return totals;
}

/**
 * Per (window, numeric feature) asked for: the most frequent finite value, its rows, the finite
 * values and the value's runs in event-time order, counted exactly as window-repository.ts
 * `topValueShares` counts them (ties: the largest value; events ordered by (ts, event_id) within
 * each window and feature). Segmented: per (window, slot, segment value, feature), each event once
 * per grouping it belongs to (batch-windows.ts), so a segment's candidates are counted on the
 * segment's events alone, in the same query as the whole window's.
 */
const topValuesSql = (segmented: boolean): string => {
  const group = segmented ? 'w, sk, sv, name' : 'w, name';
  const asked = segmented
    ? `(w, sk, sv, name) IN (
          SELECT tupleElement(t, 1), tupleElement(t, 2), tupleElement(t, 3), tupleElement(t, 4)
          FROM (SELECT arrayJoin(arrayZip({topWindows:Array(UInt64)}, {topSlots:Array(UInt64)}, {topSegments:Array(String)}, {topNames:Array(String)})) AS t)
        )`
    : `(w, name) IN (
          SELECT tupleElement(t, 1), tupleElement(t, 2)
          FROM (SELECT arrayJoin(arrayZip({topWindows:Array(UInt64)}, {topNames:Array(String)})) AS t)
        )`;
  return `
SELECT ${group}, ${TOP_VALUE_COLUMNS}
FROM (
  SELECT ${group}, ${STRETCH_COLUMNS}
  FROM (
    SELECT ${group}, v, ${STARTS_STRETCH} AS starts, ${FIRST_AND_LAST}
    FROM (
      SELECT ${group}, v, ts, event_id
      FROM ${eventsOfWindows('ts, event_id, num_features', '', segmented)}
      ARRAY JOIN mapKeys(num_features) AS name, mapValues(num_features) AS v
      WHERE isFinite(v)
        AND ${asked}
    )
    WINDOW ${eventOrderWindows(`PARTITION BY ${group} `)}
  )
  GROUP BY ${group}, v
)
GROUP BY ${group}`;
};

/** One window's stuck-value candidates: numeric features whose most frequent value to count exactly. */
export interface TopValueRequest extends TimeWindow {
  modelId: string;
  features: readonly string[];
  /**
   * Per feature of `features`, its screen: answered `'below-count-bar'` as window-repository.ts
   * `topValueShares` answers it (these windows are small, so every value is counted, then held
   * to the bar). @default none
   */
  screens?: Readonly<Record<string, StuckValueScreen>>;
  /** The window's segment keys (with `segmentFeatures`). @default none */
  segments?: readonly SegmentsToCount[];
  /** Per segment (its key's index in `segments` and its value), its candidates. @default none */
  segmentFeatures?: readonly SegmentTopValueRequest[];
}

/** One segment's stuck-value candidates: `key` is the key's index in the window's segment keys. */
export interface SegmentTopValueRequest {
  key: number;
  value: string;
  features: readonly string[];
}

/** One segment's most frequent values, as {@link batchedTopValueShares} counts the whole window's. */
export interface SegmentTopValues {
  key: number;
  value: string;
  topValues: Record<string, TopValue | null>;
}

/** A window's most frequent values: the whole window's candidates, and each segment's asked for. */
export interface WindowTopValues {
  whole: Record<string, TopValue | BelowCountBar | null>;
  segments: SegmentTopValues[];
}

/**
 * The most frequent finite value of each feature asked for, per window (and per segment asked
 * for), its share of the finite values and its runs in event order (null when the feature has
 * none; `'below-count-bar'` for a screened feature none of whose values reaches its bar):
 * window-repository.ts `topValueShares` for a batch of windows (at most one per model), in one
 * query — the segmented text when any window asks for a segment's.
 */
export async function batchedTopValueShares(
  client: ClickHouseClient,
  requests: readonly TopValueRequest[],
  timings?: BatchQueryTimings,
): Promise<WindowTopValues[]> {
  const out: WindowTopValues[] = requests.map((r) => ({
    whole: Object.fromEntries(r.features.map((name) => [name, null])),
    segments: (r.segmentFeatures ?? [])
      .filter((s) => s.features.length > 0)
      .map((s) => ({ key: s.key, value: s.value, topValues: Object.fromEntries(s.features.map((n) => [n, null])) })),
  }));
  if (out.every((o) => Object.keys(o.whole).length === 0 && o.segments.length === 0)) return out;
  const segmented = out.some((o) => o.segments.length > 0);
  const topWindows: number[] = [];
  const topSlots: number[] = [];
  const topSegments: string[] = [];
  const topNames: string[] = [];
  const ask = (w: number, slot: number, segment: string, names: Iterable<string>) => {
    for (const name of names) {
      topWindows.push(w);
      topSlots.push(slot);
      topSegments.push(segment);
      topNames.push(name);
    }
  };
  out.forEach((o, i) => {
    ask(i + 1, 0, '', Object.keys(o.whole));
    for (const s of o.segments) ask(i + 1, s.key + 1, s.value, Object.keys(s.topValues));
  });
  const params = segmented
    ? {
        ...batchParams(requests),
        ...segmentSlotParams(requests.map((r) => r.segments ?? [])),
        topWindows,
        topSlots,
        topSegments,
        topNames,
      }
    : { ...batchParams(requests), topWindows, topNames };
  const rows = await timedRows<{ w: number; name: string; sk?: unknown; sv?: unknown } & TopValueRow>(
    client,
    'topValues',
    topValuesSql(segmented),
    params,
    timings,
  );
  for (const r of rows) {
    const window = out[Number(r.w) - 1];
    if (!window) continue;
    const segment = slotOf(r);
    if (segment === null) {
      const screen = requests[Number(r.w) - 1]!.screens?.[r.name];
      const belowBar = screen && num(r.finite) === screen.finite && num(r.top) < screen.countBar;
      if (r.name in window.whole) window.whole[r.name] = belowBar ? 'below-count-bar' : topValueOfRow(r);
      continue;
    }
    const slot = window.segments.find((s) => s.key === segment.key && s.value === segment.value)?.topValues;
    if (slot && r.name in slot) slot[r.name] = topValueOfRow(r);
  }
  return out;
}

/** Per window: the feature keys its rows carry that its reference does not know, most frequent first. */
const UNKNOWN_KEYS_SQL = `
SELECT w, k AS name, count() AS rows
FROM ${eventsOfWindows('num_features, cat_features')}
ARRAY JOIN arrayConcat(mapKeys(num_features), mapKeys(cat_features)) AS k
WHERE NOT has({known:Array(Array(String))}[w], k)
GROUP BY w, k
ORDER BY w, rows DESC, k
LIMIT {limit:UInt32} BY w`;

/** One window whose unknown keys to name, with the keys its reference knows. */
export interface UnknownKeysRequest extends TimeWindow {
  modelId: string;
  known: readonly string[];
}

/**
 * Feature keys each window's rows carry that are not in its `known`, with the rows carrying
 * each, most frequent first (at most `limit` per window): window-repository.ts
 * `unknownFeatureKeys` for a batch of windows (at most one per model), in one query.
 */
export async function batchedUnknownFeatureKeys(
  client: ClickHouseClient,
  requests: readonly UnknownKeysRequest[],
  /** Keys named per window. @default 10 (as `unknownFeatureKeys`) */
  limit = 10,
  timings?: BatchQueryTimings,
): Promise<{ name: string; rows: number }[][]> {
  const out = requests.map((): { name: string; rows: number }[] => []);
  if (requests.length === 0) return out;
  const rows = await timedRows<{ w: number; name: string; rows: string }>(
    client,
    'unknownKeys',
    UNKNOWN_KEYS_SQL,
    { ...batchParams(requests), known: requests.map((r) => [...r.known]), limit },
    timings,
  );
  for (const r of rows) out[Number(r.w) - 1]?.push({ name: r.name, rows: num(r.rows) });
  return out;
}

interface VersionRow {
  w: number;
  version: string;
  events: string;
  first_seen: string;
  class_labels: unknown;
  class_n: string;
  score_bins: unknown;
}

interface NumericSlotRow {
  w: number;
  name: string;
  present: string;
  n: string;
  mn: number;
  mx: number;
  mean: number;
  sd: number;
  below: (string | number)[];
}

interface CategoricalRow {
  w: number;
  name: string;
  label: string;
  n: string;
}

interface LabelledRow extends LabelledGroupRow {
  w: number;
}

/** The cuts of every numeric column of every window, as three parallel arrays. */
function slotParams(requests: readonly BatchedWindowRequest[], batch: BatchParams): Record<string, unknown> {
  const slotWindows: number[] = [];
  const slotNames: string[] = [];
  const slotCuts: string[] = [];
  requests.forEach((r, i) => {
    if (!r.columns) return;
    const add = (name: string, profile: NumericReferenceProfile | null) => {
      if (!profile) return;
      slotWindows.push(i + 1);
      slotNames.push(name);
      slotCuts.push(floatArrayParam(profile.cuts));
    };
    for (const [name, profile] of Object.entries(r.columns.features))
      if (profile.kind === 'numeric') add(name, profile);
    add(SCORE_SLOT, r.columns.prediction);
    add(VALUE_SLOT, r.columns.predictionValue);
  });
  // An Array(Array(Float64)) parameter as text, each inner array already rendered (floatArrayParam: bit-exact).
  return { ...batch, slotWindows, slotNames, slotCuts: `[${slotCuts.join(',')}]` };
}

/** The window's counts in the shape of the single-window query's (binned-counts-query.ts `read`). */
function countedWindow(
  columns: ColumnsToCount,
  totals: { rows: number; classLabels: Record<string, number>; classN: number },
  numericRows: readonly NumericSlotRow[],
  categoricalRows: readonly CategoricalRow[],
): CountedWindow {
  const rows = totals.rows;
  const numericByName = new Map(numericRows.map((r) => [r.name, r]));
  // Every key of either map is in exactly one group: its numeric (window, name) group or a
  // categorical (window, name, label) group; the prediction slots are not keys.
  let keyOccurrences = 0;
  for (const r of numericRows) if (r.name !== SCORE_SLOT && r.name !== VALUE_SLOT) keyOccurrences += num(r.present);
  for (const r of categoricalRows) keyOccurrences += num(r.n);
  const labelsByName = new Map<string, Record<string, number>>();
  for (const r of categoricalRows) {
    const labels = labelsByName.get(r.name) ?? {};
    labels[r.label] = (labels[r.label] ?? 0) + num(r.n);
    labelsByName.set(r.name, labels);
  }
  const present = (labels: Record<string, number> | undefined): number =>
    labels ? Object.values(labels).reduce((s, n) => s + n, 0) : 0;
  const out: CountedWindow = {
    rows,
    keyOccurrences,
    features: {},
    prediction: null,
    predictionClass: null,
    predictionValue: null,
    typeViolations: {},
  };
  for (const [name, profile] of Object.entries(columns.features)) {
    if (profile.kind === 'numeric') {
      out.features[name] = numericCounts(numericByName.get(name), profile.cuts.length, rows);
      out.typeViolations[name] = present(labelsByName.get(name));
    } else {
      const labels = labelsByName.get(name) ?? {};
      const counts = columns.cappedCategorical.includes(name) ? capped(labels, profile, columns.otherCategory) : labels;
      const counted: CategoricalProfile = { kind: 'categorical', counts, missing: rows - present(labels) };
      out.features[name] = counted;
      out.typeViolations[name] = num(numericByName.get(name)?.present ?? 0);
    }
  }
  if (columns.prediction)
    out.prediction = numericCounts(numericByName.get(SCORE_SLOT), columns.prediction.cuts.length, rows);
  if (columns.predictionValue)
    out.predictionValue = numericCounts(numericByName.get(VALUE_SLOT), columns.predictionValue.cuts.length, rows);
  if (columns.predictionClass)
    out.predictionClass = { kind: 'categorical', counts: totals.classLabels, missing: rows - totals.classN };
  return out;
}

/** Bin counts from the counts below each cut: bin j holds the values in [cut j, cut j+1). */
function numericCounts(row: NumericSlotRow | undefined, cuts: number, rows: number): NumericCounts {
  const n = row ? num(row.n) : 0;
  const below = row ? row.below.map(Number) : [];
  const counts: number[] = [];
  for (let j = 0; j <= cuts; j++) counts.push((j < cuts ? (below[j] ?? 0) : n) - (j > 0 ? (below[j - 1] ?? 0) : 0));
  const out: NumericCounts = { counts, missing: rows - n };
  if (row && n > 0) {
    out.min = num(row.mn);
    out.max = num(row.mx);
    out.mean = num(row.mean);
    out.std = num(row.sd);
  }
  return out;
}

/** A capped feature's labels: those of its reference kept, the rest pooled as `other`. */
function capped(labels: Record<string, number>, profile: CategoricalProfile, other: string): Record<string, number> {
  const kept = new Set(Object.keys(profile.counts).filter((l) => l !== other));
  const out: Record<string, number> = {};
  for (const [label, n] of Object.entries(labels)) {
    const key = kept.has(label) ? label : other;
    out[key] = (out[key] ?? 0) + n;
  }
  return out;
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
}
