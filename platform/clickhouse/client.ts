import { mkdirSync } from 'node:fs';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import type { HalflifeConfig } from '../config.ts';
import { DependencyError } from '../errors.ts';
import { QueryScheduler } from './query-scheduler.ts';

export type { ClickHouseClient };

/** Where halflife's tables live: the in-process chDB engine or a ClickHouse server. */
export type ClickHouseKind = 'embedded' | 'remote';

export interface ClickHouse {
  client: ClickHouseClient;
  kind: ClickHouseKind;
  /** The database every unqualified table name refers to. */
  database: string;
  /**
   * What ingest writes and looks ids up through. Embedded: a second connection to the same
   * engine — a chDB connection runs one statement at a time, so on the shared one an insert
   * waited behind the monitor read ahead of it (ClickHouseIngestRepository.forIngest). Remote:
   * `client` itself (a server runs queries concurrently).
   */
  ingestClient: ClickHouseClient;
  /** Embedded only: the order parameterised queries enter chDB's one-at-a-time lane (query-scheduler.ts). */
  scheduler: QueryScheduler | null;
  close(): Promise<void>;
}

/**
 * Open ClickHouse through @clickhouse/client: chDB (embedded, one data directory per
 * process) unless `clickhouse.url` is set. Creates the database if needed and makes it the
 * current one, so all SQL in halflife uses unqualified table names.
 */
export async function openClickHouse(config: Pick<HalflifeConfig, 'clickhouse'>): Promise<ClickHouse> {
  const { url, database, username, password } = config.clickhouse;
  if (url) {
    const bootstrap = createClient({ url, username, password, request_timeout: 30_000 });
    try {
      await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
    } catch (err) {
      throw new DependencyError(
        `ClickHouse at ${url} is unreachable or refused: ${(err as Error).message}. Check CLICKHOUSE_URL and credentials.`,
        { cause: err },
      );
    } finally {
      await bootstrap.close();
    }
    const client = createClient({
      url,
      username,
      password,
      database,
      request_timeout: 300_000,
      clickhouse_settings: { date_time_input_format: 'best_effort' },
    });
    return { client, ingestClient: client, kind: 'remote', database, scheduler: null, close: () => client.close() };
  }
  const dataPath = config.clickhouse.path;
  if (!dataPath) throw new DependencyError('clickhouse.path is not set: load the configuration with loadConfig()');
  mkdirSync(dataPath, { recursive: true });
  const scheduler = new QueryScheduler();
  const client = scheduledClient(dataPath, scheduler);
  // The database name is validated by the config schema (identifier characters only).
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
  // Each chDB connection keeps its current database, so USE sticks for its later queries.
  await client.command({ query: `USE ${database}` });
  // Same engine, same data; its own statement queue (and the same lane for any parameters).
  const ingestClient = scheduledClient(dataPath, scheduler);
  await ingestClient.command({ query: `USE ${database}` });
  return {
    client,
    ingestClient,
    kind: 'embedded',
    database,
    scheduler,
    close: async () => {
      await ingestClient.close();
      await client.close();
    },
  };
}

/** A client on a new chDB connection to the engine at `dataPath`, its parameterised queries through `scheduler`. */
function scheduledClient(dataPath: string, scheduler: QueryScheduler): ClickHouseClient {
  // chdb types its connection against its own copy of @clickhouse/client-common; the runtime
  // contract is the same, so bridge the nominal type difference here, once.
  const chdb = createChdbConnection({ path: dataPath });
  const connection = scheduledConnection(chdb, scheduler) as unknown as NonNullable<
    Parameters<typeof createClient>[0]
  >['connection'];
  return createClient({ connection });
}

/** The connection methods that may carry query parameters. */
const PARAMETERISED = new Set<PropertyKey>(['query', 'exec', 'command']);

/**
 * The chDB connection with its parameterised calls put through `scheduler` (priority order, one
 * at a time); calls without parameters (inserts, DDL) go straight to the engine, in parallel.
 * Everything else (the `.chdb` raw-insert extension included) is the connection's own.
 */
function scheduledConnection<C extends object>(connection: C, scheduler: QueryScheduler): C {
  return new Proxy(connection, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const method = (value as (...args: unknown[]) => unknown).bind(target);
      if (!PARAMETERISED.has(property)) return method;
      return (params: { query_params?: Record<string, unknown> }) =>
        params.query_params && Object.keys(params.query_params).length > 0
          ? scheduler.run(() => method(params) as Promise<unknown>)
          : method(params);
    },
  });
}

/** Run a parameterised query and return its rows as objects. */
export async function queryRows<T>(
  client: ClickHouseClient,
  query: string,
  params: Record<string, unknown> = {},
): Promise<T[]> {
  const result = await client.query({ query, query_params: params, format: 'JSONEachRow' });
  return result.json<T>();
}
