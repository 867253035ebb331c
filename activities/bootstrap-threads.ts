/**
 * The paired bootstrap of a shadow evaluation over many events, spread over threads: this thread
 * and helper threads (bootstrap-worker.mjs) claim replicates from a shared counter until none are
 * left. Replicate r depends only on r (detectors' `eventBootstrapMean`), so the means are exactly
 * those of one sequential run, whichever thread computed which. Synchronous, like the verdict that
 * calls it: this thread waits on shared memory (Atomics.wait) for the helpers' last replicates, and
 * computes itself any a helper claimed but did not finish within `stallMs`.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { eventBootstrapMean, eventBootstrapMeans, type EventResampler } from '../detectors/promotion/index.ts';

export interface ThreadedBootstrapOptions {
  /** Helper threads beside the calling one. @default available cores − 1, at most 3 */
  helpers?: number;
  /** Fewer draws (events × replicates) than this stay on the calling thread. @default 20,000,000 */
  minDraws?: number;
  /** Replicates a helper claimed are computed here after this long without any finishing (ms). @default 10,000 */
  stallMs?: number;
  /** Whether the calling thread claims replicates too (false leaves them all to the helpers, e.g. to test them). @default true */
  callerClaims?: boolean;
  /** Told who computed the replicates of each threaded run. @default none */
  onSplit?: (split: { caller: number; helpers: number; recovered: number }) => void;
}

const WORKER_URL = new URL('./bootstrap-worker.mjs', import.meta.url);

/** Counter slots in the shared control array. */
const NEXT = 0;
const FINISHED = 1;

export function threadedEventBootstrap(options: ThreadedBootstrapOptions = {}): EventResampler {
  const helpers = options.helpers ?? Math.min(3, Math.max(0, os.availableParallelism() - 1));
  const minDraws = options.minDraws ?? 20_000_000;
  const stallMs = options.stallMs ?? 10_000;
  const callerClaims = options.callerClaims ?? true;
  return (differences, seed, replicates) => {
    const n = differences.length;
    if (helpers === 0 || n * replicates < minDraws || replicates < 2)
      return eventBootstrapMeans(differences, seed, replicates);
    const shared = new Float64Array(new SharedArrayBuffer(n * 8));
    shared.set(differences);
    const results = new Float64Array(new SharedArrayBuffer(replicates * 8));
    const control = new Int32Array(new SharedArrayBuffer(8));
    const done = new Int32Array(new SharedArrayBuffer(replicates * 4));
    const workers: Worker[] = [];
    for (let h = 0; h < helpers; h++) {
      try {
        const worker = new Worker(WORKER_URL, {
          // Plain JavaScript: no loader hooks of the parent (tsx, vitest) to start.
          execArgv: [],
          workerData: {
            differences: shared.buffer,
            results: results.buffer,
            control: control.buffer,
            done: done.buffer,
            seed,
            replicates,
          },
        });
        // A helper that fails leaves its replicates to this thread (below); never an unhandled error.
        worker.on('error', () => undefined);
        worker.unref();
        workers.push(worker);
      } catch {
        break;
      }
    }
    let caller = 0;
    let recovered = 0;
    try {
      while (callerClaims || workers.length === 0) {
        const r = Atomics.add(control, NEXT, 1);
        if (r >= replicates) break;
        results[r] = eventBootstrapMean(shared, seed, r);
        Atomics.store(done, r, 1);
        Atomics.add(control, FINISHED, 1);
        caller++;
      }
      // Wait for the replicates the helpers are computing; stop waiting when none finishes for stallMs.
      for (;;) {
        const finished = Atomics.load(control, FINISHED);
        if (finished >= replicates) break;
        if (Atomics.wait(control, FINISHED, finished, stallMs) === 'timed-out') break;
      }
      for (let r = 0; r < replicates; r++)
        if (Atomics.load(done, r) === 0) {
          results[r] = eventBootstrapMean(shared, seed, r);
          recovered++;
        }
    } finally {
      for (const worker of workers) void worker.terminate().catch(() => undefined);
    }
    options.onSplit?.({ caller, helpers: replicates - caller - recovered, recovered });
    return Array.from(results);
  };
}
