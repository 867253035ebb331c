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
 * batch N's insert) and landing keeps filling a third (then it waits, heart-beating), so
 * parsing overlaps chDB's native threads. Offsets are committed in batch order, each only once
 * its batch and every earlier one are stored ({@link OrderedBatchWriter}): a later insert that
 * finishes first waits. When ClickHouse fails, the consumed topics are paused, no further batch
 * is handed to the writer, and the failed batch is retried with exponential back-off and
 * jitter; consumption resumes once it is stored.
 *
 * Who does what: landing (landing.ts) — the consumer, and each record's decode, checks and
 * encoding into the batch — runs in a worker thread of its own (`ingest.landingThread`, on by
 * default: landing-thread.ts), or on this thread. This class stores the batches it hands over
 * (look-ups and inserts through the engine, which stays on this thread), commits their offsets
 * through landing's consumer, and watches Kafka and ClickHouse. A landing thread that fails is
 * reported (`landing-failed`, an error log) and started again: what it held uncommitted is
 * delivered again and stored once, as after a crash.
 */
import { EventEmitter } from 'node:events';
import type { Kafka } from 'kafkajs';
import type { HalflifeConfig } from '../../platform/config.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { ClickHouseIngestRepository, type IngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { createLogger, type Logger } from '../../platform/logger.ts';
import type { DeclaredCopy } from './declared-copy.ts';
import { Landing, START_UP_GRACE_MS, type LandingControl, type LandingDeclarations } from './landing.ts';
import { ThreadLanding } from './landing-thread.ts';
import { emptyMetrics, type IngestMetrics } from './metrics.ts';
import { OrderedBatchWriter } from './ordered-batch-writer.ts';
import type { PendingBatch } from './pending-batch.ts';
import { emptyStoreResult, storeBatch } from './store-batch.ts';
import { VectorDeclarations } from './vector-declarations.ts';
import { ModelKindDeclarations } from './model-kind-declarations.ts';
import { ingestProvenanceKey } from './provenance-key.ts';

export interface IngestWorkerOptions {
  config: HalflifeConfig;
  /** Storage; default: the configured ClickHouse (opened, migrated and closed by the worker). */
  repository?: IngestRepository;
  /** Kafka client; default: one with client id `<clientId>-ingest`. A client given here lands on this thread. */
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
  /**
   * Land records in a worker thread (landing-thread.ts) instead of on this thread's event loop.
   * @default config.ingest.landingThread, unless `kafka` is given (a client cannot move threads)
   */
  landingThread?: boolean;
  /** Test hook: called after a batch is stored and before its offsets are committed. */
  afterStore?: (batch: PendingBatch) => void | Promise<void>;
  /** Test hook: the first landing thread throws once it has handed off this many batches. */
  landingThreadThrowsAfter?: number;
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

/** First wait before a failed landing thread is started again; it doubles up to ingest.maxRetryBackoffMs. */
const LANDING_RESTART_MS = 1000;

/**
 * Events: `flush` (FlushEvent), `retry` ({ attempt, delayMs, error }), `paused`, `resumed`,
 * `commit-failed` ({ error }), `kafka-stalled`, `kafka-answers`, `landing-failed` ({ error }).
 */
export class IngestWorker extends EventEmitter {
  readonly metrics: IngestMetrics = emptyMetrics();
  readonly #config: HalflifeConfig;
  readonly #options: IngestWorkerOptions;
  readonly #log: Logger;
  #repo: IngestRepository | undefined;
  #clickhouse: ClickHouse | undefined;
  #landing: LandingControl | undefined;
  /** Which landing handed each batch over: its consumer commits the batch's offsets. */
  readonly #landingOf = new WeakMap<PendingBatch, LandingControl>();
  readonly #writer: OrderedBatchWriter<FlushEvent>;
  #timer: NodeJS.Timeout | undefined;
  #statsTimer: NodeJS.Timeout | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #restartBackoff = LANDING_RESTART_MS;
  #paused = false;
  /** Consumption is paused because ClickHouse writes fail (not because of shutdown). */
  #clickhouseFailing = false;
  /** performance.now() of the last completed fetch or heartbeat. */
  #lastKafkaAnswer = 0;
  /** Joined the group at least once: later consumer crashes are failures, earlier ones start-up. */
  #joined = false;
  #stopping = false;
  #started = false;
  #giveUp = false;
  /** A batch was left unstored at shutdown: later offsets must not be committed past it. */
  #abandoned = false;
  readonly #provenanceKey: Buffer;
  readonly #inThread: boolean;

  constructor(options: IngestWorkerOptions) {
    super();
    this.#options = options;
    this.#config = options.config;
    this.#log = options.logger ?? createLogger('ingest', options.config.logLevel);
    this.#repo = options.repository;
    this.#provenanceKey = options.provenanceKey ?? ingestProvenanceKey(options.config);
    this.#inThread = options.kafka === undefined && (options.landingThread ?? options.config.ingest.landingThread);
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
    this.#lastKafkaAnswer = performance.now();
    const landing = this.#newLanding();
    this.#landing = landing;
    await landing.start();
    // A thread's start (its loader, its modules) is not Kafka's silence.
    this.#lastKafkaAnswer = performance.now();
    const tick = Math.max(20, Math.min(250, Math.floor(config.ingest.batchMaxWaitMs / 4)));
    this.#timer = setInterval(() => this.#checkKafka(), tick);
    const statsEvery = this.#options.statsIntervalMs ?? 10_000;
    if (statsEvery > 0) {
      this.#statsTimer = setInterval(
        () =>
          this.#log.info(
            {
              ...this.#summary(),
              pending: this.#landing?.pendingRecords ?? 0,
              writing: this.#writer.size,
              paused: this.#paused,
              kafkaStalled: this.metrics.kafka_stalled === 1,
              inBatch: this.#landing?.inBatch ?? 0,
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
        topics: [config.kafka.scoringEventsTopic, config.kafka.labelsTopic],
        groupId: config.ingest.groupId,
        batchSize: config.ingest.batchSize,
        batchMaxWaitMs: config.ingest.batchMaxWaitMs,
        landingThread: this.#inThread,
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
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    const landing = this.#landing;
    await landing?.drain();
    const drainTimeout = this.#options.drainTimeoutMs ?? 60_000;
    const deadline = setTimeout(() => {
      this.#giveUp = true;
    }, drainTimeout);
    try {
      await this.#writer.idle();
      if (!this.#abandoned) {
        await landing?.flushPending();
        await this.#writer.idle();
      }
    } finally {
      clearTimeout(deadline);
    }
    await landing?.disconnect();
    await this.#clickhouse?.close();
    this.#log.info(
      { ms: Date.now() - t0, drained: !this.#abandoned, metrics: this.#summary() },
      'ingest worker stopped',
    );
  }

  #newLanding(): LandingControl {
    const o = this.#options;
    const common = {
      config: this.#config,
      metrics: this.metrics,
      provenanceKey: this.#provenanceKey,
      ...(o.fromBeginning !== undefined ? { fromBeginning: o.fromBeginning } : {}),
      ...(o.createTopics !== undefined ? { createTopics: o.createTopics } : {}),
      ...(o.sessionTimeoutMs !== undefined ? { sessionTimeoutMs: o.sessionTimeoutMs } : {}),
    };
    if (!this.#inThread) {
      const landing: Landing = new Landing(
        { ...common, logger: this.#log, ...(o.kafka ? { kafka: o.kafka } : {}) },
        {
          declarations: (now) => this.#declarations(now),
          handOff: (batch) => this.#submit(batch, landing),
          answered: () => this.#kafkaAnswered(),
          joined: () => {
            this.#joined = true;
            this.#kafkaAnswered();
          },
          progressed: () => {},
        },
      );
      return landing;
    }
    const landing: ThreadLanding = new ThreadLanding(
      {
        ...common,
        logger: this.#log,
        // Only the first thread: the one started after a failure must not fail again.
        ...(o.landingThreadThrowsAfter !== undefined && this.#landing === undefined
          ? { throwAfterHandOffs: o.landingThreadThrowsAfter }
          : {}),
      },
      {
        handOff: (batch) => this.#submit(batch, landing),
        answered: () => this.#kafkaAnswered(),
        // Joining is an answer; the thread's count of answers is read only every 100 ms.
        joined: () => {
          this.#joined = true;
          this.#kafkaAnswered();
        },
        declarationCopies: () => this.#declarationCopies(),
        failed: (error) => this.#landingFailed(landing, error),
      },
    );
    return landing;
  }

  #declarationCopies(): { vectors: DeclaredCopy<unknown> | null; kinds: DeclaredCopy<unknown> | null } {
    const repo = this.#repo;
    return {
      vectors: repo ? VectorDeclarations.of(repo) : null,
      kinds: repo ? ModelKindDeclarations.of(repo) : null,
    };
  }

  /** The declarations copies, fresh for records taken at `now` (declared-copy.ts). */
  async #declarations(now: number): Promise<LandingDeclarations> {
    const repo = this.#repo;
    const vectors = repo ? VectorDeclarations.of(repo) : null;
    // Kinds check events and the labels that name their model.
    const kinds = repo ? ModelKindDeclarations.of(repo) : null;
    await Promise.all([vectors?.fresh(now), kinds?.fresh(now)]);
    return { ...(vectors ? { vectors: vectors.lookup } : {}), ...(kinds ? { kinds: kinds.lookup } : {}) };
  }

  /**
   * The landing thread failed: say so, and start another. Its batches already handed over are
   * still stored, but their offsets cannot be committed by the consumer that went with it, so
   * they are delivered again — to the new thread — and found stored; what it had not handed
   * over is delivered again too. Until the new thread's consumer answers, ingest is stalled.
   */
  #landingFailed(landing: LandingControl, error: Error): void {
    if (landing !== this.#landing) return;
    this.#log.error(
      { err: error.message, restartInMs: this.#restartBackoff },
      'the landing thread failed: starting another; records it held uncommitted are delivered again and stored once',
    );
    this.emit('landing-failed', { error });
    if (this.metrics.kafka_stalled === 0) {
      this.metrics.kafka_stalled = 1;
      this.#refreshPaused();
      this.emit('kafka-stalled');
    }
    if (this.#stopping) return;
    const delay = this.#restartBackoff;
    this.#restartBackoff = Math.min(this.#config.ingest.maxRetryBackoffMs, delay * 2);
    this.#restartTimer = setTimeout(() => {
      if (this.#stopping) return;
      const next = this.#newLanding();
      this.#landing = next;
      next.start().then(
        () => {
          this.#restartBackoff = LANDING_RESTART_MS;
          if (this.#paused) next.pause();
          this.#log.info({}, 'landing thread started again');
        },
        (err: unknown) => this.#landingFailed(next, err instanceof Error ? err : new Error(String(err))),
      );
    }, delay);
  }

  #submit(batch: PendingBatch, landing: LandingControl): void {
    this.#landingOf.set(batch, landing);
    this.#writer
      .submit(batch)
      .then(
        () => undefined,
        (err: unknown) =>
          this.#log.error(
            { err: brief(err), rows: batch.rows },
            'batch write failed unexpectedly: left uncommitted, it will be redelivered',
          ),
      )
      .finally(() => landing.batchDone());
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
    const landing = this.#landingOf.get(batch);
    if (offsets.length === 0 || !landing || this.#abandoned) return;
    const t0 = performance.now();
    try {
      await landing.commit(offsets);
    } catch (err) {
      // The rows are stored; an uncommitted offset only means a redelivery, which de-dupe absorbs
      // (typical cause: a rebalance moved the partition while the batch was being written, or
      // the landing thread that consumed it failed).
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

  /** ClickHouse writes fail: landing stops fetching until a batch is stored again. */
  #pauseAll(): void {
    if (this.#paused || !this.#landing) return;
    this.#landing.pause();
    this.#paused = true;
    // The metric (and event) report pauses caused by ClickHouse failing, not by shutdown.
    if (!this.#stopping) {
      this.#clickhouseFailing = true;
      this.#refreshPaused();
      this.emit('paused');
    }
  }

  #resumeAll(): void {
    if (!this.#paused || !this.#landing) return;
    this.#landing.resume();
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
