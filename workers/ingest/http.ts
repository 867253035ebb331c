/**
 * HTTP ingest (workers/routes/ingest.ts): the Kafka path's validation, then the records stored
 * (`ack=stored`) or produced to the Kafka path's topics (`ack=logged`, http-acknowledge.ts).
 */
import { createHash } from 'node:crypto';
import type { IngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { PendingBatch } from './pending-batch.ts';
import { findNonFinite } from '../../platform/contracts.ts';
import { deadLetter, prepareRecord, type RawRecord, type RecordKind, type TimestampWindow } from './prepare-record.ts';
import { StoreGroups } from './store-group.ts';
import type { HttpIngestStage } from './http-stages.ts';
import { VectorDeclarations } from './vector-declarations.ts';
import { ModelKindDeclarations } from './model-kind-declarations.ts';
import type { HttpIngestLog, LogMessage } from './http-log.ts';

export interface HttpIngestResult {
  /** Records stored by this call. */
  accepted: number;
  /** Valid records already stored (or repeated within the request): not stored again. */
  duplicates: number;
  /** Invalid records, by position in the request, each stored as an `http:` dead letter. */
  rejected: Array<{ index: number; reason: string }>;
}

/** What the validation of a request's records came to. */
interface ValidatedRequest {
  /** Rows and dead letters, encoded (`logged`: the dead letters only). */
  batch: PendingBatch;
  rejected: HttpIngestResult['rejected'];
  /** Positions of the valid records in the request. */
  valid: number[];
}

interface HttpIngestOptions {
  ref?: string;
  timestamps?: TimestampWindow;
  /** Told how long each stage of the request took (ms), as the stage ends (http-stages.ts). */
  observe?: (stage: HttpIngestStage, ms: number) => void;
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
  options: HttpIngestOptions = {},
): Promise<HttpIngestResult> {
  const observe = options.observe ?? (() => undefined);
  const { batch, rejected, valid } = await validateHttp(repo, records, kind, options, true);
  const validInBatch = batch.events.size + batch.labels.size;
  const stored = await StoreGroups.of(repo).store(batch);
  observe('queue', stored.queueMs);
  observe('lookup', stored.lookupMs);
  observe('insert', stored.insertMs);
  const accepted = stored.insertedEvents + stored.insertedLabels;
  return { accepted, duplicates: valid.length - validInBatch + (validInBatch - accepted), rejected };
}

export interface HttpLogResult {
  /** Valid records the broker acknowledged (from all in-sync replicas); they land once, duplicates dropped then. */
  logged: number;
  /**
   * Invalid records, and valid ones too large for the log (`kafka.maxMessageBytes`), by position
   * in the request, each stored as an `http:` dead letter.
   */
  rejected: Array<{ index: number; reason: string }>;
}

/**
 * Validate records posted over HTTP exactly as {@link ingestHttp} does and produce the valid ones
 * to the topics Kafka ingest consumes (`?ack=logged`), each signed with its source (`ref`):
 * resolved once the broker acknowledged them, not once they are stored. Rejected records are
 * stored as dead letters meanwhile, as in {@link ingestHttp} (they never reach the log: ingest
 * would give them another id per copy); so is a valid record whose message the broker would
 * refuse for its size, which would otherwise fail the whole request.
 */
export async function logHttp(
  repo: IngestRepository,
  log: HttpIngestLog,
  records: readonly unknown[],
  kind: RecordKind,
  options: HttpIngestOptions = {},
): Promise<HttpLogResult> {
  const observe = options.observe ?? (() => undefined);
  const { batch, rejected, valid } = await validateHttp(repo, records, kind, options, false);
  const t0 = performance.now();
  const messages: LogMessage[] = [];
  const tooLarge: HttpLogResult['rejected'] = [];
  for (const index of valid) {
    const record = records[index] as object;
    const message = log.message(kind, record, options.ref ?? digestSource(record));
    if (message.bytes <= log.maxMessageBytes) {
      messages.push(message);
      continue;
    }
    // Kept as any rejected record is: under the id of its payload's digest, so a re-POST stores it once.
    const payload = Buffer.from(message.value);
    const digest = createHash('sha256').update(payload).digest('hex');
    const raw = httpRecord(record, { payload, digest }, options.ref ?? `http:${digest.slice(0, 16)}`);
    const modelId = kind === 'events' ? String((record as { model_id: unknown }).model_id) : '';
    const refused = deadLetter(raw, tooLargeReason(message.bytes, log.maxMessageBytes), '', modelId);
    batch.add(refused);
    tooLarge.push({ index, reason: refused.row.reason });
  }
  await Promise.all([
    log.append(kind, messages).then(() => observe('log', performance.now() - t0)),
    batch.rows > 0 ? StoreGroups.of(repo).store(batch) : undefined,
  ]);
  const all = tooLarge.length === 0 ? rejected : [...rejected, ...tooLarge].sort((a, b) => a.index - b.index);
  return { logged: messages.length, rejected: all };
}

function tooLargeReason(bytes: number, limit: number): string {
  return `record too large for Kafka: its message is ${bytes} bytes, over the ${limit}-byte limit (kafka.maxMessageBytes, the broker's message.max.bytes); post it with ack=stored, or raise both`;
}

/** The source of a record posted without a named one: its payload's digest, as {@link ingestHttp} stores it. */
function digestSource(record: object): string {
  return `http:${createHash('sha256').update(JSON.stringify(record)).digest('hex').slice(0, 16)}`;
}

/** The contract checks of every record; `keepValid`: the valid rows are encoded into the batch too. */
async function validateHttp(
  repo: IngestRepository,
  records: readonly unknown[],
  kind: RecordKind,
  options: HttpIngestOptions,
  keepValid: boolean,
): Promise<ValidatedRequest> {
  const observe = options.observe ?? (() => undefined);
  const batch = new PendingBatch();
  const rejected: HttpIngestResult['rejected'] = [];
  const valid: number[] = [];
  const now = Date.now();
  const declarations = kind === 'events' ? VectorDeclarations.of(repo) : null;
  // Kinds check events and the labels that name their model.
  const kinds = ModelKindDeclarations.of(repo);
  const t0 = performance.now();
  // ack=logged does not wait for a re-read of an old copy: landing checks each record again.
  const fresh = { wait: keepValid };
  await Promise.all([declarations?.fresh(now, fresh), kinds?.fresh(now, fresh)]);
  const t1 = performance.now();
  observe('declarations', t1 - t0);
  const encoding = { serialize_ms: 0 };
  const prepareOptions = {
    timestamps: options.timestamps,
    now,
    ...(declarations ? { vectors: declarations.lookup } : {}),
    ...(kinds ? { kinds: kinds.lookup } : {}),
  };
  records.forEach((record, index) => {
    // The payload text and its digest serve a rejected record's dead letter (and the provenance
    // of callers that name none): a valid record with a named `ref` is validated without them
    // (~5 µs a record of stringify and sha256 saved), a rejected one prepared again with them.
    const eager = options.ref === undefined;
    let prepared = eager ? undefined : prepareRecord(httpRecord(record, null, options.ref!), kind, prepareOptions);
    if (prepared === undefined || prepared.kind === 'dead') {
      // The record as posted is validated as parsed (an overflowed 1e309 is Infinity here); the
      // payload kept for a dead letter writes such numbers as text, so it does not read as null.
      const payload = Buffer.from(
        (findNonFinite(record)
          ? JSON.stringify(record, (_k, v: unknown) => nonFiniteAsText(v))
          : JSON.stringify(record)) ?? 'null',
      );
      const digest = createHash('sha256').update(payload).digest('hex');
      prepared = prepareRecord(
        httpRecord(record, { payload, digest }, options.ref ?? `http:${digest.slice(0, 16)}`),
        kind,
        prepareOptions,
      );
    }
    if (prepared.kind === 'dead') rejected.push({ index, reason: prepared.row.reason });
    else valid.push(index);
    if (keepValid || prepared.kind === 'dead') batch.add(prepared, now, encoding);
  });
  observe('validate', performance.now() - t1 - encoding.serialize_ms);
  if (keepValid) observe('encode', encoding.serialize_ms);
  return { batch, rejected, valid };
}

/** A posted record as ingest's raw record; `kept` (payload and its sha256) only when it may be dead-lettered. */
function httpRecord(record: unknown, kept: { payload: Buffer; digest: string } | null, ref: string): RawRecord {
  return {
    source: 'http',
    topic: '',
    partition: -1,
    offset: '-1',
    key: null,
    value: kept?.payload ?? null,
    ...(kept ? { deadLetterId: `http:${kept.digest}` } : {}),
    ref,
    parsed: { value: record },
  };
}

function nonFiniteAsText(value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}
