import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ClickHouse } from '../platform/clickhouse/client.ts';
import type { HalflifeConfig } from '../platform/config.ts';
import { DependencyError } from '../platform/errors.ts';
import { cliActor, viaStore } from './store-access.ts';

/**
 * A read for a CLI command: through the daemon's API while it owns the embedded database,
 * directly otherwise (see {@link viaStore}, which also keeps the access log).
 */
export function readFromStore<T>(
  config: HalflifeConfig,
  apiPath: string,
  direct: (ch: ClickHouse) => Promise<T>,
  command = apiPath,
): Promise<T> {
  return viaStore(config, { method: 'GET', apiPath, direct, access: { action: 'read', command, actor: cliActor() } });
}

/** The token the CLI uses for the local daemon: configured, or the generated admin token file. */
export function apiToken(config: HalflifeConfig): string {
  if (config.api.token) return config.api.token;
  const file = path.join(config.dataDir, 'api-token');
  if (!existsSync(file))
    throw new DependencyError(`no API token: set HALFLIFE_API_TOKEN or start the daemon once to generate ${file}`);
  return readFileSync(file, 'utf8').trim();
}
