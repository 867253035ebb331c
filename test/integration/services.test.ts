import { describe, expect, it } from 'vitest';
import { servicesStatus } from '../../local-services/stack.ts';
import { freePort } from '../../local-services/process.ts';
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
});
