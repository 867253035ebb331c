import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from './client.ts';
import { sinceFilter } from './time-window.ts';

/**
 * The access log (`access_log`, append-only): every API read of a model or artifact, every write,
 * denied attempts included, and the CLI's direct-database reads and writes. Rows are buffered and
 * written in batches (ClickHouse wants few large inserts); `flush()` before reading them back.
 */

export type AccessSource = 'api' | 'cli';
export type AccessAction = 'read' | 'write';

export interface AccessEntry {
  /** The token's name (API) or the person (CLI: --as / $USER); '' when the caller had no valid token. */
  actor: string;
  /** The token's role; '' when unauthenticated, 'local' for the CLI's direct path. */
  role: string;
  source: AccessSource;
  action: AccessAction;
  method: string;
  /** The route pattern (`/v1/models/:model`) or the CLI command (`models show`). */
  route: string;
  /** The concrete path or command line. */
  path: string;
  modelId?: string;
  modelVersion?: string;
  /** HTTP status; the CLI uses 200 for success and the exit-code-like 4xx/5xx it would have answered. */
  status: number;
  ip?: string;
  userAgent?: string;
  /** Anything else worth keeping (JSON text): counts of an erasure, the reason of a promotion. */
  detail?: unknown;
  /** @default now */
  at?: number;
}

export interface AccessRecord extends Required<Omit<AccessEntry, 'detail' | 'at'>> {
  accessId: string;
  at: string;
  detail: unknown;
}

interface AccessRow {
  access_id: string;
  at_ms: string;
  actor: string;
  role: string;
  source: string;
  action: string;
  method: string;
  route: string;
  path: string;
  model_id: string;
  model_version: string;
  status: number;
  ip: string;
  user_agent: string;
  detail: string;
}

function toRow(e: AccessEntry): Record<string, unknown> {
  return {
    access_id: randomUUID(),
    at: e.at ?? Date.now(),
    actor: e.actor,
    role: e.role,
    source: e.source,
    action: e.action,
    method: e.method,
    route: e.route,
    path: e.path.slice(0, 2048),
    model_id: e.modelId ?? '',
    model_version: e.modelVersion ?? '',
    status: e.status,
    ip: e.ip ?? '',
    user_agent: (e.userAgent ?? '').slice(0, 512),
    detail: e.detail === undefined ? '' : JSON.stringify(e.detail),
  };
}

/** Write entries at once (the CLI path: one entry, then the process ends). */
export async function writeAccess(client: ClickHouseClient, entries: AccessEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await client.insert({ table: 'access_log', values: entries.map(toRow), format: 'JSONEachRow' });
}

export interface AccessLogWriterOptions {
  /** Longest an entry waits in the buffer (ms). @default 1000 */
  flushEveryMs?: number;
  /** Entries that trigger a flush at once. @default 1000 */
  maxBuffered?: number;
  onError?: (err: unknown, lost: number) => void;
}

/** Buffers API access entries and writes them in batches. */
export class AccessLogWriter {
  readonly #client: ClickHouseClient;
  readonly #maxBuffered: number;
  readonly #onError: (err: unknown, lost: number) => void;
  #buffer: Record<string, unknown>[] = [];
  #flushing: Promise<void> = Promise.resolve();
  readonly #timer: NodeJS.Timeout;

  constructor(client: ClickHouseClient, options: AccessLogWriterOptions = {}) {
    this.#client = client;
    this.#maxBuffered = options.maxBuffered ?? 1000;
    this.#onError = options.onError ?? (() => undefined);
    this.#timer = setInterval(() => void this.flush(), options.flushEveryMs ?? 1000);
    this.#timer.unref();
  }

  append(entry: AccessEntry): void {
    this.#buffer.push(toRow(entry));
    if (this.#buffer.length >= this.#maxBuffered) void this.flush();
  }

  /** Write what is buffered; resolves when everything appended before the call is stored. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      if (this.#buffer.length === 0) return;
      const batch = this.#buffer;
      this.#buffer = [];
      try {
        await this.#client.insert({ table: 'access_log', values: batch, format: 'JSONEachRow' });
      } catch (err) {
        // Keep the rows for the next attempt, bounded so an outage cannot exhaust memory.
        this.#buffer = [...batch, ...this.#buffer].slice(-100_000);
        this.#onError(err, batch.length);
      }
    });
    return this.#flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}

export interface AccessQuery {
  modelId?: string;
  actor?: string;
  /** Epoch ms, inclusive. */
  since?: number;
  /** @default 1000 */
  limit?: number;
}

/** Access entries, newest first. */
export async function listAccess(client: ClickHouseClient, q: AccessQuery = {}): Promise<AccessRecord[]> {
  const since = sinceFilter('at', q.since ?? 0);
  const rows = await queryRows<AccessRow>(
    client,
    `SELECT access_id, toUnixTimestamp64Milli(at) AS at_ms, actor, role, source, action, method, route, path, model_id, model_version,
            status, ip, user_agent, detail
     FROM access_log
     WHERE ({model:String} = '' OR model_id = {model:String})
       AND ({actor:String} = '' OR actor = {actor:String})
       AND ${since.sql}
     ORDER BY at DESC, access_id LIMIT {limit:UInt32}`,
    { model: q.modelId ?? '', actor: q.actor ?? '', ...since.params, limit: q.limit ?? 1000 },
  );
  return rows.map((r) => ({
    accessId: r.access_id,
    at: new Date(Number(r.at_ms)).toISOString(),
    actor: r.actor,
    role: r.role,
    source: r.source as AccessSource,
    action: r.action as AccessAction,
    method: r.method,
    route: r.route,
    path: r.path,
    modelId: r.model_id,
    modelVersion: r.model_version,
    status: Number(r.status),
    ip: r.ip,
    userAgent: r.user_agent,
    detail: r.detail === '' ? null : (JSON.parse(r.detail) as unknown),
  }));
}
