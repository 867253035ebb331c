import type { Client, Connection, WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonitorClient } from '../../operations/monitor-control.ts';
import { promoteVersionManually } from '../../operations/promote-version.ts';
import { publishModelUpdate } from '../../operations/publish-model-update.ts';
import { ServingNotConfirmedError } from '../../operations/serving-confirmation.ts';
import { listAlerts } from '../../platform/clickhouse/alerts-repository.ts';
import { parsePolicy } from '../../platform/policy-file.ts';
import type { ModelVersion } from '../../platform/registry/types.ts';
import { connectTemporal } from '../../platform/temporal.ts';
import { monitorWorkflowId, statusQuery } from '../../workflows/messages.ts';
import type { ModelMonitorInput } from '../../workflows/monitor/input.ts';
import { waitUntil } from '../helpers/kafka.ts';
import {
  runTemporalWorker,
  serveFromHost,
  startServingStack,
  type ServingHost,
  type ServingStack,
} from '../helpers/serving-stack.ts';
import { uniqueName } from '../helpers/stack.ts';
import { registerTrainedModel } from './training-fixtures.ts';

/**
 * The `serving-disagreement` and `promotion-failed` alert rules fire from what really happens, on
 * the real Temporal dev server, Kafka, chDB and the reference scorer: the monitor's window read
 * sees serving disagree with the registry (and agree again), and a person's promotion the scorer
 * refuses tells the model's monitor. The scorer reads artifacts from a serving host's store that
 * holds v1 only, so it refuses v2 until v2's artifact reaches it.
 */
describe('alerts from serving: disagreement seen by the monitor tick, refused promotions told by the operation', () => {
  let stack: ServingStack;
  let stopWorker: () => Promise<void>;
  let temporal: { client: Client; connection: Connection };
  let monitor: WorkflowHandle;
  const monitors = { client: undefined as unknown as MonitorClient };
  const model = uniqueName('alerts-serving');
  const versions: Record<string, ModelVersion> = {};
  let host: ServingHost;
  const alerts = (kind: string, type: 'firing' | 'resolved') =>
    listAlerts(stack.ch.client, { modelId: model, kinds: [kind] }).then((rows) => rows.filter((a) => a.type === type));

  beforeAll(async () => {
    stack = await startServingStack({ temporal: { taskQueue: uniqueName('alerts-serving-tq') } });
    stopWorker = await runTemporalWorker(stack);
    versions.v1 = (
      await registerTrainedModel(stack.registry, stack.artifacts, model, { seed: 1, n: 600, concept: 0 })
    ).version;
    versions.v2 = (
      await registerTrainedModel(stack.registry, stack.artifacts, model, { seed: 2, n: 600, concept: 1 })
    ).version;
    host = await serveFromHost(stack, model, versions.v1);

    const { policy, ref } = parsePolicy({
      name: 'serving-alerts',
      version: 1,
      model,
      trigger: { kind: 'manual' },
      // No receivers: alerts are recorded (and shown), not sent.
      alerts: { rules: [{ kind: 'promotion-failed' }, { kind: 'serving-disagreement' }] },
    });
    const input: ModelMonitorInput = { modelId: model, policy, policyRef: ref, cadence: '2s' };
    temporal = await connectTemporal(stack.config);
    monitor = await temporal.client.workflow.start('ModelMonitor', {
      workflowId: monitorWorkflowId(model),
      taskQueue: stack.config.temporal.taskQueue,
      args: [input],
    });
    monitors.client = new MonitorClient(stack.config);
    await waitUntil('the first tick', async () => (await monitor.query(statusQuery)).ticks > 0, 60_000, 250);
  });
  afterAll(async () => {
    await monitor?.terminate('test done').catch(() => undefined);
    await monitors.client?.close();
    await temporal?.connection.close();
    await stopWorker?.();
    await stack?.stop();
  });

  it('a promotion the scorer refuses fires promotion-failed on the model monitor, with the scorer and the person named', async () => {
    const ctx = { ...stack.promotion, monitors: monitors.client };
    await expect(
      promoteVersionManually(ctx, {
        retrainId: uniqueName('api'),
        modelId: model,
        version: 'v2',
        actor: 'alice',
        reason: 'ship v2',
      }),
    ).rejects.toBeInstanceOf(ServingNotConfirmedError);
    expect((await stack.registry.productionVersion(model))?.version).toBe('v1');

    await waitUntil(
      'promotion-failed firing',
      async () => (await alerts('promotion-failed', 'firing')).length > 0,
      30_000,
      250,
    );
    const [fired] = await alerts('promotion-failed', 'firing');
    expect(fired).toMatchObject({ summary: `${model}: version v2 failed`, severity: 'critical', firing: true });
    expect(fired!.description).toContain('(alice)');
    expect(fired!.description).toMatch(
      new RegExp(`ship v2: not confirmed by serving: scorer ${stack.scorer.instanceId} refused`),
    );
    expect(fired!.description).toContain('v1 is production again');
    expect(fired!.source.workflowId).toBe(monitorWorkflowId(model));
  });

  it('serving that disagrees with the registry fires serving-disagreement from the tick (and health says so), and it resolves when serving agrees again', async () => {
    // The refused promotion above may have shown a moment's disagreement already: only new episodes count here.
    const before = new Set((await alerts('serving-disagreement', 'firing')).map((a) => a.episodeId));
    const fresh = async () => (await alerts('serving-disagreement', 'firing')).filter((a) => !before.has(a.episodeId));
    // Serving moves behind the registry's back: v2 reaches the host and an update routes to it by hand.
    await host.ship(versions.v2!);
    await publishModelUpdate(stack.promotion, {
      modelId: model,
      version: 'v2',
      artifactUri: versions.v2!.artifactUri,
      sha256: versions.v2!.sha256,
      trafficSplit: { v2: 1 },
      reason: 'out of band',
      idempotencyKey: uniqueName('out-of-band'),
    });
    await waitUntil('serving-disagreement firing', async () => (await fresh()).length > 0, 60_000, 250);
    const [fired] = await fresh();
    expect(fired!.summary).toBe(`${model}: serving disagrees with the registry (requested v1, serving v2)`);
    expect(fired!.description).toMatch(
      new RegExp(`${stack.scorer.instanceId}: .*serves v2 while the registry's production version is v1`),
    );
    const status = await monitor.query(statusQuery);
    expect(status.healthInputs?.servingDisagreement).toBe(true);
    expect(status.health).toBe('serving-mismatch');

    // The registry's routing published again: the next tick sees agreement and resolves the alert.
    await publishModelUpdate(stack.promotion, {
      modelId: model,
      version: 'v1',
      artifactUri: versions.v1!.artifactUri,
      sha256: versions.v1!.sha256,
      trafficSplit: { v1: 1 },
      reason: 'back to the registry',
      idempotencyKey: uniqueName('back-to-v1'),
    });
    const resolution = async () =>
      (await alerts('serving-disagreement', 'resolved')).find((a) => a.episodeId === fired!.episodeId);
    await waitUntil('serving-disagreement resolved', async () => (await resolution()) !== undefined, 60_000, 250);
    expect((await resolution())!.resolution).toBe('serving agrees with the registry again');
    expect((await monitor.query(statusQuery)).healthInputs?.servingDisagreement).toBe(false);
  });

  it('a later promotion serving confirms resolves promotion-failed', async () => {
    const ctx = { ...stack.promotion, monitors: monitors.client };
    // v2's artifact is on the host now: the scorer applies it.
    const result = await promoteVersionManually(ctx, {
      retrainId: uniqueName('api'),
      modelId: model,
      version: 'v2',
      actor: 'alice',
      reason: 'ship v2 again',
    });
    expect(result.confirmed).toBe(true);
    await waitUntil(
      'promotion-failed resolved',
      async () => (await alerts('promotion-failed', 'resolved')).length > 0,
      30_000,
      250,
    );
    const [resolved] = await alerts('promotion-failed', 'resolved');
    expect(resolved!.resolution).toBe('a later version was promoted');
  });
});
