/**
 * What the ClickHouse engine is doing under the queries: the active parts of halflife's tables,
 * the merges running, and the engine's cumulative work counters (merges, marks and rows selected,
 * rows inserted). A fleet benchmark reads them per minute to tell which engine event made every
 * query slower at once (a large merge, a parts count, a cache turning over). For the embedded
 * engine they describe this process's engine; for a server, the server's.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from './client.ts';

/** Active parts of one table of the current database. */
export interface TableParts {
  table: string;
  parts: number;
  rows: number;
  bytesOnDisk: number;
}

/** The engine's cumulative counters this module reports (system.events), by their engine names. */
export const ENGINE_WORK_EVENTS = [
  'Merge',
  'MergedRows',
  'MergeTotalMilliseconds',
  'MergeProjectionStageTotalMilliseconds',
  'SelectedParts',
  'SelectedMarks',
  'SelectedRows',
  'InsertedRows',
  'MarkCacheHits',
  'MarkCacheMisses',
] as const;
export type EngineWorkEvent = (typeof ENGINE_WORK_EVENTS)[number];

/** The counters of ENGINE_WORK_EVENTS, their names written out: static SQL text, nothing interpolated. */
export const ENGINE_WORK_SQL = `SELECT event, value FROM system.events
WHERE event IN ('Merge', 'MergedRows', 'MergeTotalMilliseconds', 'MergeProjectionStageTotalMilliseconds',
                'SelectedParts', 'SelectedMarks', 'SelectedRows', 'InsertedRows', 'MarkCacheHits', 'MarkCacheMisses')`;

export interface EngineActivity {
  tables: TableParts[];
  /** Merges (and mutations) in progress now. */
  mergesRunning: number;
  /** Cumulative since the engine started; an event the engine has not counted yet is 0. */
  events: Record<EngineWorkEvent, number>;
}

/** Parts, running merges and work counters; no query parameters, so it runs beside a held lane. */
export async function engineActivity(client: ClickHouseClient): Promise<EngineActivity> {
  const tables = await queryRows<{ table: string; parts: string; rows: string; bytes: string }>(
    client,
    `SELECT table, count() AS parts, sum(rows) AS rows, sum(bytes_on_disk) AS bytes
     FROM system.parts WHERE active AND database = currentDatabase() GROUP BY table ORDER BY table`,
  );
  const merges = await queryRows<{ n: string }>(
    client,
    'SELECT count() AS n FROM system.merges WHERE database = currentDatabase()',
  );
  const counted = await queryRows<{ event: string; value: string }>(client, ENGINE_WORK_SQL);
  const events = Object.fromEntries(ENGINE_WORK_EVENTS.map((e) => [e, 0])) as Record<EngineWorkEvent, number>;
  for (const row of counted)
    if ((ENGINE_WORK_EVENTS as readonly string[]).includes(row.event))
      events[row.event as EngineWorkEvent] = Number(row.value);
  return {
    tables: tables.map((t) => ({
      table: t.table,
      parts: Number(t.parts),
      rows: Number(t.rows),
      bytesOnDisk: Number(t.bytes),
    })),
    mergesRunning: Number(merges[0]?.n ?? 0),
    events,
  };
}

/** A part a merge wrote (level > 0), active or already merged again. */
export interface MergedPart {
  table: string;
  name: string;
  level: number;
  rows: number;
  bytesOnDisk: number;
}

/**
 * The parts merges wrote in `tables`, whether still active or outdated by a later merge: the
 * embedded engine keeps no system.part_log, so merge work per table is counted from the parts
 * themselves. Outdated parts stay listed only for the table's `old_parts_lifetime` (0 in chDB):
 * a caller that counts them raises it first, or polls faster than the cleanup.
 */
export async function mergedParts(client: ClickHouseClient, tables: readonly string[]): Promise<MergedPart[]> {
  const rows = await queryRows<{ table: string; name: string; level: string; rows: string; bytes: string }>(
    client,
    `SELECT table, name, level, rows, bytes_on_disk AS bytes FROM system.parts
     WHERE database = currentDatabase() AND table IN {tables:Array(String)} AND level > 0`,
    { tables },
  );
  return rows.map((r) => ({
    table: r.table,
    name: r.name,
    level: Number(r.level),
    rows: Number(r.rows),
    bytesOnDisk: Number(r.bytes),
  }));
}
