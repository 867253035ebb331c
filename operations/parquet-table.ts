import { existsSync, statSync } from 'node:fs';
import type { ClickHouse } from '../platform/clickhouse/client.ts';
import { readParquetFile } from '../platform/clickhouse/file-drift-repository.ts';
import { ValidationError } from '../platform/errors.ts';
import type { RawTable, ReadOptions } from '../platform/tabular.ts';

/**
 * A Parquet file as the table a CSV gives: every cell as text, so kinds, missing markers and
 * messages work exactly as for CSV. Numbers keep their shortest round-trip text (so parse back
 * to the same double), NaN/±Inf their names, NULL becomes an empty (missing) cell; nested
 * values become their JSON text (categorical).
 */
export async function readParquet(
  ch: Pick<ClickHouse, 'client'>,
  file: string,
  options: ReadOptions & {
    /**
     * Timestamp columns as ISO-8601 in UTC, so they read as the instants they are whatever the
     * process's time zone (a timestamp without a zone parses as local time). @default false
     */
    isoDateTimes?: boolean;
  } = {},
): Promise<RawTable> {
  if (!existsSync(file)) throw new ValidationError(`${file}: file not found`);
  if (!statSync(file).isFile()) throw new ValidationError(`${file}: not a regular file`);
  let parquet: { columns: string[]; rows: unknown[][] };
  try {
    parquet = await readParquetFile(ch.client, file, options.isoDateTimes ?? false);
  } catch (err) {
    throw new ValidationError(`${file}: not a readable Parquet file (${(err as Error).message.split('\n')[0]})`);
  }
  const { columns, rows } = parquet;
  if (columns.length === 0) throw new ValidationError(`${file}: the Parquet file has no columns`);
  const cells: string[][] = columns.map(() => []);
  const lines: number[] = [];
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] ?? [];
    for (let c = 0; c < columns.length; c++) cells[c]!.push(cellText(row[c]));
    // As if a header line came first, like a CSV's line numbers.
    lines.push(r + 2);
    if (options.onProgress && lines.length % (options.progressEvery ?? 250_000) === 0)
      options.onProgress(file, lines.length);
  }
  if (lines.length === 0) throw new ValidationError(`${file}: no data rows`);
  return { file, columns, cells, lines };
}

export const isParquet = (file: string): boolean => /\.parquet$/i.test(file);

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}
