import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDecisions } from '../../platform/clickhouse/decisions-repository.ts';
import { latestModelUpdate } from '../../platform/clickhouse/model-updates-repository.ts';
import { connectTemporal } from '../../platform/temporal.ts';
import { DEFAULT_RETRAIN_SETTINGS, type RetrainInput, type RetrainResult } from '../../workflows/retrain.ts';
import { runTemporalWorker, serveFromHost, startServingStack, type ServingStack } from '../helpers/serving-stack.ts';
import { uniqueName } from '../helpers/stack.ts';
import { registerTrainedModel, seedLabelledEvents, T0 } from './training-fixtures.ts';

/**
 * The Retrain workflow's promote step on the real Temporal dev server: the new version is
 * production only once the scorer confirms it serves it. Here the scorer reads artifacts from a
 * store that holds v1 only (a serving host the new artifact never reached), so it refuses the
 * promotion: the retrain ends `failed`, recorded as `promotion-failed` with the scorer's reason,
 * and v1 is production and served again.
 */
describe('Retrain: the promotion stands only when serving confirms it', () => {
  let stack: ServingStack;
  let stopWorker: () => Promise<void>;
  const model = uniqueName('retrain-serving');

  beforeAll(async () => {
    stack = await startServingStack({ temporal: { taskQueue: uniqueName('retrain-serving-tq') } });
    stopWorker = await runTemporalWorker(stack);
    const { version: v1 } = await registerTrainedModel(stack.registry, stack.artifacts, model, {
      seed: 1,
      n: 600,
      concept: 0,
    });
    // The serving host's own artifact directory holds v1 only.
    await serveFromHost(stack, model, v1);
    await seedLabelledEvents(stack.ch.client, model, { seed: 3, n: 1500, concept: 1 });
  });
  afterAll(async () => {
    await stopWorker?.();
    await stack?.stop();
  });

  it('a retrain whose promotion the scorer refuses ends failed, recorded with the reason, and the previous version serves on', async () => {
    const { client, connection } = await connectTemporal(stack.config);
    const retrainId = uniqueName('retrain');
    const input: RetrainInput = {
      retrainId,
      modelId: model,
      // No champion: offline validation alone decides, so the workflow goes straight to its promote step.
      championVersion: null,
      trainingWindow: { kind: 'fixed', start: T0, end: T0 + 1500 * 1000 },
      decisionId: 'test-decision',
      policy: { name: 'retrain-serving', version: '1', hash: '0'.repeat(64) },
      actor: 'system',
      settings: DEFAULT_RETRAIN_SETTINGS,
    };
    let result: RetrainResult;
    try {
      result = (await client.workflow.execute('Retrain', {
        workflowId: retrainId,
        taskQueue: stack.config.temporal.taskQueue,
        args: [input],
      })) as RetrainResult;
    } finally {
      await connection.close();
    }
    expect(result.version).toBe('v2');
    expect(result.outcome, result.reason).toBe('failed');
    expect(result.reason).toMatch(
      new RegExp(`promotion not confirmed by serving: scorer ${stack.scorer.instanceId} refused: .*does not exist`),
    );
    expect(result.reason).toMatch(/undone \(v2 back to candidate, v1 is production again\)/);

    expect((await stack.registry.productionVersion(model))?.version).toBe('v1');
    expect((await stack.registry.requireVersion(model, 'v2')).stage).toBe('candidate');
    const [failed] = await listDecisions(stack.ch.client, { modelId: model, kinds: ['promotion-failed'] });
    expect(failed).toMatchObject({ workflowId: retrainId, modelVersion: 'v2', reason: result.reason });
    expect(await listDecisions(stack.ch.client, { modelId: model, kinds: ['promote'] })).toEqual([]);
    const latest = await latestModelUpdate(stack.ch.client, model);
    expect(latest?.idempotencyKey).toBe(`${retrainId}/promote/restore`);
    expect(stack.scorer.routing(model)?.live).toEqual([{ version: 'v1', share: 1 }]);
  });
});
