/**
 * A batch being filled: rows by identity (first wins), each encoded in RowBinary for its table
 * when added, and the highest offset seen per partition.
 */
import type { EncodedRows, IngestTable, StoredEventIdentity } from '../../platform/clickhouse/ingest-repository.ts';
import { eventKey, labelKey } from '../../platform/clickhouse/ingest-keys.ts';
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
  readonly writer: ByteWriter;
  /** Rows written, including those later dropped from the batch's maps. */
  written = 0;

  constructor(writer = new ByteWriter()) {
    this.writer = writer;
  }
}

/** One table's bytes handed from the landing thread: the memory is transferred, not copied. */
export interface TransferredTable {
  buffer: ArrayBuffer;
  length: number;
  written: number;
}

/**
 * A batch as the landing thread hands it to the thread that stores it (landing-thread.ts): the
 * encoded bytes and the numbers travel as transferred memory; the de-duplication keys and ids
 * as strings (their maps are rebuilt on arrival, in the order the rows were added).
 */
export interface TransferredBatch {
  records: number;
  duplicates: number;
  firstAt: number;
  offsets: Array<[string, { topic: string; partition: number; offset: string }]>;
  tables: Partial<Record<IngestTable, TransferredTable>>;
  /** Keys, model ids, event ids, and per event [ts, start, end]. */
  events: { keys: string[]; modelIds: string[]; eventIds: string[]; numbers: Float64Array };
  /** Keys, event ids, and per label [labelTs, start, end]. */
  labels: { keys: string[]; eventIds: string[]; numbers: Float64Array };
  /** Dead-letter ids, and per dead letter [start, end]. */
  deadLetters: { keys: string[]; numbers: Float64Array };
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
   * This batch for another thread, and the memory to transfer with it (postMessage's transfer
   * list): the batch gives up its bytes and must not be used afterwards.
   */
  transfer(): { batch: TransferredBatch; transferList: ArrayBuffer[] } {
    const transferList: ArrayBuffer[] = [];
    const tables: TransferredBatch['tables'] = {};
    for (const [table, bytes] of this.#bytes) {
      const { buffer, length } = bytes.writer.release();
      tables[table] = { buffer, length, written: bytes.written };
      transferList.push(buffer);
    }
    const events: TransferredBatch['events'] = {
      keys: [],
      modelIds: [],
      eventIds: [],
      numbers: new Float64Array(this.events.size * 3),
    };
    let i = 0;
    for (const [key, e] of this.events) {
      events.keys.push(key);
      events.modelIds.push(e.modelId);
      events.eventIds.push(e.eventId);
      events.numbers[i++] = e.ts;
      events.numbers[i++] = e.start;
      events.numbers[i++] = e.end;
    }
    const labels: TransferredBatch['labels'] = {
      keys: [],
      eventIds: [],
      numbers: new Float64Array(this.labels.size * 3),
    };
    i = 0;
    for (const [key, l] of this.labels) {
      labels.keys.push(key);
      labels.eventIds.push(l.eventId);
      labels.numbers[i++] = l.labelTs;
      labels.numbers[i++] = l.start;
      labels.numbers[i++] = l.end;
    }
    const deadLetters: TransferredBatch['deadLetters'] = {
      keys: [],
      numbers: new Float64Array(this.deadLetters.size * 2),
    };
    i = 0;
    for (const [key, d] of this.deadLetters) {
      deadLetters.keys.push(key);
      deadLetters.numbers[i++] = d.start;
      deadLetters.numbers[i++] = d.end;
    }
    transferList.push(
      events.numbers.buffer as ArrayBuffer,
      labels.numbers.buffer as ArrayBuffer,
      deadLetters.numbers.buffer as ArrayBuffer,
    );
    this.#bytes.clear();
    return {
      batch: {
        records: this.records,
        duplicates: this.duplicates,
        firstAt: this.firstAt,
        offsets: [...this.offsets],
        tables,
        events,
        labels,
        deadLetters,
      },
      transferList,
    };
  }

  /** The batch another thread {@link transfer}red, as it was there. */
  static fromTransfer(t: TransferredBatch): PendingBatch {
    const batch = new PendingBatch();
    batch.records = t.records;
    batch.duplicates = t.duplicates;
    batch.firstAt = t.firstAt;
    for (const [key, offset] of t.offsets) batch.offsets.set(key, offset);
    for (const [table, bytes] of Object.entries(t.tables) as Array<[IngestTable, TransferredTable]>) {
      const adopted = new TableBytes(ByteWriter.adopt(Buffer.from(bytes.buffer, 0, bytes.length)));
      adopted.written = bytes.written;
      batch.#bytes.set(table, adopted);
    }
    const e = t.events;
    for (let k = 0, n = 0; k < e.keys.length; k++, n += 3)
      batch.events.set(e.keys[k]!, {
        modelId: e.modelIds[k]!,
        eventId: e.eventIds[k]!,
        ts: e.numbers[n]!,
        start: e.numbers[n + 1]!,
        end: e.numbers[n + 2]!,
      });
    const l = t.labels;
    for (let k = 0, n = 0; k < l.keys.length; k++, n += 3)
      batch.labels.set(l.keys[k]!, {
        eventId: l.eventIds[k]!,
        labelTs: l.numbers[n]!,
        start: l.numbers[n + 1]!,
        end: l.numbers[n + 2]!,
      });
    const d = t.deadLetters;
    for (let k = 0, n = 0; k < d.keys.length; k++, n += 2)
      batch.deadLetters.set(d.keys[k]!, { start: d.numbers[n]!, end: d.numbers[n + 1]! });
    return batch;
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
