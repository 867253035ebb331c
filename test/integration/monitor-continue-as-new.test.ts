import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDecision } from '../../platform/clickhouse/decisions-repository.ts';
import { forceRetrainUpdate, monitorWorkflowId, retrainWorkflowId, statusQuery } from '../../workflows/messages.ts';
import { watchingMonitorInput } from '../helpers/monitor-input.ts';
import { uniqueName } from '../helpers/stack.ts';
import { startMonitorHarness, type MonitorHarness } from '../helpers/monitor-harness.ts';

const HOUR = 3_600_000;
const TICKS_PER_RUN = 2;

/**
 * A monitor that has just continued as new still knows the windows its runs before evaluated: a
 * person's (or an erasure's) forced retrain between the new run's start and its first tick is
 * accepted, not refused with "no window has been evaluated yet" (seen in CI: the demo's erasure
 * asked a monitor that had continued as new a moment before). Time-skipping test server, windows
 * without traffic, two ticks a run.
 */
describe('a monitor between continue-as-new and its next tick (time-skipping test server)', () => {
  let harness: MonitorHarness;
  const modelId = uniqueName('continued');
  let firstRunId = '';
  let currentRunId = '';
  let ticksBeforeForce = -1;
  let ticksAfterForce = -1;
  let forced: { accepted: true; decisionId: string } | null = null;
  let refusal: string | null = null;

  beforeAll(async () => {
    harness = await startMonitorHarness();
    const { env, config } = harness;
    const input = watchingMonitorInput(modelId, 'continued', { maxTicksPerRun: TICKS_PER_RUN });
    const worker = await harness.createWorker();
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('ModelMonitor', {
        workflowId: monitorWorkflowId(modelId),
        taskQueue: config.temporal.taskQueue,
        args: [input],
      });
      firstRunId = handle.firstExecutionRunId;
      const latest = env.client.workflow.getHandle(monitorWorkflowId(modelId));
      // Half an hour at a time until the first run has made its ticks and continued as new; the
      // next window is then at least half an hour away, and time does not move without a sleep.
      for (let i = 0; i < 12; i++) {
        await env.sleep(HOUR / 2);
        currentRunId = (await latest.describe()).runId;
        if (currentRunId !== firstRunId) break;
      }
      ticksBeforeForce = (await latest.query(statusQuery)).ticks;
      try {
        forced = await latest.executeUpdate(forceRetrainUpdate, { args: [{ actor: 'test-continued' }] });
      } catch (error) {
        refusal = String((error as { cause?: Error }).cause?.message ?? error);
      }
      ticksAfterForce = (await latest.query(statusQuery)).ticks;
      await latest.terminate('test over');
      await env.client.workflow
        .getHandle(retrainWorkflowId(modelId, 1))
        .terminate('test over')
        .catch(() => undefined);
    });
  }, 300_000);

  afterAll(async () => {
    await harness?.teardown();
  });

  it('continued as new after its ticks', () => {
    expect(currentRunId).not.toBe('');
    expect(currentRunId).not.toBe(firstRunId);
    expect(ticksBeforeForce).toBeGreaterThanOrEqual(TICKS_PER_RUN);
  });

  it('accepts a forced retrain before the new run has ticked, decided on the last window evaluated before', async () => {
    expect(refusal).toBeNull();
    expect(forced).toMatchObject({ accepted: true });
    // No window was evaluated in between: the update re-asked the policy on the carried evaluation.
    expect(ticksAfterForce).toBe(ticksBeforeForce);
    const decision = await getDecision(harness.ch.client, forced!.decisionId);
    expect(decision).toMatchObject({ actor: 'test-continued', runId: currentRunId });
  });
});
