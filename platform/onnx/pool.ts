/**
 * Where onnxruntime-node runs a model: on the calling thread or in a pool of worker threads.
 *
 * `run()` of onnxruntime-node blocks the thread it is called on for the whole inference (it is
 * only deferred with setImmediate, onnxruntime#19611). Handing a batch to a worker thread
 * (post a message, wake the thread, copy the scores back) costs tens of microseconds, more than
 * a small model's whole run. So each loaded model is timed once at load (one row and a full
 * batch, best of a few runs), and a batch whose estimated run fits `inlineBudgetMs` runs on the
 * calling thread — the event loop is then blocked no longer than that budget — while larger
 * batches and slower models go to the least busy runner thread. Where the session runs directly
 * (session.mjs: onnxruntime-node's synchronous binding, no setImmediate turn before each run),
 * runs awaited one after another no longer give the loop a turn between them, so the pool counts
 * the time its in-process runs have held the loop since it last turned and, before a run that
 * would take that past the budget, lets it turn once. Every loaded model lives in every
 * runner thread too. A runner that dies is replaced and its models are reloaded; its in-flight
 * batches fail.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { HalflifeError, ValidationError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { EncodedBatch, FeatureNames } from './features.ts';
import {
  closeSession,
  openSession,
  runSession,
  runSessionNow,
  sessionMode,
  type ModelOutput,
  type OnnxSession,
  type RunClock,
  type SessionMode,
} from './session.mjs';

export type { ModelOutput } from './session.mjs';

const BINARY_OUTPUT: ModelOutput = { kind: 'binary' };

/** Values a row of a model's scores takes: K class probabilities (multiclass), else one. */
export function outputWidth(output: ModelOutput): number {
  return output.kind === 'multiclass' ? output.classes : 1;
}

export interface OnnxPoolOptions {
  /** Runner threads. @default min(2, available cores) */
  threads?: number;
  /** onnxruntime intra-op threads per session (1 avoids oversubscribing with several runners). @default 1 */
  intraOpThreads?: number;
  /**
   * 'auto': a batch runs on the calling thread when its estimated run fits `inlineBudgetMs`;
   * 'never': always in a runner thread; 'always': always on the calling thread. @default 'auto'
   */
  inline?: 'auto' | 'never' | 'always';
  /**
   * The longest in-process runs may block the caller's event loop between two of its turns (ms):
   * a batch whose estimated run exceeds it goes to a thread. @default 1
   */
  inlineBudgetMs?: number;
  /**
   * Run sessions through onnxruntime-node's native binding directly where the installed version
   * allows it (session.mjs); false: always its public InferenceSession API. @default true
   */
  direct?: boolean;
  log?: Logger;
}

/** The cost model of running a model in-process: runMs ≈ fixedMs + perRowMs × rows. */
export interface InlineCost {
  fixedMs: number;
  perRowMs: number;
}

/** Rows of the load-time timing batch (the scorer's default batch size). */
const CALIBRATION_ROWS = 256;
const CALIBRATION_REPEATS = 5;

export interface LoadedModelInfo {
  /** 'packed' (`numeric`/`categorical` inputs) or 'per-column' (one input per feature). */
  convention: 'packed' | 'per-column';
  output: string;
  inputs: string[];
  outputs: string[];
  /** How the runner threads run the model: 'direct' (the native binding) or 'public' (InferenceSession). */
  mode: SessionMode;
}

/** The bytes are not an ONNX model halflife can serve; the message says why. */
export class OnnxModelError extends ValidationError {}

export interface RunResult {
  /** `width` values a row, row-major: a probability (binary), K class probabilities (multiclass), a prediction (regression). */
  scores: Float64Array;
  width: number;
  /** Time inside onnxruntime (on whichever thread ran it), ms. */
  runMs: number;
  /** Where the batch ran. */
  ranIn: 'caller' | 'thread';
}

interface LoadedModel {
  bytes: Uint8Array;
  features: FeatureNames;
  output: ModelOutput;
  info: LoadedModelInfo;
  /** The in-process session, when some batches of this model fit the budget. */
  inline: { session: OnnxSession; cost: InlineCost } | null;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

interface Runner {
  worker: Worker;
  inflight: number;
  pending: Map<number, Pending>;
}

const WORKER_URL = new URL('./runner-worker.mjs', import.meta.url);

export class OnnxPool {
  readonly #threads: number;
  readonly #intraOp: number;
  readonly #log: Logger | undefined;
  readonly #inlineMode: 'auto' | 'never' | 'always';
  readonly #inlineBudgetMs: number;
  readonly #direct: boolean;
  /** Time (ms) in-process direct runs have held the event loop since it last turned. */
  #heldMs = 0;
  #turnWatched = false;
  readonly #runners: Runner[] = [];
  readonly #models = new Map<string, LoadedModel>();
  #nextId = 1;
  #closed = false;

  constructor(options: OnnxPoolOptions = {}) {
    this.#threads = Math.max(1, options.threads ?? Math.min(2, os.availableParallelism()));
    this.#intraOp = options.intraOpThreads ?? 1;
    this.#inlineMode = options.inline ?? 'auto';
    this.#inlineBudgetMs = options.inlineBudgetMs ?? 1;
    this.#direct = options.direct ?? true;
    this.#log = options.log;
    for (let i = 0; i < this.#threads; i++) this.#runners.push(this.#spawn());
  }

  get size(): number {
    return this.#threads;
  }

  has(key: string): boolean {
    return this.#models.has(key);
  }

  /**
   * Load a model into every runner. Rejects with {@link OnnxModelError} when it cannot be served
   * as a model of `output`'s kind. @default output binary
   */
  async load(
    key: string,
    bytes: Uint8Array,
    features: FeatureNames,
    output: ModelOutput = BINARY_OUTPUT,
  ): Promise<LoadedModelInfo> {
    this.#assertOpen();
    const existing = this.#models.get(key);
    if (existing) return existing.info;
    let infos: unknown[];
    let inline: LoadedModel['inline'];
    try {
      infos = await Promise.all(
        this.#runners.map((r) => this.#call(r, { op: 'load', key, bytes, features, output, direct: this.#direct })),
      );
      inline = this.#inlineMode === 'never' ? null : await this.#openInline(key, bytes, features, output);
    } catch (err) {
      await Promise.allSettled(this.#runners.map((r) => this.#call(r, { op: 'unload', key })));
      throw new OnnxModelError(`model ${key} rejected: ${(err as Error).message}`);
    }
    const info = (infos[0] as { info: LoadedModelInfo }).info;
    this.#models.set(key, { bytes, features, output, info, inline });
    return info;
  }

  /** The in-process cost model of a loaded model, or null when it always runs in a thread. */
  inlineCost(key: string): InlineCost | null {
    return this.#models.get(key)?.inline?.cost ?? null;
  }

  /** Score a batch; `clock` says how its runMs is taken (session.mjs). @default 'wall' */
  async run(key: string, batch: EncodedBatch, clock: RunClock = 'wall'): Promise<RunResult> {
    this.#assertOpen();
    const model = this.#models.get(key);
    if (!model) throw new HalflifeError(`model ${key} is not loaded`);
    const width = outputWidth(model.output);
    if (batch.rows === 0) return { scores: new Float64Array(0), width, runMs: 0, ranIn: 'caller' };
    const inline = model.inline;
    const estimateMs = inline ? inline.cost.fixedMs + inline.cost.perRowMs * batch.rows : Number.POSITIVE_INFINITY;
    if (inline && (this.#inlineMode === 'always' || estimateMs <= this.#inlineBudgetMs)) {
      if (sessionMode(inline.session) === 'public') {
        const { scores, runMs } = await runSession(inline.session, batch.rows, batch.numeric, batch.categorical, clock);
        return { scores, width, runMs, ranIn: 'caller' };
      }
      if (this.#heldMs > 0 && this.#heldMs + estimateMs > this.#inlineBudgetMs) await this.#turn();
      let result;
      try {
        result = runSessionNow(inline.session, batch.rows, batch.numeric, batch.categorical, clock);
      } catch (err) {
        this.#hold(estimateMs);
        throw err;
      }
      // The run's own time stands for the loop's: what is left (reading the output) is ns a row.
      this.#hold(result.runMs);
      return { scores: result.scores, width, runMs: result.runMs, ranIn: 'caller' };
    }
    const runner = this.#runners.reduce((best, r) => (r.inflight < best.inflight ? r : best));
    // A view into a larger buffer would be copied whole by postMessage: send just its rows.
    const numeric =
      batch.numeric.byteLength === batch.numeric.buffer.byteLength ? batch.numeric : batch.numeric.slice();
    const reply = (await this.#call(runner, {
      op: 'run',
      key,
      rows: batch.rows,
      numeric,
      categorical: batch.categorical,
      clock,
    })) as { scores: Float64Array; runMs: number };
    return { scores: reply.scores, width, runMs: reply.runMs, ranIn: 'thread' };
  }

  /** Count `ms` of in-process running against the loop's current turn; the next turn starts the count again. */
  #hold(ms: number): void {
    this.#heldMs += ms;
    if (this.#turnWatched) return;
    this.#turnWatched = true;
    setImmediate(() => {
      this.#heldMs = 0;
      this.#turnWatched = false;
    });
  }

  /** Resolves once the event loop has turned (timers and I/O callbacks ran). */
  #turn(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }

  async unload(key: string): Promise<void> {
    const model = this.#models.get(key);
    if (!model) return;
    this.#models.delete(key);
    await closeSession(model.inline?.session);
    await Promise.allSettled(this.#runners.map((r) => this.#call(r, { op: 'unload', key })));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#runners.map((r) => r.worker.terminate()));
    for (const m of this.#models.values()) await closeSession(m.inline?.session).catch(() => undefined);
    this.#models.clear();
  }

  /**
   * Open the model on this thread and time it: one row gives the fixed cost, a full batch the
   * cost per row (best of a few runs each). A model
   * whose single row already exceeds the budget is closed again: it always runs in a thread.
   */
  async #openInline(
    key: string,
    bytes: Uint8Array,
    features: FeatureNames,
    output: ModelOutput,
  ): Promise<{ session: OnnxSession; cost: InlineCost } | null> {
    const session = await openSession(bytes, features, { intraOpThreads: this.#intraOp, output, direct: this.#direct });
    const time = async (rows: number) => {
      const numeric = new Float32Array(rows * features.numeric.length);
      const categorical = new Array<string>(rows * features.categorical.length).fill('');
      let best = Number.POSITIVE_INFINITY;
      for (let i = 0; i < CALIBRATION_REPEATS; i++)
        best = Math.min(best, (await runSession(session, rows, numeric, categorical)).runMs);
      return best;
    };
    const one = await time(1);
    if (this.#inlineMode === 'auto' && one > this.#inlineBudgetMs) {
      await closeSession(session);
      this.#log?.debug({ key, oneRowMs: one }, 'ONNX model runs in runner threads only');
      return null;
    }
    // Both parts over-estimated (the batch's whole time is charged per row, the single row's as
    // fixed), so timing noise can only send a batch to a thread, never block the loop longer.
    const cost = { fixedMs: one, perRowMs: (await time(CALIBRATION_ROWS)) / CALIBRATION_ROWS };
    this.#log?.debug({ key, ...cost, budgetMs: this.#inlineBudgetMs }, 'ONNX model timed for in-process runs');
    return { session, cost };
  }

  #assertOpen(): void {
    if (this.#closed) throw new HalflifeError('the ONNX runner pool is closed');
  }

  #spawn(): Runner {
    const worker = new Worker(WORKER_URL, { workerData: { intraOpThreads: this.#intraOp } });
    const runner: Runner = { worker, inflight: 0, pending: new Map() };
    worker.on('message', (msg: { id: number; ok: boolean; error?: string }) => {
      const p = runner.pending.get(msg.id);
      if (!p) return;
      runner.pending.delete(msg.id);
      runner.inflight--;
      if (runner.inflight === 0) worker.unref();
      if (msg.ok) p.resolve(msg);
      else p.reject(new Error(msg.error ?? 'runner error'));
    });
    const fail = (err: Error) => {
      for (const p of runner.pending.values()) p.reject(err);
      runner.pending.clear();
      runner.inflight = 0;
      if (this.#closed) return;
      this.#log?.error({ err }, 'ONNX runner thread died; replacing it');
      const index = this.#runners.indexOf(runner);
      if (index < 0) return;
      const fresh = this.#spawn();
      this.#runners[index] = fresh;
      for (const [key, m] of this.#models) {
        this.#call(fresh, {
          op: 'load',
          key,
          bytes: m.bytes,
          features: m.features,
          output: m.output,
          direct: this.#direct,
        }).catch((e: unknown) => this.#log?.error({ err: e, key }, 'reloading a model into a new runner failed'));
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (!this.#closed) fail(new Error(`ONNX runner thread exited with code ${code}`));
    });
    // Idle runner threads must not keep a finished process alive; busy ones must (see #call).
    worker.unref();
    return runner;
  }

  #call(runner: Runner, message: Record<string, unknown>): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      runner.pending.set(id, { resolve, reject });
      // A pending call keeps the process alive until its reply arrives.
      if (runner.inflight++ === 0) runner.worker.ref();
      runner.worker.postMessage({ id, ...message });
    });
  }
}
