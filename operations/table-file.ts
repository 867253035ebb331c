import { readCsv, type RawTable, type ReadOptions } from '../platform/tabular.ts';
import { isParquet, readParquet } from './parquet-table.ts';
import { openThrowawayClickHouse } from './throwaway-clickhouse.ts';

/**
 * A CSV file, or a Parquet file (`*.parquet`) read through a throwaway embedded ClickHouse, as
 * the same table of text cells, so columns, kinds and cell errors read alike. Parquet timestamp
 * columns come as ISO-8601 in UTC.
 */
export async function readTableFile(file: string, options: ReadOptions = {}): Promise<RawTable> {
  if (!isParquet(file)) return readCsv(file, options);
  const engine = await openThrowawayClickHouse('halflife-table-');
  try {
    return await readParquet(engine.ch, file, { ...options, isoDateTimes: true });
  } finally {
    await engine.close();
  }
}
