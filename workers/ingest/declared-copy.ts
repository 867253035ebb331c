/**
 * Ingest's copy of a small per-model declaration table (vector features, model kinds), so each
 * record is checked against it without a query per record: the whole table, re-read before a
 * batch or a request when the copy is older than `maxAgeMs` (in the background from half that
 * age). A new declaration therefore applies to records ingested from `maxAgeMs` after it at the latest.
 */

/** How old a copy may be before a batch re-reads it (ms). */
export const DECLARATIONS_MAX_AGE_MS = 2000;

export class DeclaredCopy<T> {
  #byModel = new Map<string, T>();
  #readAt = Number.NEGATIVE_INFINITY;
  #reading: Promise<void> | null = null;
  readonly #load: () => Promise<Map<string, T>>;
  readonly #maxAgeMs: number;

  constructor(load: () => Promise<Map<string, T>>, maxAgeMs = DECLARATIONS_MAX_AGE_MS) {
    this.#load = load;
    this.#maxAgeMs = maxAgeMs;
  }

  /**
   * Re-read the table when the copy is older than allowed (one read at a time). From half that
   * age the re-read starts without being waited for: a POST then uses the copy it has (still
   * within `maxAgeMs`) instead of queueing behind ingest's other statements for the re-read — the
   * declarations' wait was the largest stage of a POST in a burst (bench/post-latency.ts). A failed
   * re-read keeps the copy it has (the store is failing: the batch's insert will say so); with no
   * copy yet it throws, so no record is judged against declarations never read.
   * `wait: false` (a POST with ack=logged, whose records Kafka ingest checks again against its own
   * copy when it lands them) waits only for a first copy: an older one is used while it is re-read,
   * so the POST does not queue behind the engine's statements at all.
   */
  async fresh(now = Date.now(), options: { wait?: boolean } = {}): Promise<void> {
    const age = now - this.#readAt;
    if (age < this.#maxAgeMs / 2) return;
    const waitForOld = options.wait ?? true;
    this.#reading ??= this.#load()
      .then((byModel) => {
        this.#byModel = byModel;
        this.#readAt = now;
      })
      .finally(() => {
        this.#reading = null;
      });
    const reading = this.#reading;
    if (age < this.#maxAgeMs || (!waitForOld && this.#readAt !== Number.NEGATIVE_INFINITY)) {
      // Not waited for: its failure is the next caller's to see, once the copy is too old.
      reading.catch(() => undefined);
      return;
    }
    try {
      await reading;
    } catch (err) {
      if (this.#readAt === Number.NEGATIVE_INFINITY) throw err;
    }
  }

  /** The copy as it is (a new map after each re-read): what the landing thread is sent. */
  get current(): ReadonlyMap<string, T> {
    return this.#byModel;
  }

  /** When the copy was read (ms since epoch); −Infinity before the first read. */
  get readAt(): number {
    return this.#readAt;
  }

  /** One model's declaration; undefined when it declared none. */
  readonly lookup = (modelId: string): T | undefined => this.#byModel.get(modelId);
}

/** One copy per repository and table, shared by every caller ingesting through that repository. */
export function copyPer<R extends object, T>(
  copies: WeakMap<R, DeclaredCopy<T>>,
  repository: R,
  load: (() => Promise<Map<string, T>>) | undefined,
): DeclaredCopy<T> | null {
  if (!load) return null;
  let copy = copies.get(repository);
  if (!copy) copies.set(repository, (copy = new DeclaredCopy(load)));
  return copy;
}
