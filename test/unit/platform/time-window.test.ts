import { describe, expect, it } from 'vitest';
import { eventWindowSql } from '../../../platform/clickhouse/event-window.ts';
import { checkedTimeWindow, sinceFilter, windowFilter } from '../../../platform/clickhouse/time-window.ts';
import { ValidationError } from '../../../platform/errors.ts';

describe('the one time filter', () => {
  it('renders [start, end) on any DateTime64 column, the bounds as Int64 parameters', () => {
    expect(windowFilter('received_at', { start: 1000, end: 2000 })).toEqual({
      sql: 'received_at >= fromUnixTimestamp64Milli({start:Int64}) AND received_at < fromUnixTimestamp64Milli({end:Int64})',
      params: { start: 1000, end: 2000 },
    });
    expect(sinceFilter('e.ts', 5)).toEqual({
      sql: 'e.ts >= fromUnixTimestamp64Milli({since:Int64})',
      params: { since: 5 },
    });
  });

  it('checks a window from caller input: whole epoch ms, end after start', () => {
    expect(checkedTimeWindow(new Date(1000), 2000)).toEqual({ start: 1000, end: 2000 });
    expect(() => checkedTimeWindow(1000.5, 2000)).toThrow(ValidationError);
    expect(() => checkedTimeWindow(2000, 2000)).toThrow(/must be after its start/);
  });

  it('filters an event window in PREWHERE (before FINAL), all versions unless one is named', () => {
    const final = eventWindowSql({ modelId: 'm', start: 1, end: 2 });
    expect(final.source).toMatch(/^scoring_events FINAL\n {2}PREWHERE model_id = \{model:String\}/);
    expect(final.source).toContain(windowFilter('ts', { start: 1, end: 2 }).sql);
    expect(final.settings).toContain('do_not_merge_across_partitions_select_final = 1');
    expect(final.params).toEqual({ model: 'm', version: '', start: 1, end: 2 });
    const raw = eventWindowSql({ modelId: 'm', modelVersion: 'v2', start: 1, end: 2, final: false });
    expect(raw.source).toMatch(/^scoring_events\n/);
    expect(raw.settings).toBe('');
    expect(raw.params.version).toBe('v2');
  });
});
