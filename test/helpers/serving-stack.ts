import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { inject } from 'vitest';
import { promoteVersion } from '../../operations/promote-version.ts';
import { openPromotionContext, type PromotionContext } from '../../operations/promotion-context.ts';
import { openClickHouse, queryRows, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { ClickHouseRegistryRepository } from '../../platform/clickhouse/registry-repository.ts';
import type { HalflifeConfig } from '../../platform/config.ts';
import { createKafka, createProducer, ensureTopics } from '../../platform/kafka.ts';
import { createLogger, type Logger } from '../../platform/logger.ts';
import { LocalArtifactStore } from '../../platform/registry/artifact-store.ts';
import type { ModelVersion } from '../../platform/registry/types.ts';
import { IngestWorker } from '../../workers/ingest/kafka-worker.ts';
import { Scorer } from '../../workers/scorer.ts';
import { createTemporalWorker } from '../../workers/temporal-worker.ts';
import { ServingReportsConsumer } from '../../workers/serving-reports/consumer.ts';
import { seaSample } from '../integration/training-fixtures.ts';
import { waitUntil } from './kafka.ts';
import { testConfig, uniqueName } from './stack.ts';

/**
 * The serving side of the daemon, composed as the daemon composes it so a test can read and write
 * ClickHouse itself: embedded chDB, ingest (scoring events and labels), the serving-reports
 * consumer, the reference scorer (restartable), a promotion context, and a traffic generator that
 * sends scoring requests through Kafka. Every topic and group is the test's own.
 */
export interface ServingStack {
  config: HalflifeConfig;
  ch: ClickHouse;
  registry: ClickHouseRegistryRepository;
  artifacts: LocalArtifactStore;
  promotion: PromotionContext;
  log: Logger;
  scorer: Scorer;
  /** Stop the current scorer (it says so in a `stopped` report) and start a new one (a new instance, same group). */
  restartScorer(options?: { stopOld?: boolean }): Promise<Scorer>;
  /** Send scoring requests for these models every 200 ms until stopped. */
  startTraffic(models: string[], subject?: (i: number) => string): void;
  stopTraffic(): Promise<void>;
  /**
   * Versions of the newest `limit` events of `model` stored after `since` (by ingest time), with
   * counts. The newest ones: an event scored just before a swap may still arrive just after it.
   */
  versionsSince(model: string, since: number, limit?: number): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export async function startServingStack(overrides: Record<string, unknown> = {}): Promise<ServingStack> {
  const prefix = uniqueName('serving');
  const config = testConfig({
    kafka: {
      brokers: inject('stack').kafkaBrokers,
      scoringEventsTopic: `${prefix}.events`,
      labelsTopic: `${prefix}.labels`,
      scoringRequestsTopic: `${prefix}.requests`,
      modelUpdatesTopic: `${prefix}.updates`,
      servingReportsTopic: `${prefix}.reports`,
      partitions: 2,
    },
    ingest: { groupId: uniqueName('ingest'), batchMaxWaitMs: 200 },
    serving: { heartbeatMs: 500, confirmTimeoutMs: 15_000 },
    ...overrides,
  });
  const log = createLogger('serving-stack', 'warn');
  const stops: Array<() => Promise<void>> = [];
  const ch = await openClickHouse(config);
  stops.push(() => ch.close());
  await applyMigrations(ch.client);
  await ensureTopics(config, [
    config.kafka.scoringRequestsTopic,
    config.kafka.scoringEventsTopic,
    config.kafka.labelsTopic,
    config.kafka.servingReportsTopic,
  ]);
  const ingest = new IngestWorker({ config, repository: new ClickHouseIngestRepository(ch.client), logger: log });
  await ingest.start();
  stops.push(() => ingest.stop());
  const reports = new ServingReportsConsumer({ config, clickhouse: ch.client, log });
  await reports.start();
  stops.push(() => reports.stop());
  const promotion = openPromotionContext({ clickhouse: ch.client, config, log });
  stops.push(() => promotion.close());
  const scorerGroup = uniqueName('scorer');
  const newScorer = async () => {
    const s = new Scorer({ config, log, groupId: scorerGroup });
    await s.start();
    return s;
  };

  const producer = createProducer(createKafka(config, { clientId: 'test-traffic' }));
  await producer.connect();
  stops.push(() => producer.disconnect());
  let traffic: NodeJS.Timeout | undefined;
  let sending: Promise<unknown> = Promise.resolve();
  let sent = 0;
  const rows = seaSample(5, 1000, 0).rows;

  const stack: ServingStack = {
    config,
    ch,
    registry: new ClickHouseRegistryRepository(ch.client),
    artifacts: LocalArtifactStore.forDataDir(config.dataDir),
    promotion: promotion.ctx,
    log,
    scorer: await newScorer(),
    async restartScorer({ stopOld = true } = {}) {
      if (stopOld) await stack.scorer.stop();
      stack.scorer = await newScorer();
      return stack.scorer;
    },
    startTraffic(models, subject = (i) => `subject-${i % 40}`) {
      traffic = setInterval(() => {
        const now = Date.now();
        const messages = models.flatMap((model) =>
          Array.from({ length: 20 }, () => {
            const i = sent++;
            return {
              key: model,
              value: JSON.stringify({
                request_id: `${prefix}-${model}-${i}`,
                model_id: model,
                timestamp: now,
                features: rows[i % rows.length],
                subject_id: subject(i),
              }),
            };
          }),
        );
        sending = producer
          .send({ topic: config.kafka.scoringRequestsTopic, acks: -1, messages })
          .catch(() => undefined);
      }, 200);
    },
    async stopTraffic() {
      clearInterval(traffic);
      await sending;
    },
    async versionsSince(model, since, limit = 100) {
      const found = await queryRows<{ version: string; n: string }>(
        ch.client,
        `SELECT model_version AS version, count() AS n FROM (
           SELECT model_version FROM scoring_events
           WHERE model_id = {m:String} AND ingested_at > fromUnixTimestamp64Milli({since:Int64})
           ORDER BY ingested_at DESC LIMIT {limit:UInt32})
         GROUP BY model_version`,
        { m: model, since, limit },
      );
      return Object.fromEntries(found.map((r) => [r.version, Number(r.n)]));
    },
    async stop() {
      await stack.stopTraffic();
      await stack.scorer.stop();
      for (const stop of stops.reverse()) await stop().catch(() => undefined);
    },
  };
  return stack;
}

/** The daemon's Temporal worker on the stack's task queue, running; the function it returns stops it. */
export async function runTemporalWorker(stack: ServingStack): Promise<() => Promise<void>> {
  const { worker, close } = await createTemporalWorker({
    config: stack.config,
    clickhouse: stack.ch.client,
    log: stack.log,
  });
  const running = worker.run();
  return async () => {
    worker.shutdown();
    await running;
    await close();
  };
}

/** A serving host's own artifact directory: it holds only the versions shipped to it. */
export interface ServingHost {
  store: LocalArtifactStore;
  /** Copy a version's artifact and its sha256 sidecar to the host. */
  ship(version: ModelVersion): Promise<void>;
}

/**
 * Replace the stack's scorer with one that loads artifacts from a serving host's own store, ship
 * `first` there and promote it until that scorer confirms it serves it. A version never shipped is
 * one the host cannot load, so its promotion is refused.
 */
export async function serveFromHost(stack: ServingStack, modelId: string, first: ModelVersion): Promise<ServingHost> {
  const store = new LocalArtifactStore(path.join(stack.config.dataDir, 'serving-host-artifacts'));
  const host: ServingHost = {
    store,
    async ship(version) {
      const target = await store.resolve(version.artifactUri);
      await mkdir(path.dirname(target), { recursive: true });
      await copyFile(await stack.artifacts.localPath(version.artifactUri), target);
      await writeFile(`${target}.sha256`, `${version.sha256}\n`);
    },
  };
  await host.ship(first);
  await stack.scorer.stop();
  stack.scorer = new Scorer({
    config: stack.config,
    log: stack.log,
    artifacts: store,
    groupId: uniqueName('host-scorer'),
  });
  await stack.scorer.start();
  await waitUntil(
    `the host scorer to serve ${first.version}, confirmed`,
    async () =>
      (await promoteVersion(stack.promotion, { retrainId: 'boot', modelId, version: first.version, actor: 't' }))
        .serving.status === 'confirmed',
    30_000,
    500,
  );
  return host;
}
