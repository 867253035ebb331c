/**
 * Concurrent POSTs written together. Each POST used to run its own duplicate look-up (a scratch
 * table's truncate, insert, read and truncate, staged-keys.ts) and its own insert per table, all
 * on ingest's one connection, which runs one statement at a time: during a burst a POST waited
 * for every other POST's statements. Here the batches that arrive while a group is being written
 * form the next group, with one look-up and one insert per table for all of them; a lone POST
 * starts at once. Groups are written one after another, so a group's look-up sees every earlier
 * group's rows: two concurrent POSTs of one record store it once (the first that arrived has it).
 */
import type { IngestRepository, IngestTable } from '../../platform/clickhouse/ingest-repository.ts';
import type { EncodedRange, PendingBatch } from './pending-batch.ts';

export interface StoreGroupOptions {
  /**
   * Most rows (all tables) one group writes; a batch that would pass it waits for the next group.
   * A single larger batch is written alone.
   * @default 50000
   */
  maxRows?: number;
}

/** What one batch's write came to, and where its time went. */
export interface GroupedStoreResult {
  insertedEvents: number;
  insertedLabels: number;
  deadLetters: number;
  /** Waiting for the group ahead to finish (ms). */
  queueMs: number;
  /** Its group's duplicate look-ups (ms). */
  lookupMs: number;
  /** Its group's inserts (ms). */
  insertMs: number;
  /** Batches in its group (itself included). */
  groupSize: number;
}

interface Member {
  batch: PendingBatch;
  enqueuedAt: number;
  resolve: (result: GroupedStoreResult) => void;
  reject: (err: unknown) => void;
}

const GROUPS = new WeakMap<IngestRepository, StoreGroups>();

export class StoreGroups {
  readonly #repo: IngestRepository;
  readonly #maxRows: number;
  #waiting: Member[] = [];
  #running = false;

  constructor(repo: IngestRepository, options: StoreGroupOptions = {}) {
    this.#repo = repo;
    this.#maxRows = Math.max(1, options.maxRows ?? 50_000);
  }

  /** The groups of a repository: one writer per repository, shared by every request through it. */
  static of(repo: IngestRepository): StoreGroups {
    let groups = GROUPS.get(repo);
    if (!groups) GROUPS.set(repo, (groups = new StoreGroups(repo)));
    return groups;
  }

  /** Replace a repository's groups by ones with these options (benchmarks: `maxRows: 1` writes each POST alone). */
  static configure(repo: IngestRepository, options: StoreGroupOptions): StoreGroups {
    const groups = new StoreGroups(repo, options);
    GROUPS.set(repo, groups);
    return groups;
  }

  /** Store `batch` with whatever batches wait beside it; rejects when its group's write fails. */
  store(batch: PendingBatch): Promise<GroupedStoreResult> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ batch, enqueuedAt: performance.now(), resolve, reject });
      if (!this.#running) void this.#next();
    });
  }

  async #next(): Promise<void> {
    if (this.#waiting.length === 0) return;
    this.#running = true;
    const group: Member[] = [];
    let rows = 0;
    while (this.#waiting.length > 0) {
      const size = this.#waiting[0]!.batch.rows;
      if (group.length > 0 && rows + size > this.#maxRows) break;
      group.push(this.#waiting.shift()!);
      rows += size;
    }
    const startedAt = performance.now();
    try {
      const written = await writeGroup(
        this.#repo,
        group.map((m) => m.batch),
      );
      group.forEach((m, i) =>
        m.resolve({
          ...written.perBatch[i]!,
          queueMs: startedAt - m.enqueuedAt,
          lookupMs: written.lookupMs,
          insertMs: written.insertMs,
          groupSize: group.length,
        }),
      );
    } catch (err) {
      for (const m of group) m.reject(err);
    } finally {
      this.#running = false;
      void this.#next();
    }
  }
}

interface GroupWrite {
  perBatch: { insertedEvents: number; insertedLabels: number; deadLetters: number }[];
  lookupMs: number;
  insertMs: number;
}

/**
 * One look-up and one insert per table for all `batches`: a key in several batches is the first
 * one's; a key storage has is no one's. Tables in the order of storeBatch (events, labels, dead letters).
 */
async function writeGroup(repo: IngestRepository, batches: readonly PendingBatch[]): Promise<GroupWrite> {
  const out: GroupWrite = {
    perBatch: batches.map(() => ({ insertedEvents: 0, insertedLabels: 0, deadLetters: 0 })),
    lookupMs: 0,
    insertMs: 0,
  };
  const step = async <R extends EncodedRange>(
    table: IngestTable,
    rowsOf: (batch: PendingBatch) => Map<string, R>,
    existing: (keys: string[], rows: R[]) => Promise<Set<string>>,
  ): Promise<number[]> => {
    // Each key goes to the first batch that holds it.
    const owner = new Map<string, number>();
    const rows: R[] = [];
    batches.forEach((batch, i) => {
      for (const [key, row] of rowsOf(batch))
        if (!owner.has(key)) {
          owner.set(key, i);
          rows.push(row);
        }
    });
    const counts = batches.map(() => 0);
    if (rows.length === 0) return counts;
    const t0 = performance.now();
    const have = await existing([...owner.keys()], rows);
    const t1 = performance.now();
    out.lookupMs += t1 - t0;
    const fresh: R[][] = batches.map(() => []);
    for (const [key, i] of owner) if (!have.has(key)) fresh[i]!.push(rowsOf(batches[i]!).get(key)!);
    const bodies: Buffer[] = [];
    let count = 0;
    batches.forEach((batch, i) => {
      if (fresh[i]!.length === 0) return;
      const encoded = batch.encoded(table, fresh[i]!);
      bodies.push(encoded.body);
      count += encoded.count;
      counts[i] = encoded.count;
    });
    if (count > 0)
      await repo.insertRows(table, { count, body: bodies.length === 1 ? bodies[0]! : Buffer.concat(bodies) });
    out.insertMs += performance.now() - t1;
    return counts;
  };
  const events = await step(
    'scoring_events',
    (b) => b.events,
    (_keys, rows) => repo.existingEventIds(rows),
  );
  const labels = await step(
    'labels',
    (b) => b.labels,
    (_keys, rows) => repo.existingLabelIds(rows),
  );
  const deadLetters = await step(
    'dead_letters',
    (b) => b.deadLetters,
    (keys) => repo.existingDeadLetterIds(keys),
  );
  out.perBatch.forEach((r, i) => {
    r.insertedEvents = events[i]!;
    r.insertedLabels = labels[i]!;
    r.deadLetters = deadLetters[i]!;
  });
  return out;
}
