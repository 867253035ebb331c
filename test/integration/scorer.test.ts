import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { logisticToOnnx } from '../../training/logistic-onnx.ts';
import { fitLogistic } from '../../training/logistic.ts';
import type { HalflifeConfig } from '../../platform/config.ts';
import { createKafka, ensureTopics } from '../../platform/kafka.ts';
import { createLogger } from '../../platform/logger.ts';
import { LocalArtifactStore, type StoredArtifact } from '../../platform/registry/artifact-store.ts';
import type { ModelUpdateMessage } from '../../platform/registry/model-update.ts';
import { routingPoint, Scorer, scoreRoute } from '../../workers/scorer.ts';
import { produceAll, waitUntil } from '../helpers/kafka.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';
import { SEA_FEATURES, seaSample } from './training-fixtures.ts';

interface EmittedEvent {
  event_id: string;
  model_id: string;
  model_version: string;
  prediction: { score: number };
  metadata: Record<string, string>;
}

describe('reference scorer: Kafka in, scoring events out, hot swap on model updates', () => {
  let config: HalflifeConfig;
  let scorer: Scorer;
  const stored: Record<string, StoredArtifact> = {};
  const modelId = 'sea';
  const events: EmittedEvent[] = [];
  let stopReader: () => Promise<void>;

  const update = (
    key: string,
    split: Record<string, number>,
    version: string,
    shadow: string[] = [],
    override: Partial<Record<string, { sha256: string }>> = {},
  ): ModelUpdateMessage => ({
    type: 'model-update',
    schema_version: 1,
    model_id: modelId,
    version,
    traffic_split: split,
    shadow,
    models: Object.fromEntries(
      [...new Set([...Object.keys(split), ...shadow])].map((v) => [
        v,
        { artifact_uri: stored[v]!.uri, sha256: override[v]?.sha256 ?? stored[v]!.sha256, features: SEA_FEATURES },
      ]),
    ),
    reason: key,
    idempotency_key: key,
    published_at: Date.now(),
  });

  const requests = (from: number, to: number) =>
    seaSample(77, to)
      .rows.slice(from)
      .map((row, i) => ({
        key: modelId,
        value: JSON.stringify({
          request_id: `req-${from + i}`,
          model_id: modelId,
          timestamp: 1_760_000_000_000 + from + i,
          features: row,
          subject_id: `s-${(from + i) % 10}`,
        }),
      }));

  beforeAll(async () => {
    config = testConfig({
      kafka: {
        brokers: inject('stack').kafkaBrokers,
        scoringRequestsTopic: uniqueName('requests'),
        scoringEventsTopic: uniqueName('events'),
        modelUpdatesTopic: uniqueName('updates'),
        partitions: 2,
      },
    });
    await ensureTopics(config, [
      config.kafka.scoringRequestsTopic,
      config.kafka.scoringEventsTopic,
      config.kafka.modelUpdatesTopic,
    ]);
    const artifacts = LocalArtifactStore.forDataDir(config.dataDir);
    for (const [v, concept] of [
      ['v1', 3],
      ['v2', 0],
    ] as const) {
      const { model } = fitLogistic({ features: SEA_FEATURES, ...seaSample(concept + 1, 2000, concept) });
      stored[v] = await artifacts.put(`models/${modelId}/${v}/model.onnx`, logisticToOnnx(model));
    }
    // The first model is published before the scorer starts: it must catch up before scoring.
    await produceAll(config, config.kafka.modelUpdatesTopic, [
      { key: modelId, value: JSON.stringify(update('u1', { v1: 1 }, 'v1')) },
    ]);
    scorer = new Scorer({
      config,
      log: createLogger('test-scorer', 'warn'),
      groupId: uniqueName('scorer'),
      maxBatch: 100,
    });
    await scorer.start();

    const reader = createKafka(config, { clientId: 'test-events-reader' }).consumer({
      groupId: uniqueName('events-reader'),
    });
    await reader.connect();
    await reader.subscribe({ topic: config.kafka.scoringEventsTopic, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => void events.push(JSON.parse(message.value!.toString()) as EmittedEvent),
    });
    stopReader = () => reader.disconnect();
  });
  afterAll(async () => {
    await stopReader?.();
    await scorer?.stop();
  });

  it('hot-swaps on a model update mid-stream: every request scored exactly once, none dropped; shadow scores kept under <model>.shadow', async () => {
    expect(scorer.routing(modelId)?.live).toEqual([{ version: 'v1', share: 1 }]);
    const total = 2000;
    const producing = (async () => {
      for (let from = 0; from < total; from += 200) {
        await produceAll(config, config.kafka.scoringRequestsTopic, requests(from, from + 200));
        if (from === 800) {
          // Promote v2 while requests flow, with v1 kept as a shadow.
          await produceAll(config, config.kafka.modelUpdatesTopic, [
            { key: modelId, value: JSON.stringify(update('u2', { v2: 1 }, 'v2', ['v1'])) },
          ]);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await producing;
    await waitUntil('all requests scored', () => scorer.stats.scored >= total, 60_000);
    await waitUntil(
      'all events read back',
      () => events.length >= scorer.stats.scored + scorer.stats.shadowScored,
      30_000,
    );
    await new Promise((r) => setTimeout(r, 1000));

    const production = events.filter((e) => e.model_id === modelId);
    const ids = production.map((e) => e.event_id);
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
    for (let i = 0; i < total; i++) expect(ids).toContain(`req-${i}`);
    const byVersion = (v: string) => production.filter((e) => e.model_version === v).length;
    expect(byVersion('v1')).toBeGreaterThan(0);
    expect(byVersion('v2')).toBeGreaterThan(0);
    expect(byVersion('v1') + byVersion('v2')).toBe(total);
    expect(
      production.every((e) => e.prediction.score >= 0 && e.prediction.score <= 1 && Number(e.metadata.latency_ms) >= 0),
    ).toBe(true);

    const shadow = events.filter((e) => e.model_id === `${modelId}.shadow`);
    expect(shadow.length).toBe(byVersion('v2'));
    expect(
      shadow.every((e) => e.model_version === 'v1' && e.metadata.shadow === 'true' && e.metadata.shadow_of === modelId),
    ).toBe(true);
    const v2Ids = new Set(production.filter((e) => e.model_version === 'v2').map((e) => e.event_id));
    expect(shadow.every((e) => v2Ids.has(e.event_id))).toBe(true);
    expect(scorer.stats).toMatchObject({ invalid: 0, unscorable: 0, updatesApplied: 2, updatesRefused: 0 });
  });

  it('refuses an update whose artifact fails the sha256 check and keeps serving the current model', async () => {
    const bad = update('u3-bad', { v1: 1 }, 'v1', [], { v1: { sha256: 'e'.repeat(64) } });
    // The old runner of v1 (shadow) has a different sha than the message says, so it must be reloaded — and fail.
    await produceAll(config, config.kafka.modelUpdatesTopic, [{ key: modelId, value: JSON.stringify(bad) }]);
    await waitUntil('the bad update to be refused', () => scorer.stats.updatesRefused >= 1, 30_000);
    expect(scorer.routing(modelId)).toEqual({ live: [{ version: 'v2', share: 1 }], shadow: ['v1'] });
    const results = await scorer.scoreAndEmit(
      [{ request_id: 'after-bad', model_id: modelId, features: { f1: 1, f2: 1, f3: 1, region: 'eu' } }],
      'kafka',
    );
    expect(results).toMatchObject([{ model_version: 'v2' }]);
  });

  it('splits canary traffic deterministically by request id, and serves POST /v1/score', async () => {
    await scorer.applyUpdate(update('u4-canary', { v2: 0.3, v1: 0.7 }, 'v2'));
    expect(scorer.routing(modelId)?.live).toEqual([
      { version: 'v2', share: 0.3 },
      { version: 'v1', share: 0.7 },
    ]);
    const reqs = seaSample(5, 1000).rows.map((features, i) => ({
      request_id: `canary-${i}`,
      model_id: modelId,
      features: features as Record<string, number | string | null>,
    }));
    const results = await scorer.scoreAndEmit(reqs, 'kafka');
    expect(results).toHaveLength(1000);
    for (const r of results) expect(r.model_version).toBe(routingPoint(r.request_id) < 0.3 ? 'v2' : 'v1');
    const share = results.filter((r) => r.model_version === 'v2').length / 1000;
    expect(share).toBeGreaterThan(0.25);
    expect(share).toBeLessThan(0.35);
    // Same request id, same side, every time.
    const again = await scorer.scoreAndEmit(reqs.slice(0, 50), 'kafka');
    expect(again.map((r) => r.model_version)).toEqual(results.slice(0, 50).map((r) => r.model_version));

    const app = Fastify();
    // No auth in this test: the guard lets everything through.
    scoreRoute(scorer)(app, () => async () => {});
    const ok = await app.inject({
      method: 'POST',
      url: '/v1/score',
      payload: { request_id: 'http-1', model_id: modelId, features: { f1: 2, f2: 3, f3: 1, region: 'us' } },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().results[0]).toMatchObject({ request_id: 'http-1', model_id: modelId });
    const unknown = await app.inject({
      method: 'POST',
      url: '/v1/score',
      payload: { model_id: 'nope', features: { f1: 1 } },
    });
    expect(unknown.statusCode).toBe(404);
    const invalid = await app.inject({ method: 'POST', url: '/v1/score', payload: { model_id: modelId } });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().error).toMatch(/features/);
    await app.close();
  });
});
