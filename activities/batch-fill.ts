/**
 * How long a window batch waits to fill (./window-batcher.ts).
 *
 * A batch's SQL costs a fixed part per query plus a small part per window, so a fleet whose
 * staggered ticks reach the batcher a few a second pays the fixed part for every handful of
 * windows unless the batch waits for more (measured: ~100 ms a window in batches of 3–5, 6–13 ms
 * in batches of 32; BENCHMARKS.md, "Fleet"). Waiting costs decision lag, so a batch waits only
 * while windows are arriving fast enough to fill it soon: until the batch is expected to be full
 * at the recent arrival rate, and never longer than `maxWaitMs` after its oldest window arrived.
 * The rate counts only models not already waiting (a batch holds one window per model, so a
 * model's next window cannot join it): a quiet monitor, or a few monitors ticking together, expect
 * no company and are read at once; a fleet's staggered ticks, many models a second, wait.
 */

export interface BatchFillOptions {
  /** Most windows in a batch. */
  maxBatch: number;
  /** Longest the oldest waiting window waits for the batch to fill (ms). */
  maxWaitMs: number;
  /** Arrivals counted for the rate: those of the last this many ms. */
  rateWindowMs: number;
}

export interface BatchFillState {
  /** Windows waiting that the next batch would read (at most one per model). */
  ready: number;
  /** Milliseconds the oldest of them has waited. */
  oldestWaitedMs: number;
  /** Windows of models not waiting now that arrived in the last `rateWindowMs`. */
  recentArrivals: number;
}

/** Milliseconds to wait before reading the batch; 0 to read it now. */
export function batchFillWaitMs(state: BatchFillState, options: BatchFillOptions): number {
  if (state.ready === 0) return 0;
  const missing = options.maxBatch - state.ready;
  const budget = options.maxWaitMs - state.oldestWaitedMs;
  if (missing <= 0 || budget <= 0) return 0;
  const perMs = state.recentArrivals / options.rateWindowMs;
  // Fewer than one more window expected within the budget: nothing to wait for.
  if (perMs * budget < 1) return 0;
  return Math.min(budget, Math.ceil(missing / perMs));
}

/** Arrivals (time, model) of the last `windowMs`, for the arrival rate. */
export class ArrivalLog {
  readonly #windowMs: number;
  #arrivals: { at: number; modelId: string }[] = [];

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  add(now: number, modelId: string): void {
    this.#arrivals.push({ at: now, modelId });
    this.#trim(now);
  }

  /** Arrivals within the last `windowMs` before `now` of models not in `waiting` (a set, or a map keyed by model). */
  countOthers(now: number, waiting: { has(modelId: string): boolean }): number {
    this.#trim(now);
    let n = 0;
    for (const a of this.#arrivals) if (!waiting.has(a.modelId)) n += 1;
    return n;
  }

  #trim(now: number): void {
    const from = now - this.#windowMs;
    let drop = 0;
    while (drop < this.#arrivals.length && this.#arrivals[drop]!.at <= from) drop += 1;
    if (drop > 0) this.#arrivals = this.#arrivals.slice(drop);
  }
}
