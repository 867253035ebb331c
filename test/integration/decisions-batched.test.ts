/**
 * Decisions recorded in batches (platform/clickhouse/decisions-repository.ts `recordDecisions`,
 * activities/decision-batcher.ts) on the embedded engine: each decision is stored once — against
 * what is stored already, within a batch, and for a retry whose decision time is older than the
 * rest of its batch — and the monitors' concurrent records become one batch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecisionBatcher } from '../../activities/decision-batcher.ts';
import { openClickHouse, queryRows, type ClickHouse } from '../../platform/clickhouse/client.ts';
import {
  listDecisions,
  recordDecision,
  recordDecisions,
  type DecisionRecord,
} from '../../platform/clickhouse/decisions-repository.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';

const T0 = Date.UTC(2026, 10, 30, 12);
const MINUTE = 60_000;

const decision = (modelId: string, n: number, decidedAt = T0 + n * MINUTE): DecisionRecord => ({
  decisionId: `monitor-${modelId}/run/${n}`,
  modelId,
  modelVersion: 'v1',
  workflowId: `monitor-${modelId}`,
  runId: 'run',
  decidedAt,
  kind: 'no-action',
  actor: 'system',
  reason: `tick ${n}`,
  policy: { name: 'p', version: '1', hash: 'h' },
  statistics: { n },
  thresholds: null,
  windows: null,
  trainingWindow: null,
  lineageId: '',
  details: null,
});

describe('decisions recorded in batches (embedded ClickHouse)', () => {
  let ch: ClickHouse;
  const a = uniqueName('decisions-a');
  const b = uniqueName('decisions-b');

  const storedCount = async (modelId: string): Promise<Map<string, number>> => {
    const rows = await queryRows<{ decision_id: string; n: string }>(
      ch.client,
      'SELECT decision_id, count() AS n FROM decisions WHERE model_id = {m:String} GROUP BY decision_id',
      { m: modelId },
    );
    return new Map(rows.map((r) => [r.decision_id, Number(r.n)]));
  };

  beforeAll(async () => {
    ch = await openClickHouse(testConfig());
    await applyMigrations(ch.client);
  });
  afterAll(async () => {
    await ch?.close();
  });

  it('stores each decision of a batch once, skipping ids stored before or earlier in the batch', async () => {
    expect(await recordDecisions(ch.client, [decision(a, 1), decision(b, 1)])).toEqual([true, true]);
    // a's tick 1 again (a retry), tick 2 twice in one batch, b's tick 2: only the new ones are stored.
    const second = [decision(a, 1), decision(a, 2), decision(a, 2), decision(b, 2)];
    expect(await recordDecisions(ch.client, second)).toEqual([false, true, false, true]);
    expect(await storedCount(a)).toEqual(
      new Map([
        [`monitor-${a}/run/1`, 1],
        [`monitor-${a}/run/2`, 1],
      ]),
    );
    expect([...(await storedCount(b)).values()]).toEqual([1, 1]);
    // What a reader sees: every field as recorded.
    const listed = await listDecisions(ch.client, { modelId: a });
    expect(listed.map((d) => [d.decisionId, d.decidedAt, d.reason, d.statistics])).toEqual([
      [`monitor-${a}/run/2`, T0 + 2 * MINUTE, 'tick 2', { n: 2 }],
      [`monitor-${a}/run/1`, T0 + MINUTE, 'tick 1', { n: 1 }],
    ]);
  });

  it('finds a retry stored long before the rest of its batch (the look-up spans the batch’s decision times)', async () => {
    const old = decision(a, 3, T0 - 40 * 24 * 60 * MINUTE); // another month's partition
    expect(await recordDecision(ch.client, old)).toEqual({ stored: true });
    expect(await recordDecisions(ch.client, [decision(a, 4), old])).toEqual([true, false]);
    expect((await storedCount(a)).get(old.decisionId)).toBe(1);
  });

  it('turns concurrent records into one batch that stores each once', async () => {
    let writes = 0;
    const batcher = new DecisionBatcher(ch.client, {
      lingerMs: 20,
      writeBatch: (decisions) => {
        writes += 1;
        return recordDecisions(ch.client, decisions);
      },
    });
    const ids = Array.from({ length: 50 }, (_, i) => decision(b, 100 + i));
    const answers = await Promise.all([...ids, ids[0]!].map((d) => batcher.record(d)));
    expect(writes).toBe(1);
    expect(answers.filter((x) => x.stored)).toHaveLength(50);
    expect(answers[50]).toEqual({ stored: false });
    const stored = await storedCount(b);
    expect(ids.every((d) => stored.get(d.decisionId) === 1)).toBe(true);
  });
});
