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
  /** Cache of which granules a filter condition rejected, per part (on by default). */
  queryConditionCache: number;
  /** The active parts' primary indexes held in memory (loaded on a part's first read, kept while it lives). */
  primaryKey: number;
  /** The active parts' granule boundaries held in memory. */
  indexGranularity: number;
  /** Memory of the merges running now. */
  merges: number;
  /**
   * The engine allocator's (jemalloc) resident bytes; null when the engine does not report them.
   * An upper bound (jemalloc's own caveat): it counts pages the allocator mapped but never
   * touched and pages already handed back, so it can exceed the process's anonymous RSS.
   */
  allocatorResident: number | null;
  /** Bytes the allocator keeps mapped after they were freed, for reuse; null when not reported. */
  allocatorRetained: number | null;
  /** Bytes in live allocations; null when not reported. */
  allocatorAllocated: number | null;
  /** Bytes in the allocator's pages that hold live allocations (allocated plus their pages' slack); null when not reported. */
  allocatorActive: number | null;
  /** The allocator's own bookkeeping; null when not reported. */
  allocatorMetadata: number | null;
  /**
   * Threads of the engine's global pool (a count, not bytes): it keeps idle threads for reuse,
   * each with its stack and its allocator's thread cache. Null when not reported.
   */
  poolThreads: number | null;
  /** Of those, the threads running a task now (a count). Null when not reported. */
  poolThreadsActive: number | null;
}

const METRICS = {
  MemoryTracking: 'tracked',
  MarkCacheBytes: 'markCache',
  UncompressedCacheBytes: 'uncompressedCache',
  PrimaryIndexCacheBytes: 'primaryIndexCache',
  QueryCacheBytes: 'queryCache',
  QueryConditionCacheBytes: 'queryConditionCache',
  GlobalThread: 'poolThreads',
  GlobalThreadActive: 'poolThreadsActive',
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
    queryConditionCache: 0,
    primaryKey: 0,
    indexGranularity: 0,
    merges: 0,
    allocatorResident: null,
    allocatorRetained: null,
    allocatorAllocated: null,
    allocatorActive: null,
    allocatorMetadata: null,
    poolThreads: null,
    poolThreadsActive: null,
  };
  for (const row of rows) {
    const key = METRICS[row.metric as keyof typeof METRICS];
    if (key) memory[key] = Number(row.value);
  }
  const [parts] = await queryRows<{ primaryKey: string | number; indexGranularity: string | number }>(
    client,
    `SELECT sum(primary_key_bytes_in_memory_allocated) AS primaryKey,
            sum(index_granularity_bytes_in_memory_allocated) AS indexGranularity
     FROM system.parts WHERE active`,
  );
  const [merges] = await queryRows<{ bytes: string | number }>(
    client,
    'SELECT sum(memory_usage) AS bytes FROM system.merges',
  );
  memory.primaryKey = Number(parts?.primaryKey ?? 0);
  memory.indexGranularity = Number(parts?.indexGranularity ?? 0);
  memory.merges = Number(merges?.bytes ?? 0);
  const allocator = await allocatorTotals(client);
  return { ...memory, ...allocator };
}

/**
 * jemalloc's totals line ("Allocated: …, active: …, metadata: …, resident: …, mapped: …,
 * retained: …") from its statistics report. Servers built without jemalloc have no such table:
 * the totals are then unknown, not an error.
 */
async function allocatorTotals(client: ClickHouseClient): Promise<AllocatorTotals> {
  let report: string;
  try {
    const rows = await queryRows<{ stats: string }>(client, 'SELECT stats FROM system.jemalloc_stats');
    report = rows[0]?.stats ?? '';
  } catch {
    return parseAllocatorTotals('');
  }
  return parseAllocatorTotals(report);
}

type AllocatorTotals = Pick<
  EngineMemory,
  'allocatorResident' | 'allocatorRetained' | 'allocatorAllocated' | 'allocatorActive' | 'allocatorMetadata'
>;

/** The totals of a jemalloc statistics report; null where the report lacks them. */
export function parseAllocatorTotals(report: string): AllocatorTotals {
  const line = /^Allocated: .*$/m.exec(report)?.[0] ?? '';
  const field = (name: string) => {
    const m = new RegExp(`\\b${name}: (\\d+)`).exec(line);
    return m ? Number(m[1]) : null;
  };
  return {
    allocatorResident: field('resident'),
    allocatorRetained: field('retained'),
    allocatorAllocated: field('Allocated'),
    allocatorActive: field('active'),
    allocatorMetadata: field('metadata'),
  };
}
