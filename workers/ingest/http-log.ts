/**
 * The log behind POST ?ack=logged: a request's valid records produced to the topics Kafka ingest
 * consumes (kafka-worker.ts), in the form that path expects — one JSON record a message, events
 * keyed by model_id as the scorer produces them, labels by event_id — acknowledged by all in-sync
 * replicas. The producer is not idempotent: a retried send may write a record twice, and landing
 * drops the copy like any redelivery, so exactly-once holds where it is kept, in the store.
 */
import type { Kafka, Message, Producer } from 'kafkajs';
import type { HalflifeConfig } from '../../platform/config.ts';
import { createKafka, createProducer } from '../../platform/kafka.ts';
import type { Logger } from '../../platform/logger.ts';
import { DependencyError } from '../../platform/errors.ts';
import type { RecordKind } from './prepare-record.ts';

/**
 * Most bytes (keys and values) in one produce request. kafkajs sends one record batch per
 * partition per request, and the broker refuses a batch over `message.max.bytes` (1 MB by default).
 */
const MAX_SEND_BYTES = 512 * 1024;

/** The broker did not take (or acknowledge) a request's records: nothing of it is acknowledged. */
export class LogUnavailableError extends DependencyError {}

export class HttpIngestLog {
  readonly #kafka: Kafka;
  readonly #topics: Record<RecordKind, string>;
  #producer: Promise<Producer> | undefined;

  constructor(
    config: Pick<HalflifeConfig, 'kafka' | 'services' | 'logLevel'>,
    options: { kafka?: Kafka; logger?: Logger } = {},
  ) {
    this.#kafka =
      options.kafka ??
      createKafka(config, {
        clientId: `${config.kafka.clientId}-http-ingest`,
        ...(options.logger ? { logger: options.logger } : {}),
      });
    this.#topics = { events: config.kafka.scoringEventsTopic, labels: config.kafka.labelsTopic };
  }

  /** The topic a kind of record goes to. */
  topicOf(kind: RecordKind): string {
    return this.#topics[kind];
  }

  /** Produce `records` (valid contract records) and resolve once every one is acknowledged by all in-sync replicas. */
  async append(kind: RecordKind, records: readonly object[]): Promise<void> {
    if (records.length === 0) return;
    try {
      await this.#produce(kind, records);
    } catch (err) {
      throw new LogUnavailableError(
        `Kafka did not acknowledge the records on ${this.#topics[kind]}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  async #produce(kind: RecordKind, records: readonly object[]): Promise<void> {
    const producer = await this.#connected();
    const topic = this.#topics[kind];
    const sends: Promise<unknown>[] = [];
    let messages: Message[] = [];
    let bytes = 0;
    for (const record of records) {
      const value = JSON.stringify(record);
      const key = keyOf(kind, record);
      const size = Buffer.byteLength(value) + Buffer.byteLength(key);
      if (messages.length > 0 && bytes + size > MAX_SEND_BYTES) {
        sends.push(producer.send({ topic, acks: -1, messages }));
        messages = [];
        bytes = 0;
      }
      messages.push({ key, value });
      bytes += size;
    }
    sends.push(producer.send({ topic, acks: -1, messages }));
    await Promise.all(sends);
  }

  async close(): Promise<void> {
    const producer = this.#producer;
    this.#producer = undefined;
    if (producer) await (await producer.catch(() => undefined))?.disconnect();
  }

  /** One producer, connected on first use; a failed connection is tried again by the next request. */
  #connected(): Promise<Producer> {
    if (!this.#producer) {
      const producer = createProducer(this.#kafka);
      this.#producer = producer.connect().then(() => producer);
      this.#producer.catch(() => (this.#producer = undefined));
    }
    return this.#producer;
  }
}

/** The Kafka path's keys: a model's events on one partition (as the scorer sends them), a label by its event. */
function keyOf(kind: RecordKind, record: object): string {
  const r = record as { model_id?: unknown; event_id?: unknown };
  return String((kind === 'events' ? r.model_id : r.event_id) ?? '');
}
