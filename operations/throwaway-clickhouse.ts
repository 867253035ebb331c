import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openClickHouse, type ClickHouse } from '../platform/clickhouse/client.ts';
import { loadConfig } from '../platform/config.ts';

/**
 * One throwaway embedded ClickHouse in a temporary data directory, for a command that reads files
 * through it (Parquet) or counts in it, and removes it on close. chDB allows one data directory
 * per process: open one at a time.
 */
export async function openThrowawayClickHouse(prefix: string): Promise<{ ch: ClickHouse; close: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const ch = await openClickHouse(loadConfig({ env: {}, overrides: { dataDir: dir, logLevel: 'warn' } }));
  return {
    ch,
    close: async () => {
      await ch.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
