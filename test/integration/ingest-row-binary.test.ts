/**
 * Ingest's RowBinary inserts store what its JSONCompactEachRow inserts stored, column for column,
 * in real chDB: the same rows go in both ways (under two model ids, or two id prefixes) and are
 * read back. The rows hold what text and binary encodings get wrong in different ways: maps
 * empty and full, nulls, unicode beyond the BMP and in map keys, floats at the ends of their
 * range, strings across a length prefix's byte boundary, bytes that end inline insert data
 * ("\n\n"), NUL and quote characters in ids, and a dead letter's long payload.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClickHouse, queryRows, type ClickHouse } from '../../platform/clickhouse/client.ts';
import {
  ClickHouseIngestRepository,
  encodeDeadLetter,
  encodeLabel,
  encodeScoringEvent,
  type DeadLetterRow,
  type IngestTable,
} from '../../platform/clickhouse/ingest-repository.ts';
import { writeDeadLetter, writeLabel, writeScoringEvent } from '../../platform/clickhouse/ingest-row-binary.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { ByteWriter } from '../../platform/clickhouse/row-binary.ts';
import type { LabelRow, ScoringEventRow } from '../../platform/contracts.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);

/** Ids holding what a format could mangle: quotes, backslashes, tabs, newlines, NUL, astral characters. */
const IDS = [
  'plain',
  "quote'single",
  'quote"double',
  'back\\slash',
  'tab\there',
  'new\nline\n\nblank',
  'nul\u0000inside',
  'fox 🦊 and e\u0301',
  'مرحبا-漢字',
  'x'.repeat(127),
  'y'.repeat(128),
  `é${'z'.repeat(200)}`,
];

const FLOATS = [
  0,
  -0,
  0.1,
  1 / 3,
  -2.5,
  5e-324,
  2.2250738585072014e-308,
  1.7976931348623157e308,
  -1.7976931348623157e308,
  1e21,
  1e-300,
  123456789.12345679,
  2 ** 53 + 2,
];

function event(i: number, id: string, modelId: string): ScoringEventRow {
  const num: Record<string, number> = {};
  FLOATS.forEach((v, f) => (num[`f${f}`] = v * (i % 2 === 0 ? 1 : -1)));
  const full = i % 3 !== 0;
  return {
    event_id: id,
    model_id: modelId,
    model_version: i % 2 ? 'v1' : 'version ✓ 2',
    ts: T0 + i * 997,
    subject_id: i % 4 === 0 ? '' : `subject ${id}`,
    num_features: full ? num : {},
    cat_features: full ? { colour: 'grün', level: id, empty: '' } : {},
    missing_features: i % 2 ? ['gone', 'also_gone'] : [],
    prediction_score: i % 5 === 0 ? null : FLOATS[i % FLOATS.length]! === 0 ? 0 : (i % 97) / 97,
    prediction_class: i % 3 === 0 ? null : i % 3 === 1 ? '' : `class "${id}"`,
    prediction_value: i % 2 ? null : FLOATS[i % FLOATS.length]!,
    metadata: i % 4 === 1 ? {} : { ключ: 'значение', [`k${id}`]: `v\n\n${id}`, 'emoji 🦊': '🦊' },
    contract_version: 1,
    source: i % 2 ? 'kafka' : 'http',
    source_ref: `topic:${i % 4}:${i}`,
    ...(i % 2 === 0 ? { vec_features: { emb: [0.1, -0, 1e-46, 3.4e38, -1 / 3], other: [] as number[] } } : {}),
    ...(i % 3 === 1 ? { prediction_probabilities: { a: 0.25, 'b ✓': 0.75 } } : {}),
  };
}

/** `key` stores it (a prefix of this run and path, then `id`); everything else is made from `id`. */
function label(i: number, key: string, id: string): LabelRow {
  const numeric = i % 3 === 0 ? null : FLOATS[i % FLOATS.length]!;
  return {
    event_id: key + id,
    label: numeric === null ? `label ${id}` : String(numeric),
    label_numeric: numeric,
    label_ts: T0 + 60_000 + i,
    contract_version: 1,
    source: 'kafka',
    source_ref: `labels:0:${i}`,
  };
}

function deadLetter(i: number, key: string, id: string): DeadLetterRow {
  return {
    dead_letter_id: key + id,
    source: i % 2 ? 'kafka' : 'http',
    topic: i % 2 ? 'halflife.scoring-events' : '',
    partition: i % 2 ? i : -1,
    offset: i % 2 ? Number.MAX_SAFE_INTEGER - i : -1,
    record_key: `key ${id}`,
    payload: i === 0 ? `{"big":"${'é'.repeat(100_000)}"}` : `{"id":"${id}"}\n\n\u0000'"\\`,
    reason: `features.x: must be a number (got ${JSON.stringify(id)})`,
    error_path: i % 2 ? 'features.x' : '',
    model_id: i % 3 ? 'model-a' : '',
  };
}

function rowBinary<R>(rows: readonly R[], write: (w: ByteWriter, r: R) => void): { count: number; body: Buffer } {
  // A small start, so the writer grows many times on the way.
  const w = new ByteWriter(16);
  for (const r of rows) write(w, r);
  return { count: rows.length, body: w.bytes() };
}

describe('RowBinary inserts store what JSONCompactEachRow inserts stored', () => {
  let ch: ClickHouse;
  let repo: ClickHouseIngestRepository;
  const jsonModel = uniqueName('rb-json');
  const binaryModel = uniqueName('rb-binary');
  const run = uniqueName('rb');

  beforeAll(async () => {
    ch = await openClickHouse(testConfig());
    await applyMigrations(ch.client);
    repo = new ClickHouseIngestRepository(ch.client);
  });

  afterAll(async () => {
    await ch?.close();
  });

  const read = (table: IngestTable, where: string, order: string, params: Record<string, unknown>) =>
    queryRows<Record<string, unknown>>(
      ch.client,
      `SELECT * EXCEPT (${table === 'dead_letters' ? 'received_at' : 'ingested_at'}) FROM ${table} WHERE ${where} ORDER BY ${order}`,
      params,
    );

  it('scoring events: every column, both ways, read back identical', async () => {
    const json = IDS.map((id, i) => event(i, id, jsonModel));
    const binary = IDS.map((id, i) => event(i, id, binaryModel));
    await repo.insertEncoded('scoring_events', json.map(encodeScoringEvent));
    await repo.insertRows('scoring_events', rowBinary(binary, writeScoringEvent));
    const fromJson = await read('scoring_events', 'model_id = {m:String}', 'event_id', { m: jsonModel });
    const fromBinary = await read('scoring_events', 'model_id = {m:String}', 'event_id', { m: binaryModel });
    expect(fromBinary).toHaveLength(IDS.length);
    const withoutModel = (rows: Array<Record<string, unknown>>) => rows.map(({ model_id: _m, ...rest }) => rest);
    expect(withoutModel(fromBinary)).toEqual(withoutModel(fromJson));
    // And what both stored is what was sent: ids, texts and floats exactly (−0 as 0, as JSON carries it).
    const byId = new Map(fromBinary.map((r) => [r.event_id as string, r]));
    for (const sent of binary) {
      const got = byId.get(sent.event_id)!;
      expect(got.event_id).toBe(sent.event_id);
      expect(got.model_version).toBe(sent.model_version);
      expect(got.metadata).toEqual(sent.metadata);
      expect(got.cat_features).toEqual(sent.cat_features);
      expect(got.missing_features).toEqual(sent.missing_features);
      expect(got.prediction_class).toBe(sent.prediction_class);
      expect(got.prediction_score).toBe(sent.prediction_score);
      expect(Object.fromEntries(Object.entries(got.num_features as Record<string, number>))).toEqual(
        Object.fromEntries(Object.entries(sent.num_features).map(([k, v]) => [k, v + 0])),
      );
    }
  });

  it('labels: every column, both ways, read back identical', async () => {
    const json = IDS.map((id, i) => label(i, `${run}:json:`, id));
    const binary = IDS.map((id, i) => label(i, `${run}:binary:`, id));
    await repo.insertEncoded('labels', json.map(encodeLabel));
    await repo.insertRows('labels', rowBinary(binary, writeLabel));
    const prefixed = (kind: string) =>
      read('labels', 'startsWith(event_id, {p:String})', 'event_id', { p: `${run}:${kind}:` }).then((rows) =>
        rows.map((r) => ({ ...r, event_id: (r.event_id as string).slice(`${run}:${kind}:`.length) })),
      );
    const fromBinary = await prefixed('binary');
    expect(fromBinary).toHaveLength(IDS.length);
    expect(fromBinary).toEqual(await prefixed('json'));
  });

  it('dead letters: every column, both ways, read back identical', async () => {
    const json = IDS.map((id, i) => deadLetter(i, `${run}:json:`, id));
    const binary = IDS.map((id, i) => deadLetter(i, `${run}:binary:`, id));
    await repo.insertEncoded('dead_letters', json.map(encodeDeadLetter));
    await repo.insertRows('dead_letters', rowBinary(binary, writeDeadLetter));
    const prefixed = (kind: string) =>
      read('dead_letters', 'startsWith(dead_letter_id, {p:String})', 'dead_letter_id', { p: `${run}:${kind}:` }).then(
        (rows) =>
          rows.map((r): Record<string, unknown> => ({
            ...r,
            dead_letter_id: (r.dead_letter_id as string).slice(`${run}:${kind}:`.length),
          })),
      );
    const fromBinary = await prefixed('binary');
    expect(fromBinary).toHaveLength(IDS.length);
    expect(fromBinary).toEqual(await prefixed('json'));
    expect(fromBinary.find((r) => r.dead_letter_id === 'plain')?.payload).toBe(binary[0]!.payload);
  });
});
