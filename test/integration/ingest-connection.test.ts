import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClickHouse, queryRows, type ClickHouse } from '../../platform/clickhouse/client.ts';
import {
  ClickHouseIngestRepository,
  encodeDeadLetter,
  encodeLabel,
  encodeScoringEvent,
  eventKey,
  labelKey,
  type DeadLetterRow,
} from '../../platform/clickhouse/ingest-repository.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { STAGING_TABLES } from '../../platform/clickhouse/staged-keys.ts';
import type { LabelRow, ScoringEventRow } from '../../platform/contracts.ts';
import { ingestHttp } from '../../workers/ingest/http.ts';
import { testConfig } from '../helpers/stack.ts';
import { labelRow, scoringEventRow } from '../helpers/stored-rows.ts';

const T0 = Date.UTC(2026, 10, 1);

const event = (modelId: string, eventId: string, i: number): ScoringEventRow =>
  scoringEventRow({
    event_id: eventId,
    model_id: modelId,
    ts: T0 + i * 1000,
    subject_id: `s-${i}`,
    num_features: { x: i },
    source: 'http',
    source_ref: 'test',
  });

const label = (eventId: string, labelTs: number): LabelRow =>
  labelRow({ event_id: eventId, label: 'true', label_ts: labelTs, source: 'http', source_ref: 'test' });

function deadLetter(id: string): DeadLetterRow {
  return {
    dead_letter_id: id,
    source: 'http',
    topic: '',
    partition: -1,
    offset: -1,
    record_key: '',
    payload: '{}',
    reason: 'test',
    error_path: '',
    model_id: '',
  };
}

/** The timestamp `event(…, eventId, i)` gave a stored id (the look-up finds an event at its instant). */
function storedTs(eventId: string): number {
  const hostile = HOSTILE.indexOf(eventId);
  if (hostile >= 0) return T0 + hostile * 1000;
  if (eventId === 'shared-id') return T0 + 10 * 1000;
  return T0 + (100 + Number(eventId.slice(2))) * 1000;
}

const identities = (models: readonly string[], ids: readonly string[]) =>
  ids.map((eventId, i) => ({ modelId: models[i]!, eventId, ts: storedTs(eventId) }));

// Ids a look-up must treat as data, never as SQL.
const HOSTILE = ["e'); DROP TABLE scoring_events; --", 'e\u0000nul', 'e,"quoted"\n', 'ümlaut-事件', ''];

describe("ingest's own connection (embedded chDB)", () => {
  let ch: ClickHouse;
  let staged: ClickHouseIngestRepository;
  let parameters: ClickHouseIngestRepository;

  beforeAll(async () => {
    ch = await openClickHouse(testConfig());
    await applyMigrations(ch.client);
    staged = ClickHouseIngestRepository.forIngest(ch);
    parameters = new ClickHouseIngestRepository(ch.client);
    const stored = [
      ...HOSTILE.map((id, i) => event('model-a', id, i)),
      event('model-a', 'shared-id', 10),
      ...Array.from({ length: 300 }, (_, i) => event(`model-${i % 7}`, `e-${i}`, 100 + i)),
    ];
    await staged.insertEncoded('scoring_events', stored.map(encodeScoringEvent));
    await staged.insertEncoded(
      'labels',
      [label('e-1', T0), label('e-1', T0 + 5000), label(HOSTILE[0]!, T0)].map(encodeLabel),
    );
    await staged.insertEncoded(
      'dead_letters',
      ['http:abc', HOSTILE[0]!].map((id) => encodeDeadLetter(deadLetter(id))),
    );
  }, 120_000);

  afterAll(async () => {
    await ch?.close();
  });

  it('finds exactly the stored keys whether the ids travel staged or as a parameter', async () => {
    const models = [...HOSTILE.map(() => 'model-a'), 'model-a', 'model-b', 'model-3', 'model-3', 'model-9'];
    const ids = [...HOSTILE, 'shared-id', 'shared-id', 'e-3', 'e-4', 'e-5'];
    const viaStaged = await staged.existingEventIds(identities(models, ids));
    const viaParameters = await parameters.existingEventIds(identities(models, ids));
    expect([...viaStaged].sort()).toEqual([...viaParameters].sort());
    // e-3 is model-3's (3 % 7); e-4 is model-4's, not model-3's; e-5 is model-5's, not model-9's;
    // shared-id is model-a's only.
    expect([...viaStaged].sort()).toEqual(
      [
        ...HOSTILE.map((id) => eventKey('model-a', id, storedTs(id))),
        eventKey('model-a', 'shared-id', storedTs('shared-id')),
        eventKey('model-3', 'e-3', storedTs('e-3')),
      ].sort(),
    );

    // Asked by (event id, label time): e-1's two stored labels, HOSTILE[0]'s, and e-2 at a time it has none.
    const labelIds = [
      { eventId: 'e-1', labelTs: T0 },
      { eventId: HOSTILE[0]!, labelTs: T0 },
      { eventId: 'e-2', labelTs: T0 + 1 },
      { eventId: 'e-1', labelTs: T0 + 5000 },
    ];
    const labelsStaged = await staged.existingLabelIds(labelIds);
    expect([...labelsStaged].sort()).toEqual([...(await parameters.existingLabelIds(labelIds))].sort());
    expect([...labelsStaged].sort()).toEqual(
      [labelKey('e-1', T0), labelKey('e-1', T0 + 5000), labelKey(HOSTILE[0]!, T0)].sort(),
    );

    const deadIds = ['http:abc', 'http:def', HOSTILE[0]!];
    const deadStaged = await staged.existingDeadLetterIds(deadIds);
    expect([...deadStaged].sort()).toEqual([...(await parameters.existingDeadLetterIds(deadIds))].sort());
    expect([...deadStaged].sort()).toEqual(['http:abc', HOSTILE[0]!].sort());
  });

  it('answers concurrent look-ups each from its own keys and leaves no keys behind', async () => {
    const asks = Array.from({ length: 12 }, (_, k) => {
      const ids = Array.from({ length: 50 }, (_, j) => `e-${(k * 50 + j) % 400}`);
      return { ids, models: ids.map((id) => `model-${Number(id.slice(2)) % 7}`) };
    });
    const answers = await Promise.all(asks.map((a) => staged.existingEventIds(identities(a.models, a.ids))));
    answers.forEach((found, k) => {
      const expected = asks[k]!.ids.filter((id) => Number(id.slice(2)) < 300);
      expect(found.size).toBe(expected.length);
    });
    for (const { table } of Object.values(STAGING_TABLES)) {
      const rows = await queryRows<{ n: string }>(ch.ingestClient, `SELECT count() AS n FROM ${table}`);
      expect(Number(rows[0]!.n)).toBe(0);
    }
  });

  it('takes a POST of events (declarations, look-ups, insert) and its re-POST while a parameterised monitor read holds the one-query lane', async () => {
    // A read that holds chDB's lane (and the shared connection) for several seconds.
    let readDone = false;
    const read = queryRows(
      ch.client,
      'SELECT sum(sleepEachRow({seconds:Float64})) AS s FROM numbers(6) SETTINGS max_block_size = 6, function_sleep_max_microseconds_per_block = 30000000',
      { seconds: 1 },
    ).then(() => {
      readDone = true;
    });
    // Let the read start first.
    await new Promise((resolve) => setTimeout(resolve, 300));

    // A POST /v1/events as the API runs it: declarations re-read, validation, look-ups, insert.
    const posted = Array.from({ length: 200 }, (_, i) => ({
      event_id: `lane-${i}`,
      model_id: 'model-lane',
      model_version: 'v1',
      timestamp: new Date(Date.now() - 60_000 + i).toISOString(),
      features: { x: i },
      prediction: { score: 0.5 },
    }));
    const first = await ingestHttp(staged, posted, 'events');
    const again = await ingestHttp(staged, posted, 'events');
    const writtenDuringRead = !readDone;
    expect(first).toMatchObject({ accepted: 200, duplicates: 0, rejected: [] });
    expect(again).toMatchObject({ accepted: 0, duplicates: 200, rejected: [] });

    // The same look-up with its ids as a parameter, on the shared connection, waits for the read.
    await parameters.existingEventIds([
      { modelId: 'model-lane', eventId: 'lane-0', ts: Date.parse(posted[0]!.timestamp) },
    ]);
    const parameterWaited = readDone;
    await read;
    expect(writtenDuringRead).toBe(true);
    expect(parameterWaited).toBe(true);
  }, 60_000);

  it('concurrent POSTs that repeat each other store every event, label and dead letter once (one write group after another)', async () => {
    const at = Date.now() - 120_000;
    const events = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, k) => ({
        event_id: `conc-${from + k}`,
        model_id: 'model-conc',
        model_version: 'v1',
        timestamp: new Date(at + from + k).toISOString(),
        features: { x: from + k },
        prediction: { score: 0.5 },
      }));
    const bad = { event_id: 'conc-bad', model_id: 'model-conc' };
    const posts = await Promise.all([
      ingestHttp(staged, [...events(0, 100), bad], 'events'),
      ingestHttp(staged, [...events(50, 150), bad], 'events'),
      ingestHttp(staged, events(0, 150), 'events'),
      ingestHttp(staged, [...events(100, 150), bad], 'events'),
    ]);
    expect(posts.reduce((sum, p) => sum + p.accepted, 0)).toBe(150);
    expect(posts.map((p) => p.rejected.length)).toEqual([1, 1, 0, 1]);
    // Not FINAL: a row written twice would still be two rows here.
    expect(await staged.countEvents({ final: false, modelId: 'model-conc' })).toBe(150);
    const [deadRows] = await queryRows<{ c: string }>(
      ch.client,
      'SELECT count() AS c FROM dead_letters WHERE position(payload, {id:String}) > 0',
      { id: '"conc-bad"' },
    );
    expect(Number(deadRows!.c)).toBe(1);

    const labels = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, k) => ({ event_id: `conc-${from + k}`, label: 1, timestamp: at + 60_000 }));
    const labelPosts = await Promise.all([
      ingestHttp(staged, labels(0, 100), 'labels'),
      ingestHttp(staged, labels(50, 150), 'labels'),
      ingestHttp(staged, labels(0, 150), 'labels'),
    ]);
    expect(labelPosts.reduce((sum, p) => sum + p.accepted, 0)).toBe(150);
    const [labelRows] = await queryRows<{ c: string }>(
      ch.client,
      'SELECT count() AS c FROM labels WHERE startsWith(event_id, {prefix:String})',
      { prefix: 'conc-' },
    );
    expect(Number(labelRows!.c)).toBe(150);
  }, 60_000);
});
