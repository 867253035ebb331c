/**
 * Storing one batch, exactly once: what storage already has is dropped table by table just
 * before the insert, and a retry resumes where a failure left off.
 */
import type { IngestRepository, IngestTable } from '../../platform/clickhouse/ingest-repository.ts';
import type { EncodedRange, PendingBatch } from './pending-batch.ts';

export interface StoreResult {
  insertedEvents: number;
  insertedLabels: number;
  deadLetters: number;
  /** Rows dropped because they were already stored. */
  duplicatesStored: number;
  dedupeMs: number;
  serializeMs: number;
  insertMs: number;
  /** Tables of this batch already written (a retry skips them). */
  done: { events: boolean; labels: boolean; deadLetters: boolean };
}

export function emptyStoreResult(): StoreResult {
  return {
    insertedEvents: 0,
    insertedLabels: 0,
    deadLetters: 0,
    duplicatesStored: 0,
    dedupeMs: 0,
    serializeMs: 0,
    insertMs: 0,
    done: { events: false, labels: false, deadLetters: false },
  };
}

/**
 * Write a batch: drop what storage already has, then insert events, labels and dead letters,
 * table by table. Pass the same `result` to a retry after a failure half-way (events stored,
 * labels not): tables already written are skipped, so counts stay exact. Even from scratch it is
 * idempotent — a rerun finds the stored rows and writes nothing twice.
 */
export async function storeBatch(
  repo: IngestRepository,
  batch: PendingBatch,
  result: StoreResult = emptyStoreResult(),
): Promise<StoreResult> {
  const step = async <R extends EncodedRange>(
    table: IngestTable,
    rows: Map<string, R>,
    existing: (rows: R[]) => Promise<Set<string>>,
  ): Promise<number> => {
    if (rows.size === 0) return 0;
    const t0 = performance.now();
    const have = await existing([...rows.values()]);
    const fresh: R[] = [];
    for (const [key, row] of rows) if (!have.has(key)) fresh.push(row);
    const t1 = performance.now();
    result.dedupeMs += t1 - t0;
    const encoded = batch.encoded(table, fresh);
    result.serializeMs += performance.now() - t1;
    const timing = await repo.insertRows(table, encoded);
    result.serializeMs += timing.serializeMs;
    result.insertMs += timing.insertMs;
    result.duplicatesStored += rows.size - fresh.length;
    return fresh.length;
  };
  if (!result.done.events) {
    result.insertedEvents += await step('scoring_events', batch.events, (rows) => repo.existingEventIds(rows));
    result.done.events = true;
  }
  if (!result.done.labels) {
    result.insertedLabels += await step('labels', batch.labels, (rows) => repo.existingLabelIds(rows));
    result.done.labels = true;
  }
  if (!result.done.deadLetters) {
    result.deadLetters += await step('dead_letters', batch.deadLetters, () =>
      repo.existingDeadLetterIds([...batch.deadLetters.keys()]),
    );
    result.done.deadLetters = true;
  }
  return result;
}
