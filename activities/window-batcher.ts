/**
 * Coalesces the window reads of many monitors into batches (platform/clickhouse/window-batch-repository.ts).
 *
 * Every monitor tick asks for its window; requests that arrive while a batch is being read, or
 * within `lingerMs` of the first one, are read together by the next batch. So a quiet fleet
 * reads one window per batch, and a busy one reads many per batch at nearly the cost of one:
 * the batch size grows with the load, which is what keeps a fleet's SQL time per tick bounded.
 * A batch holds at most one window per model (a model's second window waits for the next).
 * What a batch reads, and that it equals a window read on its own: ./window-read.ts.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { withQueryPriority } from '../platform/clickhouse/query-scheduler.ts';
import { checkedTimeWindow } from '../platform/clickhouse/time-window.ts';
import type { BatchQueryTimings } from '../platform/clickhouse/window-batch-repository.ts';
import { readWindowsBatched, type WindowRead, type WindowReadRequest } from './window-read.ts';

export interface WindowBatcherOptions {
  /** Most windows read by one batch (bounds how long one batch holds the embedded engine's query lane). @default 32 */
  maxBatch?: number;
  /** How long the first request of an idle batcher waits for others to join it (ms). @default 20 */
  lingerMs?: number;
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
  /** Windows waiting for a batch now. */
  waiting: number;
}

interface Pending {
  request: WindowReadRequest;
  resolve: (read: WindowRead) => void;
  reject: (err: unknown) => void;
}

export class WindowBatcher {
  readonly #client: ClickHouseClient;
  readonly #maxBatch: number;
  readonly #lingerMs: number;
  readonly #scoreBins: number;
  #pending: Pending[] = [];
  #running = false;
  #timer: NodeJS.Timeout | null = null;
  readonly #stats: WindowBatcherStats = { batches: 0, windows: 0, sqlMs: 0, queryMs: {}, waiting: 0 };

  constructor(client: ClickHouseClient, options: WindowBatcherOptions) {
    this.#client = client;
    this.#maxBatch = Math.max(1, options.maxBatch ?? 32);
    this.#lingerMs = Math.max(0, options.lingerMs ?? 20);
    this.#scoreBins = options.scoreBins;
  }

  /** One window, read with whichever windows are waiting too. Throws ValidationError on bad bounds. */
  read(request: WindowReadRequest): Promise<WindowRead> {
    checkedTimeWindow(request.start, request.end);
    return new Promise((resolve, reject) => {
      this.#pending.push({ request, resolve, reject });
      this.#schedule();
    });
  }

  stats(): WindowBatcherStats {
    return { ...this.#stats, queryMs: { ...this.#stats.queryMs }, waiting: this.#pending.length };
  }

  #schedule(): void {
    if (this.#running || this.#timer || this.#pending.length === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#runBatch();
    }, this.#lingerMs);
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
    const t0 = performance.now();
    try {
      const results = await withQueryPriority('background', () =>
        readWindowsBatched(
          this.#client,
          batch.map((p) => p.request),
          this.#scoreBins,
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
      // Whatever arrived meanwhile has waited already: read it at once.
      if (this.#pending.length > 0) void this.#runBatch();
    }
  }
}
