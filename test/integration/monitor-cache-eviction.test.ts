import type { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDecisions, type DecisionRecord } from '../../platform/clickhouse/decisions-repository.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { parsePolicy } from '../../platform/policy-file.ts';
import { connectTemporal } from '../../platform/temporal.ts';
import { monitorWorkflowId } from '../../workflows/messages.ts';
import type { ModelMonitorInput } from '../../workflows/monitor/input.ts';
import type { LateWindows } from '../../workflows/monitor/state.ts';
import { waitUntil } from '../helpers/kafka.ts';
import { runDaemonWorker } from '../helpers/daemon-worker.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';

const MONITORS = 5;
const CACHE = 2;
const TICKS = 5;

/**
 * A fleet larger than the worker's workflow cache (temporal.maxCachedWorkflows): the daemon's
 * worker (createTemporalWorker) with room for two workflows runs five monitors at a 2 s cadence
 * on the real Temporal dev server. Monitors are evicted between their ticks and replay their
 * history when their next task comes; each must carry on where it was: every window decided once,
 * in order, none skipped (on a loaded machine a late monitor may coalesce whole windows, which it says).
 */
describe('monitors beyond the workflow cache (real Temporal)', () => {
  const config = testConfig({ temporal: { taskQueue: uniqueName('tq'), maxCachedWorkflows: CACHE } });
  const modelIds = Array.from({ length: MONITORS }, (_, i) => uniqueName(`evicted-${i}`));
  let ch: ClickHouse;
  let temporalClient: { connection: Connection; client: Client };
  let stopWorker = async () => {};
  let mostCached = 0;
  /** Windows each monitor had decided when the test stopped them. */
  const decided: number[] = [];
  /** A monitor's decisions on a window, oldest first. */
  const windowDecisions = async (modelId: string) =>
    (await listDecisions(ch.client, { modelId, limit: 1000 }))
      .reverse()
      .filter((d) => (d.statistics as { window?: unknown } | null)?.window !== undefined);

  beforeAll(async () => {
    ch = await openClickHouse(config);
    await applyMigrations(ch.client);
    const { worker, stop } = await runDaemonWorker(config, ch.client);
    stopWorker = stop;
    temporalClient = await connectTemporal(config);
    const { client } = temporalClient;
    for (const modelId of modelIds) {
      const { policy, ref } = parsePolicy({
        name: 'eviction',
        version: '1',
        model: modelId,
        trigger: { kind: 'threshold', metric: 'accuracy', threshold: 0.8, consecutiveWindows: 2 },
      });
      const input: ModelMonitorInput = { modelId, policy, policyRef: ref, cadence: '2s', settle: '0s' };
      await client.workflow.start('ModelMonitor', {
        workflowId: monitorWorkflowId(modelId),
        taskQueue: config.temporal.taskQueue,
        args: [input],
      });
    }
    // Progress read from the decisions table, not by querying the monitors: a query of a monitor
    // outside the cache waits for a replay, which a loaded machine can time out.
    await waitUntil(
      `${TICKS} decided windows of each of ${MONITORS} monitors`,
      async () => {
        mostCached = Math.max(mostCached, worker.getStatus().numCachedWorkflows);
        for (const modelId of modelIds) if ((await windowDecisions(modelId)).length < TICKS) return false;
        return true;
      },
      240_000,
      500,
    );
    for (const modelId of modelIds) await client.workflow.getHandle(monitorWorkflowId(modelId)).terminate('test over');
    for (const modelId of modelIds) decided.push((await windowDecisions(modelId)).length);
  }, 300_000);

  afterAll(async () => {
    await temporalClient?.connection.close();
    await stopWorker();
    await ch?.close();
  });

  const windowOf = (d: DecisionRecord) => (d.statistics as { window: { start: number; end: number } }).window;

  it('keeps no more workflows cached than the setting allows', () => {
    expect(mostCached).toBeGreaterThan(0);
    expect(mostCached).toBeLessThanOrEqual(CACHE);
  });

  it('had to replay monitors: more of them went on ticking than the cache can hold', () => {
    // A workflow task runs on a cached workflow; one never evicted keeps its place for good. With
    // five monitors past their first tick and room for two, at least three were evicted and
    // rebuilt from their history (the SDK fetches it whole when a task finds the run uncached).
    expect(decided.filter((n) => n >= 2).length).toBeGreaterThan(CACHE);
  });

  it('decides every window once and in order after each replay', async () => {
    for (const modelId of modelIds) {
      const decisions = await windowDecisions(modelId);
      expect(decisions.length, modelId).toBeGreaterThanOrEqual(TICKS);
      // The rows in the failure message: a gap or overlap is diagnosed from the decisions themselves.
      const story = decisions
        .map((d) => {
          const w = windowOf(d);
          return `${d.decisionId} decided ${d.decidedAt} window ${w.start}..${w.end}${d.reason.startsWith('the monitor fell behind') ? ` (${d.reason.split(';')[0]})` : ''}`;
        })
        .join('\n');
      const windows = decisions.map(windowOf);
      for (let k = 1; k < windows.length; k++) {
        // A monitor that fell behind on a loaded machine coalesces whole cadences, never a part of
        // one; past maxCoalescedWindows it skips the oldest due windows — said in its decision.
        const skipped = (decisions[k]!.details as { lateWindows?: LateWindows }).lateWindows?.skipped ?? null;
        const expectedStart = skipped ? skipped.end : windows[k - 1]!.end;
        if (skipped) expect(skipped.start, `${modelId} window ${k} skipped from\n${story}`).toBe(windows[k - 1]!.end);
        expect(windows[k]!.start, `${modelId} window ${k}\n${story}`).toBe(expectedStart);
        expect((windows[k]!.end - windows[k]!.start) % 2000).toBe(0);
      }
      expect(new Set(decisions.map((d) => d.decisionId)).size).toBe(decisions.length);
    }
  });
});
