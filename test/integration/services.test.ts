import { openSync, readSync, closeSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { servicesStatus } from '../../local-services/stack.ts';
import { freePort } from '../../local-services/process.ts';
import { serviceDirs } from '../../platform/paths.ts';
import { testConfig } from '../helpers/stack.ts';

describe('local services', () => {
  it('the suite runs against a healthy Temporal dev server and Kafka broker', async () => {
    const status = await servicesStatus(testConfig({ api: { port: await freePort() } }));
    const byName = Object.fromEntries(status.map((s) => [s.name, s]));
    expect(byName.temporal).toMatchObject({ mode: 'external', healthy: true });
    expect(byName.kafka).toMatchObject({ mode: 'external', healthy: true });
    // No daemon runs at this configuration's API address: chDB is not open anywhere, and not called healthy.
    expect(byName.clickhouse).toMatchObject({ mode: 'embedded', healthy: null, state: 'not-open' });
    expect(byName.clickhouse!.detail).toContain("opened by the daemon's process");
  });

  it("keeps the local Temporal server's store in WAL mode (one log append per commit, not a rollback journal)", () => {
    // SQLite's header says so itself: bytes 18 and 19 (file format write/read versions) are 2 in WAL mode, 1 in rollback mode.
    const fd = openSync(serviceDirs(inject('stack').dataDir).temporalDb, 'r');
    const header = Buffer.alloc(20);
    try {
      readSync(fd, header, 0, 20, 0);
    } finally {
      closeSync(fd);
    }
    expect(header.subarray(0, 15).toString('latin1')).toBe('SQLite format 3');
    expect([header[18], header[19]]).toEqual([2, 2]);
  });
});
