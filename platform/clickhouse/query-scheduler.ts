/**
 * Who goes first into the embedded engine's one-at-a-time lane for parameterised queries.
 *
 * chDB's Node binding runs one parameterised query at a time for the whole process (its
 * `globalParamChain`: the bundled libchdb keeps query parameters in state shared by every
 * connection, so two at once corrupt each other). Inserts and queries without parameters are not
 * in that lane and run in parallel. Left to itself the lane is first come, first served, so an
 * ingest look-up waited behind every monitor read queued before it (POST /v1/events went from
 * ~25 ms to 1.5 s during tick bursts).
 *
 * The scheduler keeps at most one of this process's parameterised queries in the binding's lane
 * and picks the next by priority: `ingest` (its look-ups, on the write path) before `interactive`
 * (the API, the CLI) before `background` (monitor statistics, training, shadow evaluation),
 * first come first served within a priority. A query already running is never interrupted: the
 * longest an ingest look-up waits is the one query ahead of it. The priority of a query is the
 * one of the async context that issued it ({@link withQueryPriority}); unmarked work is
 * `interactive`. A ClickHouse server has no such lane and needs no scheduler.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export const QUERY_PRIORITIES = ['ingest', 'interactive', 'background'] as const;
export type QueryPriority = (typeof QUERY_PRIORITIES)[number];

const context = new AsyncLocalStorage<QueryPriority>();

/** Run `fn` with every query it issues (through any client) at `priority`. */
export function withQueryPriority<T>(priority: QueryPriority, fn: () => Promise<T>): Promise<T> {
  return context.run(priority, fn);
}

/** The priority of queries issued from the current async context. */
export function currentQueryPriority(): QueryPriority {
  return context.getStore() ?? 'interactive';
}

/** Queue wait and run time of the parameterised queries of one priority, since the scheduler began. */
export interface PriorityStats {
  queries: number;
  /** Σ and max of the time spent waiting for the lane (ms). */
  waitMsTotal: number;
  waitMsMax: number;
  /** Σ of the time in the engine (ms). */
  runMsTotal: number;
  /** Queries waiting now. */
  queued: number;
}

interface Waiting {
  start: () => void;
  enqueuedAt: number;
}

export class QueryScheduler {
  readonly #queues = new Map<QueryPriority, Waiting[]>(QUERY_PRIORITIES.map((p) => [p, []]));
  readonly #stats = new Map<QueryPriority, PriorityStats>(
    QUERY_PRIORITIES.map((p) => [p, { queries: 0, waitMsTotal: 0, waitMsMax: 0, runMsTotal: 0, queued: 0 }]),
  );
  #running = false;

  /** Run `query` when the lane is free and nothing of a higher priority waits. */
  run<T>(query: () => Promise<T>, priority: QueryPriority = currentQueryPriority()): Promise<T> {
    const stats = this.#stats.get(priority)!;
    return new Promise<T>((resolve, reject) => {
      const enqueuedAt = performance.now();
      const start = () => {
        const startedAt = performance.now();
        const waited = startedAt - enqueuedAt;
        stats.queries += 1;
        stats.waitMsTotal += waited;
        stats.waitMsMax = Math.max(stats.waitMsMax, waited);
        let promise: Promise<T>;
        try {
          promise = query();
        } catch (err) {
          promise = Promise.reject(err);
        }
        promise
          .finally(() => {
            stats.runMsTotal += performance.now() - startedAt;
            this.#running = false;
            this.#next();
          })
          .then(resolve, reject);
      };
      this.#queues.get(priority)!.push({ start, enqueuedAt });
      stats.queued += 1;
      this.#next();
    });
  }

  #next(): void {
    if (this.#running) return;
    for (const priority of QUERY_PRIORITIES) {
      const waiting = this.#queues.get(priority)!.shift();
      if (!waiting) continue;
      this.#stats.get(priority)!.queued -= 1;
      this.#running = true;
      waiting.start();
      return;
    }
  }

  /** A copy of the counters per priority. */
  stats(): Record<QueryPriority, PriorityStats> {
    const out = {} as Record<QueryPriority, PriorityStats>;
    for (const [p, s] of this.#stats) out[p] = { ...s };
    return out;
  }
}
