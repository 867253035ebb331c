/**
 * What the ClickHouse engine says it holds in memory: its tracked total, its caches, and (where
 * the engine reports it) its allocator's resident and retained bytes. For the embedded engine
 * these are part of the daemon's own RSS; for a server they are the server's.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from './client.ts';

/** The engine's memory, in bytes. */
export interface EngineMemory {
  /** Everything the engine's memory tracker counts (queries, caches, parts' indexes, buffers). */
  tracked: number;
  /** Cache of the marks of the columns read (granule offsets in the files). */
  markCache: number;
  /** Cache of decompressed blocks (used only by queries that ask for it). */
  uncompressedCache: number;
  /** Cache of the primary key index, for tables that use it. */
  primaryIndexCache: number;
  /** Cache of whole query results (used only by queries that ask for it). */
  queryCache: number;
  /** The engine allocator's (jemalloc) resident bytes; null when the engine does not report them. */
  allocatorResident: number | null;
  /** Bytes the allocator keeps mapped after they were freed, for reuse; null when not reported. */
  allocatorRetained: number | null;
}

const METRICS = {
  MemoryTracking: 'tracked',
  MarkCacheBytes: 'markCache',
  UncompressedCacheBytes: 'uncompressedCache',
  PrimaryIndexCacheBytes: 'primaryIndexCache',
  QueryCacheBytes: 'queryCache',
} as const satisfies Record<string, keyof EngineMemory>;

/** The engine's tracked memory and caches (system.metrics) and its allocator's totals (system.jemalloc_stats). */
export async function engineMemory(client: ClickHouseClient): Promise<EngineMemory> {
  const rows = await queryRows<{ metric: string; value: string | number }>(
    client,
    'SELECT metric, value FROM system.metrics WHERE metric IN {metrics:Array(String)}',
    { metrics: Object.keys(METRICS) },
  );
  const memory: EngineMemory = {
    tracked: 0,
    markCache: 0,
    uncompressedCache: 0,
    primaryIndexCache: 0,
    queryCache: 0,
    allocatorResident: null,
    allocatorRetained: null,
  };
  for (const row of rows) {
    const key = METRICS[row.metric as keyof typeof METRICS];
    if (key) memory[key] = Number(row.value);
  }
  const allocator = await allocatorTotals(client);
  return { ...memory, ...allocator };
}

/**
 * jemalloc's totals line ("Allocated: …, active: …, metadata: …, resident: …, mapped: …,
 * retained: …") from its statistics report. Servers built without jemalloc have no such table:
 * the totals are then unknown, not an error.
 */
async function allocatorTotals(
  client: ClickHouseClient,
): Promise<Pick<EngineMemory, 'allocatorResident' | 'allocatorRetained'>> {
  let report: string;
  try {
    const rows = await queryRows<{ stats: string }>(client, 'SELECT stats FROM system.jemalloc_stats');
    report = rows[0]?.stats ?? '';
  } catch {
    return { allocatorResident: null, allocatorRetained: null };
  }
  return parseAllocatorTotals(report);
}

/** The resident and retained bytes of a jemalloc statistics report; null where the report lacks them. */
export function parseAllocatorTotals(report: string): Pick<EngineMemory, 'allocatorResident' | 'allocatorRetained'> {
  const line = /^Allocated: .*$/m.exec(report)?.[0] ?? '';
  const field = (name: string) => {
    const m = new RegExp(`\\b${name}: (\\d+)`).exec(line);
    return m ? Number(m[1]) : null;
  };
  return { allocatorResident: field('resident'), allocatorRetained: field('retained') };
}
