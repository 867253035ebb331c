import { describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '@clickhouse/client';
import { DecisionBatcher } from '../../activities/decision-batcher.ts';
import type { DecisionRecord, RepeatableRecord } from '../../platform/clickhouse/decisions-repository.ts';

const decision = (id: string): DecisionRecord => ({
  decisionId: id,
  modelId: 'm',
  modelVersion: 'v1',
  workflowId: 'monitor-m',
  runId: 'r',
  decidedAt: 1_700_000_000_000,
  kind: 'no-action',
  actor: 'system',
  reason: 'test',
  policy: { name: 'p', version: '1', hash: 'h' },
  statistics: null,
  thresholds: null,
  windows: null,
  trainingWindow: null,
  lineageId: '',
  details: null,
});

/** A batcher whose writes are recorded and settled by the test; no engine is touched. */
function recorded(maxBatch = 3) {
  const writes: {
    ids: string[];
    repeatables: (RepeatableRecord | undefined)[];
    resolve: (stored: boolean[]) => void;
    reject: (e: unknown) => void;
  }[] = [];
  const batcher = new DecisionBatcher({} as ClickHouseClient, {
    lingerMs: 0,
    maxBatch,
    writeBatch: (decisions, repeatables) =>
      new Promise((resolve, reject) => {
        writes.push({ ids: decisions.map((d) => d.decisionId), repeatables, resolve, reject });
      }),
  });
  return { batcher, writes };
}

const until = async (condition: () => boolean): Promise<void> => {
  while (!condition()) await new Promise((r) => setImmediate(r));
};

describe('decision batcher', () => {
  it('writes the decisions recorded together in one batch and answers each with its own flag', async () => {
    const { batcher, writes } = recorded();
    const answers = ['a', 'b', 'c'].map((id) => batcher.record(decision(id)));
    await until(() => writes.length === 1);
    expect(writes[0]!.ids).toEqual(['a', 'b', 'c']);
    writes[0]!.resolve([true, false, true]);
    expect(await Promise.all(answers)).toEqual([{ stored: true }, { stored: false }, { stored: true }]);
    expect(batcher.stats()).toMatchObject({ batches: 1, decisions: 3 });
  });

  it('writes what arrives during a write in the next batch, at most maxBatch a batch', async () => {
    const { batcher, writes } = recorded(2);
    const first = batcher.record(decision('a'));
    await until(() => writes.length === 1);
    const later = ['b', 'c', 'd'].map((id) => batcher.record(decision(id)));
    // One batch at a time: nothing more is written until the first is done.
    await new Promise((r) => setTimeout(r, 5));
    expect(writes).toHaveLength(1);
    writes[0]!.resolve([true]);
    expect(await first).toEqual({ stored: true });
    await until(() => writes.length === 2);
    expect(writes[1]!.ids).toEqual(['b', 'c']);
    writes[1]!.resolve([true, true]);
    await until(() => writes.length === 3);
    expect(writes[2]!.ids).toEqual(['d']);
    writes[2]!.resolve([true]);
    expect(await Promise.all(later)).toEqual([{ stored: true }, { stored: true }, { stored: true }]);
  });

  it('rejects every decision of a failed batch, and writes the next ones afresh', async () => {
    const { batcher, writes } = recorded();
    const failing = [batcher.record(decision('a')), batcher.record(decision('b'))];
    await until(() => writes.length === 1);
    writes[0]!.reject(new Error('engine down'));
    for (const p of failing) await expect(p).rejects.toThrow('engine down');
    const again = batcher.record(decision('a'));
    await until(() => writes.length === 2);
    expect(writes[1]!.ids).toEqual(['a']);
    writes[1]!.resolve([true]);
    expect(await again).toEqual({ stored: true });
  });

  it("hands each decision's repeatable bound to its batch's write, in order", async () => {
    const { batcher, writes } = recorded();
    const answers = [
      batcher.record(decision('a')),
      batcher.record(decision('b'), { earlierAttemptsSince: 5 }),
      batcher.record(decision('c')),
    ];
    await until(() => writes.length === 1);
    expect(writes[0]!.ids).toEqual(['a', 'b', 'c']);
    expect(writes[0]!.repeatables).toEqual([undefined, { earlierAttemptsSince: 5 }, undefined]);
    writes[0]!.resolve([true, true, true]);
    await Promise.all(answers);
  });
});
