/**
 * Turning one raw record (a Kafka message or a posted JSON value) into a row for its table or a
 * dead letter: UTF-8 and JSON checks, unpaired surrogates (ClickHouse rejects them), the
 * contract (platform/contracts.ts), and the dead letter's shape — payload kept, capped, and the
 * reason naming the failing field.
 */
import { isUtf8 } from 'node:buffer';
import {
  CONTRACT_VERSION,
  parseJsonRecord,
  validateLabel,
  validateScoringEvent,
  type LabelRow,
  type ScoringEventRow,
  type Validated,
} from '../../platform/contracts.ts';
import type { DeadLetterRow } from '../../platform/clickhouse/ingest-repository.ts';

/** Largest payload kept in a dead letter; longer ones are cut and the reason says so. */
export const MAX_DEAD_LETTER_PAYLOAD_BYTES = 1024 * 1024;

export type RecordKind = 'events' | 'labels';

/** One consumed or posted record, decided: a row for its table, or a dead letter. */
export type Prepared =
  { kind: 'event'; row: ScoringEventRow } | { kind: 'label'; row: LabelRow } | { kind: 'dead'; row: DeadLetterRow };

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
