/**
 * Reads ingest's RowBinary bodies back into row objects, following the tables' column types
 * (migrations.ts) independently of the writers in platform/clickhouse/ingest-row-binary.ts, so
 * tests check what the bytes say rather than what the writer meant.
 */
import type { DeadLetterRow, IngestTable } from '../../platform/clickhouse/ingest-repository.ts';
import type { LabelRow, ScoringEventRow } from '../../platform/contracts.ts';

class Reader {
  #pos = 0;
  constructor(readonly buf: Buffer) {}
  get done(): boolean {
    return this.#pos >= this.buf.length;
  }
  #take(n: number): number {
    const at = this.#pos;
    if (at + n > this.buf.length)
      throw new Error(`RowBinary: ${n} bytes wanted at ${at}, ${this.buf.length - at} left`);
    this.#pos += n;
    return at;
  }
  u8(): number {
    return this.buf[this.#take(1)]!;
  }
  u16(): number {
    return this.buf.readUInt16LE(this.#take(2));
  }
  i32(): number {
    return this.buf.readInt32LE(this.#take(4));
  }
  i64(): number {
    return Number(this.buf.readBigInt64LE(this.#take(8)));
  }
  f64(): number {
    return this.buf.readDoubleLE(this.#take(8));
  }
  f32(): number {
    return this.buf.readFloatLE(this.#take(4));
  }
  varUInt(): number {
    let v = 0;
    let scale = 1;
    for (;;) {
      const b = this.u8();
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v;
      scale *= 0x80;
    }
  }
  string(): string {
    const n = this.varUInt();
    const at = this.#take(n);
    return this.buf.toString('utf8', at, at + n);
  }
  nullable<T>(value: () => T): T | null {
    return this.u8() === 1 ? null : value();
  }
  map<T>(value: () => T): Record<string, T> {
    const out: Record<string, T> = {};
    const n = this.varUInt();
    for (let i = 0; i < n; i++) {
      const k = this.string();
      out[k] = value();
    }
    return out;
  }
  array<T>(value: () => T): T[] {
    const n = this.varUInt();
    return Array.from({ length: n }, value);
  }
}

function scoringEvent(r: Reader): ScoringEventRow {
  return {
    event_id: r.string(),
    model_id: r.string(),
    model_version: r.string(),
    ts: r.i64(),
    subject_id: r.string(),
    num_features: r.map(() => r.f64()),
    cat_features: r.map(() => r.string()),
    missing_features: r.array(() => r.string()),
    prediction_score: r.nullable(() => r.f64()),
    prediction_class: r.nullable(() => r.string()),
    prediction_value: r.nullable(() => r.f64()),
    metadata: r.map(() => r.string()),
    contract_version: r.u16(),
    source: r.string(),
    source_ref: r.string(),
    vec_features: r.map(() => r.array(() => r.f32())),
    prediction_probabilities: r.map(() => r.f64()),
  };
}

function label(r: Reader): LabelRow {
  return {
    event_id: r.string(),
    label: r.string(),
    label_numeric: r.nullable(() => r.f64()),
    label_ts: r.i64(),
    contract_version: r.u16(),
    source: r.string(),
    source_ref: r.string(),
  };
}

function deadLetter(r: Reader): DeadLetterRow {
  return {
    dead_letter_id: r.string(),
    source: r.string() as DeadLetterRow['source'],
    topic: r.string(),
    partition: r.i32(),
    offset: r.i64(),
    record_key: r.string(),
    payload: r.string(),
    reason: r.string(),
    error_path: r.string(),
    model_id: r.string(),
  };
}

/** The rows of a RowBinary body of `table`; throws unless it holds exactly `count` whole rows. */
export function readRowBinary(table: 'scoring_events', body: Buffer, count: number): ScoringEventRow[];
export function readRowBinary(table: 'labels', body: Buffer, count: number): LabelRow[];
export function readRowBinary(table: 'dead_letters', body: Buffer, count: number): DeadLetterRow[];
export function readRowBinary(table: IngestTable, body: Buffer, count: number): unknown[];
export function readRowBinary(table: IngestTable, body: Buffer, count: number): unknown[] {
  const r = new Reader(body);
  const row = table === 'scoring_events' ? scoringEvent : table === 'labels' ? label : deadLetter;
  const rows: unknown[] = [];
  while (!r.done) rows.push(row(r));
  if (rows.length !== count) throw new Error(`${table}: body holds ${rows.length} rows, said ${count}`);
  return rows;
}
