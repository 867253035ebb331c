/**
 * Turning one raw record (a Kafka message or a posted JSON value) into a row for its table or a
 * dead letter: UTF-8 and JSON checks, unpaired surrogates (ClickHouse rejects them), the
 * contract (platform/contracts.ts), the plausibility window of timestamps, and the dead letter's
 * shape — payload kept, capped, and the reason naming the failing field.
 */
import { isUtf8 } from 'node:buffer';
import {
  parseJsonRecord,
  validateLabel,
  validateScoringEvent,
  type LabelRow,
  type ScoringEventRow,
  type Validated,
} from '../../platform/contracts.ts';
import type { DeadLetterRow } from '../../platform/clickhouse/ingest-repository.ts';
import { SETTINGS, type HalflifeConfig } from '../../platform/config.ts';
import { vectorDeclarationIssue, type VectorDeclarationLookup } from '../../platform/vector-features.ts';
import { labelKindIssue, predictionKindIssue, type ModelKindLookup } from '../../platform/prediction-kind.ts';

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

/** Timestamps outside [min, now + maxAheadMs] are implausible (a unit mistake, a zeroed or garbage clock). */
export interface TimestampWindow {
  /** Earliest plausible timestamp (epoch ms). */
  min: number;
  /** How far ahead of this machine's clock a timestamp may be (ms). */
  maxAheadMs: number;
}

/** The window `ingest.timestampMin` and `ingest.timestampMaxAheadMs` configure. */
export function timestampWindowOf(config: Pick<HalflifeConfig, 'ingest'>): TimestampWindow {
  return { min: Date.parse(config.ingest.timestampMin), maxAheadMs: config.ingest.timestampMaxAheadMs };
}

/** The configuration's defaults. */
export const DEFAULT_TIMESTAMP_WINDOW: TimestampWindow = {
  min: Date.parse(SETTINGS.ingest.timestampMin.default),
  maxAheadMs: SETTINGS.ingest.timestampMaxAheadMs.default,
};

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
  /** Provenance kept on stored rows: `topic:partition:offset`, or a POST's `http:<token name>`. */
  ref: string;
  /**
   * The record already parsed (HTTP: the body was JSON-parsed whole); `value` is then only the
   * payload kept if it is rejected. Parsing it again from `value` would lose what JSON text cannot
   * carry (an overflowed `1e309` is Infinity in memory and `null` once stringified).
   */
  parsed?: { value: unknown };
}

export interface PrepareTimer {
  parse_ms: number;
  validate_ms: number;
}

/**
 * A record's dead letter (also of a valid record refused for its size, http.ts). Module-level
 * rather than a closure in prepareRecord: the closure was allocated (and, under tsx, named through
 * a defineProperty call) for every record, valid or not.
 */
export function deadLetter(
  record: RawRecord,
  reason: string,
  errorPath: string,
  modelId = '',
): Extract<Prepared, { kind: 'dead' }> {
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

export interface PrepareOptions {
  /** Adds parse and validation time. */
  timer?: PrepareTimer;
  /** Plausible timestamps. @default DEFAULT_TIMESTAMP_WINDOW */
  timestamps?: TimestampWindow;
  /** This machine's clock (ms), read once per batch by callers that prepare many. @default Date.now() */
  now?: number;
  /**
   * Each model's declared vector features: an event's vectors must match them (length, declared
   * at all) and a declared vector may not arrive as a scalar. @default unchecked (the contract's shape only)
   */
  vectors?: VectorDeclarationLookup;
  /**
   * Each model's declared kind: a multiclass event's probabilities and class must name the
   * model's classes, a regression event must carry its predicted number; a label that names its
   * model (`model_id`) must be one of a multiclass model's classes or a regression model's
   * number. @default unchecked
   */
  kinds?: ModelKindLookup;
}

/**
 * Parse and validate one record. Never throws: whatever the bytes, the answer is a row or a
 * dead letter whose reason names the failing field.
 */
export function prepareRecord(record: RawRecord, kind: RecordKind, options: PrepareOptions = {}): Prepared {
  const { timer } = options;
  const t0 = timer ? performance.now() : 0;
  const raw = record.value;
  let value: unknown;
  let text: string | undefined;
  if (record.parsed) {
    value = record.parsed.value;
  } else {
    if (raw === null) return deadLetter(record, 'empty message (tombstone): expected a JSON object', '');
    if (!isUtf8(raw)) return deadLetter(record, 'not valid UTF-8: expected a UTF-8 JSON object', '');
    text = raw.toString('utf8');
    const parsed = parseJsonRecord(text);
    if (!parsed.ok) return deadLetter(record, parsed.reason, parsed.issues[0]?.path ?? '');
    value = parsed.value;
  }
  const t1 = timer ? performance.now() : 0;
  if (timer) timer.parse_ms += t1 - t0;
  const modelId = kind === 'events' ? extractModelId(value) : '';
  if (text === undefined || SURROGATE_ESCAPE.test(text)) {
    const at = findLoneSurrogate(value);
    if (at !== undefined)
      return deadLetter(record, `${at}: contains an unpaired UTF-16 surrogate (invalid Unicode text)`, at, modelId);
  }
  const from = { source: record.source, ref: record.ref };
  let prepared: Prepared;
  if (kind === 'events') {
    const v: Validated<ScoringEventRow> = validateScoringEvent(value, from);
    const issue = !v.ok
      ? undefined
      : ((options.vectors ? vectorDeclarationIssue(v.value, options.vectors(v.value.model_id)) : undefined) ??
        (options.kinds ? predictionKindIssue(v.value, options.kinds(v.value.model_id)) : undefined));
    prepared = issue
      ? deadLetter(record, `${issue.path}: ${issue.message}`, issue.path, modelId)
      : v.ok
        ? { kind: 'event', row: v.value }
        : deadLetter(record, v.reason, v.issues.map((i) => i.path).join(','), modelId);
  } else {
    const v: Validated<LabelRow> = validateLabel(value, from);
    // A label naming its model is checked against the model's kind (the contract has checked model_id).
    const labelModel = v.ok && options.kinds ? extractModelId(value) : '';
    const issue =
      labelModel !== ''
        ? labelKindIssue(labelModel, (value as { label: unknown }).label, options.kinds!(labelModel))
        : undefined;
    // A label's dead letter is not the model's: the model's dead-letter rate counts its rejected events.
    prepared = issue
      ? deadLetter(record, `${issue.path}: ${issue.message}`, issue.path)
      : v.ok
        ? { kind: 'label', row: v.value }
        : deadLetter(record, v.reason, v.issues.map((i) => i.path).join(','));
  }
  if (prepared.kind !== 'dead') {
    const ts = prepared.kind === 'event' ? prepared.row.ts : prepared.row.label_ts;
    const window = options.timestamps ?? DEFAULT_TIMESTAMP_WINDOW;
    const latest = (options.now ?? Date.now()) + window.maxAheadMs;
    if (ts < window.min || ts > latest)
      prepared = deadLetter(record, implausibleTimestamp(ts, window, latest), 'timestamp', modelId);
  }
  if (timer) timer.validate_ms += performance.now() - t1;
  return prepared;
}

function implausibleTimestamp(ts: number, window: TimestampWindow, latest: number): string {
  const when = new Date(ts).toISOString();
  return ts < window.min
    ? `timestamp: ${when} is before ${new Date(window.min).toISOString()}, the earliest plausible time (ingest.timestampMin; epoch milliseconds, not seconds?)`
    : `timestamp: ${when} is more than ${Math.round(window.maxAheadMs / 60_000)} min ahead of this machine's clock, after ${new Date(latest).toISOString()} (ingest.timestampMaxAheadMs)`;
}
