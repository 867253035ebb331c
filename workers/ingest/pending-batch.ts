/**
 * A batch being filled: rows by identity (first wins), each encoded in RowBinary for its table
 * when added, and the highest offset seen per partition.
 */
import {
  eventKey,
  labelKey,
  type EncodedRows,
  type IngestTable,
  type StoredEventIdentity,
} from '../../platform/clickhouse/ingest-repository.ts';
import { writeDeadLetter, writeLabel, writeScoringEvent } from '../../platform/clickhouse/ingest-row-binary.ts';
import { ByteWriter } from '../../platform/clickhouse/row-binary.ts';
import type { Prepared } from './prepare-record.ts';

/** Where a row's encoding lies in its table's bytes of the batch: [start, end). */
export interface EncodedRange {
  start: number;
  end: number;
}

/** An event in a batch: its look-up identity (model, id, timestamp) and where its encoded row lies. */
export interface BatchedEvent extends EncodedRange, StoredEventIdentity {}

/** A label in a batch: its look-up identity (event id, label time) and where its encoded row lies. */
export interface BatchedLabel extends EncodedRange {
  eventId: string;
  labelTs: number;
}

/** One table's rows of a batch, back to back. */
class TableBytes {
  readonly writer = new ByteWriter();
  /** Rows written, including those later dropped from the batch's maps. */
  written = 0;
}

export interface EncodeTimer {
  serialize_ms: number;
}

export class PendingBatch {
  /** By {@link eventKey}. */
  readonly events = new Map<string, BatchedEvent>();
  /** By {@link labelKey}. */
  readonly labels = new Map<string, BatchedLabel>();
  /** Dead letters by dead_letter_id. */
  readonly deadLetters = new Map<string, EncodedRange>();
  /** `topic\u0000partition` → highest offset taken (decimal string). */
  readonly offsets = new Map<string, { topic: string; partition: number; offset: string }>();
  /** Records added, duplicates included. */
  records = 0;
  duplicates = 0;
  /** When the first record was added (ms since epoch), 0 when empty. */
  firstAt = 0;
  readonly #bytes = new Map<IngestTable, TableBytes>();

  get rows(): number {
    return this.events.size + this.labels.size + this.deadLetters.size;
  }

  /**
   * Add a record; false if its identity is already in this batch (a duplicate, not stored).
   * The row is encoded here, once, into its table's bytes, so the batch keeps no row objects
   * (which would outlive the young generation and cost full GCs) and no string per row, and the
   * write path hands those bytes to the engine as they are.
   */
  add(p: Prepared, now = Date.now(), timer?: EncodeTimer): boolean {
    if (this.records === 0) this.firstAt = now;
    this.records++;
    const t0 = timer ? performance.now() : 0;
    let added: boolean;
    if (p.kind === 'event') {
      const key = eventKey(p.row.model_id, p.row.event_id, p.row.ts);
      added = !this.events.has(key);
      if (added) {
        const { writer } = this.#table('scoring_events');
        const start = writer.length;
        writeScoringEvent(writer, p.row);
        this.events.set(key, {
          modelId: p.row.model_id,
          eventId: p.row.event_id,
          ts: p.row.ts,
          start,
          end: writer.length,
        });
      }
    } else if (p.kind === 'label') {
      const key = labelKey(p.row.event_id, p.row.label_ts);
      added = !this.labels.has(key);
      if (added) {
        const { writer } = this.#table('labels');
        const start = writer.length;
        writeLabel(writer, p.row);
        this.labels.set(key, { eventId: p.row.event_id, labelTs: p.row.label_ts, start, end: writer.length });
      }
    } else {
      const key = p.row.dead_letter_id;
      added = !this.deadLetters.has(key);
      if (added) {
        const { writer } = this.#table('dead_letters');
        const start = writer.length;
        writeDeadLetter(writer, p.row);
        this.deadLetters.set(key, { start, end: writer.length });
      }
    }
    if (timer) timer.serialize_ms += performance.now() - t0;
    if (!added) this.duplicates++;
    return added;
  }

  #table(table: IngestTable): TableBytes {
    let bytes = this.#bytes.get(table);
    if (bytes === undefined) this.#bytes.set(table, (bytes = new TableBytes()));
    bytes.written++;
    return bytes;
  }

  /**
   * The body of `rows` of `table` (rows of this batch, in the order they were added). When no row
   * of the table was dropped (the usual case) it is the table's bytes as written, without a copy;
   * otherwise the kept rows' bytes are gathered, runs of neighbours in one piece.
   */
  encoded(table: IngestTable, rows: readonly EncodedRange[]): EncodedRows {
    const bytes = this.#bytes.get(table);
    if (bytes === undefined || rows.length === 0) return { count: 0, body: Buffer.alloc(0) };
    const all = bytes.writer.bytes();
    if (rows.length === bytes.written) return { count: rows.length, body: all };
    const pieces: Buffer[] = [];
    let start = rows[0]!.start;
    let end = rows[0]!.end;
    for (let i = 1; i < rows.length; i++) {
      const r = rows[i]!;
      if (r.start === end) end = r.end;
      else {
        pieces.push(all.subarray(start, end));
        start = r.start;
        end = r.end;
      }
    }
    pieces.push(all.subarray(start, end));
    return { count: rows.length, body: Buffer.concat(pieces) };
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
