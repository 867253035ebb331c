import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ClickHouse } from '../../platform/clickhouse/client.ts';
import type { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import type { HalflifeConfig } from '../../platform/config.ts';
import { ensureTopics } from '../../platform/kafka.ts';
import { createLogger } from '../../platform/logger.ts';
import { LocalArtifactStore } from '../../platform/registry/artifact-store.ts';
import type { ModelUpdateMessage } from '../../platform/registry/model-update.ts';
import { logisticToOnnx } from '../../training/logistic-onnx.ts';
import { fitLogistic } from '../../training/logistic.ts';
import { IngestWorker } from '../../workers/ingest/kafka-worker.ts';
import { Scorer } from '../../workers/scorer.ts';
import {
  groupProgress,
  ingestTestConfig,
  label,
  openIngestStore,
  produceAll,
  scoringEvent,
  waitUntil,
  type OutMessage,
} from '../helpers/kafka.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';
import { SEA_FEATURES, seaSample } from './training-fixtures.ts';

/**
 * A restarted consumer (the ingest worker, the reference scorer) resumes from the group's committed offsets on every topic: it reads
 * what arrived since, and at most the one batch per partition that was in flight when it stopped
 * (that batch is committed at stop, so normally nothing).
 */
describe('restarts resume from committed offsets on every topic', () => {
  let config: HalflifeConfig;
  let ch: ClickHouse;
  let repo: ClickHouseIngestRepository;

  beforeAll(async () => {
    config = ingestTestConfig({ batchSize: 2000, batchMaxWaitMs: 200 });
    ({ ch, repo } = await openIngestStore(config));
  });

  afterAll(async () => {
    await ch?.close();
  });

  const topics = () => [config.kafka.scoringEventsTopic, config.kafka.labelsTopic];

  async function produceWorkload(modelId: string, from: number, n: number): Promise<void> {
    const events: OutMessage[] = [];
    const labels: OutMessage[] = [];
    for (let i = from; i < from + n; i++) {
      const event = scoringEvent(i, modelId, { numeric: 4, categorical: 1 });
      events.push({ key: `k${i}`, value: JSON.stringify(event) });
      labels.push({ key: `k${i}`, value: JSON.stringify(label(event.event_id as string, i)) });
    }
    await produceAll(config, config.kafka.scoringEventsTopic, events);
    await produceAll(config, config.kafka.labelsTopic, labels);
  }

  async function caughtUp(worker: IngestWorker): Promise<void> {
    await waitUntil(
      'the group to commit every produced record',
      async () => {
        const p = await groupProgress(config, config.ingest.groupId, topics());
        return p.committed === p.end && worker.metrics.flushes_total > 0;
      },
      120_000,
      250,
    );
  }

  it('an ingest worker stopped mid-stream and restarted re-reads nothing it committed, on either topic', async () => {
    const modelId = uniqueName('model');
    const N = 20_000;
    await produceWorkload(modelId, 0, N);

    const first = new IngestWorker({ config, repository: repo, statsIntervalMs: 0 });
    await first.start();
    // Stop while both topics are still full of unread records.
    await waitUntil('the first worker to store a few batches', () => first.metrics.flushes_total >= 3, 120_000, 20);
    await first.stop();
    const atStop = await groupProgress(config, config.ingest.groupId, topics());
    expect(atStop.end).toBe(2 * N);
    // Everything the worker took was stored and committed at stop.
    expect(atStop.committed).toBe(first.metrics.consumed_total);

    // New records on both topics after the restart.
    const M = 500;
    await produceWorkload(modelId, N, M);
    const second = new IngestWorker({ config, repository: repo, statsIntervalMs: 0 });
    await second.start();
    try {
      await caughtUp(second);
      expect(second.metrics.duplicates_total).toBe(0);
      expect(second.metrics.consumed_total).toBe(2 * (N + M) - atStop.committed);
      expect(first.metrics.inserted_labels_total + second.metrics.inserted_labels_total).toBe(N + M);
      expect(first.metrics.inserted_events_total + second.metrics.inserted_events_total).toBe(N + M);
    } finally {
      await second.stop();
    }
  });

  it('a restarted scorer does not re-read the scoring requests it already scored (nor emit their events again)', async () => {
    const scorerConfig = testConfig({
      kafka: {
        brokers: inject('stack').kafkaBrokers,
        scoringRequestsTopic: uniqueName('requests'),
        scoringEventsTopic: uniqueName('scored'),
        modelUpdatesTopic: uniqueName('updates'),
        partitions: 2,
      },
    });
    const { scoringRequestsTopic, scoringEventsTopic, modelUpdatesTopic } = scorerConfig.kafka;
    await ensureTopics(scorerConfig, [scoringRequestsTopic, scoringEventsTopic, modelUpdatesTopic]);
    const modelId = 'sea';
    const { model } = fitLogistic({ features: SEA_FEATURES, ...seaSample(1, 1000) });
    const artifact = await LocalArtifactStore.forDataDir(scorerConfig.dataDir).put(
      `models/${modelId}/v1/model.onnx`,
      logisticToOnnx(model),
    );
    const update: ModelUpdateMessage = {
      type: 'model-update',
      schema_version: 1,
      model_id: modelId,
      version: 'v1',
      traffic_split: { v1: 1 },
      shadow: [],
      models: { v1: { artifact_uri: artifact.uri, sha256: artifact.sha256, features: SEA_FEATURES } },
      reason: 'test',
      idempotency_key: 'restart-u1',
      published_at: Date.now(),
    };
    await produceAll(scorerConfig, modelUpdatesTopic, [{ key: modelId, value: JSON.stringify(update) }]);
    const rows = seaSample(5, 3000).rows;
    const requests = (from: number, to: number): OutMessage[] =>
      rows.slice(from, to).map((features, i) => ({
        key: `r${from + i}`,
        value: JSON.stringify({ request_id: `req-${from + i}`, model_id: modelId, features }),
      }));
    const groupId = uniqueName('scorer');
    const log = createLogger('test-scorer', 'warn');

    const first = new Scorer({ config: scorerConfig, log, groupId, maxBatch: 100 });
    await first.start();
    const N = 2500;
    await produceAll(scorerConfig, scoringRequestsTopic, requests(0, N));
    await waitUntil('the first scorer to score every request', () => first.stats.scored === N, 120_000);
    await first.stop();
    const atStop = await groupProgress(scorerConfig, groupId, [scoringRequestsTopic]);
    expect(atStop).toEqual({ end: N, committed: N });

    const second = new Scorer({ config: scorerConfig, log, groupId, maxBatch: 100 });
    await second.start();
    try {
      const M = 300;
      await produceAll(scorerConfig, scoringRequestsTopic, requests(N, N + M));
      await waitUntil('the restarted scorer to score the new requests', () => second.stats.scored >= M, 120_000);
      await waitUntil(
        'the restarted scorer to commit the new requests',
        async () => (await groupProgress(scorerConfig, groupId, [scoringRequestsTopic])).committed === N + M,
        60_000,
        250,
      );
      expect(second.stats.requests).toBe(M);
      expect(second.stats.scored).toBe(M);
      const emitted = await groupProgress(scorerConfig, uniqueName('nobody'), [scoringEventsTopic]);
      expect(emitted.end).toBe(N + M);
    } finally {
      await second.stop();
    }
  });
});
