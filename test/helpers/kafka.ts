import type { Kafka } from 'kafkajs';
import { inject } from 'vitest';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import type { HalflifeConfig } from '../../platform/config.ts';
import { createKafka, createProducer, ensureTopics } from '../../platform/kafka.ts';
import { testConfig, uniqueName } from './stack.ts';

/** Producer-side helpers for ingest tests: realistic events, malformed ones, bulk produce, offsets. */

export interface OutMessage {
  key: string | Buffer | null;
  value: string | Buffer | null;
}

/** A valid scoring event with `numeric` numeric and `categorical` categorical features. */
export function scoringEvent(
  i: number,
  modelId: string,
  options: { numeric?: number; categorical?: number; eventId?: string; ts?: number } = {},
): Record<string, unknown> {
  const features: Record<string, number | string | null> = {};
  const numeric = options.numeric ?? 20;
  const categorical = options.categorical ?? 5;
  for (let f = 0; f < numeric; f++) features[`f${f}`] = Math.round(Math.sin(i * (f + 1)) * 1e6) / 1e3;
  for (let c = 0; c < categorical; c++) features[`c${c}`] = `v${(i * (c + 3)) % 17}`;
  return {
    event_id: options.eventId ?? `${modelId}-e${i}`,
    model_id: modelId,
    model_version: 'v1',
    timestamp: options.ts ?? 1_760_000_000_000 + i,
    features,
    prediction: { score: (i % 1000) / 1000 },
  };
}

export function label(eventId: string, i: number): Record<string, unknown> {
  return { event_id: eventId, label: i % 2, timestamp: 1_760_000_100_000 + i };
}

/** Produce messages in chunks (one request per chunk), waiting for every ack. */
export async function produceAll(
  config: HalflifeConfig,
  topic: string,
  messages: OutMessage[],
  options: { chunk?: number; kafka?: Kafka } = {},
): Promise<void> {
  const kafka = options.kafka ?? createKafka(config, { clientId: 'halflife-test-producer' });
  const producer = createProducer(kafka);
  await producer.connect();
  try {
    // A partition's record batch must stay under the broker's 1 MB message.max.bytes.
    const chunk = options.chunk ?? 4000;
    for (let i = 0; i < messages.length; i += chunk) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + chunk) });
    }
  } finally {
    await producer.disconnect();
  }
}

/**
 * A test configuration with fresh ingest topics and consumer group (testConfig's overrides
 * replace whole sections, so the suite's brokers are repeated here).
 */
export function ingestTestConfig(
  ingest: Record<string, unknown> = {},
  kafka: Record<string, unknown> = {},
): HalflifeConfig {
  return testConfig({
    kafka: {
      brokers: inject('stack').kafkaBrokers,
      scoringEventsTopic: uniqueName('events'),
      labelsTopic: uniqueName('labels'),
      partitions: 4,
      ...kafka,
    },
    ingest: {
      groupId: uniqueName('ingest'),
      batchSize: 20_000,
      batchMaxWaitMs: 500,
      maxRetryBackoffMs: 1000,
      ...ingest,
    },
  });
}

/** Create the config's two ingest topics. */
export async function createIngestTopics(config: HalflifeConfig): Promise<void> {
  await ensureTopics(config, [config.kafka.scoringEventsTopic, config.kafka.labelsTopic]);
}

/** What an ingest test stores into: the config's chDB, migrated, with its ingest repository; and the config's topics, created. */
export async function openIngestStore(
  config: HalflifeConfig,
): Promise<{ ch: ClickHouse; repo: ClickHouseIngestRepository }> {
  const ch = await openClickHouse(config);
  try {
    await applyMigrations(ch.client);
    await createIngestTopics(config);
  } catch (error) {
    // beforeAll failed: nothing else will close it.
    await ch.close();
    throw error;
  }
  return { ch, repo: new ClickHouseIngestRepository(ch.client) };
}

/** Per topic: sum over partitions of (high watermark) and of the group's committed offset. */
export async function groupProgress(
  config: HalflifeConfig,
  groupId: string,
  topics: string[],
): Promise<{ end: number; committed: number }> {
  const admin = createKafka(config, { clientId: 'halflife-test-admin' }).admin();
  await admin.connect();
  try {
    let end = 0;
    let committed = 0;
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) end += Number(p.high);
    }
    for (const t of await admin.fetchOffsets({ groupId, topics })) {
      for (const p of t.partitions) committed += Math.max(0, Number(p.offset));
    }
    return { end, committed };
  } finally {
    await admin.disconnect();
  }
}

/** Poll until `check` returns true or fail after `timeoutMs`, naming what was awaited. */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
