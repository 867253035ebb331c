/**
 * Concurrent POSTs written together. Each POST used to run its own duplicate look-up (a scratch
 * table's truncate, insert, read and truncate, staged-keys.ts) and its own insert per table, all
 * on ingest's one connection, which runs one statement at a time: during a burst a POST waited
 * for every other POST's statements. Here the batches that arrive while a group is being written
 * form the next group, with one look-up and one insert per table for all of them; a lone POST
 * starts at once, and each POST is answered as soon as the tables it has rows in are written (an
 * events POST does not wait for its group's labels). Groups are written one after another, so a group's look-up sees every earlier
 * group's rows: two concurrent POSTs of one record store it once (the first that arrived has it).
 */
import type { IngestRepository, IngestTable } from '../../platform/clickhouse/ingest-repository.ts';
import type { BatchedEvent, BatchedLabel, EncodedRange, PendingBatch } from './pending-batch.ts';

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
  /** Its group's duplicate look-ups up to its own last table (ms). */
  lookupMs: number;
  /** Its group's inserts up to its own last table (ms). */
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
    const settled = new Set<number>();
    try {
      await writeGroup(
        this.#repo,
        group.map((m) => m.batch),
        (i, written) => {
          // A batch is answered once the tables it has rows in are written, not after the whole group.
          settled.add(i);
          group[i]!.resolve({ ...written, queueMs: startedAt - group[i]!.enqueuedAt, groupSize: group.length });
        },
      );
    } catch (err) {
      group.forEach((m, i) => {
        if (!settled.has(i)) m.reject(err);
      });
    } finally {
      this.#running = false;
      void this.#next();
    }
  }
}

type BatchWrite = Omit<GroupedStoreResult, 'queueMs' | 'groupSize'>;

const TABLE_ORDER: readonly IngestTable[] = ['scoring_events', 'labels', 'dead_letters'];

function rowsOf(batch: PendingBatch, table: IngestTable): Map<string, EncodedRange> {
  return table === 'scoring_events' ? batch.events : table === 'labels' ? batch.labels : batch.deadLetters;
}

/**
 * One look-up and one insert per table for all `batches`: a key in several batches is the first
 * one's; a key storage has is no one's. Tables in the order of storeBatch (events, labels, dead
 * letters); `done(i)` is called for batch i as soon as its last table with rows is written.
 */
async function writeGroup(
  repo: IngestRepository,
  batches: readonly PendingBatch[],
  done: (index: number, written: BatchWrite) => void,
): Promise<void> {
  const written: BatchWrite[] = batches.map(() => ({
    insertedEvents: 0,
    insertedLabels: 0,
    deadLetters: 0,
    lookupMs: 0,
    insertMs: 0,
  }));
  // The last table each batch has rows in (-1: none, answered at once).
  const last = batches.map((b) => TABLE_ORDER.findLastIndex((t) => rowsOf(b, t).size > 0));
  last.forEach((l, i) => l < 0 && done(i, written[i]!));
  let lookupMs = 0;
  let insertMs = 0;
  for (const [t, table] of TABLE_ORDER.entries()) {
    const counts = await writeTable(
      repo,
      batches,
      table,
      (ms) => (lookupMs += ms),
      (ms) => (insertMs += ms),
    );
    batches.forEach((_b, i) => {
      const w = written[i]!;
      if (table === 'scoring_events') w.insertedEvents = counts[i]!;
      else if (table === 'labels') w.insertedLabels = counts[i]!;
      else w.deadLetters = counts[i]!;
      if (last[i] === t) done(i, { ...w, lookupMs, insertMs });
    });
  }
}

/** One table of a group: its look-up, then one insert of every batch's fresh rows; rows inserted per batch. */
async function writeTable(
  repo: IngestRepository,
  batches: readonly PendingBatch[],
  table: IngestTable,
  lookedUp: (ms: number) => void,
  inserted: (ms: number) => void,
): Promise<number[]> {
  // Each key goes to the first batch that holds it.
  const owner = new Map<string, number>();
  const rows: EncodedRange[] = [];
  batches.forEach((batch, i) => {
    for (const [key, row] of rowsOf(batch, table))
      if (!owner.has(key)) {
        owner.set(key, i);
        rows.push(row);
      }
  });
  const counts = batches.map(() => 0);
  if (rows.length === 0) return counts;
  const t0 = performance.now();
  const have =
    table === 'scoring_events'
      ? await repo.existingEventIds(rows as BatchedEvent[])
      : table === 'labels'
        ? await repo.existingLabelIds(rows as BatchedLabel[])
        : await repo.existingDeadLetterIds([...owner.keys()]);
  const t1 = performance.now();
  lookedUp(t1 - t0);
  const fresh: EncodedRange[][] = batches.map(() => []);
  for (const [key, i] of owner) if (!have.has(key)) fresh[i]!.push(rowsOf(batches[i]!, table).get(key)!);
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
  inserted(performance.now() - t1);
  return counts;
}
