import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Session } from 'chdb';
import { afterAll } from 'vitest';

/**
 * chDB for making a test's input files (CSV written as Parquet), on a data directory the suite
 * removes when it is done. chdb's standalone queries use a default connection whose directory
 * (`clickhouse-embedded-<uuid>` in the temp dir) only a normal exit removes, and a test worker ends
 * on SIGTERM. Call at module or describe level; chDB takes one data directory per process.
 */
export function scratchChdb(): Session {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'halflife-chdb-'));
  const session = new Session(dir);
  afterAll(() => {
    session.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return session;
}
