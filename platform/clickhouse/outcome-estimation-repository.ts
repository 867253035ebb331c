/**
 * What the label-free estimators of multiclass and regression models read
 * (operations/outcome-estimate.ts):
 *
 * - a multiclass window's calibrated probability sums (detectors/quality/cbpe-multiclass-sums.ts):
 *   every event's probability vector is calibrated class by class here, with the reference
 *   estimator's calibrators as parameters (identity, Platt, isotonic with or without
 *   interpolation between steps; an isotonic step found by binary search), renormalised, and
 *   summed per predicted class — O(classes²) out;
 * - a regression window's rows for DLE: its features and prediction, a bounded sample (the rows
 *   with the smallest hash of their event id, as row-sample-repository.ts samples, so a re-read
 *   sees the same rows): the loss models are trees in the process, not SQL;
 * - the labelled rows of a reference that the estimators are fitted on, the same bounded sample.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { CalibrationTable, MulticlassEstimationSums } from '../../detectors/quality/cbpe-multiclass-sums.ts';
// −ln p is taken of p clipped to [ε, 1 − ε], the detectors' own clip.
import { LOG_LOSS_EPSILON } from '../../detectors/quality/probabilistic.ts';
import { queryRows } from './client.ts';
import { eventWindowSql, type EventWindow } from './event-window.ts';
import { labelsOfEvents } from './labels-of-events.ts';
import { floatArrayParam, num } from './sql-values.ts';
import { segmentGrouping, type SegmentGrouping, type SegmentsToCount } from './segment-grouping.ts';
import { windowFilter } from './time-window.ts';

/** Platt scaling's logit is of p clipped to [1e−12, 1 − 1e−12] (= detectors/quality/recalibration.ts). */
const PLATT_CLIP = 1e-12;

/** A multiclass event's predicted class: `prediction.class`, else the class of highest probability (as the outcome sums). */
const PREDICTED = `ifNull(prediction_class,
    mapKeys(prediction_probabilities)[indexOf(mapValues(prediction_probabilities), arrayMax(mapValues(prediction_probabilities)))])`;

/**
 * Class k's calibrated probability of the event (recalibration.ts `calibrate`), spelled out for
 * the calibrator's kind, its values as parameters `{c<k>_…}`. An isotonic step is found by
 * binary search: `roundDown(−x, …)` over the negated upper bounds (−∞ in front: above every
 * bound) gives the least bound ≥ x, which `transform` maps to its 1-based step.
 */
function calibratedClass(
  table: CalibrationTable,
  k: number,
  params: Record<string, unknown>,
): { expression: string; aliases: string[] } {
  const x = `prediction_probabilities[{c${k}_class:String}]`;
  const kind = table.kind[k];
  if (kind === 0) return { expression: x, aliases: [] };
  if (kind === 1) {
    params[`c${k}_slope`] = String(table.slope[k]);
    params[`c${k}_intercept`] = String(table.intercept[k]);
    const clipped = `least(greatest(${x}, {platt_clip:Float64}), 1 - {platt_clip:Float64})`;
    return {
      expression: `1 / (1 + exp(-({c${k}_slope:Float64} * log(${clipped} / (1 - ${clipped})) + {c${k}_intercept:Float64})))`,
      aliases: [],
    };
  }
  const upper = table.upper[k] ?? [];
  const lower = table.lower[k] ?? [];
  const m = upper.length;
  params[`c${k}_neg`] = floatArrayParam([Number.NEGATIVE_INFINITY, ...upper.map((u) => -u).reverse()]);
  params[`c${k}_step`] = [m, ...upper.map((_, j) => m - j)];
  params[`c${k}_values`] = floatArrayParam(table.values[k] ?? []);
  const j = `step_${k}`;
  const step = `toUInt32(transform(roundDown(-${x}, {c${k}_neg:Array(Float64)}), {c${k}_neg:Array(Float64)}, {c${k}_step:Array(UInt32)}, 0)) AS ${j}`;
  const v = `{c${k}_values:Array(Float64)}`;
  if (lower.length === 0) return { expression: `${v}[${j}]`, aliases: [step] };
  params[`c${k}_upper`] = floatArrayParam(upper);
  params[`c${k}_lower`] = floatArrayParam(lower);
  const up = `{c${k}_upper:Array(Float64)}`;
  const lo = `{c${k}_lower:Array(Float64)}`;
  // Between the previous step's last score and this step's first: linear, as scikit-learn.
  return {
    expression: `if(${j} > 1 AND ${x} < ${lo}[${j}],
      ${v}[${j} - 1] + (${v}[${j}] - ${v}[${j} - 1]) * (${x} - ${up}[${j} - 1]) / (${lo}[${j}] - ${up}[${j} - 1]),
      ${v}[${j}])`,
    aliases: [step],
  };
}

const MULTICLASS_ESTIMATION_SQL = (
  source: string,
  settings: string,
  calibrated: readonly { expression: string; aliases: string[] }[],
  grouping: SegmentGrouping,
) => {
  // A segment key's columns: computed with the event's vector, carried up to the grouping.
  const segmentColumns = grouping.select.filter((_, i) => i % 2 === 0);
  const carried = segmentColumns.map((c) => `, ${c}`).join('');
  return `
SELECT pi, ${grouping.select.map((c) => `${c}, `).join('')}count() AS events, sumForEach(q) AS expected,
       sum(q[pi] * (1 - q[pi])) AS correct_variance,
       sum(el) AS expected_loss, sum(greatest(0, el2 - el * el)) AS loss_variance
FROM (
  SELECT pi, q${carried},
         arraySum(arrayMap((qt, lt) -> qt * lt, q, losses)) AS el,
         arraySum(arrayMap((qt, lt) -> qt * lt * lt, q, losses)) AS el2
  FROM (
    SELECT indexOf({classes:Array(String)}, ${PREDICTED}) AS pi,
           arrayMap(c -> prediction_probabilities[c], {classes:Array(String)}) AS p,
           ${grouping.inner.map((c) => `${c},`).join(' ')}
           ${calibrated.flatMap((c) => c.aliases.map((a) => `${a},`)).join(' ')}
           [${calibrated.map((c) => `toFloat64(${c.expression})`).join(', ')}] AS raw,
           arraySum(raw) AS total,
           if(total > 0, arrayMap(r -> r / total, raw), arrayMap(r -> 1 / length(raw), raw)) AS q,
           arrayMap(x -> -log(least(greatest(x, {eps:Float64}), 1 - {eps:Float64})), p) AS losses
    FROM ${source}
    WHERE length(prediction_probabilities) > 0
  )
)
${grouping.groupBy(['pi'])}${settings}`;
};

export interface MulticlassEstimationRead {
  sums: MulticlassEstimationSums;
  /** Events with a probability vector whose predicted class is not one of the model's (not in the sums). */
  unknownPredicted: number;
}

/** One segment's calibrated probability sums: the key's index in the request's segments, the segment's value. */
export interface SegmentMulticlassEstimationRead extends MulticlassEstimationRead {
  key: number;
  value: string;
}

/** A window's calibrated probability sums, and each segment's (a segment without a probability vector has none). */
export interface MulticlassEstimationReadBySegment extends MulticlassEstimationRead {
  segments: SegmentMulticlassEstimationRead[];
}

/**
 * The window's calibrated probability sums per predicted class (events with a probability
 * vector only). Throws ValidationError on bad bounds.
 */
export async function multiclassEstimationSums(
  client: ClickHouseClient,
  events: EventWindow,
  classes: readonly string[],
  table: CalibrationTable,
): Promise<MulticlassEstimationRead> {
  const { sums, unknownPredicted } = await multiclassEstimationSumsBySegment(client, events, classes, table, []);
  return { sums, unknownPredicted };
}

/**
 * The window's calibrated probability sums and, in the same query (`GROUPING SETS`, as
 * segment-grouping.ts), each segment's of `segments`' keys: a segment's sums are the window's
 * sums over the segment's events. Without keys the query is the ungrouped one. Throws
 * ValidationError on bad bounds.
 */
export async function multiclassEstimationSumsBySegment(
  client: ClickHouseClient,
  events: EventWindow,
  classes: readonly string[],
  table: CalibrationTable,
  segments: readonly SegmentsToCount[],
): Promise<MulticlassEstimationReadBySegment> {
  const k = classes.length;
  if (table.kind.length !== k)
    throw new RangeError(`the calibration table has ${table.kind.length} classes; the model has ${k}`);
  const window = eventWindowSql(events);
  const grouping = segmentGrouping(segments);
  const params: Record<string, unknown> = {
    ...window.params,
    ...grouping.params,
    classes: [...classes],
    eps: LOG_LOSS_EPSILON,
    platt_clip: PLATT_CLIP,
  };
  classes.forEach((c, k) => (params[`c${k}_class`] = c));
  const calibrated = classes.map((_, k) => calibratedClass(table, k, params));
  const rows = await queryRows<
    {
      pi: number;
      events: string;
      expected: number[];
      correct_variance: number;
      expected_loss: number;
      loss_variance: number;
    } & Record<string, unknown>
  >(client, MULTICLASS_ESTIMATION_SQL(window.source, window.settings, calibrated, grouping), params);
  const whole: MulticlassEstimationRead = { sums: emptySums(k), unknownPredicted: 0 };
  const bySegment = new Map<string, SegmentMulticlassEstimationRead>();
  for (const r of rows) {
    const segment = grouping.segmentOf(r);
    let read = whole;
    if (segment) {
      const id = `${segment.key}\u0000${segment.value}`;
      read = bySegment.get(id) ?? { ...segment, sums: emptySums(k), unknownPredicted: 0 };
      bySegment.set(id, read as SegmentMulticlassEstimationRead);
    }
    const p = Number(r.pi) - 1;
    if (p < 0) {
      read.unknownPredicted += num(r.events);
      continue;
    }
    const sums = read.sums;
    sums.predicted[p] = num(r.events);
    r.expected.forEach((x, t) => {
      sums.expectedConfusion[t]![p] = Number(x);
    });
    sums.correctVariance += Number(r.correct_variance);
    sums.expectedLoss += Number(r.expected_loss);
    sums.lossVariance += Number(r.loss_variance);
  }
  return { ...whole, segments: [...bySegment.values()] };
}

/** Empty sums of `k` classes (platform/ may import only types from detectors/). */
const emptySums = (k: number): MulticlassEstimationSums => ({
  expectedConfusion: Array.from({ length: k }, () => new Array<number>(k).fill(0)),
  predicted: new Array<number>(k).fill(0),
  correctVariance: 0,
  expectedLoss: 0,
  lossVariance: 0,
});

/** The events of a window as a scoring-events filter (for the labels they can join). */
function eventFilter(events: EventWindow): { sql: string; params: Record<string, unknown> } {
  const ts = windowFilter('ts', { start: Number(events.start), end: Number(events.end) });
  return {
    sql: `model_id = {model:String} AND ({version:String} = '' OR model_version = {version:String}) AND ${ts.sql}`,
    params: { ...ts.params },
  };
}

/** A labelled multiclass reference event: its true class (index into the classes) and probability vector. */
export interface LabelledProbabilities {
  truth: number;
  probabilities: number[];
}

/**
 * Up to `limit` labelled events of the window with a probability vector and a label naming one
 * of `classes` (smallest hash of the event id first). Throws ValidationError on bad bounds.
 */
export async function labelledProbabilityRows(
  client: ClickHouseClient,
  events: EventWindow,
  classes: readonly string[],
  limit: number,
): Promise<LabelledProbabilities[]> {
  const window = eventWindowSql(events);
  const filter = eventFilter(events);
  const rows = await queryRows<{ truth: number; p: number[] }>(
    client,
    `SELECT indexOf({classes:Array(String)}, l.label) - 1 AS truth,
       arrayMap(c -> e.prediction_probabilities[c], {classes:Array(String)}) AS p
     FROM (SELECT event_id, prediction_probabilities FROM ${window.source}
           WHERE length(prediction_probabilities) > 0) AS e
     INNER JOIN (SELECT event_id, label FROM labels FINAL ${labelsOfEvents(filter.sql)}
                 WHERE has({classes:Array(String)}, label)) AS l USING (event_id)
     ORDER BY cityHash64(event_id), event_id LIMIT {limit:UInt32}${window.settings}`,
    { ...window.params, ...filter.params, classes: [...classes], limit },
  );
  return rows.map((r) => ({ truth: Number(r.truth), probabilities: r.p.map(Number) }));
}

/** A regression event's features (numeric NaN-free or null; categories as strings or null) and prediction. */
export interface RegressionRow {
  numeric: (number | null)[];
  categorical: (string | null)[];
  prediction: number;
}

export interface FeatureColumns {
  numeric: readonly string[];
  categorical: readonly string[];
}

export type RawRegressionRow = {
  num: (number | string | null)[];
  cat: (string | null)[];
  prediction: number;
  y?: number;
};

/** A row's features as the loss models read them (`num`, `cat`), in the order of `{numeric}` and `{categorical}`. */
export const FEATURE_COLUMNS = `arrayMap(k -> if(mapContains(num_features, k), num_features[k], NULL), {numeric:Array(String)}) AS num,
  arrayMap(k -> if(mapContains(cat_features, k), cat_features[k], NULL), {categorical:Array(String)}) AS cat`;

/** A read row's features and prediction (a non-finite number read as missing). */
export function regressionRow(r: RawRegressionRow): RegressionRow {
  return {
    numeric: r.num.map((v) => {
      const value = v === null || v === undefined ? Number.NaN : Number(v);
      return Number.isFinite(value) ? value : null;
    }),
    categorical: r.cat.map((v) => v ?? null),
    prediction: Number(r.prediction),
  };
}

/** Up to `limit` rows of the window with a finite prediction (smallest hash of the event id first). */
export async function sampleRegressionRows(
  client: ClickHouseClient,
  events: EventWindow,
  columns: FeatureColumns,
  limit: number,
): Promise<RegressionRow[]> {
  const window = eventWindowSql(events);
  const rows = await queryRows<RawRegressionRow>(
    client,
    `SELECT ${FEATURE_COLUMNS}, assumeNotNull(prediction_value) AS prediction
FROM ${window.source}
WHERE prediction_value IS NOT NULL AND isFinite(assumeNotNull(prediction_value))
ORDER BY cityHash64(event_id), event_id
LIMIT {limit:UInt32}${window.settings}`,
    { ...window.params, numeric: [...columns.numeric], categorical: [...columns.categorical], limit },
  );
  return rows.map(regressionRow);
}

/** One segment's sample: the key's index in the request's segments, the segment's value, its rows. */
export interface SegmentRegressionRows {
  key: number;
  value: string;
  rows: RegressionRow[];
}

/**
 * The window's sample as {@link sampleRegressionRows} and, in the same query, each segment's of
 * `segments`' keys: up to `limit` of the segment's own rows, smallest hash of the event id first —
 * the rows {@link sampleRegressionRows} would take of the segment's events alone. Each row is read
 * once, with the samples it belongs to (rank by hash within the window and within its segment of
 * each key). Without keys the query is the ungrouped one. Throws ValidationError on bad bounds.
 */
export async function sampleRegressionRowsBySegment(
  client: ClickHouseClient,
  events: EventWindow,
  columns: FeatureColumns,
  limit: number,
  segments: readonly SegmentsToCount[],
): Promise<{ whole: RegressionRow[]; segments: SegmentRegressionRows[] }> {
  if (segments.length === 0) return { whole: await sampleRegressionRows(client, events, columns, limit), segments: [] };
  const window = eventWindowSql(events);
  const grouping = segmentGrouping(segments);
  const order = 'ORDER BY cityHash64(event_id), event_id';
  const ranks = segments.map((_, i) => `row_number() OVER (PARTITION BY s${i} ${order}) AS r${i}`);
  const flags = segments.map((_, i) => `r${i} <= {limit:UInt32} AS in${i}, s${i}`);
  const rows = await queryRows<RawRegressionRow & { in_whole: number } & Record<string, unknown>>(
    client,
    `SELECT num, cat, prediction, r_whole <= {limit:UInt32} AS in_whole, ${flags.join(', ')}
FROM (
  SELECT event_id, ${FEATURE_COLUMNS}, assumeNotNull(prediction_value) AS prediction,
         ${grouping.inner.join(',\n         ')},
         row_number() OVER (${order}) AS r_whole,
         ${ranks.join(',\n         ')}
  FROM ${window.source}
  WHERE prediction_value IS NOT NULL AND isFinite(assumeNotNull(prediction_value))
)
WHERE r_whole <= {limit:UInt32} OR ${segments.map((_, i) => `r${i} <= {limit:UInt32}`).join(' OR ')}
${order}${window.settings}`,
    {
      ...window.params,
      ...grouping.params,
      numeric: [...columns.numeric],
      categorical: [...columns.categorical],
      limit,
    },
  );
  const whole: RegressionRow[] = [];
  const bySegment = new Map<string, SegmentRegressionRows>();
  for (const r of rows) {
    const row = regressionRow(r);
    if (Number(r.in_whole) === 1) whole.push(row);
    segments.forEach((_, i) => {
      if (Number(r[`in${i}`]) !== 1) return;
      const value = String(r[`s${i}`]);
      const id = `${i}\u0000${value}`;
      const segment = bySegment.get(id) ?? { key: i, value, rows: [] };
      segment.rows.push(row);
      bySegment.set(id, segment);
    });
  }
  return { whole, segments: [...bySegment.values()] };
}

/** Up to `limit` labelled rows of the window (finite prediction and numeric label), as {@link sampleRegressionRows}. */
export async function labelledRegressionRows(
  client: ClickHouseClient,
  events: EventWindow,
  columns: FeatureColumns,
  limit: number,
): Promise<(RegressionRow & { truth: number })[]> {
  const window = eventWindowSql(events);
  const filter = eventFilter(events);
  const rows = await queryRows<RawRegressionRow>(
    client,
    `SELECT e.num AS num, e.cat AS cat, e.prediction AS prediction, l.label_numeric AS y
     FROM (SELECT event_id, ${FEATURE_COLUMNS}, assumeNotNull(prediction_value) AS prediction FROM ${window.source}
           WHERE prediction_value IS NOT NULL AND isFinite(assumeNotNull(prediction_value))) AS e
     INNER JOIN (SELECT event_id, assumeNotNull(label_numeric) AS label_numeric FROM labels FINAL ${labelsOfEvents(filter.sql)}
                 WHERE label_numeric IS NOT NULL AND isFinite(assumeNotNull(label_numeric))) AS l USING (event_id)
     ORDER BY cityHash64(event_id), event_id LIMIT {limit:UInt32}${window.settings}`,
    {
      ...window.params,
      ...filter.params,
      numeric: [...columns.numeric],
      categorical: [...columns.categorical],
      limit,
    },
  );
  return rows.map((r) => ({ ...regressionRow(r), truth: Number(r.y) }));
}
