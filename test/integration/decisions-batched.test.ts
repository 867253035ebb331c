/**
 * Decisions recorded in batches (platform/clickhouse/decisions-repository.ts `recordDecisions`,
 * activities/decision-batcher.ts) on the embedded engine: each decision is stored once — against
 * what is stored already, within a batch, and for a retry whose decision time is older than the
 * rest of its batch — and the monitors' concurrent records become one batch. A repeatable record
 * (the monitor's local activity, run again when its workflow task did not complete) stored twice
 * reads back once through every reader, and a later attempt at another time replaces the earlier.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecisionBatcher } from '../../activities/decision-batcher.ts';
import { openClickHouse, queryRows, type ClickHouse } from '../../platform/clickhouse/client.ts';
import {
  getDecision,
  listDecisions,
  recordDecision,
  recordDecisions,
  type DecisionRecord,
} from '../../platform/clickhouse/decisions-repository.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { modelHistory } from '../../platform/clickhouse/audit-repository.ts';
import {
  latestDecisions,
  latestWindowDecisions,
  recentDecisions,
  recentWindowDecisions,
} from '../../platform/clickhouse/dashboard-repository.ts';
import { decisionCounts, monitorTicks } from '../../platform/clickhouse/metrics-repository.ts';
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

  describe('a repeatable record (a local activity run again by its workflow task)', () => {
    const RUN_START = T0 - 10 * MINUTE;
    const repeatable = { earlierAttemptsSince: RUN_START };
    /** A monitor tick's record as the workflow makes it: the window in its statistics and windows. */
    const tick = (modelId: string, n: number, decidedAt: number, kind: DecisionRecord['kind'], reason: string) => {
      const window = { start: T0 + (n - 1) * MINUTE, end: T0 + n * MINUTE };
      return {
        ...decision(modelId, n, decidedAt),
        workflowId: `halflife-monitor-${modelId}`,
        decisionId: `halflife-monitor-${modelId}/run/${n}`,
        kind,
        reason,
        statistics: { window, quality: { value: 0.9 } },
        windows: [window],
      };
    };

    /** What each reader of decisions says of `modelId`: the decision ids, kinds, reasons and times it sees. */
    const readers = async (modelId: string) => {
      const listed = await listDecisions(ch.client, { modelId });
      const one = (rows: { decision_id: string; kind: string; at: string }[]) =>
        rows
          .filter((r) => r.decision_id.startsWith(`halflife-monitor-${modelId}/`))
          .map((r) => [r.decision_id, r.kind, Number(r.at)]);
      return {
        list: listed.map((d) => [d.decisionId, d.kind, d.decidedAt]),
        explain: await Promise.all(listed.map(async (d) => (await getDecision(ch.client, d.decisionId))?.reason)),
        audit: (await modelHistory(ch.client, modelId)).entries.map((e) => [e.id, e.kind, Date.parse(e.at)]),
        dashboardWindows: one(await recentWindowDecisions(ch.client, modelId, 100)),
        dashboardDecisions: one(await recentDecisions(ch.client, modelId, 100)),
        fleetLatest: one((await latestDecisions(ch.client)).filter((r) => r.model_id === modelId)),
        fleetLatestWindow: one((await latestWindowDecisions(ch.client)).filter((r) => r.model_id === modelId)),
        metricsByKind: (await decisionCounts(ch.client))
          .filter((r) => r.model_id === modelId)
          .map((r) => [r.kind, Number(r.n)]),
        metricsTicks: (await monitorTicks(ch.client)).filter((r) => r.model_id === modelId).map((r) => Number(r.n)),
      };
    };

    it('retried, removes the later ticks its failed attempt stored, and nothing else', async () => {
      const m = uniqueName('decisions-repeat-orphans');
      // A monitor behind its cadence decided ticks 5 and 6 back to back in one workflow task, which then
      // failed; the next attempt, 6 s later, decides tick 5 again over a wider (coalesced) window. Tick 4
      // came before, in a task that completed; another run of the same model stored its own tick 6.
      const completed = tick(m, 4, T0 + 4 * MINUTE, 'no-action', 'tick 4');
      const first5 = tick(m, 5, T0 + 5 * MINUTE, 'no-action', 'tick 5, failed attempt');
      const first6 = tick(m, 6, T0 + 5 * MINUTE + 100, 'no-action', 'tick 6, failed attempt');
      const otherRun = { ...tick(m, 6, T0 + 5 * MINUTE + 200, 'no-action', 'other run'), runId: 'run-2' };
      otherRun.decisionId = `halflife-monitor-${m}/run-2/6`;
      expect(
        await recordDecisions(ch.client, [completed, first5, first6, otherRun], [repeatable, repeatable, repeatable]),
      ).toEqual([true, true, true, true]);
      const retry5 = tick(m, 5, T0 + 5 * MINUTE + 6_000, 'no-action', 'tick 5, retry');
      expect(await recordDecisions(ch.client, [retry5], [repeatable])).toEqual([true]);
      const stored = async () =>
        (
          await queryRows<{ decision_id: string; at: string }>(
            ch.client,
            'SELECT decision_id, toUnixTimestamp64Milli(decided_at) AS at FROM decisions WHERE model_id = {m:String} ORDER BY decision_id',
            { m },
          )
        ).map((r) => [r.decision_id, Number(r.at)]);
      expect(await stored()).toEqual(
        [
          [completed.decisionId, completed.decidedAt],
          [retry5.decisionId, retry5.decidedAt],
          [otherRun.decisionId, otherRun.decidedAt],
        ].sort((x, y) => (String(x[0]) < String(y[0]) ? -1 : 1)),
      );
      // The retry's own tick 6 is then stored as any new record.
      const retry6 = tick(m, 6, T0 + 5 * MINUTE + 6_050, 'no-action', 'tick 6, retry');
      expect(await recordDecisions(ch.client, [retry6], [repeatable])).toEqual([true]);
      expect((await stored()).filter(([id]) => id === retry6.decisionId)).toEqual([
        [retry6.decisionId, retry6.decidedAt],
      ]);
    });

    it('stored twice at one decision time (its retry), reads back once through every reader', async () => {
      const m = uniqueName('decisions-repeat-same');
      const record = tick(m, 1, T0 + MINUTE, 'no-action', 'tick 1');
      const batcher = new DecisionBatcher(ch.client, { lingerMs: 0 });
      expect(await batcher.record(record, repeatable)).toEqual({ stored: true });
      expect(await batcher.record(record, repeatable)).toEqual({ stored: false });
      expect((await storedCount(m)).get(record.decisionId)).toBe(1);
      const id = record.decisionId;
      const at = record.decidedAt;
      expect(await readers(m)).toEqual({
        list: [[id, 'no-action', at]],
        explain: ['tick 1'],
        audit: [[id, 'no-action', at]],
        dashboardWindows: [[id, 'no-action', at]],
        dashboardDecisions: [[id, 'no-action', at]],
        fleetLatest: [[id, 'no-action', at]],
        fleetLatestWindow: [[id, 'no-action', at]],
        metricsByKind: [['no-action', 1]],
        metricsTicks: [1],
      });
    });

    it("replaced by a later attempt at another time and outcome: every reader sees the later attempt's row once", async () => {
      const m = uniqueName('decisions-repeat-later');
      const before = tick(m, 1, T0 + MINUTE, 'no-action', 'tick 1');
      // The first attempt of tick 2 decided a retrain and stored it; its workflow task then failed, and
      // the next attempt, 7 s later, read the window again and decided no action.
      const first = tick(m, 2, T0 + 2 * MINUTE, 'retrain', 'tick 2, first attempt');
      const second = tick(m, 2, T0 + 2 * MINUTE + 7_000, 'no-action', 'tick 2, second attempt');
      expect(await recordDecisions(ch.client, [before, first], [repeatable, repeatable])).toEqual([true, true]);
      expect(await recordDecisions(ch.client, [second], [repeatable])).toEqual([true]);
      // Its own retry (same time) stores nothing more and keeps it.
      expect(await recordDecisions(ch.client, [second], [repeatable])).toEqual([false]);
      const rows = await queryRows<{ decision_id: string; at: string }>(
        ch.client,
        'SELECT decision_id, toUnixTimestamp64Milli(decided_at) AS at FROM decisions WHERE model_id = {m:String} ORDER BY at',
        { m },
      );
      expect(rows.map((r) => [r.decision_id, Number(r.at)])).toEqual([
        [before.decisionId, before.decidedAt],
        [second.decisionId, second.decidedAt],
      ]);
      const readBack = await readers(m);
      expect(readBack.list).toEqual([
        [second.decisionId, 'no-action', second.decidedAt],
        [before.decisionId, 'no-action', before.decidedAt],
      ]);
      expect(readBack.explain).toEqual(['tick 2, second attempt', 'tick 1']);
      expect(readBack.audit).toEqual([
        [before.decisionId, 'no-action', before.decidedAt],
        [second.decisionId, 'no-action', second.decidedAt],
      ]);
      expect(readBack.dashboardWindows.map((r) => r[0])).toEqual([before.decisionId, second.decisionId]);
      expect(readBack.dashboardDecisions.map((r) => r[0])).toEqual([second.decisionId, before.decisionId]);
      expect(readBack.fleetLatest).toEqual([[second.decisionId, 'no-action', second.decidedAt]]);
      expect(readBack.fleetLatestWindow).toEqual([[second.decisionId, 'no-action', second.decidedAt]]);
      expect(readBack.metricsByKind).toEqual([['no-action', 2]]);
      expect(readBack.metricsTicks).toEqual([2]);
    });
  });
});
