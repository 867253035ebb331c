/**
 * A ClickHouse client that keeps the engine's own statistics of each query run through it (rows
 * and bytes read, and its elapsed time), so a test can assert how much a read touched rather than
 * how long it took, and a benchmark can report both. JSONEachRow queries (every repository read,
 * `queryRows`) run as JSON, whose body carries the statistics; everything else passes through
 * unchanged (inserts included). Shared by test/ and bench/.
 */
import type { ClickHouseClient } from '@clickhouse/client';

export interface QueryReadStatistics {
  sql: string;
  rowsRead: number;
  bytesRead: number;
  /** The engine's own time for the query (ms), without the client's transfer and parsing. */
  elapsedMs: number;
}

export function readStatisticsClient(
  client: ClickHouseClient,
  /** Called with each query's statistics as it completes (they are kept for `take` as well). @default none */
  onQuery?: (statistics: QueryReadStatistics) => void,
): {
  client: ClickHouseClient;
  /** The queries run since the last call, and starts again. */
  take: () => QueryReadStatistics[];
} {
  let seen: QueryReadStatistics[] = [];
  const counted = new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== 'query' || typeof value !== 'function') return value;
      return async (params: { query: string; format?: string }) => {
        const run = value as (p: object) => Promise<{ json: <T>() => Promise<T> }>;
        if (params.format !== 'JSONEachRow') return run.call(target, params);
        const result = await run.call(target, { ...params, format: 'JSON' });
        const body = await result.json<{
          data: unknown[];
          statistics?: { rows_read: number; bytes_read: number; elapsed: number };
        }>();
        const statistics = {
          sql: params.query,
          rowsRead: Number(body.statistics?.rows_read ?? 0),
          bytesRead: Number(body.statistics?.bytes_read ?? 0),
          elapsedMs: 1000 * Number(body.statistics?.elapsed ?? 0),
        };
        seen.push(statistics);
        onQuery?.(statistics);
        return { json: async () => body.data };
      };
    },
  });
  return {
    client: counted,
    take: () => {
      const out = seen;
      seen = [];
      return out;
    },
  };
}

/** Rows the engine read over `queries`. */
export const rowsRead = (queries: readonly QueryReadStatistics[]): number =>
  queries.reduce((sum, q) => sum + q.rowsRead, 0);
