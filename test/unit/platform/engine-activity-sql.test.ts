import { describe, expect, it } from 'vitest';
import { ENGINE_WORK_EVENTS, ENGINE_WORK_SQL } from '../../../platform/clickhouse/engine-activity-repository.ts';

describe('the engine work counters read', () => {
  it('asks for exactly the counters it reports', () => {
    const asked = [...ENGINE_WORK_SQL.matchAll(/'([A-Za-z]+)'/g)].map((m) => m[1]);
    expect(asked.sort()).toEqual([...ENGINE_WORK_EVENTS].sort());
  });
});
