import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDecisions } from '../../platform/clickhouse/decisions-repository.ts';
import { parsePolicy } from '../../platform/policy-file.ts';
import { approveUpdate, monitorWorkflowId, setPolicyUpdate, statusQuery } from '../../workflows/messages.ts';
import type { ModelMonitorInput } from '../../workflows/monitor/input.ts';
import { SimulatedProduction } from '../helpers/world.ts';
import { uniqueName } from '../helpers/stack.ts';
import { startMonitorHarness, type MonitorHarness } from '../helpers/monitor-harness.ts';

const HOUR = 3_600_000;
const CADENCE = 6 * HOUR;

describe('approvals that time out, and Updates that make no sense (time-skipping server)', () => {
  let harness: MonitorHarness;
  let world: SimulatedProduction;
  let worker: Worker;
  let running: Promise<void>;
  const modelId = uniqueName('approval');
  const policy = parsePolicy({
    name: 'needs-approval',
    version: '1',
    model: modelId,
    trigger: { kind: 'threshold', metric: 'accuracy', threshold: 0.99, consecutiveWindows: 1 },
    guards: { cooldown: '1h', approval: { required: true, timeout: '12h' } },
  });

  beforeAll(async () => {
    harness = await startMonitorHarness();
    const { ch, config, activities } = harness;
    const start = Math.floor(Date.now() / CADENCE) * CADENCE;
    world = new SimulatedProduction(ch.client, {
      modelId,
      eventIdPrefix: 'approval-world', // fixed ids: the same holdout split and samples every run
      dataDir: config.dataDir,
      world: { seed: 2, thetaStart: 8, thetaPerDay: 0, epoch: start, labelNoise: 0.05 },
      eventsPerWindow: 500,
      initialTheta: 8,
    });
    worker = await harness.createWorker({
      ...activities,
      collectWindow: async (i: Parameters<typeof activities.collectWindow>[0]) => (
        await world.emit(i.start, i.end),
        activities.collectWindow(i)
      ),
    });
    running = worker.run();
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await harness?.teardown(world);
  });

  it('asks for approval, lets it expire after the timeout, and refuses a late approval', async () => {
    const { env, ch, config } = harness;
    const input: ModelMonitorInput = { modelId, policy: policy.policy, policyRef: policy.ref, cadence: '6h' };
    const handle = await env.client.workflow.start('ModelMonitor', {
      workflowId: monitorWorkflowId(modelId),
      taskQueue: config.temporal.taskQueue,
      args: [input],
    });
    // The 0.99 floor is below what the model does (~0.95): the first window asks for a retrain.
    await env.sleep(CADENCE + HOUR);
    let status = await handle.query(statusQuery);
    expect(status.stage).toBe('awaiting-approval');
    expect(status.approval.status).toBe('pending');
    expect(status.approval.expiresAt).not.toBeNull();

    // The request lapses 12 h later: step an hour at a time until the monitor records that.
    let kinds: string[] = [];
    for (let hours = 0; hours < 24 && !kinds.includes('approval-expired'); hours++) {
      await env.sleep(HOUR);
      kinds = (await listDecisions(ch.client, { modelId, limit: 100 })).map((d) => d.kind);
    }
    expect(kinds).toContain('approval-requested');
    expect(kinds).toContain('approval-expired');
    expect(kinds).not.toContain('retrain');
    status = await handle.query(statusQuery);
    expect(status.approval.status).toBe('none');

    // An approval for the lapsed request is refused by the Update's validator, with the reason.
    let error: unknown;
    try {
      await handle.executeUpdate(approveUpdate, { args: [{ actor: 'late-larry' }] });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((error as WorkflowUpdateFailedError).cause?.message).toContain('nothing is waiting for approval');
    // A policy for another model is refused too, and the monitor keeps its policy.
    const other = parsePolicy({ ...policy.policy, model: 'some-other-model' });
    await expect(
      handle.executeUpdate(setPolicyUpdate, { args: [{ policy: other.policy, ref: other.ref, actor: 'x' }] }),
    ).rejects.toThrow(WorkflowUpdateFailedError);
    expect((await handle.query(statusQuery)).policy.hash).toBe(policy.ref.hash);
    await handle.terminate('test over');
  });
});
