import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDecisions } from '../../platform/clickhouse/decisions-repository.ts';
import { monitorWorkflowId, pauseUpdate, resumeUpdate, statusQuery } from '../../workflows/messages.ts';
import { watchingMonitorInput } from '../helpers/monitor-input.ts';
import { sleepInSteps } from '../helpers/time-skipping.ts';
import { uniqueName } from '../helpers/stack.ts';
import { startMonitorHarness, type MonitorHarness } from '../helpers/monitor-harness.ts';

const HOUR = 3_600_000;

describe('a paused ModelMonitor (time-skipping test server)', () => {
  let harness: MonitorHarness;
  const modelId = uniqueName('paused');
  let eventsWhilePaused = 0;
  let ticksAfterResume = 0;
  let pausedStage = '';

  beforeAll(async () => {
    harness = await startMonitorHarness();
    const { env, config } = harness;
    const input = watchingMonitorInput(modelId, 'paused');
    const worker = await harness.createWorker();
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('ModelMonitor', {
        workflowId: monitorWorkflowId(modelId),
        taskQueue: config.temporal.taskQueue,
        args: [input],
      });
      await handle.executeUpdate(pauseUpdate, { args: [{ actor: 'test', reason: 'maintenance' }] });
      const historyLength = async () => (await handle.fetchHistory()).events?.length ?? 0;
      const beforeSleep = await historyLength();
      // Three days paused: every window comes due while nothing may be evaluated.
      await sleepInSteps(env, 72 * HOUR, 12 * HOUR);
      pausedStage = (await handle.query(statusQuery)).stage;
      eventsWhilePaused = (await historyLength()) - beforeSleep;
      await handle.executeUpdate(resumeUpdate, { args: [{ actor: 'test', reason: 'back' }] });
      await env.sleep(2 * HOUR);
      ticksAfterResume = (await handle.query(statusQuery)).ticks;
      await handle.terminate('test over');
    });
  }, 300_000);

  afterAll(async () => {
    await harness?.teardown();
  });

  it('waits for a message instead of polling: its history barely grows while paused', () => {
    expect(pausedStage).toBe('paused');
    // One timer to the first due time and the wake-up that finds the monitor paused; a poll
    // on a 1 ms timer would add thousands of events over three simulated days.
    expect(eventsWhilePaused).toBeLessThan(20);
  });

  it('evaluates the windows it missed once resumed, and records both decisions', async () => {
    expect(ticksAfterResume).toBeGreaterThanOrEqual(72);
    const kinds = (await listDecisions(harness.ch.client, { modelId, limit: 1000 })).map((d) => d.kind);
    expect(kinds).toContain('pause');
    expect(kinds).toContain('resume');
  });
});
