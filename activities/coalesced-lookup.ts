/**
 * Per-model look-ups of many monitors read together: every key asked for while a look-up runs, or
 * within `lingerMs` of the first, is read by the next one, with one set of queries for all of them
 * (as the window batcher, ./window-batcher.ts, reads windows). In the embedded engine, whose
 * Node binding runs one parameterised query at a time, a fleet's per-model queries beside its
 * windows (serving, the model's kind) otherwise cost the query lane one query each per model and
 * tick (BENCHMARKS.md "Window reads at fleet shape").
 */
export interface CoalescedLookupOptions {
  /** How long the first key of an idle look-up waits for others to join it (ms). @default 20 */
  lingerMs?: number;
  /** Most keys read by one look-up. @default 256 */
  maxKeys?: number;
}

interface Waiting<V> {
  key: string;
  resolve: (value: V | undefined) => void;
  reject: (err: unknown) => void;
}

export class CoalescedLookup<V> {
  readonly #read: (keys: string[]) => Promise<Map<string, V>>;
  readonly #lingerMs: number;
  readonly #maxKeys: number;
  #waiting: Waiting<V>[] = [];
  #running = false;
  #timer: NodeJS.Timeout | null = null;

  /** `read` returns the value of each key it knows; a key it leaves out resolves to undefined. */
  constructor(read: (keys: string[]) => Promise<Map<string, V>>, options: CoalescedLookupOptions = {}) {
    this.#read = read;
    this.#lingerMs = Math.max(0, options.lingerMs ?? 20);
    this.#maxKeys = Math.max(1, options.maxKeys ?? 256);
  }

  /** The value of `key`, read with whichever keys are waiting too; rejects when their look-up fails. */
  get(key: string): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ key, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#running || this.#timer || this.#waiting.length === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#run();
    }, this.#lingerMs);
  }

  async #run(): Promise<void> {
    this.#running = true;
    const keys = new Set<string>();
    const batch: Waiting<V>[] = [];
    const rest: Waiting<V>[] = [];
    for (const w of this.#waiting) {
      if (keys.has(w.key) || keys.size < this.#maxKeys) {
        keys.add(w.key);
        batch.push(w);
      } else rest.push(w);
    }
    this.#waiting = rest;
    try {
      const values = await this.#read([...keys]);
      for (const w of batch) w.resolve(values.get(w.key));
    } catch (err) {
      for (const w of batch) w.reject(err);
    } finally {
      this.#running = false;
      // Whatever arrived meanwhile has waited already: read it at once.
      if (this.#waiting.length > 0) void this.#run();
    }
  }
}
