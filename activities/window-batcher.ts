/**
 * Coalesces the window reads of many monitors into batches (platform/clickhouse/window-batch-repository.ts).
 *
 * Every monitor tick asks for its window; requests that arrive while a batch is being read, or
 * within `lingerMs` of the first one, are read together by the next batch. While windows arrive
 * fast (a fleet's staggered ticks), a batch also waits, up to `fillWaitMs`, for as many as the
 * recent arrival rate says will fill it (./batch-fill.ts). So a quiet fleet reads one window per
 * batch, and a busy one reads many per batch at nearly the cost of one: the batch size grows with
 * the load, which is what keeps a fleet's SQL time per tick bounded.
 * A batch holds at most one window per model (a model's second window waits for the next).
 * What a batch reads, and that it equals a window read on its own: ./window-read.ts.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { withQueryPriority } from '../platform/clickhouse/query-scheduler.ts';
import { checkedTimeWindow } from '../platform/clickhouse/time-window.ts';
import { countRowsRead, type BatchQueryTimings } from '../platform/clickhouse/window-batch-repository.ts';
import { ArrivalLog, batchFillWaitMs } from './batch-fill.ts';
import { readWindowsBatched, type WindowRead, type WindowReadRequest } from './window-read.ts';

export interface WindowBatcherOptions {
  /** Most windows read by one batch (bounds how long one batch holds the embedded engine's query lane). @default 32 */
  maxBatch?: number;
  /** How long the first request of an idle batcher waits for others to join it (ms). @default 20 */
  lingerMs?: number;
  /**
   * Longest a window waits for its batch to fill while windows arrive fast enough to fill it
   * (ms); 0 reads whatever waits at once. Adds at most this to a tick's lag. @default 2000
   */
  fillWaitMs?: number;
  /** Arrivals of the last this many ms set the rate a batch expects to fill at. @default 5000 */
  arrivalWindowMs?: number;
  /** Reads a batch: the engine's batched window read unless a test replaces it. @default readWindowsBatched */
  readBatch?: (requests: WindowReadRequest[], timings: BatchQueryTimings) => Promise<WindowRead[]>;
  /** Histogram bins of the score histograms. */
  scoreBins: number;
}

/** What the batcher has read since it started, for /metrics and the fleet benchmark. */
export interface WindowBatcherStats {
  batches: number;
  windows: number;
  /** Σ wall time of the batches (ms) and per query (in the embedded engine, including the wait for the query lane). */
  sqlMs: number;
  queryMs: BatchQueryTimings;
  /** Σ rows the engine read, per query (grows with stored history where a read is not bounded by its window). */
  queryRowsRead: BatchQueryTimings;
  /** Windows waiting for a batch now. */
  waiting: number;
}

interface Pending {
  request: WindowReadRequest;
  /** When it arrived (Date.now()). */
  arrivedAt: number;
  resolve: (read: WindowRead) => void;
  reject: (err: unknown) => void;
}

export class WindowBatcher {
  readonly #maxBatch: number;
  readonly #lingerMs: number;
  readonly #fillWaitMs: number;
  readonly #arrivalWindowMs: number;
  readonly #arrivals: ArrivalLog;
  readonly #readBatch: (requests: WindowReadRequest[], timings: BatchQueryTimings) => Promise<WindowRead[]>;
  #pending: Pending[] = [];
  /** Windows waiting per model, kept as they arrive and leave, so planning a batch never walks the queue. */
  readonly #waitingPerModel = new Map<string, number>();
  #running = false;
  #timer: NodeJS.Timeout | null = null;
  readonly #stats: WindowBatcherStats = {
    batches: 0,
    windows: 0,
    sqlMs: 0,
    queryMs: {},
    queryRowsRead: {},
    waiting: 0,
  };

  constructor(client: ClickHouseClient, options: WindowBatcherOptions) {
    this.#maxBatch = Math.max(1, options.maxBatch ?? 32);
    this.#lingerMs = Math.max(0, options.lingerMs ?? 20);
    this.#fillWaitMs = Math.max(0, options.fillWaitMs ?? 2000);
    this.#arrivalWindowMs = Math.max(1, options.arrivalWindowMs ?? 5000);
    this.#arrivals = new ArrivalLog(this.#arrivalWindowMs);
    countRowsRead(this.#stats.queryMs, this.#stats.queryRowsRead);
    const scoreBins = options.scoreBins;
    this.#readBatch =
      options.readBatch ?? ((requests, timings) => readWindowsBatched(client, requests, scoreBins, timings));
  }

  /** One window, read with whichever windows are waiting too. Throws ValidationError on bad bounds. */
  read(request: WindowReadRequest): Promise<WindowRead> {
    checkedTimeWindow(request.start, request.end);
    return new Promise((resolve, reject) => {
      const now = Date.now();
      this.#arrivals.add(now, request.modelId);
      this.#pending.push({ request, arrivedAt: now, resolve, reject });
      this.#waitingPerModel.set(request.modelId, (this.#waitingPerModel.get(request.modelId) ?? 0) + 1);
      this.#arrivals.setWaiting(request.modelId, true);
      this.#schedule();
    });
  }

  stats(): WindowBatcherStats {
    return {
      ...this.#stats,
      queryMs: { ...this.#stats.queryMs },
      queryRowsRead: { ...this.#stats.queryRowsRead },
      waiting: this.#pending.length,
    };
  }

  /** (Re)plans the next batch: now, or when it is expected to be full (recomputed at each arrival). */
  #schedule(): void {
    if (this.#running || this.#pending.length === 0) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const now = Date.now();
    const oldestWaitedMs = now - this.#pending[0]!.arrivedAt;
    const ready = Math.min(this.#waitingPerModel.size, this.#maxBatch);
    const fill = batchFillWaitMs(
      { ready, oldestWaitedMs, recentArrivals: this.#arrivals.countOthers(now) },
      { maxBatch: this.#maxBatch, maxWaitMs: this.#fillWaitMs, rateWindowMs: this.#arrivalWindowMs },
    );
    const wait = ready >= this.#maxBatch ? 0 : Math.max(fill, this.#lingerMs - oldestWaitedMs);
    if (wait <= 0) {
      void this.#runBatch();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#runBatch();
    }, wait);
  }

  async #runBatch(): Promise<void> {
    this.#running = true;
    const batch: Pending[] = [];
    const models = new Set<string>();
    const rest: Pending[] = [];
    for (const p of this.#pending) {
      if (batch.length < this.#maxBatch && !models.has(p.request.modelId)) {
        batch.push(p);
        models.add(p.request.modelId);
      } else rest.push(p);
    }
    this.#pending = rest;
    for (const modelId of models) {
      const left = this.#waitingPerModel.get(modelId)! - 1;
      if (left === 0) {
        this.#waitingPerModel.delete(modelId);
        this.#arrivals.setWaiting(modelId, false);
      } else this.#waitingPerModel.set(modelId, left);
    }
    const t0 = performance.now();
    try {
      const results = await withQueryPriority('background', () =>
        this.#readBatch(
          batch.map((p) => p.request),
          this.#stats.queryMs,
        ),
      );
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.#stats.batches += 1;
      this.#stats.windows += batch.length;
      this.#stats.sqlMs += performance.now() - t0;
      this.#running = false;
      // Whatever arrived meanwhile is read now, or once enough more have joined it.
      this.#schedule();
    }
  }
}
