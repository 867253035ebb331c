import { describe, expect, it } from 'vitest';
import type { LabelRow, ScoringEventRow } from '../../platform/contracts.ts';
import {
  encodedColumns,
  eventKey,
  labelKey,
  type DeadLetterRow,
  type IngestRepository,
  type EncodedRows,
  type IngestTable,
  type InsertTiming,
  type LabelIdentity,
  type StoredEventIdentity,
} from '../../platform/clickhouse/ingest-repository.ts';
import { ingestHttp } from '../../workers/ingest/http.ts';
import { OrderedBatchWriter } from '../../workers/ingest/ordered-batch-writer.ts';
import { PendingBatch } from '../../workers/ingest/pending-batch.ts';
import {
  findLoneSurrogate,
  MAX_DEAD_LETTER_PAYLOAD_BYTES,
  payloadText,
  prepareRecord,
  type Prepared,
  type RawRecord,
} from '../../workers/ingest/prepare-record.ts';
import { readRowBinary } from '../helpers/row-binary-reader.ts';
import { emptyStoreResult, storeBatch } from '../../workers/ingest/store-batch.ts';

const event = (i: number, extra: Record<string, unknown> = {}) => ({
  event_id: `e${i}`,
  model_id: 'm1',
  model_version: 'v1',
  timestamp: 1_760_000_000_000 + i,
  features: { x: i, colour: 'red', gone: null },
  prediction: { score: 0.25 },
  ...extra,
});

function kafkaRecord(value: string | Buffer | null, offset = '7', partition = 2): RawRecord {
  const coordinate = `t:${partition}:${offset}`;
  return {
    source: 'kafka',
    topic: 't',
    partition,
    offset,
    key: Buffer.from('k'),
    value: typeof value === 'string' ? Buffer.from(value) : value,
    deadLetterId: `kafka:${coordinate}`,
    ref: coordinate,
  };
}

function deadOf(p: Prepared): DeadLetterRow {
  if (p.kind !== 'dead') throw new Error(`expected a dead letter, got ${p.kind}`);
  return p.row;
}

describe('prepareRecord', () => {
  it('turns a valid event into a row with provenance', () => {
    const p = prepareRecord(kafkaRecord(JSON.stringify(event(1))), 'events');
    expect(p.kind).toBe('event');
    if (p.kind !== 'event') return;
    expect(p.row).toMatchObject({
      event_id: 'e1',
      model_id: 'm1',
      ts: 1_760_000_000_001,
      num_features: { x: 1 },
      cat_features: { colour: 'red' },
      missing_features: ['gone'],
      source: 'kafka',
      source_ref: 't:2:7',
    });
  });

  it.each([
    ['bad JSON', '{"event_id": "e1",', 'not valid JSON', ''],
    ['missing field', JSON.stringify({ ...event(1), model_version: undefined }), 'model_version', 'model_version'],
    ['wrong type', JSON.stringify(event(1, { prediction: { score: 'high' } })), 'prediction.score', 'prediction.score'],
    ['unknown field', JSON.stringify(event(1, { colour: 'blue' })), 'colour', '(record)'],
    ['bad timestamp', JSON.stringify(event(1, { timestamp: 'tomorrow' })), 'timestamp', 'timestamp'],
    ['not an object', '[1,2,3]', '(record)', '(record)'],
  ])('dead-letters %s with a reason naming the field', (_name, raw, inReason, errorPath) => {
    const d = deadOf(prepareRecord(kafkaRecord(raw), 'events'));
    expect(d.reason).toContain(inReason);
    expect(d.error_path).toBe(errorPath);
    expect(d).toMatchObject({
      dead_letter_id: 'kafka:t:2:7',
      source: 'kafka',
      topic: 't',
      partition: 2,
      offset: 7,
      record_key: 'k',
      payload: raw,
    });
  });

  it('keeps the model id of an invalid event when it can be read', () => {
    expect(deadOf(prepareRecord(kafkaRecord(JSON.stringify(event(1, { timestamp: 'x' }))), 'events')).model_id).toBe(
      'm1',
    );
  });

  it('dead-letters tombstones, non-UTF-8 bytes (stored base64) and unpaired surrogates', () => {
    expect(deadOf(prepareRecord(kafkaRecord(null), 'events')).reason).toContain('empty message');
    const bytes = Buffer.from([0x7b, 0xff, 0x00]);
    const bin = deadOf(prepareRecord(kafkaRecord(bytes), 'events'));
    expect(bin.reason).toContain('UTF-8');
    expect(bin.payload).toBe(`base64:${bytes.toString('base64')}`);
    const lone = deadOf(prepareRecord(kafkaRecord(JSON.stringify(event(1, { event_id: 'a\ud800b' }))), 'events'));
    expect(lone.error_path).toBe('event_id');
    expect(lone.reason).toContain('surrogate');
  });

  it('validates labels on the labels topic', () => {
    const at = 1_760_000_000_005;
    const ok = prepareRecord(kafkaRecord(JSON.stringify({ event_id: 'e1', label: true, timestamp: at })), 'labels');
    expect(ok).toMatchObject({ kind: 'label', row: { event_id: 'e1', label: 'true', label_numeric: 1, label_ts: at } });
    expect(
      deadOf(prepareRecord(kafkaRecord(JSON.stringify({ event_id: 'e1', timestamp: at })), 'labels')).reason,
    ).toContain('label');
  });

  it('accumulates parse and validate time when given a timer', () => {
    const timer = { parse_ms: 0, validate_ms: 0 };
    for (let i = 0; i < 50; i++) prepareRecord(kafkaRecord(JSON.stringify(event(i))), 'events', { timer });
    expect(timer.parse_ms).toBeGreaterThan(0);
    expect(timer.validate_ms).toBeGreaterThan(0);
  });
});

describe('payloadText and findLoneSurrogate', () => {
  it('caps stored payloads at 1 MB and says so', () => {
    const big = Buffer.alloc(MAX_DEAD_LETTER_PAYLOAD_BYTES + 10, 0x61);
    const { text, note } = payloadText(big);
    expect(text).toHaveLength(MAX_DEAD_LETTER_PAYLOAD_BYTES);
    expect(note).toContain('truncated');
    const d = deadOf(prepareRecord(kafkaRecord(big), 'events'));
    expect(d.payload).toHaveLength(MAX_DEAD_LETTER_PAYLOAD_BYTES);
    expect(d.reason).toMatch(/not valid JSON.*truncated/);
  });

  it('finds unpaired surrogates in nested values and keys, not in valid pairs', () => {
    expect(findLoneSurrogate({ a: { b: ['ok', 'x\udc00'] } })).toBe('a.b.1');
    expect(findLoneSurrogate({ ['k\ud801']: 1 })).toBe('k\ud801');
    expect(findLoneSurrogate({ a: '😀' })).toBeUndefined();
  });
});

function eventRow(id: string, model = 'm1'): Prepared {
  const p = prepareRecord(kafkaRecord(JSON.stringify(event(0, { event_id: id, model_id: model }))), 'events');
  if (p.kind !== 'event') throw new Error('fixture invalid');
  return p;
}

describe('PendingBatch', () => {
  it('keeps the first of each identity and counts later copies as duplicates, not dead letters', () => {
    const b = new PendingBatch();
    expect(b.add(eventRow('a'))).toBe(true);
    expect(b.add(eventRow('b'))).toBe(true);
    expect(b.add(eventRow('a'))).toBe(false);
    // Same event id under another model is another event (the table's key is (model_id, event_id)).
    expect(b.add(eventRow('a', 'm2'))).toBe(true);
    const dead = prepareRecord(kafkaRecord('nope'), 'events');
    expect(b.add(dead)).toBe(true);
    expect(b.add(dead)).toBe(false);
    expect({ rows: b.rows, records: b.records, duplicates: b.duplicates, dead: b.deadLetters.size }).toEqual({
      rows: 4,
      records: 6,
      duplicates: 2,
      dead: 1,
    });
  });

  it('treats a corrected label (newer timestamp) as new and a re-sent one as a duplicate', () => {
    const b = new PendingBatch();
    const l = (ts: number) =>
      prepareRecord(
        kafkaRecord(JSON.stringify({ event_id: 'e1', label: 1, timestamp: 1_760_000_000_000 + ts })),
        'labels',
      );
    expect(b.add(l(1))).toBe(true);
    expect(b.add(l(1))).toBe(false);
    expect(b.add(l(2))).toBe(true);
    expect(b.labels.size).toBe(2);
  });

  it("holds each table's rows as RowBinary: whole when none was dropped, only the kept rows otherwise", () => {
    const b = new PendingBatch();
    for (const id of ['a', 'b', 'c', 'd', 'e']) b.add(eventRow(id));
    b.add(prepareRecord(kafkaRecord('{', '9'), 'events'));
    const all = b.encoded('scoring_events', [...b.events.values()]);
    expect(readRowBinary('scoring_events', all.body, all.count).map((r) => r.event_id)).toEqual([
      'a',
      'b',
      'c',
      'd',
      'e',
    ]);
    const sent = (eventRow('c') as Extract<Prepared, { kind: 'event' }>).row;
    expect(readRowBinary('scoring_events', all.body, all.count)[2]).toEqual({
      ...sent,
      vec_features: {},
      prediction_probabilities: {},
    });
    // An earlier batch in flight holds b and d: the body gathers a, c, e (c and e adjacent, one piece).
    const at = (eventRow('b') as Extract<Prepared, { kind: 'event' }>).row.ts;
    b.events.delete(eventKey('m1', 'b', at));
    b.events.delete(eventKey('m1', 'd', at));
    const kept = b.encoded('scoring_events', [...b.events.values()]);
    expect(readRowBinary('scoring_events', kept.body, kept.count).map((r) => r.event_id)).toEqual(['a', 'c', 'e']);
    const dead = b.encoded('dead_letters', [...b.deadLetters.values()]);
    expect(readRowBinary('dead_letters', dead.body, dead.count)).toMatchObject([
      { dead_letter_id: 'kafka:t:2:9', payload: '{', partition: 2, offset: 9, record_key: 'k' },
    ]);
    expect(b.encoded('labels', [])).toEqual({ count: 0, body: Buffer.alloc(0) });
  });

  it('crosses to another thread whole: bytes transferred, not copied, and the same rows, keys and offsets on arrival', () => {
    const b = new PendingBatch();
    for (const id of ['a', 'b', 'c']) b.add(eventRow(id));
    b.add(eventRow('b'));
    b.add(
      prepareRecord(kafkaRecord(JSON.stringify({ event_id: 'a', label: 1, timestamp: 1_760_000_000_500 })), 'labels'),
    );
    b.add(prepareRecord(kafkaRecord('{', '9'), 'events'));
    b.noteOffset('t\u00002', 't', 2, '9');
    const expected = {
      events: [...b.events],
      labels: [...b.labels],
      deadLetters: [...b.deadLetters],
      bodies: (['scoring_events', 'labels', 'dead_letters'] as const).map((t) => {
        const rows = t === 'scoring_events' ? b.events : t === 'labels' ? b.labels : b.deadLetters;
        return Buffer.from(b.encoded(t, [...rows.values()]).body);
      }),
    };
    const { batch, transferList } = b.transfer();
    // What postMessage does: a structured clone with the memory moved (the sender's copy detached).
    const arrived = PendingBatch.fromTransfer(structuredClone(batch, { transfer: transferList }));
    expect(transferList.every((buffer) => buffer.byteLength === 0)).toBe(true);
    expect({ records: arrived.records, duplicates: arrived.duplicates, firstAt: arrived.firstAt }).toEqual({
      records: 6,
      duplicates: 1,
      firstAt: b.firstAt,
    });
    expect([...arrived.events]).toEqual(expected.events);
    expect([...arrived.labels]).toEqual(expected.labels);
    expect([...arrived.deadLetters]).toEqual(expected.deadLetters);
    expect(arrived.commitOffsets()).toEqual([{ topic: 't', partition: 2, offset: '10' }]);
    const tables = ['scoring_events', 'labels', 'dead_letters'] as const;
    const rowsOf = (t: (typeof tables)[number]) =>
      t === 'scoring_events' ? arrived.events : t === 'labels' ? arrived.labels : arrived.deadLetters;
    tables.forEach((t, k) => expect(arrived.encoded(t, [...rowsOf(t).values()]).body).toEqual(expected.bodies[k]));
    // Rows an earlier batch holds are still cut out after the crossing.
    const at = (eventRow('b') as Extract<Prepared, { kind: 'event' }>).row.ts;
    arrived.events.delete(eventKey('m1', 'b', at));
    const kept = arrived.encoded('scoring_events', [...arrived.events.values()]);
    expect(readRowBinary('scoring_events', kept.body, kept.count).map((r) => r.event_id)).toEqual(['a', 'c']);
  });

  it('commits offset + 1 as a string for each partition, beyond 2^53 too', () => {
    const b = new PendingBatch();
    b.noteOffset('t\u00000', 't', 0, '5');
    b.noteOffset('t\u00000', 't', 0, '6');
    b.noteOffset('t\u00001', 't', 1, '9007199254740993');
    b.noteOffset('u\u00000', 'u', 0, '0');
    expect(b.commitOffsets()).toEqual([
      { topic: 't', partition: 0, offset: '7' },
      { topic: 't', partition: 1, offset: '9007199254740994' },
      { topic: 'u', partition: 0, offset: '1' },
    ]);
  });
});

/** In-memory repository: the identity rules of the real tables, and failure injection. */
class MemoryRepository implements IngestRepository {
  events = new Map<string, ScoringEventRow>();
  labels = new Map<string, LabelRow>();
  dead = new Map<string, DeadLetterRow>();
  inserts = { events: 0, labels: 0, dead: 0 };
  failLabelsTimes = 0;
  private timing(rows: number): InsertTiming {
    return { rows, serializeMs: 0, insertMs: 0 };
  }
  /** Decodes the lines back into row objects, so the encoding is checked on every insert. */
  async insertEncoded(table: IngestTable, lines: readonly string[]) {
    const columns = encodedColumns(table);
    const rows = lines.map((line) => {
      const values = JSON.parse(line) as unknown[];
      if (values.length !== columns.length)
        throw new Error(`${table}: ${values.length} values for ${columns.length} columns`);
      return Object.fromEntries(columns.map((c, i) => [c, values[i]]));
    });
    if (table === 'scoring_events') return this.insertScoringEvents(rows as unknown as ScoringEventRow[]);
    if (table === 'labels') return this.insertLabels(rows as unknown as LabelRow[]);
    return this.insertDeadLetters(rows as unknown as DeadLetterRow[]);
  }
  /** Reads the RowBinary back into row objects, so the encoding is checked on every insert. */
  async insertRows(table: IngestTable, encoded: EncodedRows) {
    if (table === 'scoring_events') return this.insertScoringEvents(readRowBinary(table, encoded.body, encoded.count));
    if (table === 'labels') return this.insertLabels(readRowBinary(table, encoded.body, encoded.count));
    return this.insertDeadLetters(readRowBinary('dead_letters', encoded.body, encoded.count));
  }
  async insertScoringEvents(rows: readonly ScoringEventRow[]) {
    for (const r of rows) {
      if (this.events.has(eventKey(r.model_id, r.event_id, r.ts))) throw new Error(`doubled ${r.event_id}`);
      this.events.set(eventKey(r.model_id, r.event_id, r.ts), r);
    }
    this.inserts.events += rows.length;
    return this.timing(rows.length);
  }
  async insertLabels(rows: readonly LabelRow[]) {
    if (this.failLabelsTimes > 0) {
      this.failLabelsTimes--;
      throw new Error('labels unavailable');
    }
    for (const r of rows) this.labels.set(labelKey(r.event_id, r.label_ts), r);
    this.inserts.labels += rows.length;
    return this.timing(rows.length);
  }
  async insertDeadLetters(rows: readonly DeadLetterRow[]) {
    for (const r of rows) {
      if (this.dead.has(r.dead_letter_id)) throw new Error(`doubled ${r.dead_letter_id}`);
      this.dead.set(r.dead_letter_id, r);
    }
    this.inserts.dead += rows.length;
    return this.timing(rows.length);
  }
  async existingEventIds(events: readonly StoredEventIdentity[]) {
    return new Set(events.map((e) => eventKey(e.modelId, e.eventId, e.ts)).filter((k) => this.events.has(k)));
  }
  async existingLabelIds(labels: readonly LabelIdentity[]) {
    return new Set(labels.map((l) => labelKey(l.eventId, l.labelTs)).filter((k) => this.labels.has(k)));
  }
  async existingDeadLetterIds(ids: readonly string[]) {
    return new Set(ids.filter((id) => this.dead.has(id)));
  }
  async countEvents() {
    return this.events.size;
  }
  async countLabels() {
    return this.labels.size;
  }
  async countDeadLetters() {
    return this.dead.size;
  }
}

describe('storeBatch', () => {
  it('drops rows storage already has, so a redelivered batch stores nothing twice', async () => {
    const repo = new MemoryRepository();
    const first = new PendingBatch();
    for (const id of ['a', 'b', 'c']) first.add(eventRow(id));
    expect(await storeBatch(repo, first)).toMatchObject({ insertedEvents: 3, duplicatesStored: 0 });
    const redelivered = new PendingBatch();
    for (const id of ['b', 'c', 'd']) redelivered.add(eventRow(id));
    expect(await storeBatch(repo, redelivered)).toMatchObject({ insertedEvents: 1, duplicatesStored: 2 });
    expect(repo.events.size).toBe(4);
  });

  it('a retry after a half-way failure finishes the batch with exact counts', async () => {
    const repo = new MemoryRepository();
    repo.failLabelsTimes = 2;
    const batch = new PendingBatch();
    batch.add(eventRow('a'));
    batch.add(
      prepareRecord(kafkaRecord(JSON.stringify({ event_id: 'a', label: 0, timestamp: 1_760_000_000_001 })), 'labels'),
    );
    batch.add(prepareRecord(kafkaRecord('{', '8'), 'events'));
    const result = emptyStoreResult();
    await expect(storeBatch(repo, batch, result)).rejects.toThrow('labels unavailable');
    expect(result.done).toEqual({ events: true, labels: false, deadLetters: false });
    await expect(storeBatch(repo, batch, result)).rejects.toThrow('labels unavailable');
    await storeBatch(repo, batch, result);
    expect(result).toMatchObject({ insertedEvents: 1, insertedLabels: 1, deadLetters: 1, duplicatesStored: 0 });
    // A fresh retry (another process after a crash) is idempotent as well.
    expect(await storeBatch(repo, batch)).toMatchObject({
      insertedEvents: 0,
      insertedLabels: 0,
      deadLetters: 0,
      duplicatesStored: 3,
    });
  });
});

describe('ingestHttp', () => {
  it('returns per-record results and keeps rejected records as idempotent http dead letters', async () => {
    const repo = new MemoryRepository();
    const body = [event(1), event(2), { ...event(3), model_version: 5 }, event(1), 'junk'];
    const first = await ingestHttp(repo, body, 'events');
    expect(first.accepted).toBe(2);
    expect(first.duplicates).toBe(1);
    expect(first.rejected.map((r) => r.index)).toEqual([2, 4]);
    expect(first.rejected[0]!.reason).toContain('model_version');
    expect([...repo.dead.keys()].every((id) => /^http:[0-9a-f]{64}$/.test(id))).toBe(true);
    expect([...repo.dead.values()][0]).toMatchObject({ source: 'http', topic: '', partition: -1, offset: -1 });

    const again = await ingestHttp(repo, body, 'events');
    expect(again).toEqual({ accepted: 0, duplicates: 3, rejected: first.rejected });
    expect(repo.events.size).toBe(2);
    expect(repo.dead.size).toBe(2);
  });

  it('dead-letters a number that overflowed to Infinity (1e309) instead of storing the feature as missing', async () => {
    const repo = new MemoryRepository();
    // What fastify's JSON parser makes of `"features":{"x":1e309}`; JSON.stringify would make it null.
    const body = [event(1, { features: { x: JSON.parse('1e309') as number, colour: 'red' } })];
    const result = await ingestHttp(repo, body, 'events');
    expect(result.accepted).toBe(0);
    expect(result.rejected).toEqual([
      { index: 0, reason: expect.stringMatching(/^features\.x: Infinity is not a finite number/) },
    ]);
    expect(repo.events.size).toBe(0);
    expect([...repo.dead.values()][0]!.payload).toContain('"x":"Infinity"');
  });

  it('ingests labels with the label contract', async () => {
    const repo = new MemoryRepository();
    const r = await ingestHttp(
      repo,
      [{ event_id: 'e1', label: 'fraud', timestamp: '2026-01-31T12:00:00Z' }, { event_id: 'e2' }],
      'labels',
    );
    expect(r.accepted).toBe(1);
    expect(r.rejected).toEqual([{ index: 1, reason: expect.stringContaining('label') }]);
    expect([...repo.labels.values()][0]).toMatchObject({
      event_id: 'e1',
      label: 'fraud',
      label_ts: Date.parse('2026-01-31T12:00:00Z'),
      source: 'http',
    });
  });
});

describe('concurrent POSTs (workers/ingest/store-group.ts)', () => {
  /** Counts the look-ups and inserts per table: one per table for each group of POSTs. */
  class CountingRepository extends MemoryRepository {
    eventLookups = 0;
    eventInserts = 0;
    override async existingEventIds(events: readonly StoredEventIdentity[]) {
      this.eventLookups++;
      return super.existingEventIds(events);
    }
    override async insertRows(table: IngestTable, encoded: EncodedRows) {
      if (table === 'scoring_events') this.eventInserts++;
      return super.insertRows(table, encoded);
    }
  }

  it('POSTs that arrive while one is written share one look-up and one insert, and a record in several is stored once', async () => {
    const repo = new CountingRepository();
    const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => event(from + i));
    // Sent at once, as a load generator's POSTs of one second; the memory repository throws on a row stored twice.
    const [a, b, c] = await Promise.all([
      ingestHttp(repo, ids(1, 3), 'events'),
      ingestHttp(repo, ids(2, 5), 'events'),
      ingestHttp(repo, [...ids(1, 5), 'junk'], 'events'),
    ]);
    expect(repo.events.size).toBe(5);
    expect(a!.accepted + b!.accepted + c!.accepted).toBe(5);
    // The first starts at once, alone; the two that came meanwhile are the next group, in arrival order.
    expect(a).toEqual({ accepted: 3, duplicates: 0, rejected: [] });
    expect(b).toEqual({ accepted: 2, duplicates: 2, rejected: [] });
    expect(c).toEqual({ accepted: 0, duplicates: 5, rejected: [{ index: 5, reason: expect.any(String) }] });
    expect(repo.eventLookups).toBe(2);
    expect(repo.eventInserts).toBe(2);
    expect(repo.dead.size).toBe(1);
  });

  it("an events POST is answered once its group's events are written, before the group's labels", async () => {
    let openLabels!: () => void;
    const labelsHeld = new Promise<void>((resolve) => (openLabels = resolve));
    class HeldLabels extends CountingRepository {
      override async insertLabels(rows: readonly LabelRow[]) {
        await labelsHeld;
        return super.insertLabels(rows);
      }
    }
    const repo = new HeldLabels();
    const first = ingestHttp(repo, [event(1)], 'events');
    // These two arrive while the first is written: one group, events then labels.
    const labels = ingestHttp(repo, [{ event_id: 'e2', label: 1, timestamp: 1_760_000_000_000 }], 'labels');
    const events = ingestHttp(repo, [event(2)], 'events');
    expect(await first).toMatchObject({ accepted: 1 });
    expect(await events).toMatchObject({ accepted: 1 });
    expect(repo.labels.size).toBe(0);
    openLabels();
    expect(await labels).toMatchObject({ accepted: 1 });
  });

  it('a failed group write fails each of its POSTs, and their re-POSTs store every record once', async () => {
    const repo = new CountingRepository();
    const label = (id: string) => ({ event_id: id, label: 1, timestamp: 1_760_000_000_000 });
    repo.failLabelsTimes = 1;
    // An events POST is written first, alone; the two labels POSTs wait and form one group, whose insert fails.
    const [blocker, ...failing] = await Promise.allSettled([
      ingestHttp(repo, [event(1)], 'events'),
      ingestHttp(repo, [label('b'), label('c')], 'labels'),
      ingestHttp(repo, [label('c'), label('d')], 'labels'),
    ]);
    expect(blocker.status).toBe('fulfilled');
    expect(failing.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(repo.labels.size).toBe(0);
    const again = await Promise.all([
      ingestHttp(repo, [label('b'), label('c')], 'labels'),
      ingestHttp(repo, [label('c'), label('d')], 'labels'),
    ]);
    expect(again[0]!.accepted + again[1]!.accepted).toBe(3);
    expect(again[0]!.duplicates + again[1]!.duplicates).toBe(1);
    expect([...repo.labels.values()].map((l) => l.event_id).sort()).toEqual(['b', 'c', 'd']);
  });
});

describe('OrderedBatchWriter (two batches written at once)', () => {
  /** A gate an insert waits behind until the test opens it. */
  function gate(): { wait: Promise<void>; open: () => void } {
    let open!: () => void;
    const wait = new Promise<void>((resolve) => (open = resolve));
    return { wait, open };
  }

  function writer(repo: MemoryRepository, commits: string[], abandon = new Set<string>()) {
    const names = new WeakMap<PendingBatch, string>();
    const w = new OrderedBatchWriter<number>({
      store: async (batch, dropped) =>
        abandon.has(names.get(batch)!) ? undefined : (await storeBatch(repo, batch)).insertedEvents + dropped * 1000,
      commit: async (batch) => {
        commits.push(names.get(batch)!);
      },
    });
    const submit = (name: string, ids: string[]) => {
      const batch = new PendingBatch();
      for (const id of ids) batch.add(eventRow(id));
      names.set(batch, name);
      return w.submit(batch);
    };
    return { w, submit };
  }

  it('stores once an event that batch N+1 repeats while batch N is still being inserted', async () => {
    const repo = new MemoryRepository();
    const insertN = gate();
    const insert = repo.insertRows.bind(repo);
    let calls = 0;
    repo.insertRows = async (table, rows) => {
      if (calls++ === 0) await insertN.wait; // batch N's insert hangs until released
      return insert(table, rows);
    };
    const commits: string[] = [];
    const { w, submit } = writer(repo, commits);
    const n = submit('N', ['a', 'b']);
    await new Promise((r) => setTimeout(r, 5)); // N has looked up and is inserting
    expect(w.keys.size).toBe(2);
    // N+1 repeats 'a': N's insert is not durable, so the look-up cannot see it — the in-flight set does.
    const n1 = submit('N+1', ['a', 'c']);
    await new Promise((r) => setTimeout(r, 5));
    expect([...repo.events.keys()].map((k) => k.split('\u0000')[1])).toEqual(['c']);
    insertN.open();
    await expect(Promise.all([n, n1])).resolves.toEqual([true, true]);
    expect([...repo.events.keys()].map((k) => k.split('\u0000')[1]).sort()).toEqual(['a', 'b', 'c']);
    expect(repo.inserts.events).toBe(3); // MemoryRepository throws on a doubled id
    expect(commits).toEqual(['N', 'N+1']);
    expect(w.keys.size).toBe(0);
  });

  it('commits in submission order when the later insert finishes first', async () => {
    const repo = new MemoryRepository();
    const insertN = gate();
    const insert = repo.insertRows.bind(repo);
    repo.insertRows = async (table, rows) => {
      if (
        table === 'scoring_events' &&
        readRowBinary(table, rows.body, rows.count).some((r) => r.event_id.startsWith('slow-'))
      )
        await insertN.wait;
      return insert(table, rows);
    };
    const commits: string[] = [];
    const { w, submit } = writer(repo, commits);
    const n = submit('N', ['slow-1']);
    const n1 = submit('N+1', ['fast-1']);
    await new Promise((r) => setTimeout(r, 20));
    expect(w.size).toBe(2); // neither finished: N+1 waits for N before committing
    expect(repo.events.size).toBe(1); // N+1 is stored…
    expect(commits).toEqual([]); // …but not committed past N's unstored record
    insertN.open();
    await Promise.all([n, n1]);
    expect(commits).toEqual(['N', 'N+1']);
  });

  it('commits nothing after a batch that was given up (left for redelivery)', async () => {
    const repo = new MemoryRepository();
    const commits: string[] = [];
    const { w, submit } = writer(repo, commits, new Set(['N']));
    expect(await submit('N', ['a'])).toBe(false);
    expect(await submit('N+1', ['b'])).toBe(false);
    await w.idle();
    expect(commits).toEqual([]);
    expect(repo.events.size).toBe(1); // N+1's rows are stored; redelivery of both de-duplicates
  });
});
