import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, onTestFinished } from 'vitest';

/**
 * A new directory in the OS temp dir, removed with its contents when the test that made it
 * finishes; made outside a test (at module or describe level), when the suite around it is done.
 * Not for beforeAll hooks: an afterAll registered while tests run is never called (remove it
 * yourself there). Tests must not leave files on the machine that runs them.
 */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    onTestFinished(remove);
  } catch {
    // Only a running test takes onTestFinished; while the file is collected, its suite takes afterAll.
    afterAll(remove);
  }
  return dir;
}
