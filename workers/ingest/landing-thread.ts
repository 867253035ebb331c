/**
 * Landing (landing.ts) in a worker thread of its own, as the ingest worker's main thread sees it:
 * the same commands ({@link LandingControl}) sent as messages. Kafka's fetch and decoding, the
 * signed sources' HMAC, JSON parse, the contract checks and the RowBinary encoding run there; a
 * full or old batch comes back with its bytes transferred, not copied (pending-batch.ts
 * `transfer`), and its de-duplication keys, and this thread looks it up and inserts it through
 * the engine (the embedded engine is one per process, and its binding lives here), then tells the
 * thread to commit its offsets. The declarations a batch is checked against are read here, from
 * the engine, and sent when they change.
 *
 * The thread's entry is `landing-worker.mjs`, plain JavaScript that registers tsx's ESM loader
 * before importing `landing-thread-main.ts` (as `operations/dle-fit-worker.mjs` does): it assumes
 * what the daemon does, the TypeScript source and tsx installed beside it.
 *
 * A thread that throws or exits unasked fails every command waiting on it and is reported once
 * ({@link ThreadLandingEvents.failed}); what it had taken and not handed off is lost with it, and
 * since no offset past an unstored record was committed, Kafka delivers it again.
 */
import { Worker } from 'node:worker_threads';
import type { HalflifeConfig } from '../../platform/config.ts';
import type { Logger } from '../../platform/logger.ts';
import type { DeclaredCopy } from './declared-copy.ts';
import type { LandingControl } from './landing.ts';
import type { IngestMetrics } from './metrics.ts';
import { PendingBatch, type TransferredBatch } from './pending-batch.ts';

const WORKER_URL = new URL('./landing-worker.mjs', import.meta.url);

/** What the thread starts with. */
export interface LandingThreadData {
  config: HalflifeConfig;
  logLevel: string;
  provenanceKey: Uint8Array;
  fromBeginning?: boolean;
  createTopics?: boolean;
  sessionTimeoutMs?: number;
  /** Int32 [0]: completed fetches and heartbeats, counted by the thread (a stall is read from it here). */
  answers: SharedArrayBuffer;
  /** Test hook: the thread throws once it has handed off this many batches. */
  throwAfterHandOffs?: number;
}

/** Counters the thread moved since its last message, and the gauges as they are. */
export interface LandingProgress {
  counters: Partial<Record<(typeof LANDING_COUNTERS)[number], number>>;
  timings: Partial<Record<(typeof LANDING_TIMINGS)[number], number>>;
  lag: Record<string, number>;
  lagTotal: number;
  lagSeconds: number;
  pending: number;
  inBatch: number;
}

export const LANDING_COUNTERS = [
  'consumed_total',
  'duplicates_in_batch_total',
  'duplicates_total',
  'unverified_sources_total',
] as const;
export const LANDING_TIMINGS = ['consume_ms', 'parse_ms', 'validate_ms', 'serialize_ms'] as const;

type Offsets = Array<{ topic: string; partition: number; offset: string }>;

/** Thread → this thread. */
export type FromLanding =
  | { type: 'started' }
  | { type: 'start-failed'; error: { message: string; name: string; exitCode?: number } }
  | { type: 'batch'; batch: TransferredBatch; progress: LandingProgress }
  | { type: 'progress'; progress: LandingProgress }
  | { type: 'joined' }
  | { type: 'declarations'; id: number; now: number }
  | { type: 'reply'; id: number; error?: string }
  | { type: 'log'; line: string };

/** A declarations copy as sent: the map when it changed since the last one sent, `same` otherwise, null when not declared at all. */
export type SentCopy<T> = ReadonlyMap<string, T> | 'same' | null;

/** This thread → the thread. */
export type ToLanding =
  | { type: 'batch-done' }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'commit'; id: number; offsets: Offsets }
  | { type: 'drain'; id: number }
  | { type: 'flush-pending'; id: number }
  | { type: 'disconnect'; id: number }
  | {
      type: 'declarations';
      id: number;
      vectors: SentCopy<unknown>;
      kinds: SentCopy<unknown>;
      /** The older copy's read time: the thread asks again from half the copies' maximum age. */
      readAt: number;
      error?: string;
    };

export interface ThreadLandingEvents {
  /** A batch to store, as the thread built it. */
  handOff(batch: PendingBatch): void;
  answered(): void;
  joined(): void;
  /** The declarations copies the thread's records are checked against (null: not declared by this store). */
  declarationCopies(): { vectors: DeclaredCopy<unknown> | null; kinds: DeclaredCopy<unknown> | null };
  /** The thread threw or exited unasked, after it had started. */
  failed(error: Error): void;
}

export interface ThreadLandingOptions {
  config: HalflifeConfig;
  logger: Logger;
  metrics: IngestMetrics;
  provenanceKey: Buffer;
  fromBeginning?: boolean;
  createTopics?: boolean;
  sessionTimeoutMs?: number;
  throwAfterHandOffs?: number;
}

export class ThreadLanding implements LandingControl {
  readonly #options: ThreadLandingOptions;
  readonly #events: ThreadLandingEvents;
  readonly #log: Logger;
  readonly #answers = new Int32Array(new SharedArrayBuffer(4));
  #worker: Worker | undefined;
  #nextId = 0;
  readonly #waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  /** The last maps sent, so an unchanged copy is not cloned again. */
  #sentVectors: ReadonlyMap<string, unknown> | undefined;
  #sentKinds: ReadonlyMap<string, unknown> | undefined;
  #answersSeen = 0;
  #answerTimer: NodeJS.Timeout | undefined;
  #pending = 0;
  #inBatch = 0;
  /** Set once the thread failed or was let go: commands then have nothing to talk to. */
  #gone: Error | undefined;
  #exiting = false;

  constructor(options: ThreadLandingOptions, events: ThreadLandingEvents) {
    this.#options = options;
    this.#events = events;
    this.#log = options.logger;
  }

  get pendingRecords(): number {
    return this.#pending;
  }

  get inBatch(): number {
    return this.#inBatch;
  }

  start(): Promise<void> {
    const o = this.#options;
    const data: LandingThreadData = {
      config: o.config,
      logLevel: this.#log.level,
      provenanceKey: new Uint8Array(o.provenanceKey),
      answers: this.#answers.buffer as SharedArrayBuffer,
      ...(o.fromBeginning !== undefined ? { fromBeginning: o.fromBeginning } : {}),
      ...(o.createTopics !== undefined ? { createTopics: o.createTopics } : {}),
      ...(o.sessionTimeoutMs !== undefined ? { sessionTimeoutMs: o.sessionTimeoutMs } : {}),
      ...(o.throwAfterHandOffs !== undefined ? { throwAfterHandOffs: o.throwAfterHandOffs } : {}),
    };
    return new Promise<void>((resolve, reject) => {
      let started = false;
      const worker = new Worker(WORKER_URL, {
        // Without the parent's loader flags (tsx, vitest): the entry registers its own.
        execArgv: [],
        workerData: data,
        name: 'halflife-landing',
      });
      this.#worker = worker;
      const fail = (error: Error): void => {
        if (this.#gone) return;
        this.#gone = error;
        if (this.#answerTimer) clearInterval(this.#answerTimer);
        for (const waiting of this.#waiting.values()) waiting.reject(error);
        this.#waiting.clear();
        if (!started) reject(error);
        else this.#events.failed(error);
        void worker.terminate().catch(() => undefined);
      };
      worker.on('message', (message: FromLanding) => {
        if (message.type === 'started') {
          started = true;
          this.#answerTimer = setInterval(() => this.#pollAnswers(), 100);
          this.#answerTimer.unref();
          resolve();
        } else if (message.type === 'start-failed') {
          const error = Object.assign(new Error(message.error.message), {
            name: message.error.name,
            ...(message.error.exitCode !== undefined ? { exitCode: message.error.exitCode } : {}),
          });
          fail(error);
        } else this.#receive(message);
      });
      worker.on('error', (err) => fail(new Error(`the landing thread failed: ${err.message}`, { cause: err })));
      worker.on('messageerror', (err) =>
        fail(new Error(`the landing thread sent a message that could not be read: ${err.message}`)),
      );
      worker.on('exit', (code) => {
        if (!this.#exiting) fail(new Error(`the landing thread exited with code ${code} unasked`));
      });
    });
  }

  batchDone(): void {
    this.#post({ type: 'batch-done' });
  }

  pause(): void {
    this.#post({ type: 'pause' });
  }

  resume(): void {
    this.#post({ type: 'resume' });
  }

  commit(offsets: Offsets): Promise<void> {
    return this.#ask((id) => ({ type: 'commit', id, offsets }));
  }

  /** A thread that is gone has nothing to drain: its failure was reported when it went. */
  async drain(): Promise<void> {
    await this.#askUnlessGone((id) => ({ type: 'drain', id }));
  }

  async flushPending(): Promise<void> {
    await this.#askUnlessGone((id) => ({ type: 'flush-pending', id }));
  }

  /** Leave the group, then end the thread. */
  async disconnect(): Promise<void> {
    if (this.#gone) return;
    try {
      await this.#askUnlessGone((id) => ({ type: 'disconnect', id }));
    } finally {
      this.#exiting = true;
      this.#gone ??= new Error('the landing thread was stopped');
      if (this.#answerTimer) clearInterval(this.#answerTimer);
      await this.#worker?.terminate();
    }
  }

  #post(message: ToLanding): void {
    if (!this.#gone) this.#worker?.postMessage(message);
  }

  #ask(message: (id: number) => ToLanding): Promise<void> {
    if (this.#gone) return Promise.reject(this.#gone);
    const id = this.#nextId++;
    return new Promise<void>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#worker!.postMessage(message(id));
    });
  }

  async #askUnlessGone(message: (id: number) => ToLanding): Promise<void> {
    if (this.#gone) return;
    try {
      await this.#ask(message);
    } catch (err) {
      if (!this.#gone) throw err;
    }
  }

  #receive(message: FromLanding): void {
    switch (message.type) {
      case 'batch':
        this.#progress(message.progress);
        this.#events.handOff(PendingBatch.fromTransfer(message.batch));
        break;
      case 'progress':
        this.#progress(message.progress);
        break;
      case 'joined':
        this.#events.joined();
        break;
      case 'declarations':
        void this.#declarations(message.id, message.now);
        break;
      case 'reply': {
        const waiting = this.#waiting.get(message.id);
        this.#waiting.delete(message.id);
        if (message.error === undefined) waiting?.resolve();
        else waiting?.reject(new Error(message.error));
        break;
      }
      case 'log':
        this.#relog(message.line);
        break;
      default:
    }
  }

  #progress(p: LandingProgress): void {
    const m = this.#options.metrics;
    for (const name of LANDING_COUNTERS) m[name] += p.counters[name] ?? 0;
    for (const name of LANDING_TIMINGS) m.time_ms[name] += p.timings[name] ?? 0;
    m.lag = p.lag;
    m.lag_total = p.lagTotal;
    m.lag_seconds = p.lagSeconds;
    this.#pending = p.pending;
    this.#inBatch = p.inBatch;
  }

  /** Read the copies here (from the engine, as a batch on this thread would) and send what changed. */
  async #declarations(id: number, now: number): Promise<void> {
    const { vectors, kinds } = this.#events.declarationCopies();
    try {
      await Promise.all([vectors?.fresh(now), kinds?.fresh(now)]);
      const sent = (copy: DeclaredCopy<unknown> | null, last: ReadonlyMap<string, unknown> | undefined) =>
        copy === null ? null : copy.current === last ? ('same' as const) : copy.current;
      const message: ToLanding = {
        type: 'declarations',
        id,
        vectors: sent(vectors, this.#sentVectors),
        kinds: sent(kinds, this.#sentKinds),
        readAt: Math.min(vectors?.readAt ?? Infinity, kinds?.readAt ?? Infinity),
      };
      if (vectors) this.#sentVectors = vectors.current;
      if (kinds) this.#sentKinds = kinds.current;
      this.#post(message);
    } catch (err) {
      this.#post({
        type: 'declarations',
        id,
        vectors: null,
        kinds: null,
        readAt: -Infinity,
        error: (err as Error).message,
      });
    }
  }

  #pollAnswers(): void {
    const seen = Atomics.load(this.#answers, 0);
    if (seen === this.#answersSeen) return;
    this.#answersSeen = seen;
    this.#events.answered();
  }

  /** A log line of the thread's, through this thread's logger (its level, its bindings). */
  #relog(line: string): void {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.#log.info({ line }, 'landing thread');
      return;
    }
    const { level, msg } = entry;
    const fields = { ...entry };
    delete fields.level;
    delete fields.msg;
    delete fields.time;
    const label = this.#log.levels.labels[Number(level)] ?? 'info';
    const log = this.#log[label as 'info'];
    if (typeof log === 'function') log.call(this.#log, fields, typeof msg === 'string' ? msg : '');
  }
}
