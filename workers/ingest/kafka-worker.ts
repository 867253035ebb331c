/**
 * The ingest worker: Kafka (scoring events, labels) → validated, batched, de-duplicated rows in
 * ClickHouse; anything malformed → dead_letters with its raw payload and the reason.
 *
 * Why this is exactly-once *in storage* (Kafka delivery itself is at-least-once):
 *  1. Offsets are committed only after every insert of a batch succeeded, so a crash loses
 *     nothing: uncommitted records are redelivered.
 *  2. A redelivered record is recognised by its identity — (model_id, event_id, minute of its
 *     timestamp) for events, (event_id, label_ts) for labels, `kafka:<topic>:<partition>:<offset>`
 *     for dead letters —
 *     three times over: within a batch (first wins; later copies are counted as duplicates),
 *     against an earlier batch still being written (an in-process set of in-flight keys,
 *     `InFlightKeys` in ordered-batch-writer.ts: its rows are not visible to a look-up yet) and
 *     against what is already stored (`existing*Ids`, looked up just before the insert). A crash
 *     between insert and commit therefore re-reads rows that are all found and dropped.
 *  3. A batch is retried as a whole, look-up included, so a partial failure (events stored,
 *     labels not) is completed on retry without doubling the part that made it.
 * The remaining race: two consumers of one group holding the same event_id in different
 *  partitions at the same moment (a producer re-sent it with another key, or a rebalance
 *  overlapped a flush) both pass the look-up before either inserts. The tables are
 *  ReplacingMergeTree on the same identity, so merges collapse such a pair, and readers that
 *  must be exact use FINAL. chDB/ClickHouse `insert_deduplication_token` was checked and is
 *  inert here: the tables are non-replicated without `non_replicated_deduplication_window`.
 *
 * Writing is pipelined: two batches are written at once (batch N+1's look-up and insert overlap
 * batch N's insert) and eachBatch keeps filling a third (then it waits, heart-beating), so
 * parsing overlaps chDB's native threads. Offsets are committed in batch order, each only once
 * its batch and every earlier one are stored ({@link OrderedBatchWriter}): a later insert that
 * finishes first waits. When ClickHouse fails, the consumed topics are paused, no further batch
 * is handed to the writer, and the failed batch is retried with exponential back-off and
 * jitter; consumption resumes once it is stored.
 */
import { EventEmitter } from 'node:events';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { HalflifeConfig } from '../../platform/config.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { ClickHouseIngestRepository, type IngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { createKafka, ensureTopics, isTransientKafkaError } from '../../platform/kafka.ts';
import { createLogger, type Logger } from '../../platform/logger.ts';
import { emptyMetrics, type IngestMetrics, type IngestTimings } from './metrics.ts';
import { OrderedBatchWriter } from './ordered-batch-writer.ts';
import { PendingBatch } from './pending-batch.ts';
import {
  prepareRecord,
  timestampWindowOf,
  type PrepareOptions,
  type RawRecord,
  type RecordKind,
  type TimestampWindow,
} from './prepare-record.ts';
import { emptyStoreResult, storeBatch } from './store-batch.ts';
import { VectorDeclarations } from './vector-declarations.ts';
import { ModelKindDeclarations } from './model-kind-declarations.ts';
import { verifySource } from './provenance-header.ts';
import { ingestProvenanceKey } from './provenance-key.ts';

/** How long joining the consumer group may take before ingest counts as stalled (ms). */
const START_UP_GRACE_MS = 30_000;

/** Batches written at once (see IngestWorker #writerFull). */
const MAX_BATCHES_WRITING = 2;

export interface IngestWorkerOptions {
  config: HalflifeConfig;
  /** Storage; default: the configured ClickHouse (opened, migrated and closed by the worker). */
  repository?: IngestRepository;
  /** Kafka client; default: {@link createKafka} with client id `<clientId>-ingest`. */
  kafka?: Kafka;
  logger?: Logger;
  /** A new consumer group starts at the beginning of the topics. @default true */
  fromBeginning?: boolean;
  /** Create the topics if missing. @default true */
  createTopics?: boolean;
  /** How long stop() keeps retrying to store the in-flight batch before giving up (it is then redelivered). @default 60000 */
  drainTimeoutMs?: number;
  /** First back-off after a failed write; doubles up to ingest.maxRetryBackoffMs. @default 200 */
  initialRetryBackoffMs?: number;
  /** Interval of the `ingest progress` log line with the counters; 0 = never. @default 10000 */
  statsIntervalMs?: number;
  /** Consumer session timeout: how long a dead worker keeps its partitions. @default 10000 */
  sessionTimeoutMs?: number;
  /**
   * Kafka is stalled (ingest `paused`, not ready) when no fetch or heartbeat has completed for this
   * long: kafkajs fetches at least every `maxWaitTimeInMs` (≤ 500 ms) while it can. @default 5000
   */
  stallAfterMs?: number;
  /**
   * Verifies the signed HTTP source a record POSTed with `ack=logged` carries (provenance-header.ts).
   * @default ingestProvenanceKey(config)
   */
  provenanceKey?: Buffer;
  /** Test hook: called after a batch is stored and before its offsets are committed. */
  afterStore?: (batch: PendingBatch) => void | Promise<void>;
}

export interface FlushEvent {
  rows: number;
  records: number;
  insertedEvents: number;
  insertedLabels: number;
  deadLetters: number;
  duplicates: number;
  latencyMs: number;
  attempts: number;
  /** Oldest record's age when the batch was stored. */
  ageMs: number;
}

/**
 * Events: `flush` (FlushEvent), `retry` ({ attempt, delayMs, error }), `paused`, `resumed`,
 * `commit-failed` ({ error }), `kafka-stalled`, `kafka-answers`.
 */
export class IngestWorker extends EventEmitter {
  readonly metrics: IngestMetrics = emptyMetrics();
  readonly #config: HalflifeConfig;
  readonly #options: IngestWorkerOptions;
  readonly #log: Logger;
  readonly #topics: string[];
  #kind: Map<string, RecordKind>;
  #repo: IngestRepository | undefined;
  #clickhouse: ClickHouse | undefined;
  #consumer: Consumer | undefined;
  #pending = new PendingBatch();
  readonly #writer: OrderedBatchWriter<FlushEvent>;
  #timer: NodeJS.Timeout | undefined;
  #statsTimer: NodeJS.Timeout | undefined;
  #inBatch = 0;
  #inBatchDone: (() => void) | undefined;
  #lastBatchEnd = 0;
  #paused = false;
  /** Consumption is paused because ClickHouse writes fail (not because of shutdown). */
  #clickhouseFailing = false;
  /** performance.now() of the last completed fetch or heartbeat. */
  #lastKafkaAnswer = 0;
  /** Joined the group at least once: later consumer crashes are failures, earlier ones start-up. */
  #joined = false;
  /** Per `topic:partition`: age (s) of the newest record taken while the partition is behind. */
  readonly #lagSeconds = new Map<string, number>();
  #stopping = false;
  #started = false;
  #giveUp = false;
  /** A batch was left unstored at shutdown: later offsets must not be committed past it. */
  #abandoned = false;
  #timings: IngestTimings;
  readonly #timestamps: TimestampWindow;
  readonly #provenanceKey: Buffer;

  constructor(options: IngestWorkerOptions) {
    super();
    this.#options = options;
    this.#config = options.config;
    this.#log = options.logger ?? createLogger('ingest', options.config.logLevel);
    const { scoringEventsTopic, labelsTopic } = options.config.kafka;
    this.#topics = [scoringEventsTopic, labelsTopic];
    this.#kind = new Map<string, RecordKind>([
      [scoringEventsTopic, 'events'],
      [labelsTopic, 'labels'],
    ]);
    this.#repo = options.repository;
    this.#timings = this.metrics.time_ms;
    this.#timestamps = timestampWindowOf(options.config);
    this.#provenanceKey = options.provenanceKey ?? ingestProvenanceKey(options.config);
    this.#writer = new OrderedBatchWriter<FlushEvent>({
      store: (batch, dropped) => this.#store(batch, dropped),
      commit: (batch, stored) => this.#finish(batch, stored),
    });
  }

  /** Storage in use (after start()). */
  get repository(): IngestRepository | undefined {
    return this.#repo;
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const config = this.#config;
    if (!this.#repo) {
      this.#clickhouse = await openClickHouse(config);
      await applyMigrations(this.#clickhouse.client);
      this.#repo = ClickHouseIngestRepository.forIngest(this.#clickhouse);
    }
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
      this.#kafkaAnswered();
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
    consumer.on(consumer.events.FETCH, () => this.#kafkaAnswered());
    consumer.on(consumer.events.HEARTBEAT, () => this.#kafkaAnswered());
    this.#lastKafkaAnswer = performance.now();
    this.#lastBatchEnd = performance.now();
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.#eachBatch(payload),
    });
    const tick = Math.max(20, Math.min(250, Math.floor(config.ingest.batchMaxWaitMs / 4)));
    this.#timer = setInterval(() => {
      this.#maybeFlush();
      this.#checkKafka();
    }, tick);
    const statsEvery = this.#options.statsIntervalMs ?? 10_000;
    if (statsEvery > 0) {
      this.#statsTimer = setInterval(
        () =>
          this.#log.info(
            {
              ...this.#summary(),
              pending: this.#pending.records,
              writing: this.#writer.size,
              paused: this.#paused,
              kafkaStalled: this.metrics.kafka_stalled === 1,
              inBatch: this.#inBatch,
              lag: this.metrics.lag_total,
              lagSeconds: this.metrics.lag_seconds,
            },
            'ingest progress',
          ),
        statsEvery,
      );
      this.#statsTimer.unref();
    }
    this.#log.info(
      {
        topics: this.#topics,
        groupId: config.ingest.groupId,
        batchSize: config.ingest.batchSize,
        batchMaxWaitMs: config.ingest.batchMaxWaitMs,
      },
      'ingest worker started',
    );
  }

  /**
   * Stop (the SIGTERM path): take no new records, store the in-flight and pending batches,
   * commit their offsets, leave the group. If ClickHouse stays down past drainTimeoutMs the
   * batch is left uncommitted — it is redelivered to the next consumer, so nothing is lost.
   */
  async stop(): Promise<void> {
    if (!this.#started || this.#stopping) return;
    this.#stopping = true;
    const t0 = Date.now();
    if (this.#timer) clearInterval(this.#timer);
    if (this.#statsTimer) clearInterval(this.#statsTimer);
    this.#pauseAll();
    if (this.#inBatch > 0) await new Promise<void>((resolve) => (this.#inBatchDone = resolve));
    const drainTimeout = this.#options.drainTimeoutMs ?? 60_000;
    const deadline = setTimeout(() => {
      this.#giveUp = true;
    }, drainTimeout);
    try {
      await this.#writer.idle();
      if (this.#pending.records > 0 && !this.#abandoned) {
        this.#startFlush();
        await this.#writer.idle();
      }
    } finally {
      clearTimeout(deadline);
    }
    await this.#consumer?.disconnect();
    await this.#clickhouse?.close();
    this.#log.info(
      { ms: Date.now() - t0, drained: !this.#abandoned, metrics: this.#summary() },
      'ingest worker stopped',
    );
  }

  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const start = performance.now();
    this.#timings.consume_ms += start - this.#lastBatchEnd;
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
      const declarations = kind === 'events' && this.#repo ? VectorDeclarations.of(this.#repo) : null;
      // Kinds check events and the labels that name their model.
      const kindCopy = this.#repo ? ModelKindDeclarations.of(this.#repo) : null;
      await Promise.all([declarations?.fresh(now), kindCopy?.fresh(now)]);
      const vectors = declarations?.lookup;
      const kinds = kindCopy?.lookup;
      // One options object for the fetch, not one (with two spreads) per message.
      const options: PrepareOptions = {
        timer: this.#timings,
        timestamps: this.#timestamps,
        now,
        ...(vectors ? { vectors } : {}),
        ...(kinds ? { kinds } : {}),
      };
      for (let i = 0; i < messages.length; i++) {
        if (this.#stopping || (i % 1000 === 999 && (!isRunning() || isStale()))) break;
        const m = messages[i]!;
        const coordinate = `${topic}:${partition}:${m.offset}`;
        // A POST's signed source is kept as an `ack=stored` POST keeps it; the dead letter stays
        // keyed by the coordinate, so a redelivered copy is still stored once.
        const provenance = verifySource(this.#provenanceKey, m.headers, m.value);
        const record: RawRecord =
          provenance.kind === 'verified'
            ? {
                source: 'http',
                topic,
                partition,
                offset: m.offset,
                key: m.key,
                value: m.value,
                ref: provenance.source,
                deadLetterId: `kafka:${coordinate}`,
              }
            : { source: 'kafka', topic, partition, offset: m.offset, key: m.key, value: m.value, ref: coordinate };
        if (provenance.kind === 'unverified') {
          unverified++;
          unverifiedReason ??= `${coordinate}: ${provenance.reason}`;
        }
        const pending = this.#pending;
        const prepared = prepareRecord(record, kind, options);
        if (!pending.add(prepared, now, this.#timings)) {
          this.metrics.duplicates_in_batch_total++;
          this.metrics.duplicates_total++;
        }
        // Recorded with every record, on the batch that holds it, so a flush started at any
        // moment (here or by the timer) commits exactly what it stored.
        pending.noteOffset(partitionKey, topic, partition, m.offset);
        taken++;
        last = m.offset;
        // Let the writer's continuations run (its chDB calls finish on other threads) instead of
        // parsing a whole multi-MB fetch in one go.
        if (i % 2000 === 1999) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          await heartbeat();
        }
        if (pending.records >= batchSize) {
          // Full: hand it to the writer; if the writer is full, wait (heart-beating) — at most
          // one full batch waits behind the ones being written.
          while (this.#writerFull() && !this.#stopping && isRunning()) {
            await Promise.race([this.#writer.anyDone(), sleep(1000)]);
            await heartbeat();
          }
          if (this.#pending === pending && !this.#writerFull()) this.#startFlush();
        }
      }
      this.metrics.consumed_total += taken;
      if (unverified > 0) {
        this.metrics.unverified_sources_total += unverified;
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
      this.metrics.lag_total += lag - (this.metrics.lag[lagKey] ?? 0);
      this.metrics.lag[lagKey] = lag;
      const newest = last === undefined ? undefined : messages[taken - 1];
      this.#lagSeconds.set(lagKey, lag > 0 && newest ? Math.max(0, (Date.now() - Number(newest.timestamp)) / 1000) : 0);
      let lagSeconds = 0;
      for (const seconds of this.#lagSeconds.values()) lagSeconds = Math.max(lagSeconds, seconds);
      this.metrics.lag_seconds = lagSeconds;
      this.#maybeFlush();
    } finally {
      this.#inBatch--;
      if (this.#inBatch === 0) this.#inBatchDone?.();
      this.#lastBatchEnd = performance.now();
    }
  }

  #maybeFlush(): void {
    if (this.#writerFull() || this.#pending.records === 0 || (this.#stopping && this.#inBatch > 0)) return;
    const full = this.#pending.records >= this.#config.ingest.batchSize;
    const old = Date.now() - this.#pending.firstAt >= this.#config.ingest.batchMaxWaitMs;
    if (full || old) this.#startFlush();
  }

  /**
   * Two batches are written at once: the second's look-up and insert overlap the first's insert.
   * While ClickHouse is failing only one is, so an outage holds at most the batch being retried
   * and one pending batch — plus a second batch if it had been handed over before the failure.
   */
  #writerFull(): boolean {
    return this.#writer.size >= MAX_BATCHES_WRITING || (this.#paused && this.#writer.size > 0);
  }

  #startFlush(): void {
    const batch = this.#pending;
    this.#pending = new PendingBatch();
    this.#writer.submit(batch).then(
      () => {
        if (!this.#stopping) this.#maybeFlush();
      },
      (err: unknown) =>
        this.#log.error(
          { err: brief(err), rows: batch.rows },
          'batch write failed unexpectedly: left uncommitted, it will be redelivered',
        ),
    );
  }

  /** Store one batch, retrying with back-off (consumption paused) until it is stored or shutdown gives up. */
  async #store(batch: PendingBatch, droppedInFlight: number): Promise<FlushEvent | undefined> {
    const repo = this.#repo!;
    const t0 = performance.now();
    const maxBackoff = this.#config.ingest.maxRetryBackoffMs;
    let backoff = this.#options.initialRetryBackoffMs ?? 200;
    let attempts = 0;
    const result = emptyStoreResult();
    for (;;) {
      attempts++;
      try {
        await storeBatch(repo, batch, result);
        break;
      } catch (err) {
        this.metrics.insert_failures_total++;
        if (this.#giveUp) {
          this.#abandoned = true;
          this.#log.error(
            { err: brief(err), rows: batch.rows, attempts },
            'ClickHouse still failing at shutdown: batch left uncommitted, it will be redelivered',
          );
          return undefined;
        }
        if (!this.#paused) this.#pauseAll();
        // Full jitter on the upper half keeps several workers from retrying in lock-step.
        const delayMs = Math.round(backoff / 2 + (Math.random() * backoff) / 2);
        this.#log.warn(
          { err: brief(err), attempt: attempts, delayMs, rows: batch.rows },
          'ClickHouse write failed: consumption paused, retrying',
        );
        this.emit('retry', { attempt: attempts, delayMs, error: err });
        await sleep(delayMs);
        if (this.#giveUp) {
          this.#abandoned = true;
          this.#log.error(
            { rows: batch.rows, attempts },
            'ClickHouse still failing at shutdown: batch left uncommitted, it will be redelivered',
          );
          return undefined;
        }
        backoff = Math.min(maxBackoff, backoff * 2);
      }
    }
    const latencyMs = performance.now() - t0;
    // Rows an earlier batch was still writing count as already stored: by the time this batch
    // is committed, they are.
    const duplicatesStored = result.duplicatesStored + droppedInFlight;
    const m = this.metrics;
    m.flushes_total++;
    m.inserted_events_total += result.insertedEvents;
    m.inserted_labels_total += result.insertedLabels;
    m.dead_letters_total += result.deadLetters;
    m.duplicates_stored_total += duplicatesStored;
    m.duplicates_total += duplicatesStored;
    m.batch_size_last = batch.rows + droppedInFlight;
    m.batch_rows_sum += batch.rows + droppedInFlight;
    m.insert_latency_ms_last = latencyMs;
    m.insert_latency_ms_sum += latencyMs;
    m.time_ms.dedupe_ms += result.dedupeMs;
    m.time_ms.serialize_ms += result.serializeMs;
    m.time_ms.insert_ms += result.insertMs;
    return {
      rows: batch.rows + droppedInFlight,
      records: batch.records,
      insertedEvents: result.insertedEvents,
      insertedLabels: result.insertedLabels,
      deadLetters: result.deadLetters,
      duplicates: batch.duplicates + duplicatesStored,
      latencyMs,
      attempts,
      ageMs: 0,
    };
  }

  /** A stored batch, its turn come: commit its offsets, resume consumption, report it. */
  async #finish(batch: PendingBatch, stored: FlushEvent): Promise<void> {
    if (this.#options.afterStore) await this.#options.afterStore(batch);
    await this.#commit(batch);
    if (this.#paused && !this.#stopping) this.#resumeAll();
    const event: FlushEvent = { ...stored, ageMs: Date.now() - batch.firstAt };
    this.#log.debug(event, 'batch stored');
    this.emit('flush', event);
  }

  async #commit(batch: PendingBatch): Promise<void> {
    const offsets = batch.commitOffsets();
    if (offsets.length === 0 || !this.#consumer || this.#abandoned) return;
    const t0 = performance.now();
    try {
      await this.#consumer.commitOffsets(offsets);
    } catch (err) {
      // The rows are stored; an uncommitted offset only means a redelivery, which de-dupe absorbs
      // (typical cause: a rebalance moved the partition while the batch was being written).
      this.metrics.commit_failures_total++;
      this.#log.warn(
        { err: (err as Error).message, offsets },
        'offset commit failed: records will be redelivered and de-duplicated',
      );
      this.emit('commit-failed', { error: err });
    } finally {
      this.metrics.time_ms.commit_ms += performance.now() - t0;
    }
  }

  #pauseAll(): void {
    if (this.#paused || !this.#consumer) return;
    try {
      this.#consumer.pause(this.#topics.map((topic) => ({ topic })));
      this.#paused = true;
      // The metric (and event) report pauses caused by ClickHouse failing, not by shutdown.
      if (!this.#stopping) {
        this.#clickhouseFailing = true;
        this.#refreshPaused();
        this.emit('paused');
      }
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'could not pause consumption');
    }
  }

  #resumeAll(): void {
    if (!this.#paused || !this.#consumer) return;
    this.#consumer.resume(this.#topics.map((topic) => ({ topic })));
    this.#paused = false;
    this.#clickhouseFailing = false;
    // Fetching starts again now: a pause is not a Kafka stall.
    this.#lastKafkaAnswer = performance.now();
    this.#refreshPaused();
    this.#log.info({}, 'ClickHouse writes succeed again: consumption resumed');
    this.emit('resumed');
  }

  #refreshPaused(): void {
    this.metrics.paused = this.#clickhouseFailing || this.metrics.kafka_stalled === 1 ? 1 : 0;
  }

  #kafkaAnswered(): void {
    this.#lastKafkaAnswer = performance.now();
    if (this.metrics.kafka_stalled === 0) return;
    this.metrics.kafka_stalled = 0;
    this.#refreshPaused();
    this.#log.info({}, 'Kafka answers again: ingest consumes');
    this.emit('kafka-answers');
  }

  /** No fetch or heartbeat for the stall time while consuming: Kafka is unreachable or the consumer is down. */
  #checkKafka(): void {
    if (this.#stopping || this.#paused || this.metrics.kafka_stalled === 1) return;
    const silentMs = performance.now() - this.#lastKafkaAnswer;
    // Joining the group takes a fresh broker several seconds (its coordinator loads): more time before the first join.
    const stallAfterMs = this.#options.stallAfterMs ?? 5000;
    if (silentMs < (this.#joined ? stallAfterMs : Math.max(stallAfterMs, START_UP_GRACE_MS))) return;
    this.metrics.kafka_stalled = 1;
    this.#refreshPaused();
    this.#log.warn(
      { silentMs: Math.round(silentMs), brokers: this.#config.kafka.brokers ?? 'local' },
      'no answer from Kafka: ingest is stalled until the broker answers',
    );
    this.emit('kafka-stalled');
  }

  #summary(): Record<string, number> {
    const m = this.metrics;
    return {
      consumed: m.consumed_total,
      events: m.inserted_events_total,
      labels: m.inserted_labels_total,
      deadLetters: m.dead_letters_total,
      duplicates: m.duplicates_total,
      flushes: m.flushes_total,
    };
  }
}

/** An error's message, cut short: ClickHouse quotes the failed query, ids and all. */
function brief(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.length > 300 ? `${message.slice(0, 300)}… (${message.length} chars)` : message;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
