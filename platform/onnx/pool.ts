/**
 * A pool of worker threads running onnxruntime-node. `run()` of onnxruntime blocks the thread
 * it is called on (onnxruntime#19611), so scoring never happens on the event loop: every
 * loaded model lives in every runner thread, and each batch goes to the least busy one.
 * A runner that dies is replaced and its models are reloaded; its in-flight batches fail.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { HalflifeError, ValidationError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { EncodedBatch, FeatureNames } from './features.ts';

export interface OnnxPoolOptions {
  /** Runner threads. @default min(2, available cores) */
  threads?: number;
  /** onnxruntime intra-op threads per session (1 avoids oversubscribing with several runners). @default 1 */
  intraOpThreads?: number;
  log?: Logger;
}

export interface LoadedModelInfo {
  /** 'packed' (`numeric`/`categorical` inputs) or 'per-column' (one input per feature). */
  convention: 'packed' | 'per-column';
  output: string;
  inputs: string[];
  outputs: string[];
}

/** The bytes are not an ONNX model halflife can serve; the message says why. */
export class OnnxModelError extends ValidationError {}

export interface RunResult {
  scores: Float64Array;
  /** Time inside onnxruntime (in the runner thread), ms. */
  runMs: number;
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
  readonly #runners: Runner[] = [];
  readonly #models = new Map<string, { bytes: Uint8Array; features: FeatureNames; info: LoadedModelInfo }>();
  #nextId = 1;
  #closed = false;

  constructor(options: OnnxPoolOptions = {}) {
    this.#threads = Math.max(1, options.threads ?? Math.min(2, os.availableParallelism()));
    this.#intraOp = options.intraOpThreads ?? 1;
    this.#log = options.log;
    for (let i = 0; i < this.#threads; i++) this.#runners.push(this.#spawn());
  }

  get size(): number {
    return this.#threads;
  }

  has(key: string): boolean {
    return this.#models.has(key);
  }

  /** Load a model into every runner. Rejects with {@link OnnxModelError} when it cannot be served. */
  async load(key: string, bytes: Uint8Array, features: FeatureNames): Promise<LoadedModelInfo> {
    this.#assertOpen();
    const existing = this.#models.get(key);
    if (existing) return existing.info;
    let infos: unknown[];
    try {
      infos = await Promise.all(this.#runners.map((r) => this.#call(r, { op: 'load', key, bytes, features })));
    } catch (err) {
      await Promise.allSettled(this.#runners.map((r) => this.#call(r, { op: 'unload', key })));
      throw new OnnxModelError(`model ${key} rejected: ${(err as Error).message}`);
    }
    const info = (infos[0] as { info: LoadedModelInfo }).info;
    this.#models.set(key, { bytes, features, info });
    return info;
  }

  async run(key: string, batch: EncodedBatch): Promise<RunResult> {
    this.#assertOpen();
    if (!this.#models.has(key)) throw new HalflifeError(`model ${key} is not loaded`);
    if (batch.rows === 0) return { scores: new Float64Array(0), runMs: 0 };
    const runner = this.#runners.reduce((best, r) => (r.inflight < best.inflight ? r : best));
    const reply = (await this.#call(runner, {
      op: 'run',
      key,
      rows: batch.rows,
      numeric: batch.numeric,
      categorical: batch.categorical,
    })) as RunResult;
    return { scores: reply.scores, runMs: reply.runMs };
  }

  async unload(key: string): Promise<void> {
    if (!this.#models.delete(key)) return;
    await Promise.allSettled(this.#runners.map((r) => this.#call(r, { op: 'unload', key })));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#runners.map((r) => r.worker.terminate()));
    this.#models.clear();
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
        this.#call(fresh, { op: 'load', key, bytes: m.bytes, features: m.features }).catch((e: unknown) =>
          this.#log?.error({ err: e, key }, 'reloading a model into a new runner failed'),
        );
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
