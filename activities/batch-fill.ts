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

/**
 * Arrivals (time, model) of the last `windowMs`, for the arrival rate, and how many of them are of
 * models not waiting. Kept as running counts (per model, and of models not waiting) that each
 * arrival, expiry and change of a model's waiting adjusts, so a count is O(1) amortised: a fleet's
 * batcher asks at every arrival, and walking the window each time cost O(arrivals in it).
 */
export class ArrivalLog {
  readonly #windowMs: number;
  /** Arrival times and models in order; entries before `#head` have expired. */
  #times: number[] = [];
  #models: string[] = [];
  #head = 0;
  /** Arrivals in the window per model. */
  readonly #perModel = new Map<string, number>();
  readonly #waiting = new Set<string>();
  /** Arrivals in the window of models not in `#waiting`. */
  #others = 0;

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  add(now: number, modelId: string): void {
    this.#times.push(now);
    this.#models.push(modelId);
    this.#perModel.set(modelId, (this.#perModel.get(modelId) ?? 0) + 1);
    if (!this.#waiting.has(modelId)) this.#others += 1;
    this.#trim(now);
  }

  /** Whether a model has a window waiting now: its arrivals stop (or start again) counting as others. */
  setWaiting(modelId: string, waiting: boolean): void {
    if (waiting === this.#waiting.has(modelId)) return;
    const arrived = this.#perModel.get(modelId) ?? 0;
    if (waiting) {
      this.#waiting.add(modelId);
      this.#others -= arrived;
    } else {
      this.#waiting.delete(modelId);
      this.#others += arrived;
    }
  }

  /** Arrivals within the last `windowMs` before `now` of models not waiting. */
  countOthers(now: number): number {
    this.#trim(now);
    return this.#others;
  }

  #trim(now: number): void {
    const from = now - this.#windowMs;
    while (this.#head < this.#times.length && this.#times[this.#head]! <= from) {
      const modelId = this.#models[this.#head]!;
      const left = this.#perModel.get(modelId)! - 1;
      if (left === 0) this.#perModel.delete(modelId);
      else this.#perModel.set(modelId, left);
      if (!this.#waiting.has(modelId)) this.#others -= 1;
      this.#head += 1;
    }
    // Drop the expired prefix once it is most of the arrays: each entry is copied O(1) times on average.
    if (this.#head > 1024 && this.#head * 2 > this.#times.length) {
      this.#times = this.#times.slice(this.#head);
      this.#models = this.#models.slice(this.#head);
      this.#head = 0;
    }
  }
}
