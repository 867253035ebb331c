import type { ClickHouseClient } from '@clickhouse/client';
import type { LabelRow, ScoringEventRow } from '../contracts.ts';
import { vectorDeclarations } from './vector-features-repository.ts';
import { modelKinds, type ModelKindDeclaration } from './model-kind-repository.ts';
import { queryRows } from './client.ts';
import { withQueryPriority } from './query-scheduler.ts';
import { chdbRawInsert, insertCompactRows } from './raw-insert.ts';
import { labelTimeClusters } from './label-time-clusters.ts';
import { withStagedKeys } from './staged-keys.ts';
import type { ClickHouse } from './client.ts';
import { insertBinary } from './binary-insert.ts';
import { eventKey, labelKey } from './ingest-keys.ts';

// The identities live apart from the engine's client, so the landing thread can key rows without loading it.
export { eventKey, eventMinute, labelKey } from './ingest-keys.ts';

/**
 * The ClickHouse side of ingest: inserts into scoring_events / labels / dead_letters and the
 * look-ups ingest uses to drop rows that are already stored (its exactly-once guarantee, see
 * workers/ingest/kafka-worker.ts). Every value goes through query parameters or, for the embedded
 * engine's look-ups, through inserted rows (staged-keys.ts); identifiers are constants.
 */

/** A record that failed parsing or validation, kept whole with where it came from and why. */
export interface DeadLetterRow {
  /** `kafka:<topic>:<partition>:<offset>` or `http:<sha256 of payload>`: a redelivery maps to the same id. */
  dead_letter_id: string;
  source: 'kafka' | 'http';
  topic: string;
  partition: number;
  offset: number;
  record_key: string;
  payload: string;
  reason: string;
  error_path: string;
  model_id: string;
}

/** Time spent on one insert: turning rows into the wire format, then the engine's write. */
export interface InsertTiming {
  rows: number;
  serializeMs: number;
  insertMs: number;
}

/** The tables ingest writes. */
export type IngestTable = 'scoring_events' | 'labels' | 'dead_letters';

/**
 * Rows of one table in RowBinary (ingest-row-binary.ts writes them, in `encodedColumns(table)`
 * order): what ingest's batches hold and insert.
 */
export interface EncodedRows {
  /** How many rows `body` holds. */
  count: number;
  body: Buffer;
}

export interface IngestRepository {
  /**
   * Insert rows encoded as text for `table` ({@link encodeScoringEvent}, {@link encodeLabel},
   * {@link encodeDeadLetter}: one JSONCompactEachRow line each): for writers outside ingest's
   * batches (serving reports' dead letters, tests). The engine parses the text.
   */
  insertEncoded(table: IngestTable, lines: readonly string[]): Promise<InsertTiming>;
  /**
   * Insert rows already encoded in RowBinary ({@link EncodedRows}): ingest's path. The engine
   * copies binary values instead of parsing text, about half its CPU per event.
   */
  insertRows(table: IngestTable, rows: EncodedRows): Promise<InsertTiming>;
  /** Keys ({@link eventKey}) of the given events that are already stored. */
  existingEventIds(events: readonly StoredEventIdentity[]): Promise<Set<string>>;
  /** Keys ({@link labelKey}) of these labels that are already stored (same event id and label time). */
  existingLabelIds(labels: readonly LabelIdentity[]): Promise<Set<string>>;
  existingDeadLetterIds(ids: readonly string[]): Promise<Set<string>>;
  /** Every model's declared vector features (model → feature → dimension); absent: vectors are not checked against declarations. */
  vectorDeclarations?(): Promise<Map<string, Map<string, number>>>;
  /** Every declared model's kind; absent: events are not checked against their model's kind. */
  modelKinds?(): Promise<Map<string, ModelKindDeclaration>>;
  countEvents(options?: CountOptions): Promise<number>;
  countLabels(options?: CountOptions): Promise<number>;
  countDeadLetters(options?: CountOptions): Promise<number>;
}

export interface CountOptions {
  /** Count after ReplacingMergeTree collapsing (FINAL). @default true */
  final?: boolean;
  /** Only this model's rows (events and dead letters). */
  modelId?: string;
}

/** What identifies a scoring event in storage: its model, its id and its timestamp's minute. */
export interface StoredEventIdentity {
  modelId: string;
  eventId: string;
  /** The event's timestamp, ms since the epoch (UTC). */
  ts: number;
}

/** What identifies a label ({@link labelKey}): its event and its time (ms since epoch). */
export interface LabelIdentity {
  eventId: string;
  labelTs: number;
}

const EVENT_COLUMNS = [
  'event_id',
  'model_id',
  'model_version',
  'ts',
  'subject_id',
  'num_features',
  'cat_features',
  'missing_features',
  'prediction_score',
  'prediction_class',
  'prediction_value',
  'metadata',
  'contract_version',
  'source',
  'source_ref',
  'vec_features',
  'prediction_probabilities',
] as const;
const LABEL_COLUMNS = [
  'event_id',
  'label',
  'label_numeric',
  'label_ts',
  'contract_version',
  'source',
  'source_ref',
] as const;
const DEAD_LETTER_COLUMNS = [
  'dead_letter_id',
  'source',
  'topic',
  'partition',
  'offset',
  'record_key',
  'payload',
  'reason',
  'error_path',
  'model_id',
] as const;

const COLUMNS: Record<IngestTable, readonly string[]> = {
  scoring_events: EVENT_COLUMNS,
  labels: LABEL_COLUMNS,
  dead_letters: DEAD_LETTER_COLUMNS,
};

/** Positional rows (JSONCompactEachRow): no key repeated per row, ~30% less to write and parse. */
export function encodeScoringEvent(r: ScoringEventRow): string {
  return JSON.stringify([
    r.event_id,
    r.model_id,
    r.model_version,
    r.ts,
    r.subject_id,
    r.num_features,
    r.cat_features,
    r.missing_features,
    r.prediction_score,
    r.prediction_class,
    r.prediction_value,
    r.metadata,
    r.contract_version,
    r.source,
    r.source_ref,
    r.vec_features ?? {},
    r.prediction_probabilities ?? {},
  ]);
}
export function encodeLabel(r: LabelRow): string {
  return JSON.stringify([r.event_id, r.label, r.label_numeric, r.label_ts, r.contract_version, r.source, r.source_ref]);
}
export function encodeDeadLetter(r: DeadLetterRow): string {
  return JSON.stringify([
    r.dead_letter_id,
    r.source,
    r.topic,
    r.partition,
    r.offset,
    r.record_key,
    r.payload,
    r.reason,
    r.error_path,
    r.model_id,
  ]);
}

/** Column names of an encoded row of `table`, in line order (for readers of encoded rows, e.g. tests). */
export function encodedColumns(table: IngestTable): readonly string[] {
  return COLUMNS[table];
}

/**
 * Settings of every ingest insert. `optimize_on_insert = 0`: ReplacingMergeTree would otherwise
 * collapse duplicate keys inside each inserted block, but ingest never inserts two rows with one
 * identity (a batch is de-duplicated by key before it is written), so that pass finds nothing;
 * skipping it took ~15% off chDB's insert CPU (20k events: ~395 -> ~340 ms, interleaved runs).
 * Merges and FINAL still collapse duplicates across parts, as before.
 */
const INSERT_SETTINGS = { optimize_on_insert: 0 } as const;

/** Id look-ups go in chunks so one query's parameter stays a few MB at most. */
const LOOKUP_CHUNK = 50_000;

/**
 * The ids of a look-up, as one String parameter expanded server-side. `IN {ids:Array(String)}`
 * hits a cliff here: with 50k ids against a 50k-row table it took 43 s (the literal set goes
 * through primary-key analysis), against 0.2 s for this subquery form — measured on chDB 26.7.
 * JSON, not a delimiter, because an id may contain any character.
 */
const IDS_SUBQUERY = "(SELECT arrayJoin(JSONExtract({ids:String}, 'Array(String)')))";

/**
 * The (model, timestamp) pairs of a look-up, matched by the `events_by_time` projection of
 * `scoring_events` (ordered by (ts, model_id), migration 74): it reads the granules of the batch's
 * own instants, however much history is stored, and one old event in a batch adds its own instant,
 * not a range up to now. Timestamps as epoch ms (Int64: any date).
 */
const INSTANTS_SUBQUERY = `(SELECT tupleElement(p, 1), fromUnixTimestamp64Milli(tupleElement(p, 2), 'UTC')
  FROM (SELECT arrayJoin(JSONExtract({instants:String}, 'Array(Tuple(String, Int64))')) AS p))`;

/** How the repository's id look-ups hand their ids to the engine. */
export type LookupTransport = 'parameters' | 'staged';

export interface IngestRepositoryOptions {
  /**
   * `parameters`: the ids as one query parameter (any ClickHouse; in embedded chDB the look-up
   * waits its turn in the one-query lane). `staged`: the ids inserted into a scratch table and
   * read back by a query without parameters (staged-keys.ts) — embedded chDB on its own
   * connection, beside the monitor reads; one process per scratch table, so not for a server
   * shared by several ingest processes. {@link ClickHouseIngestRepository.forIngest} picks.
   * @default 'parameters'
   */
  lookups?: LookupTransport;
}

export class ClickHouseIngestRepository implements IngestRepository {
  readonly #client: ClickHouseClient;
  readonly #raw: ReturnType<typeof chdbRawInsert>;
  readonly #lookups: LookupTransport;

  constructor(client: ClickHouseClient, options: IngestRepositoryOptions = {}) {
    this.#client = client;
    this.#raw = chdbRawInsert(client);
    this.#lookups = options.lookups ?? 'parameters';
  }

  /**
   * The repository ingest writes through: on the embedded engine its own connection with staged
   * look-ups, so neither its inserts nor its look-ups queue behind monitor reads; on a server
   * the shared client with parameters.
   */
  static forIngest(clickhouse: Pick<ClickHouse, 'kind' | 'client' | 'ingestClient'>): ClickHouseIngestRepository {
    return clickhouse.kind === 'embedded'
      ? new ClickHouseIngestRepository(clickhouse.ingestClient, { lookups: 'staged' })
      : new ClickHouseIngestRepository(clickhouse.client);
  }

  insertScoringEvents(rows: readonly ScoringEventRow[]): Promise<InsertTiming> {
    return this.insertEncoded('scoring_events', rows.map(encodeScoringEvent));
  }

  insertLabels(rows: readonly LabelRow[]): Promise<InsertTiming> {
    return this.insertEncoded('labels', rows.map(encodeLabel));
  }

  insertDeadLetters(rows: readonly DeadLetterRow[]): Promise<InsertTiming> {
    return this.insertEncoded('dead_letters', rows.map(encodeDeadLetter));
  }

  existingEventIds(events: readonly StoredEventIdentity[]): Promise<Set<string>> {
    // On the write path: ahead of monitor reads in the embedded engine's one-query lane.
    if (this.#lookups === 'staged') return this.#stagedEventIds(events);
    return withQueryPriority('ingest', async () => {
      const found = new Set<string>();
      for (let i = 0; i < events.length; i += LOOKUP_CHUNK) {
        const chunk = events.slice(i, i + LOOKUP_CHUNK);
        const instants = new Map<string, [string, number]>();
        for (const e of chunk) instants.set(`${e.modelId}\u0000${e.ts}`, [e.modelId, e.ts]);
        // A re-send carries its event's timestamp (the contract), so it is found at that instant.
        const rows = await queryRows<{ model_id: string; event_id: string; ms: string | number }>(
          this.#client,
          `SELECT model_id, event_id, toUnixTimestamp64Milli(ts) AS ms FROM scoring_events
           WHERE (model_id, ts) IN ${INSTANTS_SUBQUERY} AND event_id IN ${IDS_SUBQUERY}`,
          {
            instants: JSON.stringify([...instants.values()]),
            ids: JSON.stringify([...new Set(chunk.map((e) => e.eventId))]),
          },
        );
        for (const r of rows) found.add(eventKey(r.model_id, r.event_id, Number(r.ms)));
      }
      return found;
    });
  }

  /**
   * A stored label with the same key has the same label_ts, so only labels stored with a time in
   * the batch's range can match: the engine reads them through the labels' arrival projection
   * (migration 70), or by event id when that selects fewer granules (a range spread over a long
   * time). By event id alone, a batch's random ids each touched their own granule of every part:
   * most of the table, more with every label stored (BENCHMARKS.md "Label reads bounded"). So a
   * batch whose label times lie far apart is looked up cluster by cluster (label-time-clusters.ts),
   * each range narrow.
   */
  existingLabelIds(labels: readonly LabelIdentity[]): Promise<Set<string>> {
    // On the write path: ahead of monitor reads in the embedded engine's one-query lane.
    if (this.#lookups === 'staged') return this.#stagedLabelIds(labels);
    return withQueryPriority('ingest', async () => {
      const found = new Set<string>();
      // Each cluster in time order, so each chunk's range is as narrow as the batch allows.
      const chunks = labelTimeClusters(labels).flatMap((cluster) =>
        Array.from({ length: Math.ceil(cluster.length / LOOKUP_CHUNK) }, (_, k) =>
          cluster.slice(k * LOOKUP_CHUNK, (k + 1) * LOOKUP_CHUNK),
        ),
      );
      for (const chunk of chunks) {
        let from = Infinity;
        let to = -Infinity;
        for (const l of chunk) {
          if (l.labelTs < from) from = l.labelTs;
          if (l.labelTs > to) to = l.labelTs;
        }
        const rows = await queryRows<{ event_id: string; ts: string | number }>(
          this.#client,
          `SELECT event_id, toUnixTimestamp64Milli(label_ts) AS ts FROM labels
           WHERE label_ts >= fromUnixTimestamp64Milli({from:Int64}) AND label_ts <= fromUnixTimestamp64Milli({to:Int64})
             AND event_id IN ${IDS_SUBQUERY}`,
          { from, to, ids: JSON.stringify([...new Set(chunk.map((l) => l.eventId))]) },
        );
        for (const r of rows) found.add(labelKey(r.event_id, Number(r.ts)));
      }
      return found;
    });
  }

  vectorDeclarations(): Promise<Map<string, Map<string, number>>> {
    return withQueryPriority('ingest', () => vectorDeclarations(this.#client));
  }

  modelKinds(): Promise<Map<string, ModelKindDeclaration>> {
    return withQueryPriority('ingest', () => modelKinds(this.#client));
  }

  existingDeadLetterIds(ids: readonly string[]): Promise<Set<string>> {
    if (this.#lookups === 'staged') return this.#stagedDeadLetterIds(ids);
    // On the write path: ahead of monitor reads in the embedded engine's one-query lane.
    return withQueryPriority('ingest', async () => {
      const found = new Set<string>();
      for (let i = 0; i < ids.length; i += LOOKUP_CHUNK) {
        const rows = await queryRows<{ dead_letter_id: string }>(
          this.#client,
          `SELECT dead_letter_id FROM dead_letters WHERE dead_letter_id IN ${IDS_SUBQUERY}`,
          { ids: JSON.stringify(ids.slice(i, i + LOOKUP_CHUNK)) },
        );
        for (const r of rows) found.add(r.dead_letter_id);
      }
      return found;
    });
  }

  // Staged look-ups: the same questions as above, the keys read from a scratch table.

  async #stagedEventIds(events: readonly StoredEventIdentity[]): Promise<Set<string>> {
    const found = new Set<string>();
    if (events.length === 0) return found;
    const keys = events.map((e) => [e.modelId, e.eventId, e.ts] as const);
    // (model_id, ts) IN … is read from the events_by_time projection: the batch's own instants.
    const rows = await withStagedKeys(this.#client, 'events', keys, (table) =>
      queryRows<{ model_id: string; event_id: string; ms: string | number }>(
        this.#client,
        `SELECT model_id, event_id, toUnixTimestamp64Milli(ts) AS ms FROM scoring_events
         WHERE (model_id, ts) IN (SELECT model_id, fromUnixTimestamp64Milli(ts_ms, 'UTC') FROM ${table})
           AND event_id IN (SELECT event_id FROM ${table})`,
      ),
    );
    for (const r of rows) found.add(eventKey(r.model_id, r.event_id, Number(r.ms)));
    return found;
  }

  async #stagedLabelIds(labels: readonly LabelIdentity[]): Promise<Set<string>> {
    const found = new Set<string>();
    // Bounded by each time cluster's label times, as the parameterised look-up (existingLabelIds).
    for (const cluster of labelTimeClusters(labels)) {
      const keys = cluster.map((l) => [l.eventId, l.labelTs] as const);
      const rows = await withStagedKeys(this.#client, 'labels', keys, (table) =>
        queryRows<{ event_id: string; ts: string | number }>(
          this.#client,
          `SELECT event_id, toUnixTimestamp64Milli(label_ts) AS ts FROM labels
           WHERE label_ts >= fromUnixTimestamp64Milli((SELECT min(label_ts_ms) FROM ${table}))
             AND label_ts <= fromUnixTimestamp64Milli((SELECT max(label_ts_ms) FROM ${table}))
             AND event_id IN (SELECT event_id FROM ${table})`,
        ),
      );
      for (const r of rows) found.add(labelKey(r.event_id, Number(r.ts)));
    }
    return found;
  }

  async #stagedDeadLetterIds(ids: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    if (ids.length === 0) return found;
    const rows = await withStagedKeys(
      this.#client,
      'deadLetters',
      ids.map((id) => [id] as const),
      (table) =>
        queryRows<{ dead_letter_id: string }>(
          this.#client,
          `SELECT dead_letter_id FROM dead_letters WHERE dead_letter_id IN (SELECT dead_letter_id FROM ${table})`,
        ),
    );
    for (const r of rows) found.add(r.dead_letter_id);
    return found;
  }

  countEvents(options: CountOptions = {}): Promise<number> {
    return this.#count('scoring_events', options, true);
  }

  countLabels(options: CountOptions = {}): Promise<number> {
    return this.#count('labels', options, false);
  }

  countDeadLetters(options: CountOptions = {}): Promise<number> {
    return this.#count('dead_letters', options, true);
  }

  async #count(
    table: 'scoring_events' | 'labels' | 'dead_letters',
    options: CountOptions,
    byModel: boolean,
  ): Promise<number> {
    const final = options.final ?? true;
    const where = byModel && options.modelId !== undefined ? ' WHERE model_id = {model:String}' : '';
    const params = byModel && options.modelId !== undefined ? { model: options.modelId } : {};
    const rows = await queryRows<{ c: string | number }>(
      this.#client,
      `SELECT count() AS c FROM ${table}${final ? ' FINAL' : ''}${where}`,
      params,
    );
    return Number(rows[0]?.c ?? 0);
  }

  async insertRows(table: IngestTable, rows: EncodedRows): Promise<InsertTiming> {
    if (rows.count === 0) return { rows: 0, serializeMs: 0, insertMs: 0 };
    const t0 = performance.now();
    await insertBinary(this.#client, this.#raw !== undefined, {
      table,
      columns: COLUMNS[table],
      body: rows.body,
      format: 'RowBinary',
      settings: INSERT_SETTINGS,
    });
    return { rows: rows.count, serializeMs: 0, insertMs: performance.now() - t0 };
  }

  async insertEncoded(table: IngestTable, lines: readonly string[]): Promise<InsertTiming> {
    if (lines.length === 0) return { rows: 0, serializeMs: 0, insertMs: 0 };
    const t0 = performance.now();
    const body = Buffer.from(lines.join('\n'));
    const t1 = performance.now();
    // chDB's raw insert: measured on 50k realistic events ~0.85 s against ~1–2 s for the client's SQL-string path.
    await insertCompactRows(this.#client, this.#raw, {
      table,
      columns: COLUMNS[table],
      body,
      settings: INSERT_SETTINGS,
    });
    return { rows: lines.length, serializeMs: t1 - t0, insertMs: performance.now() - t1 };
  }
}
