/**
 * The ingest worker: Kafka (scoring events, labels) → validated, batched, de-duplicated rows in
 * ClickHouse; anything malformed → dead_letters with its raw payload and the reason.
 *
 * Why this is exactly-once *in storage* (Kafka delivery itself is at-least-once):
 *  1. Offsets are committed only after every insert of a batch succeeded, so a crash loses
 *     nothing: uncommitted records are redelivered.
 *  2. A redelivered record is recognised by its identity — (model_id, event_id) for events,
 *     (event_id, label_ts) for labels, `kafka:<topic>:<partition>:<offset>` for dead letters —
 *     three times over: within a batch (first wins; later copies are counted as duplicates),
 *     against an earlier batch still being written (an in-process set of in-flight keys,
 *     {@link InFlightKeys}: its rows are not visible to a look-up yet) and against what is
 *     already stored (`existing*Ids`, looked up just before the insert). A crash between insert
 *     and commit therefore re-reads rows that are all found and dropped.
 *  3. A batch is retried as a whole, look-up included, so a partial failure (events stored,
 *     labels not) is completed on retry without doubling the part that made it.
 * The remaining race: two consumers of one group holding the same event_id in different
 *  partitions at the same moment (a producer re-sent it with another key, or a rebalance
 *  overlapped a flush) both pass the look-up before either inserts. The tables are
 *  ReplacingMergeTree on the same identity, so merges collapse such a pair, and readers that
 *  must be exact use FINAL. chDB/ClickHouse `insert_deduplication_token` was checked and is
 *  inert here: the tables are non-replicated without `non_replicated_deduplication_window`.
 *
 * Writing is pipelined: two batches are written at once (batch N+1's look-up and insert overlap
 * batch N's insert) and eachBatch keeps filling a third (then it waits, heart-beating), so
 * parsing overlaps chDB's native threads. Offsets are committed in batch order, each only once
 * its batch and every earlier one are stored ({@link OrderedBatchWriter}): a later insert that
 * finishes first waits. When ClickHouse fails, the consumed topics are paused, no further batch
 * is handed to the writer, and the failed batch is retried with exponential back-off and
 * jitter; consumption resumes once it is stored.
 */
import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { EventEmitter } from 'node:events';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { HalflifeConfig } from '../../platform/config.ts';
import {
  CONTRACT_VERSION,
  parseJsonRecord,
  validateLabel,
  validateScoringEvent,
  type LabelRow,
  type ScoringEventRow,
  type Validated,
} from '../../platform/contracts.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import {
  ClickHouseIngestRepository,
  encodeDeadLetter,
  encodeLabel,
  encodeScoringEvent,
  eventKey,
  labelKey,
  type DeadLetterRow,
  type IngestRepository,
  type IngestTable,
} from '../../platform/clickhouse/ingest-repository.ts';
import { createKafka, ensureTopics } from '../../platform/kafka.ts';
import { createLogger, type Logger } from '../../platform/logger.ts';

/** Batches written at once (see IngestWorker #writerFull). */
const MAX_BATCHES_WRITING = 2;

/** Largest payload kept in a dead letter; longer ones are cut and the reason says so. */
export const MAX_DEAD_LETTER_PAYLOAD_BYTES = 1024 * 1024;

export type RecordKind = 'events' | 'labels';

/** One consumed or posted record, decided: a row for its table, or a dead letter. */
export type Prepared =
  { kind: 'event'; row: ScoringEventRow } | { kind: 'label'; row: LabelRow } | { kind: 'dead'; row: DeadLetterRow };

// ---------------------------------------------------------------------------------------------
// Metrics. Names are stable: the Prometheus exporter maps them 1:1 (halflife_ingest_<name>).

export interface IngestTimings {
  /** Time kafkajs spent between our eachBatch calls (fetching, decompressing, decoding). */
  consume_ms: number;
  /** JSON.parse and UTF-8 checks. */
  parse_ms: number;
  /** Contract validation (zod) and row building. */
  validate_ms: number;
  /** Look-up of already-stored ids before insert. */
  dedupe_ms: number;
  /** Rows → insert format. */
  serialize_ms: number;
  /** Engine write time of all inserts. */
  insert_ms: number;
  /** Offset commits. */
  commit_ms: number;
}

export interface IngestMetrics {
  /** Records taken from Kafka (every message, valid or not, duplicates included). */
  consumed_total: number;
  inserted_events_total: number;
  inserted_labels_total: number;
  dead_letters_total: number;
  /** Records not stored because their identity was already seen: in the batch or in storage. */
  duplicates_total: number;
  duplicates_in_batch_total: number;
  duplicates_stored_total: number;
  flushes_total: number;
  /** Failed attempts to write a batch (each is retried). */
  insert_failures_total: number;
  commit_failures_total: number;
  /** Rows of the last flushed batch (events + labels + dead letters, before storage de-dupe). */
  batch_size_last: number;
  batch_rows_sum: number;
  /** Wall time of the last flush's writes (look-up + inserts), and their sum. */
  insert_latency_ms_last: number;
  insert_latency_ms_sum: number;
  /** Per `topic:partition`: records behind the high watermark at the last fetch. */
  lag: Record<string, number>;
  lag_total: number;
  /** 1 while consumption is paused because ClickHouse is failing. */
  paused: number;
  time_ms: IngestTimings;
}

export function emptyMetrics(): IngestMetrics {
  return {
    consumed_total: 0,
    inserted_events_total: 0,
    inserted_labels_total: 0,
    dead_letters_total: 0,
    duplicates_total: 0,
    duplicates_in_batch_total: 0,
    duplicates_stored_total: 0,
    flushes_total: 0,
    insert_failures_total: 0,
    commit_failures_total: 0,
    batch_size_last: 0,
    batch_rows_sum: 0,
    insert_latency_ms_last: 0,
    insert_latency_ms_sum: 0,
    lag: {},
    lag_total: 0,
    paused: 0,
    time_ms: { consume_ms: 0, parse_ms: 0, validate_ms: 0, dedupe_ms: 0, serialize_ms: 0, insert_ms: 0, commit_ms: 0 },
  };
}

// ---------------------------------------------------------------------------------------------
// Turning one raw record into a row or a dead letter.

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/** Path of the first string (or key) holding an unpaired UTF-16 surrogate; ClickHouse rejects those. */
export function findLoneSurrogate(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? path || '(record)' : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = findLoneSurrogate(value[i], `${path}${path ? '.' : ''}${i}`);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }
  for (const [k, v] of Object.entries(value)) {
    const p = `${path}${path ? '.' : ''}${k}`;
    if (LONE_SURROGATE.test(k)) return p;
    const hit = findLoneSurrogate(v, p);
    if (hit !== undefined) return hit;
  }
  return undefined;
}

/** Replace unpaired surrogates so any text (reasons quoting input) can be stored. */
function wellFormed(s: string): string {
  return LONE_SURROGATE.test(s) ? s.replace(new RegExp(LONE_SURROGATE.source, 'g'), '\uFFFD') : s;
}

/** Raw bytes as storable text: UTF-8 as is, anything else as `base64:…`; both capped. */
export function payloadText(raw: Buffer | null): { text: string; note: string } {
  if (raw === null) return { text: '', note: '' };
  const cut = raw.length > MAX_DEAD_LETTER_PAYLOAD_BYTES;
  const bytes = cut ? raw.subarray(0, MAX_DEAD_LETTER_PAYLOAD_BYTES) : raw;
  const notes: string[] = [];
  let text: string;
  // A cut may split a multi-byte character; judge UTF-8-ness on the whole record.
  if (isUtf8(raw)) {
    text = wellFormed(bytes.toString('utf8'));
  } else {
    text = `base64:${bytes.toString('base64')}`;
    notes.push('payload is not UTF-8, stored base64-encoded');
  }
  if (cut) notes.push(`payload of ${raw.length} bytes truncated to the first ${MAX_DEAD_LETTER_PAYLOAD_BYTES} bytes`);
  return { text, note: notes.join('; ') };
}

function extractModelId(value: unknown): string {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const m = (value as Record<string, unknown>).model_id;
    if (typeof m === 'string') return wellFormed(m.slice(0, 256));
  }
  return '';
}

export interface RawRecord {
  /** Where the record came from: a Kafka coordinate or an HTTP request. */
  source: 'kafka' | 'http';
  topic: string;
  partition: number;
  /** Kafka offset as a decimal string; -1 for HTTP. */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Dead-letter id if this record is rejected. @default `<source>:<ref>` (built only when needed) */
  deadLetterId?: string;
  /** Provenance kept on stored rows (`topic:partition:offset`). */
  ref: string;
}

export interface PrepareTimer {
  parse_ms: number;
  validate_ms: number;
}

// The contract's zod schema costs ~30 µs per realistic event, the largest single cost of
// ingest. This hand-written check accepts only what the schema surely accepts and builds the
// same row; anything it is unsure of (ISO timestamps, odd keys, any violation) returns
// undefined and goes through zod, which decides and words the reason. It may be stricter than
// the schema, never looser: test/unit/ingest.test.ts compares both on valid and broken events.
const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const FEATURE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;
const MAX_EPOCH_MS = 253402300799999;
const EVENT_KEYS = new Set([
  'contract_version',
  'event_id',
  'model_id',
  'model_version',
  'timestamp',
  'features',
  'prediction',
  'subject_id',
  'metadata',
]);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function str(v: unknown, min: number, max: number): v is string {
  return typeof v === 'string' && v.length >= min && v.length <= max;
}

export function fastScoringEventRow(
  input: unknown,
  from: { source: 'kafka' | 'http'; ref: string },
): ScoringEventRow | undefined {
  if (!isPlainObject(input)) return undefined;
  for (const k in input) if (!EVENT_KEYS.has(k)) return undefined;
  const { contract_version, event_id, model_id, model_version, timestamp, features, prediction, subject_id, metadata } =
    input;
  if (contract_version !== undefined && contract_version !== CONTRACT_VERSION) return undefined;
  if (!str(event_id, 1, 128) || !str(model_id, 1, 128) || !IDENTIFIER.test(model_id) || !str(model_version, 1, 64))
    return undefined;
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0 || timestamp > MAX_EPOCH_MS)
    return undefined;
  if (subject_id !== undefined && !str(subject_id, 1, 256)) return undefined;
  if (!isPlainObject(features) || !isPlainObject(prediction)) return undefined;
  const num: Record<string, number> = {};
  const cat: Record<string, string> = {};
  const missing: string[] = [];
  let count = 0;
  for (const name in features) {
    if (name === '__proto__' || !FEATURE_NAME.test(name)) return undefined;
    const value = features[name];
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return undefined;
      num[name] = value;
    } else if (typeof value === 'string') {
      if (value.length > 1024) return undefined;
      cat[name] = value;
    } else if (typeof value === 'boolean') cat[name] = String(value);
    else if (value === null) missing.push(name);
    else return undefined;
    count++;
  }
  if (count === 0 || count > 1000) return undefined;
  let score: number | null = null;
  let cls: string | null = null;
  let value: number | null = null;
  for (const k in prediction) {
    const v = prediction[k];
    if (k === 'score') {
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) return undefined;
      score = v;
    } else if (k === 'class') {
      if (typeof v === 'string') {
        if (v.length < 1 || v.length > 256) return undefined;
      } else if (!(typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))) return undefined;
      cls = String(v);
    } else if (k === 'value') {
      if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
      value = v;
    } else return undefined;
  }
  if (score === null && cls === null && value === null) return undefined;
  let meta: Record<string, string> = {};
  if (metadata !== undefined) {
    if (!isPlainObject(metadata)) return undefined;
    for (const k in metadata) {
      const v = metadata[k];
      if (k === '__proto__' || typeof v !== 'string' || v.length > 4096) return undefined;
    }
    meta = metadata as Record<string, string>;
  }
  return {
    event_id,
    model_id,
    model_version,
    ts: timestamp,
    subject_id: subject_id ?? '',
    num_features: num,
    cat_features: cat,
    missing_features: missing,
    prediction_score: score,
    prediction_class: cls,
    prediction_value: value,
    metadata: meta,
    contract_version: CONTRACT_VERSION,
    source: from.source,
    source_ref: from.ref,
  };
}

/**
 * A record's dead letter. Module-level rather than a closure in prepareRecord: the closure was
 * allocated (and, under tsx, named through a defineProperty call) for every record, valid or not.
 */
function deadLetter(record: RawRecord, reason: string, errorPath: string, modelId = ''): Prepared {
  const { text, note } = payloadText(record.value);
  return {
    kind: 'dead',
    row: {
      dead_letter_id: record.deadLetterId ?? `${record.source}:${record.ref}`,
      source: record.source,
      topic: record.topic,
      partition: record.partition,
      offset: Number(record.offset),
      record_key: record.key === null ? '' : payloadText(record.key.subarray(0, 4096)).text,
      payload: text,
      reason: wellFormed(note ? `${reason} (${note})` : reason),
      error_path: wellFormed(errorPath),
      model_id: modelId,
    },
  };
}

/**
 * Parse and validate one record. Never throws: whatever the bytes, the answer is a row or a
 * dead letter whose reason names the failing field.
 */
export function prepareRecord(record: RawRecord, kind: RecordKind, timer?: PrepareTimer): Prepared {
  const t0 = timer ? performance.now() : 0;
  const raw = record.value;
  if (raw === null) return deadLetter(record, 'empty message (tombstone): expected a JSON object', '');
  if (!isUtf8(raw)) return deadLetter(record, 'not valid UTF-8: expected a UTF-8 JSON object', '');
  const text = raw.toString('utf8');
  const parsed = parseJsonRecord(text);
  const t1 = timer ? performance.now() : 0;
  if (timer) timer.parse_ms += t1 - t0;
  if (!parsed.ok) return deadLetter(record, parsed.reason, parsed.issues[0]?.path ?? '');
  const modelId = kind === 'events' ? extractModelId(parsed.value) : '';
  if (SURROGATE_ESCAPE.test(text)) {
    const at = findLoneSurrogate(parsed.value);
    if (at !== undefined)
      return deadLetter(record, `${at}: contains an unpaired UTF-16 surrogate (invalid Unicode text)`, at, modelId);
  }
  const from = { source: record.source, ref: record.ref };
  let prepared: Prepared;
  if (kind === 'events') {
    const fast = fastScoringEventRow(parsed.value, from);
    if (fast !== undefined) {
      if (timer) timer.validate_ms += performance.now() - t1;
      return { kind: 'event', row: fast };
    }
    const v: Validated<ScoringEventRow> = validateScoringEvent(parsed.value, from);
    prepared = v.ok
      ? { kind: 'event', row: v.value }
      : deadLetter(record, v.reason, v.issues.map((i) => i.path).join(','), modelId);
  } else {
    const v: Validated<LabelRow> = validateLabel(parsed.value, from);
    prepared = v.ok
      ? { kind: 'label', row: v.value }
      : deadLetter(record, v.reason, v.issues.map((i) => i.path).join(','));
  }
  if (timer) timer.validate_ms += performance.now() - t1;
  return prepared;
}

// ---------------------------------------------------------------------------------------------
// A batch: rows by identity (first wins), each encoded for its table when added, and the highest
// offset seen per partition.

/** An event in a batch: its look-up identity and its encoded row. */
export interface BatchedEvent {
  modelId: string;
  eventId: string;
  line: string;
}

/** A label in a batch: the id its look-up uses and its encoded row. */
export interface BatchedLabel {
  eventId: string;
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
      const key = eventKey(p.row.model_id, p.row.event_id);
      added = !this.events.has(key);
      if (added)
        this.events.set(key, { modelId: p.row.model_id, eventId: p.row.event_id, line: encodeScoringEvent(p.row) });
    } else if (p.kind === 'label') {
      const key = labelKey(p.row.event_id, p.row.label_ts);
      added = !this.labels.has(key);
      if (added) this.labels.set(key, { eventId: p.row.event_id, line: encodeLabel(p.row) });
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
  const step = async <R>(
    table: IngestTable,
    rows: Map<string, R>,
    existing: (rows: R[]) => Promise<Set<string>>,
    line: (row: R) => string,
  ): Promise<number> => {
    if (rows.size === 0) return 0;
    const t0 = performance.now();
    const have = await existing([...rows.values()]);
    const fresh: string[] = [];
    for (const [key, row] of rows) if (!have.has(key)) fresh.push(line(row));
    result.dedupeMs += performance.now() - t0;
    const timing = await repo.insertEncoded(table, fresh);
    result.serializeMs += timing.serializeMs;
    result.insertMs += timing.insertMs;
    result.duplicatesStored += rows.size - fresh.length;
    return fresh.length;
  };
  if (!result.done.events) {
    result.insertedEvents += await step(
      'scoring_events',
      batch.events,
      (rows) =>
        repo.existingEventIds(
          rows.map((e) => e.modelId),
          rows.map((e) => e.eventId),
        ),
      (e) => e.line,
    );
    result.done.events = true;
  }
  if (!result.done.labels) {
    result.insertedLabels += await step(
      'labels',
      batch.labels,
      (rows) => repo.existingLabelIds(rows.map((l) => l.eventId)),
      (l) => l.line,
    );
    result.done.labels = true;
  }
  if (!result.done.deadLetters) {
    result.deadLetters += await step(
      'dead_letters',
      batch.deadLetters,
      () => repo.existingDeadLetterIds([...batch.deadLetters.keys()]),
      (line) => line,
    );
    result.done.deadLetters = true;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Pipelined writing: a second batch is looked up and inserted while the first is still being
// written, without giving up exactly-once.

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

// ---------------------------------------------------------------------------------------------
// HTTP ingest: the same validation and storage for users without Kafka.

export interface HttpIngestResult {
  /** Records stored by this call. */
  accepted: number;
  /** Valid records already stored (or repeated within the request): not stored again. */
  duplicates: number;
  /** Invalid records, by position in the request, each stored as an `http:` dead letter. */
  rejected: Array<{ index: number; reason: string }>;
}

/**
 * Validate and store records posted over HTTP (POST /v1/events, /v1/labels). Per-record results;
 * a rejected record is kept as a dead letter with id `http:<sha256 of its payload>`, so posting the
 * same body twice stores nothing twice. `records` are the parsed JSON values of the request body.
 */
export async function ingestHttp(
  repo: IngestRepository,
  records: readonly unknown[],
  kind: RecordKind,
  options: { ref?: string } = {},
): Promise<HttpIngestResult> {
  const batch = new PendingBatch();
  const rejected: HttpIngestResult['rejected'] = [];
  let valid = 0;
  records.forEach((record, index) => {
    const payload = Buffer.from(JSON.stringify(record) ?? 'null');
    const digest = createHash('sha256').update(payload).digest('hex');
    const prepared = prepareRecord(
      {
        source: 'http',
        topic: '',
        partition: -1,
        offset: '-1',
        key: null,
        value: payload,
        deadLetterId: `http:${digest}`,
        ref: options.ref ?? `http:${digest.slice(0, 16)}`,
      },
      kind,
    );
    if (prepared.kind === 'dead') rejected.push({ index, reason: prepared.row.reason });
    else valid++;
    batch.add(prepared);
  });
  const validInBatch = batch.events.size + batch.labels.size;
  const stored = await storeBatch(repo, batch);
  const accepted = stored.insertedEvents + stored.insertedLabels;
  return { accepted, duplicates: valid - validInBatch + (validInBatch - accepted), rejected };
}

// ---------------------------------------------------------------------------------------------
// The worker.

export interface IngestWorkerOptions {
  config: HalflifeConfig;
  /** Storage; default: the configured ClickHouse (opened, migrated and closed by the worker). */
  repository?: IngestRepository;
  /** Kafka client; default: {@link createKafka} with client id `<clientId>-ingest`. */
  kafka?: Kafka;
  logger?: Logger;
  /** A new consumer group starts at the beginning of the topics. @default true */
  fromBeginning?: boolean;
  /** Create the topics if missing. @default true */
  createTopics?: boolean;
  /** How long stop() keeps retrying to store the in-flight batch before giving up (it is then redelivered). @default 60000 */
  drainTimeoutMs?: number;
  /** First back-off after a failed write; doubles up to ingest.maxRetryBackoffMs. @default 200 */
  initialRetryBackoffMs?: number;
  /** Interval of the `ingest progress` log line with the counters; 0 = never. @default 10000 */
  statsIntervalMs?: number;
  /** Consumer session timeout: how long a dead worker keeps its partitions. @default 10000 */
  sessionTimeoutMs?: number;
  /** Test hook: called after a batch is stored and before its offsets are committed. */
  afterStore?: (batch: PendingBatch) => void | Promise<void>;
}

export interface FlushEvent {
  rows: number;
  records: number;
  insertedEvents: number;
  insertedLabels: number;
  deadLetters: number;
  duplicates: number;
  latencyMs: number;
  attempts: number;
  /** Oldest record's age when the batch was stored. */
  ageMs: number;
}

/**
 * Events: `flush` (FlushEvent), `retry` ({ attempt, delayMs, error }), `paused`, `resumed`,
 * `commit-failed` ({ error }).
 */
export class IngestWorker extends EventEmitter {
  readonly metrics: IngestMetrics = emptyMetrics();
  readonly #config: HalflifeConfig;
  readonly #options: IngestWorkerOptions;
  readonly #log: Logger;
  readonly #topics: string[];
  #kind: Map<string, RecordKind>;
  #repo: IngestRepository | undefined;
  #clickhouse: ClickHouse | undefined;
  #consumer: Consumer | undefined;
  #pending = new PendingBatch();
  readonly #writer: OrderedBatchWriter<FlushEvent>;
  #timer: NodeJS.Timeout | undefined;
  #statsTimer: NodeJS.Timeout | undefined;
  #inBatch = 0;
  #inBatchDone: (() => void) | undefined;
  #lastBatchEnd = 0;
  #paused = false;
  #stopping = false;
  #started = false;
  #giveUp = false;
  /** A batch was left unstored at shutdown: later offsets must not be committed past it. */
  #abandoned = false;
  #timings: IngestTimings;

  constructor(options: IngestWorkerOptions) {
    super();
    this.#options = options;
    this.#config = options.config;
    this.#log = options.logger ?? createLogger('ingest', options.config.logLevel);
    const { scoringEventsTopic, labelsTopic } = options.config.kafka;
    this.#topics = [scoringEventsTopic, labelsTopic];
    this.#kind = new Map<string, RecordKind>([
      [scoringEventsTopic, 'events'],
      [labelsTopic, 'labels'],
    ]);
    this.#repo = options.repository;
    this.#timings = this.metrics.time_ms;
    this.#writer = new OrderedBatchWriter<FlushEvent>({
      store: (batch, dropped) => this.#store(batch, dropped),
      commit: (batch, stored) => this.#finish(batch, stored),
    });
  }

  /** Storage in use (after start()). */
  get repository(): IngestRepository | undefined {
    return this.#repo;
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const config = this.#config;
    if (!this.#repo) {
      this.#clickhouse = await openClickHouse(config);
      await applyMigrations(this.#clickhouse.client);
      this.#repo = new ClickHouseIngestRepository(this.#clickhouse.client);
    }
    const kafka =
      this.#options.kafka ?? createKafka(config, { clientId: `${config.kafka.clientId}-ingest`, logger: this.#log });
    if (this.#options.createTopics ?? true) await ensureTopics(config, this.#topics, kafka);
    const consumer = kafka.consumer({
      groupId: config.ingest.groupId,
      // A SIGKILLed member holds its partitions until its session expires: keep that short.
      // eachBatch heart-beats at least every second while it waits, so 10 s is ample.
      sessionTimeout: this.#options.sessionTimeoutMs ?? 10_000,
      rebalanceTimeout: 30_000,
      heartbeatInterval: 1000,
      // Large fetches: ingest is throughput-bound and batches are thousands of records.
      maxBytesPerPartition: 8 * 1024 * 1024,
      maxBytes: 64 * 1024 * 1024,
      maxWaitTimeInMs: Math.min(500, config.ingest.batchMaxWaitMs),
      allowAutoTopicCreation: false,
    });
    this.#consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: this.#topics, fromBeginning: this.#options.fromBeginning ?? true });
    consumer.on(consumer.events.GROUP_JOIN, (e) =>
      this.#log.info({ memberId: e.payload.memberId, assignment: e.payload.memberAssignment }, 'joined consumer group'),
    );
    consumer.on(consumer.events.CRASH, (e) =>
      this.#log.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed'),
    );
    this.#lastBatchEnd = performance.now();
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.#eachBatch(payload),
    });
    const tick = Math.max(20, Math.min(250, Math.floor(config.ingest.batchMaxWaitMs / 4)));
    this.#timer = setInterval(() => this.#maybeFlush(), tick);
    const statsEvery = this.#options.statsIntervalMs ?? 10_000;
    if (statsEvery > 0) {
      this.#statsTimer = setInterval(
        () =>
          this.#log.info(
            {
              ...this.#summary(),
              pending: this.#pending.records,
              writing: this.#writer.size,
              paused: this.#paused,
              inBatch: this.#inBatch,
              lag: this.metrics.lag_total,
            },
            'ingest progress',
          ),
        statsEvery,
      );
      this.#statsTimer.unref();
    }
    this.#log.info(
      {
        topics: this.#topics,
        groupId: config.ingest.groupId,
        batchSize: config.ingest.batchSize,
        batchMaxWaitMs: config.ingest.batchMaxWaitMs,
      },
      'ingest worker started',
    );
  }

  /**
   * Stop (the SIGTERM path): take no new records, store the in-flight and pending batches,
   * commit their offsets, leave the group. If ClickHouse stays down past drainTimeoutMs the
   * batch is left uncommitted — it is redelivered to the next consumer, so nothing is lost.
   */
  async stop(): Promise<void> {
    if (!this.#started || this.#stopping) return;
    this.#stopping = true;
    const t0 = Date.now();
    if (this.#timer) clearInterval(this.#timer);
    if (this.#statsTimer) clearInterval(this.#statsTimer);
    this.#pauseAll();
    if (this.#inBatch > 0) await new Promise<void>((resolve) => (this.#inBatchDone = resolve));
    const drainTimeout = this.#options.drainTimeoutMs ?? 60_000;
    const deadline = setTimeout(() => {
      this.#giveUp = true;
    }, drainTimeout);
    try {
      await this.#writer.idle();
      if (this.#pending.records > 0 && !this.#abandoned) {
        this.#startFlush();
        await this.#writer.idle();
      }
    } finally {
      clearTimeout(deadline);
    }
    await this.#consumer?.disconnect();
    await this.#clickhouse?.close();
    this.#log.info(
      { ms: Date.now() - t0, drained: !this.#abandoned, metrics: this.#summary() },
      'ingest worker stopped',
    );
  }

  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const start = performance.now();
    this.#timings.consume_ms += start - this.#lastBatchEnd;
    this.#inBatch++;
    try {
      if (this.#stopping) return; // not taken, not resolved: redelivered after restart
      const kind = this.#kind.get(batch.topic) ?? 'events'; // only the two subscribed topics arrive
      const { topic, partition } = batch;
      const partitionKey = `${topic}\u0000${partition}`;
      const batchSize = this.#config.ingest.batchSize;
      let taken = 0;
      let last: string | undefined;
      const messages = batch.messages;
      for (let i = 0; i < messages.length; i++) {
        if (this.#stopping || (i % 1000 === 999 && (!isRunning() || isStale()))) break;
        const m = messages[i]!;
        const coordinate = `${topic}:${partition}:${m.offset}`;
        const record: RawRecord = {
          source: 'kafka',
          topic,
          partition,
          offset: m.offset,
          key: m.key,
          value: m.value,
          ref: coordinate,
        };
        const pending = this.#pending;
        if (!pending.add(prepareRecord(record, kind, this.#timings), Date.now(), this.#timings)) {
          this.metrics.duplicates_in_batch_total++;
          this.metrics.duplicates_total++;
        }
        // Recorded with every record, on the batch that holds it, so a flush started at any
        // moment (here or by the timer) commits exactly what it stored.
        pending.noteOffset(partitionKey, topic, partition, m.offset);
        taken++;
        last = m.offset;
        // Let the writer's continuations run (its chDB calls finish on other threads) instead of
        // parsing a whole multi-MB fetch in one go.
        if (i % 2000 === 1999) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          await heartbeat();
        }
        if (pending.records >= batchSize) {
          // Full: hand it to the writer; if the writer is full, wait (heart-beating) — at most
          // one full batch waits behind the ones being written.
          while (this.#writerFull() && !this.#stopping && isRunning()) {
            await Promise.race([this.#writer.anyDone(), sleep(1000)]);
            await heartbeat();
          }
          if (this.#pending === pending && !this.#writerFull()) this.#startFlush();
        }
      }
      this.metrics.consumed_total += taken;
      // Moves kafkajs' fetch position only; the commit happens after the insert. A stale batch
      // (the partition was seeked or reassigned) is not resolved: kafkajs re-fetches from its new position.
      if (last !== undefined && !isStale()) resolveOffset(last);
      const lag = Number(batch.offsetLag());
      const lagKey = `${topic}:${partition}`;
      this.metrics.lag_total += lag - (this.metrics.lag[lagKey] ?? 0);
      this.metrics.lag[lagKey] = lag;
      this.#maybeFlush();
    } finally {
      this.#inBatch--;
      if (this.#inBatch === 0) this.#inBatchDone?.();
      this.#lastBatchEnd = performance.now();
    }
  }

  #maybeFlush(): void {
    if (this.#writerFull() || this.#pending.records === 0 || (this.#stopping && this.#inBatch > 0)) return;
    const full = this.#pending.records >= this.#config.ingest.batchSize;
    const old = Date.now() - this.#pending.firstAt >= this.#config.ingest.batchMaxWaitMs;
    if (full || old) this.#startFlush();
  }

  /**
   * Two batches are written at once: the second's look-up and insert overlap the first's insert.
   * While ClickHouse is failing only one is, so an outage holds at most the batch being retried
   * and one pending batch — plus a second batch if it had been handed over before the failure.
   */
  #writerFull(): boolean {
    return this.#writer.size >= MAX_BATCHES_WRITING || (this.#paused && this.#writer.size > 0);
  }

  #startFlush(): void {
    const batch = this.#pending;
    this.#pending = new PendingBatch();
    this.#writer.submit(batch).then(
      () => {
        if (!this.#stopping) this.#maybeFlush();
      },
      (err: unknown) =>
        this.#log.error(
          { err: brief(err), rows: batch.rows },
          'batch write failed unexpectedly: left uncommitted, it will be redelivered',
        ),
    );
  }

  /** Store one batch, retrying with back-off (consumption paused) until it is stored or shutdown gives up. */
  async #store(batch: PendingBatch, droppedInFlight: number): Promise<FlushEvent | undefined> {
    const repo = this.#repo!;
    const t0 = performance.now();
    const maxBackoff = this.#config.ingest.maxRetryBackoffMs;
    let backoff = this.#options.initialRetryBackoffMs ?? 200;
    let attempts = 0;
    const result = emptyStoreResult();
    for (;;) {
      attempts++;
      try {
        await storeBatch(repo, batch, result);
        break;
      } catch (err) {
        this.metrics.insert_failures_total++;
        if (this.#giveUp) {
          this.#abandoned = true;
          this.#log.error(
            { err: brief(err), rows: batch.rows, attempts },
            'ClickHouse still failing at shutdown: batch left uncommitted, it will be redelivered',
          );
          return undefined;
        }
        if (!this.#paused) this.#pauseAll();
        // Full jitter on the upper half keeps several workers from retrying in lock-step.
        const delayMs = Math.round(backoff / 2 + (Math.random() * backoff) / 2);
        this.#log.warn(
          { err: brief(err), attempt: attempts, delayMs, rows: batch.rows },
          'ClickHouse write failed: consumption paused, retrying',
        );
        this.emit('retry', { attempt: attempts, delayMs, error: err });
        await sleep(delayMs);
        if (this.#giveUp) {
          this.#abandoned = true;
          this.#log.error(
            { rows: batch.rows, attempts },
            'ClickHouse still failing at shutdown: batch left uncommitted, it will be redelivered',
          );
          return undefined;
        }
        backoff = Math.min(maxBackoff, backoff * 2);
      }
    }
    const latencyMs = performance.now() - t0;
    // Rows an earlier batch was still writing count as already stored: by the time this batch
    // is committed, they are.
    const duplicatesStored = result.duplicatesStored + droppedInFlight;
    const m = this.metrics;
    m.flushes_total++;
    m.inserted_events_total += result.insertedEvents;
    m.inserted_labels_total += result.insertedLabels;
    m.dead_letters_total += result.deadLetters;
    m.duplicates_stored_total += duplicatesStored;
    m.duplicates_total += duplicatesStored;
    m.batch_size_last = batch.rows + droppedInFlight;
    m.batch_rows_sum += batch.rows + droppedInFlight;
    m.insert_latency_ms_last = latencyMs;
    m.insert_latency_ms_sum += latencyMs;
    m.time_ms.dedupe_ms += result.dedupeMs;
    m.time_ms.serialize_ms += result.serializeMs;
    m.time_ms.insert_ms += result.insertMs;
    return {
      rows: batch.rows + droppedInFlight,
      records: batch.records,
      insertedEvents: result.insertedEvents,
      insertedLabels: result.insertedLabels,
      deadLetters: result.deadLetters,
      duplicates: batch.duplicates + duplicatesStored,
      latencyMs,
      attempts,
      ageMs: 0,
    };
  }

  /** A stored batch, its turn come: commit its offsets, resume consumption, report it. */
  async #finish(batch: PendingBatch, stored: FlushEvent): Promise<void> {
    if (this.#options.afterStore) await this.#options.afterStore(batch);
    await this.#commit(batch);
    if (this.#paused && !this.#stopping) this.#resumeAll();
    const event: FlushEvent = { ...stored, ageMs: Date.now() - batch.firstAt };
    this.#log.debug(event, 'batch stored');
    this.emit('flush', event);
  }

  async #commit(batch: PendingBatch): Promise<void> {
    const offsets = batch.commitOffsets();
    if (offsets.length === 0 || !this.#consumer || this.#abandoned) return;
    const t0 = performance.now();
    try {
      await this.#consumer.commitOffsets(offsets);
    } catch (err) {
      // The rows are stored; an uncommitted offset only means a redelivery, which de-dupe absorbs
      // (typical cause: a rebalance moved the partition while the batch was being written).
      this.metrics.commit_failures_total++;
      this.#log.warn(
        { err: (err as Error).message, offsets },
        'offset commit failed: records will be redelivered and de-duplicated',
      );
      this.emit('commit-failed', { error: err });
    } finally {
      this.metrics.time_ms.commit_ms += performance.now() - t0;
    }
  }

  #pauseAll(): void {
    if (this.#paused || !this.#consumer) return;
    try {
      this.#consumer.pause(this.#topics.map((topic) => ({ topic })));
      this.#paused = true;
      // The metric (and event) report pauses caused by ClickHouse failing, not by shutdown.
      if (!this.#stopping) {
        this.metrics.paused = 1;
        this.emit('paused');
      }
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'could not pause consumption');
    }
  }

  #resumeAll(): void {
    if (!this.#paused || !this.#consumer) return;
    this.#consumer.resume(this.#topics.map((topic) => ({ topic })));
    this.#paused = false;
    this.metrics.paused = 0;
    this.#log.info({}, 'ClickHouse writes succeed again: consumption resumed');
    this.emit('resumed');
  }

  #summary(): Record<string, number> {
    const m = this.metrics;
    return {
      consumed: m.consumed_total,
      events: m.inserted_events_total,
      labels: m.inserted_labels_total,
      deadLetters: m.dead_letters_total,
      duplicates: m.duplicates_total,
      flushes: m.flushes_total,
    };
  }
}

/** An error's message, cut short: ClickHouse quotes the failed query, ids and all. */
function brief(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.length > 300 ? `${message.slice(0, 300)}… (${message.length} chars)` : message;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
