import { describe, expect, it } from 'vitest';
import { servicesStatus } from '../../local-services/stack.ts';
import { testConfig } from '../helpers/stack.ts';

describe('local services', () => {
  it('the suite runs against a healthy Temporal dev server and Kafka broker', async () => {
    const status = await servicesStatus(testConfig());
    const byName = Object.fromEntries(status.map((s) => [s.name, s]));
    expect(byName.temporal).toMatchObject({ mode: 'external', healthy: true });
    expect(byName.kafka).toMatchObject({ mode: 'external', healthy: true });
    expect(byName.clickhouse).toMatchObject({ mode: 'embedded', healthy: true });
  });
});
