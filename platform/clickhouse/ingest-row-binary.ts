/**
 * Ingest's rows in RowBinary, in the column order of `encodedColumns(table)` (ingest-repository.ts).
 * Each writer must follow the table's column types exactly (migrations.ts): RowBinary carries no
 * names or types, so a value in the wrong place is read as the wrong column.
 */
import type { LabelRow, ScoringEventRow } from '../contracts.ts';
import type { DeadLetterRow } from './ingest-repository.ts';
import type { ByteWriter } from './row-binary.ts';

const NO_VECTORS: Record<string, number[]> = {};
const NO_PROBABILITIES: Record<string, number> = {};

/** A `scoring_events` row. */
export function writeScoringEvent(w: ByteWriter, r: ScoringEventRow): void {
  w.string(r.event_id); // String
  w.string(r.model_id); // LowCardinality(String)
  w.string(r.model_version); // LowCardinality(String)
  w.i64(r.ts); // DateTime64(3, 'UTC'): epoch milliseconds
  w.string(r.subject_id); // String
  w.mapF64(r.num_features); // Map(LowCardinality(String), Float64)
  w.mapString(r.cat_features); // Map(LowCardinality(String), String)
  w.strings(r.missing_features); // Array(LowCardinality(String))
  w.nullableF64(r.prediction_score); // Nullable(Float64)
  w.nullableString(r.prediction_class); // Nullable(String)
  w.nullableF64(r.prediction_value); // Nullable(Float64)
  w.mapString(r.metadata); // Map(String, String)
  w.u16(r.contract_version); // UInt16
  w.string(r.source); // LowCardinality(String)
  w.string(r.source_ref); // String
  w.mapF32Arrays(r.vec_features ?? NO_VECTORS); // Map(LowCardinality(String), Array(Float32))
  w.mapF64(r.prediction_probabilities ?? NO_PROBABILITIES); // Map(LowCardinality(String), Float64)
}

/** A `labels` row. */
export function writeLabel(w: ByteWriter, r: LabelRow): void {
  w.string(r.event_id); // String
  w.string(r.label); // String
  w.nullableF64(r.label_numeric); // Nullable(Float64)
  w.i64(r.label_ts); // DateTime64(3, 'UTC')
  w.u16(r.contract_version); // UInt16
  w.string(r.source); // LowCardinality(String)
  w.string(r.source_ref); // String
}

/** A `dead_letters` row. */
export function writeDeadLetter(w: ByteWriter, r: DeadLetterRow): void {
  w.string(r.dead_letter_id); // String
  w.string(r.source); // LowCardinality(String)
  w.string(r.topic); // String
  w.i32(r.partition); // Int32
  w.i64(r.offset); // Int64
  w.string(r.record_key); // String
  w.string(r.payload); // String
  w.string(r.reason); // String
  w.string(r.error_path); // String
  w.string(r.model_id); // String
}
