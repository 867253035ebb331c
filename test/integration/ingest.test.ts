import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { declareModelKind } from '../../platform/clickhouse/model-kind-repository.ts';
import { declareVectorFeatures } from '../../platform/clickhouse/vector-features-repository.ts';
import type { HalflifeConfig } from '../../platform/config.ts';
import { ingestHttp } from '../../workers/ingest/http.ts';
import { IngestWorker } from '../../workers/ingest/kafka-worker.ts';
import {
  groupProgress,
  ingestTestConfig,
  label,
  openIngestStore,
  produceAll,
  scoringEvent,
  waitUntil,
  type OutMessage,
} from '../helpers/kafka.ts';
import { uniqueName } from '../helpers/stack.ts';

/**
 * 100k+ scoring events through the real broker into real chDB, with malformed records of
 * several kinds and duplicates both adjacent and re-sent much later under another key (so in
 * another partition and another batch).
 */
describe('ingest: Kafka → ClickHouse, exactly once', () => {
  let config: HalflifeConfig;
  let ch: ClickHouse;
  let repo: ClickHouseIngestRepository;

  beforeAll(async () => {
    config = ingestTestConfig();
    ({ ch, repo } = await openIngestStore(config));
  });

  afterAll(async () => {
    await ch?.close();
  });

  it('stores exactly the valid unique events and dead-letters exactly the malformed ones, naming the field', async () => {
    const modelId = uniqueName('model');
    const N = 100_000;
    const events: OutMessage[] = [];
    /** payload → text its dead letter's reason must contain. */
    const expectedDead = new Map<string, string>();
    let duplicates = 0;
    const malformedKinds: Array<(k: number) => { value: string | Buffer; expect: string }> = [
      (k) => ({
        value: `{"event_id":"${modelId}-badjson-${k}","model_id":"${modelId}","features":{`,
        expect: 'not valid JSON',
      }),
      (k) => {
        const e = scoringEvent(k, modelId, { eventId: `${modelId}-nomv-${k}` });
        delete e.model_version;
        return { value: JSON.stringify(e), expect: 'model_version' };
      },
      (k) => ({
        value: JSON.stringify({
          ...scoringEvent(k, modelId, { eventId: `${modelId}-type-${k}` }),
          prediction: { score: 'high' },
        }),
        expect: 'prediction.score',
      }),
      (k) => ({
        value: JSON.stringify({ ...scoringEvent(k, modelId, { eventId: `${modelId}-unknown-${k}` }), colour: 'blue' }),
        expect: 'colour',
      }),
      (k) => ({
        value: JSON.stringify({
          ...scoringEvent(k, modelId, { eventId: `${modelId}-ts-${k}` }),
          timestamp: 'yesterday at noon',
        }),
        expect: 'timestamp',
      }),
      (k) => ({
        value: JSON.stringify(scoringEvent(k, modelId, { eventId: `${modelId}-newline\n${k}` })),
        expect: 'event_id: no control characters',
      }),
    ];
    let malformed = 0;
    for (let i = 0; i < N; i++) {
      const value = JSON.stringify(scoringEvent(i, modelId));
      events.push({ key: `k${i}`, value });
      if (i % 250 === 7) {
        events.push({ key: `k${i}`, value }); // adjacent re-send: same partition, same batch
        duplicates++;
      }
      if (i % 80 === 3) {
        const bad = malformedKinds[malformed % malformedKinds.length]!(malformed);
        events.push({ key: `bad${malformed}`, value: bad.value });
        expectedDead.set(String(bad.value), bad.expect);
        malformed++;
      }
    }
    for (let k = 0; k < 10; k++) {
      // Not UTF-8 at all: stored base64-encoded, reason says so.
      const value = Buffer.from([0x7b, 0xff, 0xfe, 0x00, k]);
      events.push({ key: null, value });
      expectedDead.set(`base64:${value.toString('base64')}`, 'UTF-8');
      malformed++;
    }
    for (let i = 0; i < 800; i++) {
      // Re-sent long after, under another key: another partition, a later batch.
      events.push({ key: `again${i}`, value: JSON.stringify(scoringEvent(i * 7, modelId)) });
      duplicates++;
    }
    // Ids with quotes, backslashes (a literal `\n`, not a newline: ids hold no control characters)
    // and non-ASCII, stored once and re-sent at the end: the storage look-up must match them exactly.
    const tricky = [`${modelId}-it's "q"`, `${modelId}-line\\nbreak\\tab`, `${modelId}-é😀]')`];
    for (const [k, id] of tricky.entries())
      events.unshift({ key: `t${k}`, value: JSON.stringify(scoringEvent(N + k, modelId, { eventId: id })) });
    for (const [k, id] of tricky.entries()) {
      events.push({ key: `t-again${k}`, value: JSON.stringify(scoringEvent(N + k, modelId, { eventId: id })) });
      duplicates++;
    }
    const labels: OutMessage[] = [];
    const L = 5000;
    for (let i = 0; i < L; i++) labels.push({ key: `k${i}`, value: JSON.stringify(label(`${modelId}-e${i}`, i)) });
    for (let i = 0; i < 100; i++) {
      labels.push({ key: `k${i}`, value: JSON.stringify(label(`${modelId}-e${i}`, i)) });
      duplicates++;
    }
    for (let i = 0; i < 25; i++) {
      const value = JSON.stringify({ event_id: `${modelId}-e${i}`, timestamp: 1_760_000_100_000 });
      labels.push({ key: null, value });
      expectedDead.set(value, 'label');
      malformed++;
    }
    expect(malformed / events.length).toBeGreaterThanOrEqual(0.01);
    expect(duplicates / events.length).toBeGreaterThanOrEqual(0.01);
    const total = events.length + labels.length;

    const t0 = Date.now();
    await Promise.all([
      produceAll(config, config.kafka.scoringEventsTopic, events, { chunk: 4000 }),
      produceAll(config, config.kafka.labelsTopic, labels),
    ]);
    const produced = Date.now() - t0;

    const worker = new IngestWorker({ config, repository: repo });
    const t1 = Date.now();
    await worker.start();
    const m = worker.metrics;
    // Every record ends in exactly one place: a stored row, a dead letter, or a counted duplicate.
    await waitUntil(
      'every record accounted for',
      () => m.inserted_events_total + m.inserted_labels_total + m.dead_letters_total + m.duplicates_total === total,
      120_000,
    );
    const ingested = Date.now() - t1;
    await worker.stop();
    process.stderr.write(
      `[ingest.test] produced ${total} in ${produced} ms, ingested in ${ingested} ms (${Math.round(total / (ingested / 1000))}/s), ${m.flushes_total} flushes\n`,
    );

    expect(m.consumed_total).toBe(total);
    expect(m.inserted_events_total).toBe(N + tricky.length);
    expect(m.inserted_labels_total).toBe(L);
    expect(m.dead_letters_total).toBe(malformed);
    expect(m.duplicates_total).toBe(duplicates);
    expect(m.insert_failures_total).toBe(0);

    // Without FINAL equal to with FINAL: ingest de-duplicated, merges did not have to.
    expect(await repo.countEvents({ final: false, modelId })).toBe(N + tricky.length);
    expect(await repo.countEvents({ final: true, modelId })).toBe(N + tricky.length);
    const [distinct] = await queryRows<{ n: string }>(
      ch.client,
      'SELECT uniqExact(event_id) AS n FROM scoring_events WHERE model_id = {m:String}',
      { m: modelId },
    );
    expect(Number(distinct?.n)).toBe(N + tricky.length);
    const storedTricky = await queryRows<{ event_id: string }>(
      ch.client,
      'SELECT event_id FROM scoring_events WHERE event_id IN {ids:Array(String)}',
      { ids: tricky },
    );
    expect(storedTricky.map((r) => r.event_id).sort()).toEqual([...tricky].sort());
    expect(await repo.countLabels({ final: false })).toBe(L);
    expect(await repo.countLabels({ final: true })).toBe(L);
    expect(await repo.countDeadLetters({ final: false })).toBe(malformed);
    expect(await repo.countDeadLetters({ final: true })).toBe(malformed);

    // A stored event is the produced one, field for field.
    const [e123] = await queryRows<{
      event_id: string;
      model_version: string;
      ts: string;
      f7: number;
      c2: string;
      score: number;
      source_ref: string;
    }>(
      ch.client,
      "SELECT event_id, model_version, toString(ts) AS ts, num_features['f7'] AS f7, cat_features['c2'] AS c2, prediction_score AS score, source_ref FROM scoring_events WHERE model_id = {m:String} AND event_id = {id:String}",
      { m: modelId, id: `${modelId}-e123` },
    );
    const src = scoringEvent(123, modelId) as { features: Record<string, unknown>; prediction: { score: number } };
    expect(e123).toMatchObject({
      event_id: `${modelId}-e123`,
      model_version: 'v1',
      f7: src.features.f7,
      c2: src.features.c2,
      score: src.prediction.score,
    });
    expect(e123?.ts).toBe(new Date(1_760_000_000_123).toISOString().replace('T', ' ').replace('Z', ''));
    expect(e123?.source_ref).toMatch(new RegExp(`^${config.kafka.scoringEventsTopic}:\\d:\\d+$`));

    const dead = await queryRows<{
      dead_letter_id: string;
      topic: string;
      partition: number;
      offset: string;
      payload: string;
      reason: string;
      model_id: string;
    }>(ch.client, 'SELECT dead_letter_id, topic, partition, offset, payload, reason, model_id FROM dead_letters');
    expect(dead).toHaveLength(malformed);
    for (const d of dead) {
      const must = expectedDead.get(d.payload);
      expect(must, `unexpected dead letter ${d.dead_letter_id}: ${d.payload.slice(0, 80)}`).toBeDefined();
      expect(d.reason).toContain(must!);
      expect(d.dead_letter_id).toBe(`kafka:${d.topic}:${d.partition}:${d.offset}`);
      if (d.topic === config.kafka.scoringEventsTopic && !d.payload.startsWith('base64:') && must !== 'not valid JSON')
        expect(d.model_id).toBe(modelId);
    }
    expect(new Set(dead.map((d) => d.payload)).size).toBe(expectedDead.size);

    // Offsets committed to the end: a restarted consumer would get nothing new.
    const progress = await groupProgress(config, config.ingest.groupId, [
      config.kafka.scoringEventsTopic,
      config.kafka.labelsTopic,
    ]);
    expect(progress.committed).toBe(progress.end);
    expect(progress.end).toBe(total);
  });

  it("takes vector features over Kafka as declared, and dead-letters the ones that break the model's declaration", async () => {
    const modelId = uniqueName('vectors');
    await declareVectorFeatures(ch.client, modelId, new Map([['embedding', 4]]), 'test');
    const base = (i: number) => scoringEvent(i, modelId, { numeric: 2, categorical: 1 });
    const vector = (i: number) => [i / 4, -1.25, 0.5, 3];
    const events: OutMessage[] = Array.from({ length: 20 }, (_, i) => ({
      key: `${modelId}-e${i}`,
      value: JSON.stringify({ ...base(i), features: { ...(base(i).features as object), embedding: vector(i) } }),
    }));
    const bad = [
      { features: { f0: 1, embedding: [1, 2, 3] }, expect: 'has dimension 4, this one has 3 numbers: send exactly 4' },
      { features: { f0: 1, embedding: [1, 2, 'x', 4] }, expect: 'features.embedding.2: element 2 of vector feature' },
      { features: { f0: 1, other: [1, 2] }, expect: `model ${modelId} declares no vector feature other` },
      { features: { f0: 1, embedding: 0.5 }, expect: 'this one is a single number: send an array of 4 numbers' },
    ].map((b, k) => ({ ...b, value: JSON.stringify({ ...base(100 + k), features: b.features }) }));
    await produceAll(config, config.kafka.scoringEventsTopic, [
      ...events,
      ...bad.map((b) => ({ key: 'bad', value: b.value })),
    ]);
    // A repository of its own: its copy of the declarations is read when this worker's first batch comes.
    const worker = new IngestWorker({ config, repository: new ClickHouseIngestRepository(ch.client) });
    await worker.start();
    const m = worker.metrics;
    await waitUntil(
      'every vector record accounted for',
      () => m.inserted_events_total + m.dead_letters_total === events.length + bad.length,
      120_000,
    );
    await worker.stop();
    expect(m.inserted_events_total).toBe(events.length);
    const stored = await queryRows<{ event_id: string; embedding: number[] }>(
      ch.client,
      "SELECT event_id, vec_features['embedding'] AS embedding FROM scoring_events FINAL WHERE model_id = {m:String} ORDER BY event_id",
      { m: modelId },
    );
    expect(stored).toHaveLength(events.length);
    for (const row of stored) expect(row.embedding).toEqual(vector(Number(row.event_id.split('-e').at(-1))));
    const dead = await queryRows<{ payload: string; reason: string }>(
      ch.client,
      'SELECT payload, reason FROM dead_letters WHERE model_id = {m:String}',
      { m: modelId },
    );
    expect(dead).toHaveLength(bad.length);
    for (const b of bad) expect(dead.find((d) => d.payload === b.value)?.reason).toContain(b.expect);
  });

  it("checks events against their model's declared kind, over Kafka and HTTP, and leaves undeclared (binary) models alone", async () => {
    const multiclass = uniqueName('kind-mc');
    const regression = uniqueName('kind-reg');
    const binary = uniqueName('kind-bin');
    await declareModelKind(ch.client, multiclass, { kind: 'multiclass', classes: ['cat', 'dog', 'bird'] }, 'test');
    await declareModelKind(ch.client, regression, { kind: 'regression' }, 'test');
    const event = (model: string, i: number, prediction: Record<string, unknown>): Record<string, unknown> => ({
      ...scoringEvent(i, model, { numeric: 2, categorical: 0 }),
      prediction,
    });
    const good = [
      event(multiclass, 0, { probabilities: { cat: 0.7, dog: 0.2, bird: 0.1 } }),
      event(multiclass, 1, { probabilities: { cat: 0.1, dog: 0.2, bird: 0.7 }, class: 'bird' }),
      event(multiclass, 2, { class: 'dog' }),
      event(regression, 3, { value: 12.5 }),
      // Undeclared: binary, not checked beyond the contract (a class of any name is kept).
      event(binary, 4, { score: 0.4, class: 'anything' }),
    ];
    const bad = [
      {
        e: event(multiclass, 10, { probabilities: { cat: 0.7, dgo: 0.2, bird: 0.1 } }),
        expect: 'class "dgo" is not one of model',
      },
      { e: event(multiclass, 11, { probabilities: { cat: 0.8, dog: 0.2 } }), expect: 'no probability for "bird"' },
      { e: event(multiclass, 12, { class: 'fish' }), expect: `--classes cat,dog,bird,fish` },
      { e: event(multiclass, 13, { score: 0.3 }), expect: 'send prediction.probabilities, one entry per class' },
      { e: event(regression, 14, { score: 0.3 }), expect: 'send its predicted number as prediction.value' },
    ];
    // Kafka, through a repository of its own (its copy of the kinds is read with its first batch).
    await produceAll(config, config.kafka.scoringEventsTopic, [
      ...good.map((e) => ({ key: 'kind', value: JSON.stringify(e) })),
      ...bad.map((b) => ({ key: 'kind', value: JSON.stringify(b.e) })),
    ]);
    const worker = new IngestWorker({ config, repository: new ClickHouseIngestRepository(ch.client) });
    await worker.start();
    const m = worker.metrics;
    await waitUntil(
      'every kind record accounted for',
      () => m.inserted_events_total + m.dead_letters_total >= good.length + bad.length,
      120_000,
    );
    await worker.stop();
    const models = [multiclass, regression, binary];
    const stored = await queryRows<{ event_id: string }>(
      ch.client,
      'SELECT event_id FROM scoring_events FINAL WHERE has({models:Array(String)}, model_id) ORDER BY event_id',
      { models },
    );
    expect(stored.map((r) => r.event_id).sort()).toEqual(good.map((e) => e.event_id as string).sort());
    const dead = await queryRows<{ payload: string; reason: string }>(
      ch.client,
      'SELECT payload, reason FROM dead_letters WHERE has({models:Array(String)}, model_id)',
      { models },
    );
    expect(dead).toHaveLength(bad.length);
    for (const b of bad) expect(dead.find((d) => d.payload === JSON.stringify(b.e))?.reason).toContain(b.expect);

    // HTTP: the same check answers the request, per record.
    const posted = await ingestHttp(
      new ClickHouseIngestRepository(ch.client),
      [
        { ...good[0]!, event_id: `${multiclass}-http-ok` },
        { ...bad[0]!.e, event_id: `${multiclass}-http-bad` },
      ],
      'events',
    );
    expect(posted.accepted).toBe(1);
    expect(posted.rejected).toEqual([
      { index: 1, reason: expect.stringContaining('prediction.probabilities.dgo: class "dgo"') },
    ]);
  });
  it('checks labels that name their model against its declared kind, over Kafka and HTTP; labels naming no model are stored as before', async () => {
    const multiclass = uniqueName('label-mc');
    const regression = uniqueName('label-reg');
    const binary = uniqueName('label-bin');
    await declareModelKind(ch.client, multiclass, { kind: 'multiclass', classes: ['cat', 'dog', 'bird'] }, 'test');
    await declareModelKind(ch.client, regression, { kind: 'regression' }, 'test');
    const at = 1_760_000_100_000;
    const labelOf = (id: string, value: unknown, model?: string): Record<string, unknown> => ({
      event_id: `${multiclass}-${id}`,
      ...(model ? { model_id: model } : {}),
      label: value,
      timestamp: at,
    });
    const good = [
      labelOf('ok-class', 'dog', multiclass),
      labelOf('ok-value', 12.5, regression),
      // A binary (undeclared) model's labels are not checked beyond the contract.
      labelOf('ok-binary', 'yes', binary),
      // No model named: nothing says which model's classes apply; stored as before.
      labelOf('ok-unnamed', 'fish'),
    ];
    const bad = [
      {
        l: labelOf('bad-class', 'fish', multiclass),
        expect: `label: label "fish" is not one of model ${multiclass}'s classes ("cat", "dog", "bird"): send one of them, or re-declare the classes (halflife models register ${multiclass} --kind multiclass --classes cat,dog,bird,fish)`,
      },
      {
        l: labelOf('bad-text', '12.5', regression),
        expect: `label "12.5" of model ${regression} is not a number, and ${regression} is a regression model: send it as a JSON number (12.5, not "12.5")`,
      },
      { l: labelOf('bad-bool', true, regression), expect: 'send the observed value as a finite JSON number' },
    ];
    await produceAll(config, config.kafka.labelsTopic, [
      ...good.map((l) => ({ key: 'label-kind', value: JSON.stringify(l) })),
      ...bad.map((b) => ({ key: 'label-kind', value: JSON.stringify(b.l) })),
    ]);
    const worker = new IngestWorker({ config, repository: new ClickHouseIngestRepository(ch.client) });
    await worker.start();
    const m = worker.metrics;
    await waitUntil(
      'every label accounted for',
      () => m.inserted_labels_total + m.dead_letters_total >= good.length + bad.length,
      120_000,
    );
    await worker.stop();
    const ids = [...good, ...bad.map((b) => b.l)].map((l) => l.event_id as string);
    const stored = await queryRows<{ event_id: string; label: string }>(
      ch.client,
      'SELECT event_id, label FROM labels FINAL WHERE has({ids:Array(String)}, event_id) ORDER BY event_id',
      { ids },
    );
    expect(stored.map((r) => r.event_id).sort()).toEqual(good.map((l) => l.event_id as string).sort());
    const dead = await queryRows<{ payload: string; reason: string; error_path: string; topic: string }>(
      ch.client,
      `SELECT payload, reason, error_path, topic FROM dead_letters
       WHERE topic = {topic:String} AND position(payload, {prefix:String}) > 0`,
      { topic: config.kafka.labelsTopic, prefix: multiclass },
    );
    expect(dead).toHaveLength(bad.length);
    for (const b of bad) {
      const d = dead.find((x) => x.payload === JSON.stringify(b.l));
      expect(d?.reason, String(b.l.event_id)).toContain(b.expect);
      expect(d?.error_path).toBe('label');
    }

    // HTTP: the same check answers the request, per label.
    const posted = await ingestHttp(
      new ClickHouseIngestRepository(ch.client),
      [labelOf('http-ok', 'bird', multiclass), labelOf('http-bad', 'Bird', multiclass)],
      'labels',
    );
    expect(posted.accepted).toBe(1);
    expect(posted.rejected).toEqual([
      { index: 1, reason: expect.stringContaining('label: label "Bird" is not one of') },
    ]);
  });
});
