/**
 * The reference scorer's Kafka path end to end (workers/scorer.ts): scoring requests consumed
 * from a local broker, scored in batches of up to `maxBatch` per onnxruntime call, scoring events
 * produced (acks=all) — as `halflife` runs it, on the scorer benchmark's model. Two phases:
 * a backlog of pre-produced requests (consume → score → produce throughput, until every event is
 * on the events topic), then requests produced live at a fixed rate, each event's latency from
 * its request being sent to its event being read back.
 */
import { ensureCompactedTopic } from '../platform/kafka-compaction.ts';
import { createKafka, createProducer, ensureTopics, whileLeadersSettle } from '../platform/kafka.ts';
import { loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import type { FeatureNames, RawFeatures } from '../platform/onnx/features.ts';
import { LocalArtifactStore } from '../platform/registry/artifact-store.ts';
import type { Consumer } from 'kafkajs';
import { Scorer } from '../workers/scorer.ts';
import { startBroker } from './lib/broker.ts';

export interface KafkaScorerFigures {
  partitions: number;
  maxBatch: number;
  /** seconds: from the first event on the events topic to the last; eventsPerSec counts the events in between. */
  backlog: { requests: number; seconds: number; eventsPerSec: number; producerPerSec: number };
  /** events: live events read back and timed, of `sent`. */
  live: { rate: number; seconds: number; sent: number; events: number; latencyP50Ms: number; latencyP99Ms: number };
}

const quantile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;

export async function kafkaScorerBench(options: {
  model: Uint8Array;
  features: FeatureNames;
  rows: readonly RawFeatures[];
  requests: number;
  liveRate: number;
  liveSeconds: number;
  brokers?: string;
  progress: (line: string) => void;
}): Promise<KafkaScorerFigures> {
  const { progress } = options;
  progress('kafka: starting a local broker…');
  const broker = await startBroker({ brokers: options.brokers, onProgress: progress });
  const partitions = 2;
  const maxBatch = 256;
  const run = Math.random().toString(36).slice(2, 8);
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir: broker.dataDir,
      logLevel: 'warn',
      kafka: {
        brokers: broker.brokers,
        partitions,
        scoringRequestsTopic: `bench-requests-${run}`,
        scoringEventsTopic: `bench-events-${run}`,
        modelUpdatesTopic: `bench-updates-${run}`,
        servingReportsTopic: `bench-reports-${run}`,
      },
    },
  });
  const { scoringRequestsTopic, scoringEventsTopic, modelUpdatesTopic } = config.kafka;
  const kafka = createKafka(config, { clientId: 'halflife-bench-scorer' });
  const producer = createProducer(kafka);
  const admin = kafka.admin();
  let scorer: Scorer | undefined;
  let reader: Consumer | undefined;
  try {
    await ensureTopics(config, [scoringRequestsTopic, scoringEventsTopic], kafka);
    await ensureCompactedTopic(config, modelUpdatesTopic, kafka);
    await admin.connect();
    // New topics answer UNKNOWN_TOPIC_OR_PARTITION until their leaders are elected (slow under load).
    for (const topic of [scoringRequestsTopic, scoringEventsTopic, modelUpdatesTopic])
      await whileLeadersSettle(() => admin.fetchTopicOffsets(topic), 240);
    await producer.connect();
    const artifact = await LocalArtifactStore.forDataDir(config.dataDir).put(
      'models/bench/v1/model.onnx',
      options.model,
    );
    const request = (i: number, sentAt?: number) =>
      JSON.stringify({
        request_id: `r${i}`,
        model_id: 'bench',
        timestamp: 1_760_000_000_000 + i,
        features: options.rows[i % options.rows.length],
        ...(sentAt === undefined ? {} : { metadata: { sent_at: String(sentAt) } }),
      });
    const send = async (from: number, to: number, sentAt?: number) =>
      producer.send({
        topic: scoringRequestsTopic,
        acks: -1,
        messages: Array.from({ length: to - from }, (_, k) => ({
          key: `r${from + k}`,
          value: request(from + k, sentAt),
        })),
      });

    progress(`kafka: producing ${options.requests.toLocaleString('en')} requests…`);
    const p0 = performance.now();
    for (let i = 0; i < options.requests; i += 4000) await send(i, Math.min(options.requests, i + 4000));
    const producerPerSec = options.requests / ((performance.now() - p0) / 1000);
    await producer.send({
      topic: modelUpdatesTopic,
      acks: -1,
      messages: [
        {
          key: 'bench',
          value: JSON.stringify({
            type: 'model-update',
            schema_version: 1,
            model_id: 'bench',
            version: 'v1',
            traffic_split: { v1: 1 },
            shadow: [],
            models: { v1: { artifact_uri: artifact.uri, sha256: artifact.sha256, features: options.features } },
            reason: 'bench',
            idempotency_key: `bench-${run}`,
            published_at: Date.now(),
          }),
        },
      ],
    });

    // Events on the topic, from its partitions' end offsets (no reader in the backlog phase).
    const eventsOnTopic = async () =>
      (await whileLeadersSettle(() => admin.fetchTopicOffsets(scoringEventsTopic))).reduce(
        (a, p) => a + Number(p.high),
        0,
      );

    progress('kafka: scoring the backlog…');
    scorer = new Scorer({ config, log: createLogger('bench-scorer', 'warn'), groupId: `bench-${run}`, maxBatch });
    await scorer.start();
    // Timed from the first event on the topic (joining the consumer group is not scoring).
    let first: { at: number; events: number } | undefined;
    for (;;) {
      const events = await eventsOnTopic();
      if (events > 0 && !first) first = { at: performance.now(), events };
      if (events >= options.requests) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const backlogSeconds = (performance.now() - first!.at) / 1000;
    const backlogTimed = options.requests - first!.events;

    progress(`kafka: live requests at ${options.liveRate}/s for ${options.liveSeconds} s…`);
    const latencies: number[] = [];
    const events = kafka.consumer({ groupId: `bench-reader-${run}` });
    reader = events;
    await events.connect();
    await events.subscribe({ topic: scoringEventsTopic, fromBeginning: false });
    const readerReady = new Promise<void>((resolve) => events.on(events.events.GROUP_JOIN, () => resolve()));
    await events.run({
      eachMessage: async ({ message }) => {
        const metadata = (JSON.parse(message.value!.toString()) as { metadata?: Record<string, string> }).metadata;
        if (metadata?.sent_at !== undefined) latencies.push(Date.now() - Number(metadata.sent_at));
      },
    });
    await readerReady;
    const liveTotal = options.liveRate * options.liveSeconds;
    const live0 = performance.now();
    const chunk = Math.max(1, Math.round(options.liveRate / 50));
    let sent = 0;
    while (sent < liveTotal) {
      const to = Math.min(liveTotal, sent + chunk);
      await send(options.requests + sent, options.requests + to, Date.now());
      sent = to;
      const ahead = (sent / options.liveRate) * 1000 - (performance.now() - live0);
      if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
    }
    // Wait until every live event is read, or none has come for 10 s. The reader starts at the end
    // of the topic when its offsets are fetched, which can be after the first live events: those
    // few are not timed, and the figures say how many were.
    for (let seen = -1, quietSince = Date.now(); latencies.length < liveTotal && Date.now() - quietSince < 10_000;) {
      if (latencies.length !== seen) {
        seen = latencies.length;
        quietSince = Date.now();
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await events.disconnect();
    reader = undefined;
    if (latencies.length < liveTotal * 0.95)
      throw new Error(`kafka bench: only ${latencies.length} of ${liveTotal} live events read back`);
    latencies.sort((a, b) => a - b);
    return {
      partitions,
      maxBatch,
      backlog: {
        requests: options.requests,
        seconds: backlogSeconds,
        eventsPerSec: backlogTimed / backlogSeconds,
        producerPerSec,
      },
      live: {
        rate: options.liveRate,
        seconds: options.liveSeconds,
        sent: liveTotal,
        events: latencies.length,
        latencyP50Ms: quantile(latencies, 0.5),
        latencyP99Ms: quantile(latencies, 0.99),
      },
    };
  } finally {
    // Left connected, a reader keeps retrying the stopped broker and the process alive.
    await reader?.disconnect().catch(() => undefined);
    await scorer?.stop().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    progress('kafka: stopping the broker…');
    await broker.stop();
  }
}
