/**
 * A batch being filled: rows by identity (first wins), each encoded for its table when added,
 * and the highest offset seen per partition.
 */
import {
  encodeDeadLetter,
  encodeLabel,
  encodeScoringEvent,
  eventKey,
  labelKey,
  type StoredEventIdentity,
} from '../../platform/clickhouse/ingest-repository.ts';
import type { Prepared } from './prepare-record.ts';

/** An event in a batch: its look-up identity and its encoded row. */
export interface BatchedEvent extends StoredEventIdentity {
  line: string;
}

/** A label in a batch: its look-up identity (event id, label time) and its encoded row. */
export interface BatchedLabel {
  eventId: string;
  labelTs: number;
  line: string;
}

export interface EncodeTimer {
  serialize_ms: number;
}

export class PendingBatch {
  /** By {@link eventKey}. */
  readonly events = new Map<string, BatchedEvent>();
  /** By {@link labelKey}. */
  readonly labels = new Map<string, BatchedLabel>();
  /** Encoded dead letters by dead_letter_id. */
  readonly deadLetters = new Map<string, string>();
  /** `topic\u0000partition` → highest offset taken (decimal string). */
  readonly offsets = new Map<string, { topic: string; partition: number; offset: string }>();
  /** Records added, duplicates included. */
  records = 0;
  duplicates = 0;
  /** When the first record was added (ms since epoch), 0 when empty. */
  firstAt = 0;

  get rows(): number {
    return this.events.size + this.labels.size + this.deadLetters.size;
  }

  /**
   * Add a record; false if its identity is already in this batch (a duplicate, not stored).
   * The row is encoded here, once, so the batch keeps one string per row rather than the row's
   * object graph (which would outlive the young generation and cost full GCs), and the write
   * path only joins lines.
   */
  add(p: Prepared, now = Date.now(), timer?: EncodeTimer): boolean {
    if (this.records === 0) this.firstAt = now;
    this.records++;
    const t0 = timer ? performance.now() : 0;
    let added: boolean;
    if (p.kind === 'event') {
      const key = eventKey(p.row.model_id, p.row.event_id, p.row.ts);
      added = !this.events.has(key);
      if (added)
        this.events.set(key, {
          modelId: p.row.model_id,
          eventId: p.row.event_id,
          ts: p.row.ts,
          line: encodeScoringEvent(p.row),
        });
    } else if (p.kind === 'label') {
      const key = labelKey(p.row.event_id, p.row.label_ts);
      added = !this.labels.has(key);
      if (added) this.labels.set(key, { eventId: p.row.event_id, labelTs: p.row.label_ts, line: encodeLabel(p.row) });
    } else {
      const key = p.row.dead_letter_id;
      added = !this.deadLetters.has(key);
      if (added) this.deadLetters.set(key, encodeDeadLetter(p.row));
    }
    if (timer) timer.serialize_ms += performance.now() - t0;
    if (!added) this.duplicates++;
    return added;
  }

  /**
   * Remember the last offset of this partition added to the batch. Overwritten, not maxed:
   * offsets only go backwards after a rebalance re-fetch, and committing the lower one then
   * is safe (it only causes a redelivery, which de-dupe absorbs).
   */
  noteOffset(partitionKey: string, topic: string, partition: number, offset: string): void {
    const seen = this.offsets.get(partitionKey);
    if (seen === undefined) this.offsets.set(partitionKey, { topic, partition, offset });
    else seen.offset = offset;
  }

  /** Offsets to commit once stored: the next offset to read, as kafkajs wants it (a string). */
  commitOffsets(): Array<{ topic: string; partition: number; offset: string }> {
    return [...this.offsets.values()].map((o) => ({
      topic: o.topic,
      partition: o.partition,
      offset: (BigInt(o.offset) + 1n).toString(),
    }));
  }
}
