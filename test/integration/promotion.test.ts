import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { closeRetrainActivities, createRetrainActivities, type RetrainActivities } from '../../activities/retrain.ts';
import { predictProbability, type LogisticModel } from '../../training/logistic.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { ClickHouseRegistryRepository } from '../../platform/clickhouse/registry-repository.ts';
import type { HalflifeConfig } from '../../platform/config.ts';
import { createKafka } from '../../platform/kafka.ts';
import { createLogger } from '../../platform/logger.ts';
import { OnnxPool } from '../../platform/onnx/pool.ts';
import { LocalArtifactStore } from '../../platform/registry/artifact-store.ts';
import { modelUpdateSchema, type ModelUpdateMessage } from '../../platform/registry/model-update.ts';
import type { ModelVersion } from '../../platform/registry/types.ts';
import { waitUntil } from '../helpers/kafka.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';
import { registerTrainedModel, seedLabelledEvents, T0 } from './training-fixtures.ts';

async function topicMessages(config: HalflifeConfig, topic: string, expected: number): Promise<ModelUpdateMessage[]> {
  const kafka = createKafka(config, { clientId: 'test-reader' });
  const consumer = kafka.consumer({ groupId: uniqueName('reader') });
  const out: ModelUpdateMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => void out.push(modelUpdateSchema.parse(JSON.parse(message.value!.toString()))),
  });
  await waitUntil(`${expected} messages on ${topic}`, () => out.length >= expected, 30_000);
  // Give a duplicate the chance to show up.
  await new Promise((r) => setTimeout(r, 1000));
  await consumer.disconnect();
  return out;
}

describe('canary and promotion activities (chDB + Kafka)', () => {
  let config: HalflifeConfig;
  let ch: ClickHouse;
  let acts: RetrainActivities;
  let pool: OnnxPool;
  let registry: ClickHouseRegistryRepository;
  let v1: ModelVersion;
  let v2: ModelVersion;
  let model1: LogisticModel;
  let model2: LogisticModel;
  const modelId = 'churn';

  beforeAll(async () => {
    config = testConfig({
      kafka: { brokers: inject('stack').kafkaBrokers, modelUpdatesTopic: uniqueName('updates'), partitions: 2 },
    });
    ch = await openClickHouse(config);
    await applyMigrations(ch.client);
    pool = new OnnxPool({ threads: 1 });
    acts = createRetrainActivities({ clickhouse: ch.client, config, log: createLogger('test', 'warn'), pool });
    registry = new ClickHouseRegistryRepository(ch.client);
    const artifacts = LocalArtifactStore.forDataDir(config.dataDir);
    ({ version: v1, model: model1 } = await registerTrainedModel(registry, artifacts, modelId, {
      seed: 1,
      n: 3000,
      concept: 3,
      stage: 'production',
    }));
    ({ version: v2, model: model2 } = await registerTrainedModel(registry, artifacts, modelId, {
      seed: 2,
      n: 3000,
      concept: 0,
    }));
  });
  afterAll(async () => {
    await closeRetrainActivities(acts);
    await pool.close();
    await ch.close();
  });

  it('publishes a canary split once per idempotency key, even when the activity is retried', async () => {
    const input = {
      modelId,
      version: v2.version,
      artifactUri: v2.artifactUri,
      sha256: v2.sha256,
      trafficSplit: { [v2.version]: 0.25, [v1.version]: 0.75 },
      reason: 'canary step 1: 25%',
      idempotencyKey: 'retrain-1/canary/0',
    };
    const first = await acts.publishModelUpdate(input);
    expect(first.published).toBe(true);
    // Temporal retries an activity sequentially: every retry finds the recorded publication.
    for (let attempt = 0; attempt < 3; attempt++) {
      const retried = await acts.publishModelUpdate(input);
      expect(retried.published).toBe(false);
      expect(retried.offset).toBe(first.offset);
    }
    expect((await registry.requireVersion(modelId, v2.version)).stage).toBe('canary');

    const messages = await topicMessages(config, config.kafka.modelUpdatesTopic, 1);
    expect(messages.map((m) => m.idempotency_key)).toEqual(['retrain-1/canary/0']);
    const m = messages[0]!;
    expect(m.traffic_split).toEqual({ v1: 0.75, v2: 0.25 });
    expect(m.models.v1).toEqual({ artifact_uri: v1.artifactUri, sha256: v1.sha256, features: v1.features });
    expect(m.models.v2!.sha256).toBe(v2.sha256);

    await expect(
      acts.publishModelUpdate({ ...input, trafficSplit: { v2: 0.5 }, idempotencyKey: 'bad' }),
    ).rejects.toThrow(/summing to 1/);
    await expect(
      acts.publishModelUpdate({ ...input, trafficSplit: { v2: 0.5, v9: 0.5 }, idempotencyKey: 'bad2' }),
    ).rejects.toThrow(/v9, which is not in the registry/);
  });

  it('checks canary health from the events each version scored since the split', async () => {
    const since = T0 + 100 * 86_400_000;
    await seedLabelledEvents(ch.client, modelId, {
      seed: 7,
      n: 400,
      start: since,
      modelVersion: 'v1',
      prefix: 'c1',
      score: (row) => predictProbability(model1, row),
    });
    await seedLabelledEvents(ch.client, modelId, {
      seed: 8,
      n: 300,
      start: since,
      modelVersion: 'v2',
      prefix: 'c2',
      score: (row) => predictProbability(model2, row),
    });
    const healthy = await acts.canaryCheck({
      modelId,
      candidateVersion: 'v2',
      championVersion: 'v1',
      since,
      minEvents: 200,
    });
    expect(healthy.healthy).toBe(true);
    expect(healthy.metrics.candidate.events).toBe(300);
    expect(healthy.metrics.candidate.labelled).toBe(300);
    expect(healthy.metrics.candidate.logLoss!).toBeLessThan(healthy.metrics.champion!.logLoss!);

    const tooFew = await acts.canaryCheck({
      modelId,
      candidateVersion: 'v2',
      championVersion: 'v1',
      since,
      minEvents: 1000,
    });
    expect(tooFew.healthy).toBe(false);
    expect(tooFew.reasons[0]).toMatch(/only 300 events/);

    // A broken candidate: every score saturated at 1.
    const since2 = since + 86_400_000;
    await seedLabelledEvents(ch.client, modelId, {
      seed: 9,
      n: 300,
      start: since2,
      modelVersion: 'v1',
      prefix: 'd1',
      score: (row) => predictProbability(model1, row),
    });
    await seedLabelledEvents(ch.client, modelId, {
      seed: 10,
      n: 300,
      start: since2,
      modelVersion: 'v2',
      prefix: 'd2',
      score: () => 1,
    });
    const broken = await acts.canaryCheck({
      modelId,
      candidateVersion: 'v2',
      championVersion: 'v1',
      since: since2,
      minEvents: 100,
    });
    expect(broken.healthy).toBe(false);
    expect(broken.reasons.join(' ')).toMatch(/exactly 0 or 1/);
    expect(broken.reasons.join(' ')).toMatch(/log loss/);
  });

  it('lets a mean-score shift pass only when the labels vindicate it (the base rate moved and the candidate learned it)', async () => {
    const since3 = T0 + 102 * 86_400_000;
    const model2Score = (row: Parameters<typeof predictProbability>[1]) => predictProbability(model2, row);
    // The champion under-predicts by a lot (scores a third of the truth); the candidate is calibrated.
    await seedLabelledEvents(ch.client, modelId, {
      seed: 11,
      n: 300,
      start: since3,
      modelVersion: 'v1',
      prefix: 'm1',
      score: (row) => model2Score(row) / 3,
    });
    await seedLabelledEvents(ch.client, modelId, {
      seed: 12,
      n: 300,
      start: since3,
      modelVersion: 'v2',
      prefix: 'm2',
      score: model2Score,
    });
    const moved = await acts.canaryCheck({
      modelId,
      candidateVersion: 'v2',
      championVersion: 'v1',
      since: since3,
      minEvents: 100,
      maxLogLossIncrease: 1,
    });
    expect(Math.abs(moved.metrics.candidate.meanScore! - moved.metrics.champion!.meanScore!)).toBeGreaterThan(0.2);
    expect(moved.healthy, moved.reasons.join('; ')).toBe(true);
    expect(moved.reasons.join(' ')).toMatch(/shift above 0.2, but the labels agree/);
    expect(Math.abs(moved.metrics.candidate.labelledMeanScore! - moved.metrics.candidate.positiveRate!)).toBeLessThan(
      0.1,
    );
    // Without labels nothing vindicates a shift.
    const unlabelled = await acts.canaryCheck({
      modelId,
      candidateVersion: 'v2',
      championVersion: 'v1',
      since: since3,
      minEvents: 100,
      maxLogLossIncrease: 1,
      minLabelled: 10_000,
    });
    expect(unlabelled.healthy).toBe(false);
    expect(unlabelled.reasons.join(' ')).toMatch(
      /too few labelled canary events to tell a moved base rate from a broken model/,
    );

    // Reversed (a later window; the check reads everything since its start): the candidate is off the positive rate.
    const since4 = since3 + 86_400_000;
    await seedLabelledEvents(ch.client, modelId, {
      seed: 13,
      n: 300,
      start: since4,
      modelVersion: 'v1',
      prefix: 'n1',
      score: model2Score,
    });
    await seedLabelledEvents(ch.client, modelId, {
      seed: 14,
      n: 300,
      start: since4,
      modelVersion: 'v2',
      prefix: 'n2',
      score: (row) => model2Score(row) / 3,
    });
    const off = await acts.canaryCheck({
      modelId,
      candidateVersion: 'v2',
      championVersion: 'v1',
      since: since4,
      minEvents: 100,
      maxLogLossIncrease: 1,
    });
    expect(off.healthy).toBe(false);
    expect(off.reasons.join(' ')).toMatch(/shift above 0.2; on labelled events the candidate's mean score is/);
  });

  it('promotes once (previous production archived, 100% published), then rolls back to the previous version', async () => {
    const promoted = await acts.promoteVersion({
      retrainId: 'retrain-1',
      modelId,
      version: v2.version,
      actor: 'system',
    });
    // No scorer reports in this test: nothing to confirm, so the promotion stands, and says so.
    expect(promoted).toEqual({
      alreadyPromoted: false,
      version: 'v2',
      previousVersion: 'v1',
      published: true,
      confirmed: true,
      serving: expect.objectContaining({ status: 'no-live-scorer', ok: true, updateKey: 'retrain-1/promote' }),
      undone: null,
    });
    expect(
      await acts.promoteVersion({ retrainId: 'retrain-1', modelId, version: v2.version, actor: 'system' }),
    ).toMatchObject({ alreadyPromoted: true, published: false });
    expect((await registry.productionVersion(modelId))?.version).toBe('v2');
    expect((await registry.requireVersion(modelId, 'v1')).stage).toBe('archived');

    const rolled = await acts.rollbackVersion({
      retrainId: 'retrain-2',
      modelId,
      version: 'v2',
      actor: 'oncall',
      reason: 'conversion dropped',
    });
    expect(rolled).toMatchObject({
      alreadyRolledBack: false,
      rolledBackVersion: 'v2',
      restoredVersion: 'v1',
      confirmed: true,
      serving: { status: 'no-live-scorer' },
      undone: null,
    });
    expect(
      (
        await acts.rollbackVersion({
          retrainId: 'retrain-2',
          modelId,
          version: 'v2',
          actor: 'oncall',
          reason: 'conversion dropped',
        })
      ).alreadyRolledBack,
    ).toBe(true);
    expect((await registry.productionVersion(modelId))?.version).toBe('v1');
    expect((await registry.requireVersion(modelId, 'v2')).stage).toBe('rejected');
    await expect(acts.promoteVersion({ retrainId: 'retrain-3', modelId, version: 'v2', actor: 'x' })).rejects.toThrow(
      /rejected and cannot be promoted/,
    );

    // A candidate that never received traffic is rejected without touching serving.
    const artifacts = LocalArtifactStore.forDataDir(config.dataDir);
    const { version: v3 } = await registerTrainedModel(registry, artifacts, modelId, { seed: 3, n: 1000, concept: 0 });
    expect(
      await acts.rejectVersion({ modelId, version: v3.version, actor: 'system', reason: 'shadow: inconclusive' }),
    ).toEqual({ alreadyRejected: false, restoredVersion: null });
    expect(
      (await acts.rejectVersion({ modelId, version: v3.version, actor: 'system', reason: 'again' })).alreadyRejected,
    ).toBe(true);

    const messages = await topicMessages(config, config.kafka.modelUpdatesTopic, 3);
    expect(messages.map((m) => `${m.idempotency_key}:${JSON.stringify(m.traffic_split)}`)).toEqual([
      'retrain-1/canary/0:{"v2":0.25,"v1":0.75}',
      'retrain-1/promote:{"v2":1}',
      'retrain-2/rollback/v2:{"v1":1}',
    ]);
  });
});
