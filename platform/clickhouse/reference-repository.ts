/**
 * References (the `references` table): what every later window of a model is compared with, a
 * few KB of JSON per reference. Also the two aggregate queries that building one needs beyond
 * the window count query (window-repository.ts `countWindowColumns`): which columns a window
 * holds, and the exact order statistics behind numeric cuts. Neither returns rows.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { CategoricalProfile, NumericReferenceProfile } from '../../detectors/drift/profiles.ts';
import type { ReferenceProfiles } from '../../detectors/drift/window-comparison.ts';
import { NotFoundError } from '../errors.ts';
import { queryRows } from './client.ts';
import { eventWindowSql, type EventWindow } from './event-window.ts';
import { segmentGrouping, type SegmentsToCount } from './segment-grouping.ts';
import { countsFromMap, finiteOrNull, num } from './sql-values.ts';

/** A stored reference: its profiles and how they were built. JSON-safe (a Temporal payload). */
export interface StoredReference extends ReferenceProfiles {
  referenceId: string;
  modelId: string;
  /** The version filter used to build it; '' = all versions of the model. */
  modelVersion: string;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms, inclusive. */
  start: number;
  /** Epoch ms, exclusive. */
  end: number;
  nBins: number;
  maxCategories: number;
}

/** Which columns a window holds. */
export interface WindowColumns {
  rows: number;
  /** Per key of `num_features`: rows holding it. */
  numericPresent: Record<string, number>;
  /** Per key of `cat_features`: rows holding it. */
  categoricalPresent: Record<string, number>;
  /** Rows with a `prediction_score`, `prediction_class`, `prediction_value`. */
  predictions: { score: number; class: number; value: number };
}

/** Per key, the rows holding it in each feature map, and which prediction columns exist. Throws ValidationError on bad bounds. */
export async function windowColumns(client: ClickHouseClient, events: EventWindow): Promise<WindowColumns> {
  const window = eventWindowSql(events);
  const [row] = await queryRows<Record<string, unknown>>(
    client,
    `SELECT count() AS rows,
       sumMap(mapFromArrays(mapKeys(num_features), arrayMap(v -> toUInt64(1), mapValues(num_features)))) AS num_present,
       sumMap(mapFromArrays(mapKeys(cat_features), arrayMap(v -> toUInt64(1), mapValues(cat_features)))) AS cat_present,
       count(prediction_score) AS score_n, count(prediction_class) AS class_n, count(prediction_value) AS value_n
     FROM ${window.source}${window.settings}`,
    window.params,
  );
  return {
    rows: num(row?.rows ?? 0),
    numericPresent: countsFromMap(row?.num_present),
    categoricalPresent: countsFromMap(row?.cat_present),
    predictions: { score: num(row?.score_n), class: num(row?.class_n), value: num(row?.value_n) },
  };
}

/** A numeric column whose order statistics are wanted: a feature, or a numeric prediction column. */
export type NumericColumn = { feature: string } | { prediction: 'score' | 'value' };

/**
 * Exact order statistics (`quantilesExact`: memory O(values) per column, once per reference)
 * of the finite values of each column, at the given levels; one result array per request, in
 * order. Requests without levels are not queried (their result is empty).
 */
export async function orderStatistics(
  client: ClickHouseClient,
  events: EventWindow,
  requests: readonly { column: NumericColumn; levels: readonly number[] }[],
): Promise<number[][]> {
  const queried = requests.map((r, i) => ({ ...r, i })).filter((r) => r.levels.length > 0);
  if (queried.length === 0) return requests.map(() => []);
  const window = eventWindowSql(events);
  const params: Record<string, unknown> = { ...window.params };
  const select = queried.map((r, q) => {
    let expr: string;
    if ('feature' in r.column) {
      params[`n${q}`] = r.column.feature;
      expr = `arrayElementOrNull(num_features, {n${q}:String})`;
    } else expr = `prediction_${r.column.prediction}`;
    // Levels are literals: aggregate-function parameters cannot be query parameters.
    return `quantilesExact(${r.levels.join(', ')})(${finiteOrNull(expr)}) AS q${q}`;
  });
  const [row] = await queryRows<Record<string, unknown>>(
    client,
    `SELECT ${select.join(',\n  ')} FROM ${window.source}${window.settings}`,
    params,
  );
  const out = requests.map((): number[] => []);
  queried.forEach((r, q) => {
    out[r.i] = ((row?.[`q${q}`] as unknown[] | undefined) ?? []).map(Number);
  });
  return out;
}

/** A most frequent value and a lower bound of its share of the finite values (see {@link referenceTopValues}). */
export interface ReferenceTopValue {
  value: number;
  share: number;
}

/**
 * Per numeric feature, its most frequent finite value and a lower bound of that value's share
 * of the finite values: Space-Saving with 64 counters (`approx_top_kIf`), whose count overstates
 * by at most its reported error, so (count − error) / n never overstates the share. The baseline
 * of the stuck-value check: an understated reference share makes the check a little more
 * sensitive, never blind. One pass for all features, once per reference.
 */
export async function referenceTopValues(
  client: ClickHouseClient,
  events: EventWindow,
  features: readonly string[],
): Promise<Record<string, ReferenceTopValue | null>> {
  return (await referenceTopValuesBySegment(client, events, features, [])).whole;
}

/** One segment's most frequent values (segment-grouping.ts: `key` is the key's index in the request). */
export interface SegmentReferenceTopValues {
  key: number;
  value: string;
  topValues: Record<string, ReferenceTopValue | null>;
}

/**
 * {@link referenceTopValues} of the whole window and, in the same query (grouped by
 * segment-grouping.ts's GROUPING SETS, as the window's counts are), of each segment of
 * `segments`' keys: each segment's own stuck-value baseline. Segments without events are absent.
 */
export async function referenceTopValuesBySegment(
  client: ClickHouseClient,
  events: EventWindow,
  features: readonly string[],
  segments: readonly SegmentsToCount[],
): Promise<{ whole: Record<string, ReferenceTopValue | null>; segments: SegmentReferenceTopValues[] }> {
  if (features.length === 0) return { whole: {}, segments: [] };
  const window = eventWindowSql(events);
  const grouping = segmentGrouping(segments);
  const params: Record<string, unknown> = { ...window.params, ...grouping.params };
  const inner: string[] = [...grouping.inner];
  const select: string[] = [...grouping.select];
  features.forEach((name, i) => {
    params[`n${i}`] = name;
    inner.push(`ifNull(arrayElementOrNull(num_features, {n${i}:String}), nan) AS v${i}`);
    select.push(`approx_top_kIf(1, 64)(v${i}, isFinite(v${i})) AS t${i}`, `countIf(isFinite(v${i})) AS n${i}`);
  });
  const groupBy = grouping.groupBy();
  const rows = await queryRows<Record<string, unknown>>(
    client,
    `SELECT ${select.join(', ')} FROM (SELECT ${inner.join(', ')} FROM ${window.source})${groupBy ? ` ${groupBy}` : ''}${window.settings}`,
    params,
  );
  const topValuesOf = (row: Record<string, unknown> | undefined): Record<string, ReferenceTopValue | null> => {
    const out: Record<string, ReferenceTopValue | null> = {};
    features.forEach((name, i) => {
      const n = num(row?.[`n${i}`] ?? 0);
      const [top] =
        (row?.[`t${i}`] as { item: number; count: number | string; error: number | string }[] | undefined) ?? [];
      out[name] =
        n > 0 && top !== undefined
          ? { value: Number(top.item), share: Math.max(0, num(top.count) - num(top.error)) / n }
          : null;
    });
    return out;
  };
  let whole: Record<string, unknown> | undefined;
  const out: SegmentReferenceTopValues[] = [];
  for (const row of rows) {
    const segment = grouping.segmentOf(row);
    if (segment === null) whole = row;
    else out.push({ ...segment, topValues: topValuesOf(row) });
  }
  return { whole: topValuesOf(whole), segments: out };
}

/** The `profiles` JSON column. */
interface StoredProfiles {
  features: StoredReference['features'];
  prediction: { score?: NumericReferenceProfile; class?: CategoricalProfile; value?: NumericReferenceProfile };
  capped_categorical: string[];
  max_categories: number;
}

/** Store a reference (one insert; a retried build with the same id collapses by key). */
export async function storeReference(client: ClickHouseClient, reference: StoredReference): Promise<void> {
  await client.insert({
    table: 'references',
    values: [
      {
        model_id: reference.modelId,
        model_version: reference.modelVersion,
        reference_id: reference.referenceId,
        created_at: reference.createdAt,
        window_start: reference.start,
        window_end: reference.end,
        row_count: reference.rowCount,
        n_bins: reference.nBins,
        profiles: JSON.stringify({
          features: reference.features,
          prediction: {
            ...(reference.prediction ? { score: reference.prediction } : {}),
            ...(reference.predictionClass ? { class: reference.predictionClass } : {}),
            ...(reference.predictionValue ? { value: reference.predictionValue } : {}),
          },
          capped_categorical: reference.cappedCategorical,
          max_categories: reference.maxCategories,
        } satisfies StoredProfiles),
      },
    ],
    format: 'JSONEachRow',
  });
}

interface ReferenceRow {
  model_id: string;
  model_version: string;
  reference_id: string;
  created_at_ms: string | number;
  start_ms: string | number;
  end_ms: string | number;
  row_count: string | number;
  n_bins: string | number;
  profiles: string;
}

function fromRow(row: ReferenceRow): StoredReference {
  const stored = JSON.parse(row.profiles) as StoredProfiles;
  return {
    referenceId: row.reference_id,
    modelId: row.model_id,
    modelVersion: row.model_version,
    createdAt: Number(row.created_at_ms),
    start: Number(row.start_ms),
    end: Number(row.end_ms),
    rowCount: Number(row.row_count),
    nBins: Number(row.n_bins),
    maxCategories: stored.max_categories,
    features: stored.features,
    prediction: stored.prediction.score ?? null,
    predictionClass: stored.prediction.class ?? null,
    predictionValue: stored.prediction.value ?? null,
    cappedCategorical: stored.capped_categorical,
  };
}

const REFERENCE_COLUMNS = `model_id, model_version, reference_id, toUnixTimestamp64Milli(created_at) AS created_at_ms,
  toUnixTimestamp64Milli(window_start) AS start_ms, toUnixTimestamp64Milli(window_end) AS end_ms, row_count, n_bins, profiles`;

/** A stored reference by id. Throws NotFoundError when there is none. */
export async function loadReference(client: ClickHouseClient, referenceId: string): Promise<StoredReference> {
  const rows = await queryRows<ReferenceRow>(
    client,
    `SELECT ${REFERENCE_COLUMNS} FROM references FINAL WHERE reference_id = {id:String} ORDER BY created_at DESC LIMIT 1`,
    { id: referenceId },
  );
  if (!rows[0]) throw new NotFoundError(`reference ${referenceId} not found`);
  return fromRow(rows[0]);
}

/** Stored references by id with one query (a fleet's monitors starting together); ids not stored are left out. */
export async function loadReferences(
  client: ClickHouseClient,
  referenceIds: readonly string[],
): Promise<Map<string, StoredReference>> {
  const found = new Map<string, StoredReference>();
  if (referenceIds.length === 0) return found;
  const rows = await queryRows<ReferenceRow>(
    client,
    `SELECT ${REFERENCE_COLUMNS} FROM references FINAL WHERE reference_id IN {ids:Array(String)} ORDER BY created_at DESC`,
    { ids: [...new Set(referenceIds)] },
  );
  for (const row of rows) if (!found.has(row.reference_id)) found.set(row.reference_id, fromRow(row));
  return found;
}

/** The newest reference of a model (optionally of one version), or null when it has none. */
export async function latestReference(
  client: ClickHouseClient,
  options: { modelId: string; modelVersion?: string },
): Promise<StoredReference | null> {
  const rows = await queryRows<ReferenceRow>(
    client,
    `SELECT ${REFERENCE_COLUMNS} FROM references FINAL
     WHERE model_id = {model:String} AND ({version:String} = '' OR model_version = {version:String})
     ORDER BY created_at DESC, reference_id DESC LIMIT 1`,
    { model: options.modelId, version: options.modelVersion ?? '' },
  );
  return rows[0] ? fromRow(rows[0]) : null;
}
