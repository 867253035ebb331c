import os from 'node:os';
import { localApiToken } from '../platform/auth.ts';
import { writeAccess, type AccessAction } from '../platform/clickhouse/access-log-repository.ts';
import { openClickHouse, type ClickHouse } from '../platform/clickhouse/client.ts';
import { applyMigrations } from '../platform/clickhouse/migrations.ts';
import type { HalflifeConfig } from '../platform/config.ts';
import { ConfigError, DependencyError, HalflifeError, NotFoundError, ValidationError } from '../platform/errors.ts';

/**
 * Reads and writes of CLI commands that touch models, audit data or personal data. The embedded
 * ClickHouse belongs to one process: while the daemon owns it the command goes through the API
 * (which keeps its own access log); otherwise it opens the database itself and records the access
 * with source 'cli' and the person (--as, else $USER).
 */

export interface StoreCall<T> {
  method: 'GET' | 'POST' | 'PUT';
  apiPath: string;
  body?: unknown;
  direct: (ch: ClickHouse) => Promise<T>;
  /** The access-log entry of the direct path. */
  access: {
    action: AccessAction;
    command: string;
    actor: string;
    modelId?: string;
    modelVersion?: string;
    detail?: (result: T) => unknown;
  };
}

export function cliActor(as?: string): string {
  return as ?? process.env.USER ?? os.userInfo().username ?? 'cli';
}

/** The daemon's API address as this configuration's CLI reaches it. */
export function apiBase(config: HalflifeConfig): string {
  return `http://${config.api.host === '0.0.0.0' ? '127.0.0.1' : config.api.host}:${config.api.port}`;
}

async function daemonRunning(base: string): Promise<boolean> {
  try {
    return (await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

/** Error class for an API answer, so the CLI exits with the documented code. */
function apiError(status: number, message: string): HalflifeError {
  if (status === 404) return new NotFoundError(message);
  if (status === 400) return new ValidationError(message);
  if (status === 401 || status === 403)
    return new ConfigError(`the daemon refused the CLI's token (${status}): ${message}`);
  if (status === 503) return new DependencyError(message);
  return new HalflifeError(`the daemon's API answered ${status}: ${message}`);
}

const STATUS_OF: Record<number, number> = { 2: 400, 3: 400, 4: 503, 5: 404 };

export async function viaStore<T>(config: HalflifeConfig, call: StoreCall<T>): Promise<T> {
  const base = apiBase(config);
  if (!config.clickhouse.url && (await daemonRunning(base))) {
    const response = await fetch(`${base}${call.apiPath}`, {
      method: call.method,
      headers: {
        authorization: `Bearer ${localApiToken(config)}`,
        'user-agent': `halflife-cli (${call.access.actor})`,
        ...(call.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
    });
    const body = (await response.json().catch(() => ({}))) as { message?: string };
    if (!response.ok) throw apiError(response.status, body.message ?? JSON.stringify(body));
    return body as T;
  }
  let ch: ClickHouse;
  try {
    ch = await openClickHouse(config);
  } catch (err) {
    throw new DependencyError(
      `cannot open ClickHouse (${(err as Error).message}). If a daemon owns the embedded database, make sure its API is reachable at ${base}.`,
      { cause: err },
    );
  }
  try {
    await applyMigrations(ch.client);
    const entry = {
      actor: call.access.actor,
      role: 'local',
      source: 'cli' as const,
      action: call.access.action,
      method: call.method,
      route: call.access.command,
      // The equivalent API path, never the command line: arguments may carry personal data (gdpr --subject).
      path: call.apiPath,
      modelId: call.access.modelId ?? '',
      modelVersion: call.access.modelVersion ?? '',
      ip: '',
      userAgent: `halflife-cli on ${os.hostname()}`,
    };
    try {
      const result = await call.direct(ch);
      await writeAccess(ch.client, [{ ...entry, status: 200, detail: call.access.detail?.(result) }]);
      return result;
    } catch (err) {
      const code = err instanceof HalflifeError ? err.exitCode : 1;
      await writeAccess(ch.client, [
        { ...entry, status: STATUS_OF[code] ?? 500, detail: { error: (err as Error).message.slice(0, 500) } },
      ]).catch(() => undefined);
      throw err;
    }
  } finally {
    await ch.close();
  }
}

/** A read for a CLI command, through {@link viaStore} with the access entry of a read by the current user. */
export function readFromStore<T>(
  config: HalflifeConfig,
  apiPath: string,
  direct: (ch: ClickHouse) => Promise<T>,
  command = apiPath,
): Promise<T> {
  return viaStore(config, { method: 'GET', apiPath, direct, access: { action: 'read', command, actor: cliActor() } });
}
