/**
 * The log behind POST ?ack=logged: a request's valid records produced to the topics Kafka ingest
 * consumes (kafka-worker.ts), in the form that path expects — one JSON record a message, events
 * keyed by model_id as the scorer produces them, labels by event_id — acknowledged by all in-sync
 * replicas. Each message carries its HTTP source, signed (provenance-header.ts), so it lands with
 * the source an `ack=stored` POST stores. The producer is not idempotent: a retried send may
 * write a record twice, and landing drops the copy like any redelivery, so exactly-once holds
 * where it is kept, in the store.
 */
import type { Kafka, Producer } from 'kafkajs';
import type { HalflifeConfig } from '../../platform/config.ts';
import { createKafka, createProducer } from '../../platform/kafka.ts';
import { RECORD_BATCH_OVERHEAD_BYTES, singleRecordBatchBytes } from '../../platform/kafka-record-size.ts';
import type { Logger } from '../../platform/logger.ts';
import { DependencyError } from '../../platform/errors.ts';
import type { RecordKind } from './prepare-record.ts';
import { signedSourceHeaders } from './provenance-header.ts';
import { ingestProvenanceKey } from './provenance-key.ts';

/**
 * Most bytes of records in one produce request. kafkajs sends one record batch per partition per
 * request, and the broker refuses a batch over `message.max.bytes` (1 MB by default); a record
 * larger than this goes alone (http.ts has checked it fits).
 */
const MAX_SEND_BYTES = 512 * 1024;

/** The broker did not take (or acknowledge) a request's records: nothing of it is acknowledged. */
export class LogUnavailableError extends DependencyError {}

/** One record as the message the log produces, and the bytes the broker counts for it alone. */
export interface LogMessage {
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly bytes: number;
}

export class HttpIngestLog {
  readonly #kafka: Kafka;
  readonly #topics: Record<RecordKind, string>;
  readonly #provenanceKey: Buffer;
  /** `kafka.maxMessageBytes`: the largest message (its record batch alone) the broker takes. */
  readonly maxMessageBytes: number;
  #producer: Promise<Producer> | undefined;

  constructor(
    config: Pick<HalflifeConfig, 'kafka' | 'services' | 'logLevel' | 'dataDir' | 'ingest'>,
    /** `provenanceKey`: signs each message's source. @default ingestProvenanceKey(config) */
    options: { kafka?: Kafka; logger?: Logger; provenanceKey?: Buffer } = {},
  ) {
    this.#kafka =
      options.kafka ??
      createKafka(config, {
        clientId: `${config.kafka.clientId}-http-ingest`,
        ...(options.logger ? { logger: options.logger } : {}),
      });
    this.#topics = { events: config.kafka.scoringEventsTopic, labels: config.kafka.labelsTopic };
    this.#provenanceKey = options.provenanceKey ?? ingestProvenanceKey(config);
    this.maxMessageBytes = config.kafka.maxMessageBytes;
  }

  /** The topic a kind of record goes to. */
  topicOf(kind: RecordKind): string {
    return this.#topics[kind];
  }

  /** `record` (a valid contract record) as its message, signed as coming from `source` (`http:<token name>`). */
  message(kind: RecordKind, record: object, source: string): LogMessage {
    const value = JSON.stringify(record);
    const key = keyOf(kind, record);
    const headers = signedSourceHeaders(this.#provenanceKey, source, value);
    return { key, value, headers, bytes: singleRecordBatchBytes({ key, value, headers }) };
  }

  /** Produce `messages` and resolve once every one is acknowledged by all in-sync replicas. */
  async append(kind: RecordKind, messages: readonly LogMessage[]): Promise<void> {
    if (messages.length === 0) return;
    try {
      await this.#produce(kind, messages);
    } catch (err) {
      throw new LogUnavailableError(
        `Kafka did not acknowledge the records on ${this.#topics[kind]}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  async #produce(kind: RecordKind, messages: readonly LogMessage[]): Promise<void> {
    const producer = await this.#connected();
    const topic = this.#topics[kind];
    const sends: Promise<unknown>[] = [];
    let request: LogMessage[] = [];
    let bytes = 0;
    for (const message of messages) {
      // A batch's fixed part is paid once per partition, not per record.
      const recordBytes = message.bytes - RECORD_BATCH_OVERHEAD_BYTES;
      if (request.length > 0 && bytes + recordBytes > MAX_SEND_BYTES) {
        sends.push(producer.send({ topic, acks: -1, messages: request }));
        request = [];
        bytes = 0;
      }
      request.push(message);
      bytes += recordBytes;
    }
    sends.push(producer.send({ topic, acks: -1, messages: request }));
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
