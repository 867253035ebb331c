/**
 * Inside the landing thread (landing-thread.ts is the other side): runs {@link Landing} with a
 * sink that posts each batch to the ingest worker's thread — bytes and numbers transferred — and
 * obeys that thread's commands. Its logs go to that thread's logger, line by line.
 */
import { writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import type { ModelKindDeclaration } from '../../platform/clickhouse/model-kind-repository.ts';
import type { VectorDeclaration } from '../../platform/vector-features.ts';
import { DECLARATIONS_MAX_AGE_MS } from './declared-copy.ts';
import { Landing, type LandingDeclarations, type LandingSink } from './landing.ts';
import {
  LANDING_COUNTERS,
  LANDING_TIMINGS,
  type FromLanding,
  type LandingProgress,
  type LandingThreadData,
  type ToLanding,
} from './landing-thread.ts';
import { emptyMetrics } from './metrics.ts';
import type { PendingBatch } from './pending-batch.ts';

/** This OS thread's name (Linux, ≤ 15 characters), so `top -H` and the benches' /proc readings tell it apart. */
export const LANDING_THREAD_NAME = 'ingest-landing';
try {
  // A synchronous write runs on the calling thread: /proc/thread-self is this one.
  writeFileSync('/proc/thread-self/comm', LANDING_THREAD_NAME);
} catch {
  // Not Linux, or /proc not mounted: the thread keeps its inherited name.
}

const port = parentPort!;
const data = workerData as LandingThreadData;
const post = (message: FromLanding, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

const logger = pino({ level: data.logLevel, base: null }, { write: (line: string) => post({ type: 'log', line }) });
const metrics = emptyMetrics();
const answers = new Int32Array(data.answers);

/** What was last reported of the counters, so each message carries what moved since. */
const reported = {
  counters: Object.fromEntries(LANDING_COUNTERS.map((n) => [n, 0])) as Record<
    (typeof LANDING_COUNTERS)[number],
    number
  >,
  timings: Object.fromEntries(LANDING_TIMINGS.map((n) => [n, 0])) as Record<(typeof LANDING_TIMINGS)[number], number>,
};

function progress(): LandingProgress {
  const p: LandingProgress = {
    counters: {},
    timings: {},
    lag: { ...metrics.lag },
    lagTotal: metrics.lag_total,
    lagSeconds: metrics.lag_seconds,
    pending: landing.pendingRecords,
    inBatch: landing.inBatch,
  };
  for (const name of LANDING_COUNTERS) {
    p.counters[name] = metrics[name] - reported.counters[name];
    reported.counters[name] = metrics[name];
  }
  for (const name of LANDING_TIMINGS) {
    p.timings[name] = metrics.time_ms[name] - reported.timings[name];
    reported.timings[name] = metrics.time_ms[name];
  }
  return p;
}

/** The copies of the declarations as last sent, and when the older was read over there. */
let vectors: ReadonlyMap<string, VectorDeclaration> | null = null;
let kinds: ReadonlyMap<string, ModelKindDeclaration> | null = null;
let declarationsReadAt = Number.NEGATIVE_INFINITY;
let nextId = 0;
const asked = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();

let handedOff = 0;

const sink: LandingSink = {
  async declarations(now: number): Promise<LandingDeclarations> {
    // As DeclaredCopy.fresh: a copy younger than half its maximum age is used as it is.
    if (now - declarationsReadAt >= DECLARATIONS_MAX_AGE_MS / 2) {
      const id = nextId++;
      await new Promise<void>((resolve, reject) => {
        asked.set(id, { resolve, reject });
        post({ type: 'declarations', id, now });
      });
    }
    const v = vectors;
    const k = kinds;
    return { ...(v ? { vectors: (m: string) => v.get(m) } : {}), ...(k ? { kinds: (m: string) => k.get(m) } : {}) };
  },
  handOff(batch: PendingBatch): void {
    const { batch: transferred, transferList } = batch.transfer();
    post({ type: 'batch', batch: transferred, progress: progress() }, transferList);
    handedOff++;
    if (data.throwAfterHandOffs !== undefined && handedOff >= data.throwAfterHandOffs)
      setImmediate(() => {
        throw new Error(`test hook: the landing thread throws after ${handedOff} batches handed off`);
      });
  },
  answered(): void {
    Atomics.add(answers, 0, 1);
  },
  joined(): void {
    post({ type: 'joined' });
  },
  progressed(): void {
    post({ type: 'progress', progress: progress() });
  },
};

const landing = new Landing(
  {
    config: data.config,
    logger,
    metrics,
    provenanceKey: Buffer.from(data.provenanceKey.buffer, data.provenanceKey.byteOffset, data.provenanceKey.byteLength),
    ...(data.fromBeginning !== undefined ? { fromBeginning: data.fromBeginning } : {}),
    ...(data.createTopics !== undefined ? { createTopics: data.createTopics } : {}),
    ...(data.sessionTimeoutMs !== undefined ? { sessionTimeoutMs: data.sessionTimeoutMs } : {}),
  },
  sink,
);

function reply(id: number, work: Promise<void>): void {
  work.then(
    () => post({ type: 'reply', id }),
    (err: unknown) => post({ type: 'reply', id, error: err instanceof Error ? err.message : String(err) }),
  );
}

port.on('message', (message: ToLanding) => {
  switch (message.type) {
    case 'batch-done':
      landing.batchDone();
      break;
    case 'pause':
      landing.pause();
      break;
    case 'resume':
      landing.resume();
      break;
    case 'commit':
      reply(message.id, landing.commit(message.offsets));
      break;
    case 'drain':
      reply(message.id, landing.drain());
      break;
    case 'flush-pending':
      reply(message.id, landing.flushPending());
      break;
    case 'disconnect':
      reply(message.id, landing.disconnect());
      break;
    case 'declarations': {
      const waiting = asked.get(message.id);
      asked.delete(message.id);
      if (message.error !== undefined) {
        waiting?.reject(new Error(message.error));
        break;
      }
      if (message.vectors !== 'same') vectors = message.vectors as ReadonlyMap<string, VectorDeclaration> | null;
      if (message.kinds !== 'same') kinds = message.kinds as ReadonlyMap<string, ModelKindDeclaration> | null;
      declarationsReadAt = message.readAt;
      waiting?.resolve();
      break;
    }
    default:
  }
});

try {
  await landing.start();
  post({ type: 'started' });
} catch (err) {
  const error = err instanceof Error ? err : new Error(String(err));
  const exitCode = (error as { exitCode?: unknown }).exitCode;
  post({
    type: 'start-failed',
    error: { message: error.message, name: error.name, ...(typeof exitCode === 'number' ? { exitCode } : {}) },
  });
}
