import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { openClickHouse, type ClickHouse } from '../platform/clickhouse/client.ts';
import { applyMigrations } from '../platform/clickhouse/migrations.ts';
import type { HalflifeConfig } from '../platform/config.ts';
import { DependencyError, HalflifeError, NotFoundError } from '../platform/errors.ts';

/**
 * Reads for CLI commands. The embedded ClickHouse belongs to one process at a time, so while
 * the daemon runs the CLI asks its API; otherwise (or with a ClickHouse server) it opens the
 * database itself.
 */
export async function readFromStore<T>(config: HalflifeConfig, apiPath: string, direct: (ch: ClickHouse) => Promise<T>): Promise<T> {
  const base = `http://${config.api.host === '0.0.0.0' ? '127.0.0.1' : config.api.host}:${config.api.port}`;
  if (!config.clickhouse.url && (await daemonRunning(base))) {
    const response = await fetch(`${base}${apiPath}`, { headers: { authorization: `Bearer ${apiToken(config)}` } });
    const body = (await response.json()) as { message?: string };
    if (response.status === 404) throw new NotFoundError(body.message ?? `not found: ${apiPath}`);
    if (!response.ok) throw new HalflifeError(`the daemon's API answered ${response.status}: ${body.message ?? JSON.stringify(body)}`);
    return body as T;
  }
  let ch: ClickHouse;
  try {
    ch = await openClickHouse(config);
  } catch (err) {
    throw new DependencyError(`cannot open ClickHouse (${(err as Error).message}). If a daemon owns the embedded database, make sure its API is reachable at ${base}.`, { cause: err });
  }
  try {
    await applyMigrations(ch.client);
    return await direct(ch);
  } finally {
    await ch.close();
  }
}

async function daemonRunning(base: string): Promise<boolean> {
  try {
    const response = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) });
    return response.ok;
  } catch {
    return false;
  }
}

/** The token the CLI uses for the local daemon: configured, or the generated admin token file. */
export function apiToken(config: HalflifeConfig): string {
  if (config.api.token) return config.api.token;
  const file = path.join(config.dataDir, 'api-token');
  if (!existsSync(file)) throw new DependencyError(`no API token: set HALFLIFE_API_TOKEN or start the daemon once to generate ${file}`);
  return readFileSync(file, 'utf8').trim();
}
