/**
 * Landing: the Kafka consumer of ingest and its per-record work — fetch and decode (kafkajs), the
 * signed source's check, JSON parse, contract and declaration checks, RowBinary encoding and the
 * batch's de-duplication keys — up to a full (or old) batch, handed to whoever stores it
 * ({@link LandingSink.handOff}). Storing, and so the engine, is not here: kafka-worker.ts stores
 * the batch and then has this consumer commit its offsets ({@link Landing.commit}).
 *
 * It runs on the ingest worker's own thread (`ingest.landingThread: false`) or in a worker
 * thread of its own (landing-thread.ts), so that the daemon's event loop, which also answers the
 * API, does not carry it. The same code either way; only the sink differs.
 */
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { HalflifeConfig } from '../../platform/config.ts';
import { createKafka, ensureTopics, isTransientKafkaError } from '../../platform/kafka.ts';
import type { Logger } from '../../platform/logger.ts';
import type { ModelKindLookup } from '../../platform/prediction-kind.ts';
import type { VectorDeclarationLookup } from '../../platform/vector-features.ts';
import type { IngestMetrics } from './metrics.ts';
import { PendingBatch } from './pending-batch.ts';
import {
  prepareRecord,
  timestampWindowOf,
  type PrepareOptions,
  type RawRecord,
  type RecordKind,
  type TimestampWindow,
} from './prepare-record.ts';
import { verifySource } from './provenance-header.ts';

/** How long joining the consumer group may take before a crash counts as a failure (ms). */
export const START_UP_GRACE_MS = 30_000;

/** Batches written at once: the second's look-up and insert overlap the first's insert. */
export const MAX_BATCHES_WRITING = 2;

/** The declarations a fetched batch is checked against (declared-copy.ts). */
export interface LandingDeclarations {
  vectors?: VectorDeclarationLookup;
  kinds?: ModelKindLookup;
}

/** Where landing's results go. */
export interface LandingSink {
  /** The declarations, fresh enough for records taken at `now`; rejects when none could be read yet. */
  declarations(now: number): Promise<LandingDeclarations>;
  /** A full or old batch to store; {@link Landing.batchDone} is called once it is finished (stored or given up). */
  handOff(batch: PendingBatch): void;
  /** A fetch or heartbeat completed. */
  answered(): void;
  /** The consumer joined its group. */
  joined(): void;
  /** A fetched batch was taken: the counters moved. */
  progressed(): void;
}

export interface LandingOptions {
  config: HalflifeConfig;
  logger: Logger;
  /** Counters landing moves (consumed, in-batch duplicates, unverified sources, lag, parse/validate/encode time). */
  metrics: IngestMetrics;
  provenanceKey: Buffer;
  /** A client made elsewhere (tests); default: {@link createKafka} with client id `<clientId>-ingest`. */
  kafka?: Kafka;
  fromBeginning?: boolean;
  createTopics?: boolean;
  sessionTimeoutMs?: number;
}

/** The commands landing takes from the thread that stores its batches; the same in-process or across threads. */
export interface LandingControl {
  start(): Promise<void>;
  /** A batch handed off is finished: one more may be handed off. */
  batchDone(): void;
  /** Stop fetching (ClickHouse writes fail); at most one more full batch is taken meanwhile. */
  pause(): void;
  resume(): void;
  /** Commit offsets (kafkajs' form: the next offset to read) for the consumer group. */
  commit(offsets: Array<{ topic: string; partition: number; offset: string }>): Promise<void>;
  /** Stop taking records and wait until no fetched batch is being taken. */
  drain(): Promise<void>;
  /** Hand off what is pending, whatever its size (the shutdown drain). */
  flushPending(): Promise<void>;
  /** Leave the consumer group. */
  disconnect(): Promise<void>;
  /** Records in the batch being filled. */
  readonly pendingRecords: number;
  /** Fetched batches being taken now. */
  readonly inBatch: number;
}

export class Landing implements LandingControl {
  readonly #config: HalflifeConfig;
  readonly #options: LandingOptions;
  readonly #sink: LandingSink;
  readonly #log: Logger;
  readonly #metrics: IngestMetrics;
  readonly #topics: string[];
  readonly #kind: Map<string, RecordKind>;
  #consumer: Consumer | undefined;
  #pending = new PendingBatch();
  /** Batches handed off and not yet finished. */
  #handedOff = 0;
  #doneWaiters: Array<() => void> = [];
  #timer: NodeJS.Timeout | undefined;
  #inBatch = 0;
  #inBatchDone: (() => void) | undefined;
  #lastBatchEnd = 0;
  #paused = false;
  #stopping = false;
  #joined = false;
  #lastKafkaAnswer = 0;
  /** Per `topic:partition`: age (s) of the newest record taken while the partition is behind. */
  readonly #lagSeconds = new Map<string, number>();
  readonly #timestamps: TimestampWindow;

  constructor(options: LandingOptions, sink: LandingSink) {
    this.#options = options;
    this.#config = options.config;
    this.#sink = sink;
    this.#log = options.logger;
    this.#metrics = options.metrics;
    const { scoringEventsTopic, labelsTopic } = options.config.kafka;
    this.#topics = [scoringEventsTopic, labelsTopic];
    this.#kind = new Map<string, RecordKind>([
      [scoringEventsTopic, 'events'],
      [labelsTopic, 'labels'],
    ]);
    this.#timestamps = timestampWindowOf(options.config);
  }

  get pendingRecords(): number {
    return this.#pending.records;
  }

  get inBatch(): number {
    return this.#inBatch;
  }

  async start(): Promise<void> {
    const config = this.#config;
    const kafka =
      this.#options.kafka ?? createKafka(config, { clientId: `${config.kafka.clientId}-ingest`, logger: this.#log });
    if (this.#options.createTopics ?? true) await ensureTopics(config, this.#topics, kafka);
    const consumer = kafka.consumer({
      groupId: config.ingest.groupId,
      // A SIGKILLed member holds its partitions until its session expires: keep that short.
      // eachBatch heart-beats at least every second while it waits, so 10 s is ample.
      sessionTimeout: this.#options.sessionTimeoutMs ?? 10_000,
      rebalanceTimeout: 30_000,
      heartbeatInterval: 1000,
      // Large fetches: ingest is throughput-bound and batches are thousands of records.
      maxBytesPerPartition: 8 * 1024 * 1024,
      maxBytes: 64 * 1024 * 1024,
      maxWaitTimeInMs: Math.min(500, config.ingest.batchMaxWaitMs),
      allowAutoTopicCreation: false,
    });
    this.#consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: this.#topics, fromBeginning: this.#options.fromBeginning ?? true });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.#joined = true;
      this.#answered();
      this.#sink.joined();
      this.#log.info({ memberId: e.payload.memberId, assignment: e.payload.memberAssignment }, 'joined consumer group');
    });
    consumer.on(consumer.events.CRASH, (e) => {
      const { error, restart } = e.payload;
      // A fresh broker answers "coordinator loading/not available" for a moment: kafkajs restarts
      // the consumer and it joins. Such answers, and any crash while first joining, are start-up;
      // anything else is a failure.
      const startingUp = !this.#joined && performance.now() - this.#lastKafkaAnswer < START_UP_GRACE_MS;
      if (restart && (startingUp || isTransientKafkaError(error)))
        this.#log.debug({ err: error.message }, 'consumer restarting while the group coordinator starts');
      else this.#log.error({ err: error, restart }, restart ? 'consumer crashed: restarting' : 'consumer crashed');
    });
    consumer.on(consumer.events.FETCH, () => this.#answered());
    consumer.on(consumer.events.HEARTBEAT, () => this.#answered());
    this.#lastKafkaAnswer = performance.now();
    this.#lastBatchEnd = performance.now();
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.#eachBatch(payload),
    });
    const tick = Math.max(20, Math.min(250, Math.floor(config.ingest.batchMaxWaitMs / 4)));
    this.#timer = setInterval(() => this.#maybeFlush(), tick);
  }

  batchDone(): void {
    this.#handedOff--;
    for (const wake of this.#doneWaiters.splice(0)) wake();
    if (!this.#stopping) this.#maybeFlush();
  }

  pause(): void {
    if (this.#paused || !this.#consumer) return;
    try {
      this.#consumer.pause(this.#topics.map((topic) => ({ topic })));
      this.#paused = true;
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'could not pause consumption');
    }
  }

  resume(): void {
    if (!this.#paused || !this.#consumer) return;
    this.#consumer.resume(this.#topics.map((topic) => ({ topic })));
    this.#paused = false;
    // Fetching starts again now: a pause is not a Kafka stall.
    this.#answered();
  }

  async commit(offsets: Array<{ topic: string; partition: number; offset: string }>): Promise<void> {
    if (!this.#consumer) throw new Error('the consumer never started');
    await this.#consumer.commitOffsets(offsets);
  }

  async drain(): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearInterval(this.#timer);
    this.pause();
    if (this.#inBatch > 0) await new Promise<void>((resolve) => (this.#inBatchDone = resolve));
  }

  async flushPending(): Promise<void> {
    if (this.#pending.records > 0) this.#handOff();
  }

  async disconnect(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#consumer?.disconnect();
  }

  #answered(): void {
    this.#lastKafkaAnswer = performance.now();
    this.#sink.answered();
  }

  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const start = performance.now();
    const m = this.#metrics;
    m.time_ms.consume_ms += start - this.#lastBatchEnd;
    this.#inBatch++;
    try {
      if (this.#stopping) return; // not taken, not resolved: redelivered after restart
      const kind = this.#kind.get(batch.topic) ?? 'events'; // only the two subscribed topics arrive
      const { topic, partition } = batch;
      const partitionKey = `${topic}\u0000${partition}`;
      const batchSize = this.#config.ingest.batchSize;
      let taken = 0;
      let unverified = 0;
      let unverifiedReason: string | undefined;
      let last: string | undefined;
      const messages = batch.messages;
      // One clock reading per fetched batch: the timestamp window and the batch age need no more.
      const now = Date.now();
      const { vectors, kinds } = await this.#sink.declarations(now);
      // One options object for the fetch, not one (with two spreads) per message.
      const options: PrepareOptions = {
        timer: m.time_ms,
        timestamps: this.#timestamps,
        now,
        ...(vectors ? { vectors } : {}),
        ...(kinds ? { kinds } : {}),
      };
      for (let i = 0; i < messages.length; i++) {
        if (this.#stopping || (i % 1000 === 999 && (!isRunning() || isStale()))) break;
        const msg = messages[i]!;
        const coordinate = `${topic}:${partition}:${msg.offset}`;
        // A POST's signed source is kept as an `ack=stored` POST keeps it; the dead letter stays
        // keyed by the coordinate, so a redelivered copy is still stored once.
        const provenance = verifySource(this.#options.provenanceKey, msg.headers, msg.value);
        const record: RawRecord =
          provenance.kind === 'verified'
            ? {
                source: 'http',
                topic,
                partition,
                offset: msg.offset,
                key: msg.key,
                value: msg.value,
                ref: provenance.source,
                deadLetterId: `kafka:${coordinate}`,
              }
            : {
                source: 'kafka',
                topic,
                partition,
                offset: msg.offset,
                key: msg.key,
                value: msg.value,
                ref: coordinate,
              };
        if (provenance.kind === 'unverified') {
          unverified++;
          unverifiedReason ??= `${coordinate}: ${provenance.reason}`;
        }
        const pending = this.#pending;
        const prepared = prepareRecord(record, kind, options);
        if (!pending.add(prepared, now, m.time_ms)) {
          m.duplicates_in_batch_total++;
          m.duplicates_total++;
        }
        // Recorded with every record, on the batch that holds it, so a flush started at any
        // moment (here or by the timer) commits exactly what it stored.
        pending.noteOffset(partitionKey, topic, partition, msg.offset);
        taken++;
        last = msg.offset;
        // Let the writer's continuations run (its chDB calls finish on other threads) instead of
        // parsing a whole multi-MB fetch in one go.
        if (i % 2000 === 1999) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          await heartbeat();
        }
        if (pending.records >= batchSize) {
          // Full: hand it off; if the writer is full, wait (heart-beating) — at most one full
          // batch waits behind the ones being written.
          while (this.#writerFull() && !this.#stopping && isRunning()) {
            await Promise.race([this.#anyDone(), sleep(1000)]);
            await heartbeat();
          }
          if (this.#pending === pending && !this.#writerFull()) this.#handOff();
        }
      }
      m.consumed_total += taken;
      if (unverified > 0) {
        m.unverified_sources_total += unverified;
        this.#log.warn(
          { records: unverified, first: unverifiedReason },
          'provenance headers that do not verify: records landed with their Kafka coordinate, not as HTTP',
        );
      }
      // Moves kafkajs' fetch position only; the commit happens after the insert. A stale batch
      // (the partition was seeked or reassigned) is not resolved: kafkajs re-fetches from its new position.
      if (last !== undefined && !isStale()) resolveOffset(last);
      const lag = Number(batch.offsetLag());
      const lagKey = `${topic}:${partition}`;
      m.lag_total += lag - (m.lag[lagKey] ?? 0);
      m.lag[lagKey] = lag;
      const newest = last === undefined ? undefined : messages[taken - 1];
      this.#lagSeconds.set(lagKey, lag > 0 && newest ? Math.max(0, (Date.now() - Number(newest.timestamp)) / 1000) : 0);
      let lagSeconds = 0;
      for (const seconds of this.#lagSeconds.values()) lagSeconds = Math.max(lagSeconds, seconds);
      m.lag_seconds = lagSeconds;
      this.#maybeFlush();
    } finally {
      this.#inBatch--;
      if (this.#inBatch === 0) this.#inBatchDone?.();
      this.#lastBatchEnd = performance.now();
      this.#sink.progressed();
    }
  }

  #maybeFlush(): void {
    if (this.#writerFull() || this.#pending.records === 0 || (this.#stopping && this.#inBatch > 0)) return;
    const full = this.#pending.records >= this.#config.ingest.batchSize;
    const old = Date.now() - this.#pending.firstAt >= this.#config.ingest.batchMaxWaitMs;
    if (full || old) this.#handOff();
  }

  /**
   * Two batches are written at once. While ClickHouse is failing (consumption paused) only one
   * is, so an outage holds at most the batch being retried and one pending batch — plus a second
   * batch if it had been handed over before the failure.
   */
  #writerFull(): boolean {
    return this.#handedOff >= MAX_BATCHES_WRITING || (this.#paused && this.#handedOff > 0);
  }

  #anyDone(): Promise<void> {
    if (this.#handedOff === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.#doneWaiters.push(resolve));
  }

  #handOff(): void {
    const batch = this.#pending;
    this.#pending = new PendingBatch();
    this.#handedOff++;
    this.#sink.handOff(batch);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
