/**
 * Records the decisions of many monitors together (platform/clickhouse/decisions-repository.ts
 * `recordDecisions`): every decision recorded while a batch is being written, or within
 * `lingerMs` of the first, is written by the next batch — one look-up of the ids stored already
 * and one insert for all of them. A fleet's monitors record one decision a tick each; one at a
 * time, each cost the embedded engine's query lane a query and the decisions table a part to
 * merge, as much as a window read's smaller queries (BENCHMARKS.md "Run Q").
 */
import type { ClickHouseClient } from '@clickhouse/client';
import {
  recordDecisions,
  type DecisionRecord,
  type RepeatableRecord,
} from '../platform/clickhouse/decisions-repository.ts';

export interface DecisionBatcherOptions {
  /** How long the first decision of an idle batcher waits for others to join it (ms). @default 20 */
  lingerMs?: number;
  /** Most decisions written by one batch. @default 256 */
  maxBatch?: number;
  /** Writes a batch: the repository's unless a test replaces it. @default recordDecisions */
  writeBatch?: (decisions: DecisionRecord[], repeatables: (RepeatableRecord | undefined)[]) => Promise<boolean[]>;
}

/** What the batcher has written since it started (tests, benchmarks). */
export interface DecisionBatcherStats {
  batches: number;
  decisions: number;
  /** Σ wall time of the batches (ms), in the embedded engine including the wait for the query lane. */
  writeMs: number;
}

interface Pending {
  decision: DecisionRecord;
  repeatable: RepeatableRecord | undefined;
  resolve: (stored: boolean) => void;
  reject: (err: unknown) => void;
}

export class DecisionBatcher {
  readonly #lingerMs: number;
  readonly #maxBatch: number;
  readonly #writeBatch: (
    decisions: DecisionRecord[],
    repeatables: (RepeatableRecord | undefined)[],
  ) => Promise<boolean[]>;
  #pending: Pending[] = [];
  #running = false;
  #timer: NodeJS.Timeout | null = null;
  readonly #stats: DecisionBatcherStats = { batches: 0, decisions: 0, writeMs: 0 };

  constructor(client: ClickHouseClient, options: DecisionBatcherOptions = {}) {
    this.#lingerMs = Math.max(0, options.lingerMs ?? 20);
    this.#maxBatch = Math.max(1, options.maxBatch ?? 256);
    this.#writeBatch =
      options.writeBatch ?? ((decisions, repeatables) => recordDecisions(client, decisions, repeatables));
  }

  /**
   * Store `decision` once (a retried activity's second call stores nothing); `repeatable`: a call
   * at another decision time replaces it (recordDecisions). Rejects when its batch fails.
   */
  record(decision: DecisionRecord, repeatable?: RepeatableRecord): Promise<{ stored: boolean }> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ decision, repeatable, resolve: (stored) => resolve({ stored }), reject });
      this.#schedule();
    });
  }

  stats(): DecisionBatcherStats {
    return { ...this.#stats };
  }

  #schedule(): void {
    if (this.#running || this.#pending.length === 0) return;
    if (this.#pending.length >= this.#maxBatch) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = null;
      void this.#run();
      return;
    }
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#run();
    }, this.#lingerMs);
  }

  async #run(): Promise<void> {
    this.#running = true;
    const batch = this.#pending.slice(0, this.#maxBatch);
    this.#pending = this.#pending.slice(batch.length);
    const t0 = performance.now();
    try {
      const stored = await this.#writeBatch(
        batch.map((p) => p.decision),
        batch.map((p) => p.repeatable),
      );
      batch.forEach((p, i) => p.resolve(stored[i] ?? false));
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.#stats.batches += 1;
      this.#stats.decisions += batch.length;
      this.#stats.writeMs += performance.now() - t0;
      this.#running = false;
      // Whatever arrived meanwhile has waited already: write it at once.
      if (this.#pending.length > 0) {
        if (this.#timer) clearTimeout(this.#timer);
        this.#timer = null;
        void this.#run();
      }
    }
  }
}
