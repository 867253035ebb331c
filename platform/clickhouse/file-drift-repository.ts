import path from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';

/**
 * The storage side of `halflife drift` on files (operations/drift-of-files.ts): a Parquet file
 * read through the embedded engine, and a file's rows loaded as the scoring events of a
 * throwaway model so the production statistics queries can count them.
 */

/** A Parquet file's column names and rows, as JSON values (NaN/±Inf as their names, 64-bit integers as text). */
export async function readParquetFile(
  client: ClickHouseClient,
  file: string,
  /** Timestamp columns as ISO-8601 in UTC ("2026-01-05T00:00:00.000Z") instead of "2026-01-05 00:00:00.000". @default false */
  isoDateTimes = false,
): Promise<{ columns: string[]; rows: unknown[][] }> {
  const result = await client.query({
    query: 'SELECT * FROM file({file:String}, Parquet)',
    query_params: { file: path.resolve(file) },
    format: 'JSONCompactEachRowWithNames',
    clickhouse_settings: {
      output_format_json_quote_denormals: 1,
      output_format_json_quote_64bit_integers: 1,
      ...(isoDateTimes ? { date_time_output_format: 'iso' } : {}),
    },
  });
  const [names, ...rows] = await result.json<unknown[]>();
  return { columns: ((names ?? []) as unknown[]).map(String), rows };
}

/** One row of a file as a scoring event (see the scoring_events migration). */
export interface FileEventRow {
  event_id: string;
  model_id: string;
  model_version: string;
  ts: number;
  num_features: Record<string, number>;
  cat_features: Record<string, string>;
  /** Vector features (embeddings). @default {} */
  vec_features?: Record<string, number[]>;
  missing_features: string[];
  contract_version: number;
  source: string;
  source_ref: string;
}

export async function insertFileEvents(client: ClickHouseClient, rows: FileEventRow[]): Promise<void> {
  await client.insert({ table: 'scoring_events', values: rows, format: 'JSONEachRow' });
}
