/**
 * A bounded, deterministic sample of a window's rows for the multivariate drift tests: the rows
 * with the smallest hash of their event id, so the same window always gives the same sample, a
 * re-read (a retried activity, a replayed decision) sees the same rows, and no row is favoured by
 * when it arrived. Only the named features come back, as arrays (null where a row lacks one);
 * vector features (embeddings) come from the same rows, so both sides' vectors share the sample.
 * ClickHouse sorts by the hash and keeps the first `limit` rows: memory O(limit), one read of
 * the window's feature maps.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { SampledRows } from '../../detectors/drift/multivariate/sample.ts';
import { queryRows } from './client.ts';
import { eventWindowSql, type EventWindow } from './event-window.ts';

export interface SampleColumns {
  numeric: readonly string[];
  categorical: readonly string[];
  /** Vector features (embeddings), read from the same rows. @default [] */
  vectors?: readonly string[];
}

interface SampleRow {
  num: (number | string | null)[];
  cat: (string | null)[];
  /** Empty where the row lacks the vector. */
  vec: (number | string)[][];
}

/** Up to `limit` rows of the window, by ascending cityHash64(event_id); throws ValidationError on bad bounds. */
export async function sampleWindowRows(
  client: ClickHouseClient,
  events: EventWindow,
  columns: SampleColumns,
  limit: number,
): Promise<SampledRows> {
  const window = eventWindowSql(events);
  const rows = await queryRows<SampleRow>(
    client,
    `SELECT
  arrayMap(k -> if(mapContains(num_features, k), num_features[k], NULL), {numeric:Array(String)}) AS num,
  arrayMap(k -> if(mapContains(cat_features, k), cat_features[k], NULL), {categorical:Array(String)}) AS cat,
  arrayMap(k -> vec_features[k], {vectors:Array(String)}) AS vec
FROM ${window.source}
ORDER BY cityHash64(event_id), event_id
LIMIT {limit:UInt32}${window.settings}`,
    {
      ...window.params,
      numeric: [...columns.numeric],
      categorical: [...columns.categorical],
      vectors: [...(columns.vectors ?? [])],
      limit,
    },
  );
  const sample: SampledRows = { rows: rows.length, numeric: {}, categorical: {} };
  const vectors = columns.vectors ?? [];
  if (vectors.length > 0) {
    const out: Record<string, (number[] | null)[]> = {};
    vectors.forEach((name, k) => {
      out[name] = rows.map((r) => {
        const v = r.vec[k];
        return v && v.length > 0 ? v.map(Number) : null;
      });
    });
    sample.vectors = out;
  }
  columns.numeric.forEach((name, k) => {
    sample.numeric[name] = rows.map((r) => {
      const v = r.num[k];
      const value = v === null || v === undefined ? Number.NaN : Number(v);
      return Number.isFinite(value) ? value : null;
    });
  });
  columns.categorical.forEach((name, k) => {
    sample.categorical[name] = rows.map((r) => r.cat[k] ?? null);
  });
  return sample;
}
