/**
 * Pipelined writing: a second batch is looked up and inserted while the first is still being
 * written, without giving up exactly-once.
 */
import type { PendingBatch } from './pending-batch.ts';

/**
 * Identities of rows in batches handed to the writer whose insert is not yet durable. A later
 * batch's storage look-up cannot see them, so the later batch drops them itself: the earlier
 * batch stores them (or, if it never does, no later offset is committed either — see
 * {@link OrderedBatchWriter}).
 */
export class InFlightKeys {
  readonly #events = new Set<string>();
  readonly #labels = new Set<string>();
  readonly #deadLetters = new Set<string>();

  get size(): number {
    return this.#events.size + this.#labels.size + this.#deadLetters.size;
  }

  /** Drop from `batch` the rows an earlier unfinished batch holds and claim the rest; returns how many were dropped. */
  claim(batch: PendingBatch): number {
    return (
      claimKeys(batch.events, this.#events) +
      claimKeys(batch.labels, this.#labels) +
      claimKeys(batch.deadLetters, this.#deadLetters)
    );
  }

  /** The batch's rows are durable: a storage look-up finds them from now on. */
  release(batch: PendingBatch): void {
    for (const key of batch.events.keys()) this.#events.delete(key);
    for (const key of batch.labels.keys()) this.#labels.delete(key);
    for (const key of batch.deadLetters.keys()) this.#deadLetters.delete(key);
  }
}

function claimKeys(rows: Map<string, unknown>, claimed: Set<string>): number {
  let dropped = 0;
  for (const key of rows.keys()) {
    if (claimed.has(key)) {
      rows.delete(key);
      dropped++;
    } else claimed.add(key);
  }
  return dropped;
}

export interface BatchWriterSteps<Stored> {
  /**
   * Store the batch (look-up and inserts), retrying as long as it takes; `undefined` when it gave
   * up (shutdown with ClickHouse down): the batch stays uncommitted and is redelivered.
   */
  store(batch: PendingBatch, droppedInFlight: number): Promise<Stored | undefined>;
  /** Commit the batch's offsets. Called in submission order, and only when it and every earlier batch were stored. */
  commit(batch: PendingBatch, stored: Stored): Promise<void>;
}

/**
 * Writes batches concurrently and commits them in order. A batch is committed only after it and
 * every batch submitted before it are stored, so a committed offset never passes an unstored
 * record, whichever insert finishes first. Rows an earlier unfinished batch holds are dropped
 * from a later one ({@link InFlightKeys}) before its look-up, so concurrent writes never store one
 * identity twice.
 */
export class OrderedBatchWriter<Stored> {
  readonly keys = new InFlightKeys();
  readonly #steps: BatchWriterSteps<Stored>;
  readonly #writing = new Set<Promise<boolean>>();
  /** Resolves to whether every batch submitted so far was stored (and so may be committed past). */
  #tail: Promise<boolean> = Promise.resolve(true);

  constructor(steps: BatchWriterSteps<Stored>) {
    this.#steps = steps;
  }

  /** Batches submitted and not yet finished (stored and committed, or given up). */
  get size(): number {
    return this.#writing.size;
  }

  /** Start writing `batch`; the promise settles when it is committed (true) or left uncommitted (false). */
  submit(batch: PendingBatch): Promise<boolean> {
    const dropped = this.keys.claim(batch);
    const earlier = this.#tail;
    const write = (async () => {
      const stored = await this.#steps.store(batch, dropped);
      if (stored !== undefined) this.keys.release(batch);
      const earlierStored = await earlier;
      if (stored === undefined || !earlierStored) return false;
      await this.#steps.commit(batch, stored);
      return true;
    })();
    this.#tail = write.catch(() => false);
    const tracked = write.finally(() => this.#writing.delete(tracked));
    this.#writing.add(tracked);
    return tracked;
  }

  /** Settles when any batch being written finishes (immediately when none is). */
  async anyDone(): Promise<void> {
    if (this.#writing.size > 0) await Promise.race([...this.#writing].map((w) => w.catch(() => false)));
  }

  /** Settles when every batch submitted so far has finished. */
  async idle(): Promise<void> {
    while (this.#writing.size > 0) await Promise.allSettled([...this.#writing]);
  }
}
