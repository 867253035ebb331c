import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore } from '../../platform/auth.ts';
import { queryRows, type ClickHouse } from '../../platform/clickhouse/client.ts';
import type { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import type { HalflifeConfig } from '../../platform/config.ts';
import { ConfigError } from '../../platform/errors.ts';
import { createLogger } from '../../platform/logger.ts';
import { buildApi } from '../../workers/api.ts';
import { openApiRoutes } from '../../workers/openapi.ts';
import { HttpIngestLog } from '../../workers/ingest/http-log.ts';
import { IngestWorker } from '../../workers/ingest/kafka-worker.ts';
import { timestampWindowOf } from '../../workers/ingest/prepare-record.ts';
import { ingestRoutes, type HttpAcknowledgement } from '../../workers/routes/ingest.ts';
import { createKafka, createProducer, ensureTopics } from '../../platform/kafka.ts';
import { singleRecordBatchBytes } from '../../platform/kafka-record-size.ts';
import { signedSourceHeaders, SOURCE_HEADER } from '../../workers/ingest/provenance-header.ts';
import { ingestProvenanceKey } from '../../workers/ingest/provenance-key.ts';
import { groupProgress, ingestTestConfig, label, openIngestStore, scoringEvent, waitUntil } from '../helpers/kafka.ts';
import { uniqueName } from '../helpers/stack.ts';

/**
 * POST /v1/events and /v1/labels with `ack=logged` on the real broker and chDB: the answer comes
 * once Kafka holds the valid records, the Kafka ingest worker lands them exactly once (a re-POST
 * of the same body included) with the HTTP source an `ack=stored` POST keeps, invalid records and
 * records too large for the broker are rejected in the answer and kept as dead letters at once,
 * a provenance header no one signed is ignored, and `ack=stored` answers as before.
 */
const TOKEN = 'http-ingest-logged-token-0123';
/** The source the token's records are stored with. */
const SOURCE = 'http:logged-test';

describe('HTTP ingest acknowledged once logged (ack=logged)', () => {
  let config: HalflifeConfig;
  let ch: ClickHouse;
  let repo: ClickHouseIngestRepository;
  let worker: IngestWorker;
  let log: HttpIngestLog;
  const apps: FastifyInstance[] = [];

  /** An API with the ingest routes only, acknowledging as `acknowledgement` says. */
  async function api(acknowledgement?: HttpAcknowledgement): Promise<FastifyInstance> {
    const tokens = new TokenStore();
    tokens.add(TOKEN, { name: 'logged-test', role: 'operator' });
    const app = await buildApi({
      tokens,
      logger: createLogger('test', 'silent'),
      readiness: {},
      routes: [openApiRoutes(), ingestRoutes(repo, timestampWindowOf(config), undefined, acknowledgement)],
    });
    apps.push(app);
    return app;
  }

  const post = async (app: FastifyInstance, url: string, body: unknown) => {
    const answer = await app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
    return { status: answer.statusCode, body: answer.json<Record<string, unknown>>() };
  };

  /** Every record produced so far is stored and its offset committed by the ingest worker. */
  const landed = () =>
    waitUntil(
      'the ingest worker to commit every logged record',
      async () => {
        const { end, committed } = await groupProgress(config, config.ingest.groupId, [
          config.kafka.scoringEventsTopic,
          config.kafka.labelsTopic,
        ]);
        return end > 0 && committed === end;
      },
      60_000,
      250,
    );

  const count = async (query: string, params: Record<string, unknown>) =>
    Number((await queryRows<{ n: string }>(ch.client, query, params))[0]!.n);

  beforeAll(async () => {
    config = ingestTestConfig();
    ({ ch, repo } = await openIngestStore(config));
    worker = new IngestWorker({ config, repository: repo, createTopics: false, statsIntervalMs: 0 });
    await worker.start();
    log = new HttpIngestLog(config);
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await log?.close();
    await worker?.stop();
    await ch?.close();
  });

  it('answers 202/207 once logged; valid events land exactly once (posted twice), invalid ones are rejected and dead-lettered', async () => {
    const app = await api({ default: 'stored', log });
    const model = uniqueName('logged');
    const valid = Array.from({ length: 40 }, (_, i) => scoringEvent(i, model, { numeric: 3, categorical: 1 }));
    const noVersion = scoringEvent(100, model, { numeric: 3, categorical: 1 });
    delete noVersion.model_version;
    const badScore = { ...scoringEvent(101, model, { numeric: 3, categorical: 1 }), prediction: { score: 'high' } };
    const body = [...valid.slice(0, 20), noVersion, ...valid.slice(20), badScore];

    const first = await post(app, '/v1/events?ack=logged', body);
    expect(first.status).toBe(207);
    expect(first.body.logged).toBe(40);
    expect(first.body).not.toHaveProperty('accepted');
    const rejected = first.body.rejected as { index: number; reason: string }[];
    expect(rejected.map((r) => r.index)).toEqual([20, 41]);
    expect(rejected[0]!.reason).toContain('model_version');
    expect(rejected[1]!.reason).toContain('prediction.score');
    // Dead letters are stored before the answer, as with ack=stored.
    const deadOf = { model, source: 'http' };
    const deadQuery =
      'SELECT count() AS n FROM dead_letters WHERE model_id = {model:String} AND source = {source:String}';
    expect(await count(deadQuery, deadOf)).toBe(2);

    const again = await post(app, '/v1/events?ack=logged', body);
    expect(again.status).toBe(207);
    expect(again.body.logged).toBe(40);
    await landed();
    // No FINAL: exactly once at landing, not by a later merge.
    const rows = await queryRows<{ event_id: string; n: string }>(
      ch.client,
      'SELECT event_id, count() AS n FROM scoring_events WHERE model_id = {model:String} GROUP BY event_id ORDER BY event_id',
      { model },
    );
    expect(rows).toHaveLength(40);
    expect(rows.every((r) => Number(r.n) === 1)).toBe(true);
    expect(new Set(rows.map((r) => r.event_id))).toEqual(new Set(valid.map((e) => e.event_id as string)));
    expect(await count(deadQuery, deadOf)).toBe(2);

    // All valid: 202, nothing rejected.
    const clean = await post(app, '/v1/events?ack=logged', [scoringEvent(200, model, { numeric: 3, categorical: 1 })]);
    expect(clean).toEqual({ status: 202, body: { logged: 1, rejected: [] } });
    await landed();
    expect(await count('SELECT count() AS n FROM scoring_events WHERE model_id = {model:String}', { model })).toBe(41);
  });

  it('labels too: logged, landed once, an invalid one rejected and dead-lettered', async () => {
    const app = await api({ default: 'stored', log });
    const model = uniqueName('logged-labels');
    const ids = Array.from({ length: 10 }, (_, i) => `${model}-e${i}`);
    const labels = ids.map((id, i) => label(id, i));
    const noTimestamp = { event_id: `${model}-bad`, label: 1 };
    const body = [...labels, noTimestamp];
    for (let round = 0; round < 2; round++) {
      const answer = await post(app, '/v1/labels?ack=logged', body);
      expect(answer.status).toBe(207);
      expect(answer.body.logged).toBe(10);
      expect((answer.body.rejected as { index: number }[]).map((r) => r.index)).toEqual([10]);
    }
    await landed();
    const stored = await queryRows<{ event_id: string; n: string }>(
      ch.client,
      'SELECT event_id, count() AS n FROM labels WHERE event_id IN {ids:Array(String)} GROUP BY event_id',
      { ids },
    );
    expect(stored).toHaveLength(10);
    expect(stored.every((r) => Number(r.n) === 1)).toBe(true);
    const dead = await queryRows<{ reason: string }>(
      ch.client,
      "SELECT reason FROM dead_letters WHERE source = 'http' AND positionCaseInsensitive(payload, {bad:String}) > 0",
      { bad: `${model}-bad` },
    );
    expect(dead).toHaveLength(1);
    expect(dead[0]!.reason).toContain('timestamp');
  });

  it('the setting makes logged the default; ack=stored still stores before answering, as before', async () => {
    const app = await api({ default: 'logged', log });
    const model = uniqueName('logged-default');
    const events = Array.from({ length: 5 }, (_, i) => scoringEvent(i, model, { numeric: 2, categorical: 0 }));
    const byDefault = await post(app, '/v1/events', events);
    expect(byDefault).toEqual({ status: 202, body: { logged: 5, rejected: [] } });

    const storedModel = uniqueName('stored');
    const storedEvents = Array.from({ length: 5 }, (_, i) =>
      scoringEvent(i, storedModel, { numeric: 2, categorical: 0 }),
    );
    const stored = await post(app, '/v1/events?ack=stored', storedEvents);
    expect(stored).toEqual({ status: 200, body: { accepted: 5, duplicates: 0, rejected: [] } });
    // Stored when answered: no waiting for the ingest worker.
    const storedCount = 'SELECT count() AS n FROM scoring_events WHERE model_id = {model:String}';
    expect(await count(storedCount, { model: storedModel })).toBe(5);
    const storedAgain = await post(app, '/v1/events?ack=stored', storedEvents);
    expect(storedAgain).toEqual({ status: 200, body: { accepted: 0, duplicates: 5, rejected: [] } });

    await landed();
    expect(await count(storedCount, { model })).toBe(5);
  });

  /** Each stored event of `model`: its source and source_ref. */
  const sources = (model: string) =>
    queryRows<{ event_id: string; source: string; source_ref: string }>(
      ch.client,
      'SELECT event_id, source, source_ref FROM scoring_events WHERE model_id = {model:String} ORDER BY event_id',
      { model },
    );

  it('a logged record keeps the HTTP source a stored one gets: http:<token name>, events and labels', async () => {
    const app = await api({ default: 'stored', log });
    const model = uniqueName('logged-source');
    const events = Array.from({ length: 4 }, (_, i) => scoringEvent(i, model, { numeric: 2, categorical: 1 }));
    expect((await post(app, '/v1/events?ack=logged', events.slice(0, 2))).status).toBe(202);
    expect((await post(app, '/v1/events?ack=stored', events.slice(2))).status).toBe(200);
    const labels = events.map((e, i) => label(e.event_id as string, i));
    expect((await post(app, '/v1/labels?ack=logged', labels)).status).toBe(202);
    await landed();
    expect(await sources(model)).toEqual(
      events.map((e) => ({ event_id: e.event_id, source: 'http', source_ref: SOURCE })),
    );
    const labelSources = await queryRows<{ source: string; source_ref: string }>(
      ch.client,
      'SELECT source, source_ref FROM labels WHERE event_id IN {ids:Array(String)}',
      { ids: events.map((e) => e.event_id as string) },
    );
    expect(labelSources).toEqual(events.map(() => ({ source: 'http', source_ref: SOURCE })));
  });

  it('a provenance header no one signed is ignored: the record lands as kafka, with its coordinate, and is counted', async () => {
    const model = uniqueName('forged-source');
    const events = Array.from({ length: 5 }, (_, i) => scoringEvent(i, model, { numeric: 2, categorical: 1 }));
    const values = events.map((e) => JSON.stringify(e));
    const key = ingestProvenanceKey(config);
    const otherKey = Buffer.from('a key that is not the daemon key, 32+ chars');
    const messages = [
      // Signed, but with another key.
      { key: model, value: values[0]!, headers: signedSourceHeaders(otherKey, 'http:admin', values[0]!) },
      // A genuine pair, copied from another record's message onto this one.
      { key: model, value: values[1]!, headers: signedSourceHeaders(key, SOURCE, values[0]!) },
      // A source and no signature.
      { key: model, value: values[2]!, headers: { [SOURCE_HEADER]: 'http:admin' } },
      // The genuine pair with its source changed.
      {
        key: model,
        value: values[3]!,
        headers: { ...signedSourceHeaders(key, SOURCE, values[3]!), [SOURCE_HEADER]: 'http:admin' },
      },
      // Signed with the daemon's key: whoever holds the key is believed, whatever produced it.
      { key: model, value: values[4]!, headers: signedSourceHeaders(key, SOURCE, values[4]!) },
    ];
    const unverifiedBefore = worker.metrics.unverified_sources_total;
    const producer = createProducer(createKafka(config, { clientId: 'halflife-test-forger' }));
    await producer.connect();
    try {
      await producer.send({ topic: config.kafka.scoringEventsTopic, acks: -1, messages });
    } finally {
      await producer.disconnect();
    }
    await landed();
    const rows = await sources(model);
    expect(rows.map((r) => r.event_id)).toEqual(events.map((e) => e.event_id));
    const coordinate = new RegExp(`^${config.kafka.scoringEventsTopic}:\\d+:\\d+$`);
    for (const row of rows.slice(0, 4)) {
      expect(row.source, row.event_id).toBe('kafka');
      expect(row.source_ref, row.event_id).toMatch(coordinate);
    }
    expect(rows[4]).toMatchObject({ source: 'http', source_ref: SOURCE });
    expect(worker.metrics.unverified_sources_total - unverifiedBefore).toBe(4);
  });

  it('measures a message as the broker does: a record batch of exactly the limit is taken, one byte more is refused', async () => {
    const limit = config.kafka.maxMessageBytes;
    expect(limit).toBe(1_048_588);
    const topic = uniqueName('max-message');
    await ensureTopics(config, [topic]);
    /** A message of `bytes` record-batch bytes, with a key and headers as the log sends. */
    const sized = (bytes: number) => {
      const headers = signedSourceHeaders(ingestProvenanceKey(config), SOURCE, 'x');
      const message = { key: 'model', value: Buffer.alloc(bytes - 200, 'x'), headers };
      message.value = Buffer.alloc(message.value.length + bytes - singleRecordBatchBytes(message), 'x');
      expect(singleRecordBatchBytes(message)).toBe(bytes);
      return message;
    };
    const producer = createProducer(createKafka(config, { clientId: 'halflife-test-sizes' }));
    await producer.connect();
    try {
      await producer.send({ topic, acks: -1, messages: [sized(limit)] });
      await expect(producer.send({ topic, acks: -1, messages: [sized(limit + 1)] })).rejects.toThrow(
        /larger than the max message size/,
      );
    } finally {
      await producer.disconnect();
    }
  });

  it('a record too large for the broker is rejected and dead-lettered, naming its size, the limit and the setting; the rest are logged', async () => {
    const app = await api({ default: 'stored', log });
    const limit = config.kafka.maxMessageBytes;
    const model = uniqueName('oversized');
    /** A valid event whose message the log would produce is exactly `bytes` long. */
    const eventOf = (i: number, bytes: number) => {
      const event = scoringEvent(i, model, { numeric: 2, categorical: 0 });
      // Within the contract: metadata ≤ 64 keys of ≤ 4,096 chars, ≤ 1,000 features of ≤ 1,024 chars.
      event.metadata = Object.fromEntries(Array.from({ length: 64 }, (_, k) => [`m${k}`, 'm'.repeat(4096)]));
      const features = event.features as Record<string, unknown>;
      const gap = () => bytes - log.message('events', event, SOURCE).bytes;
      let f = 0;
      // Whole features of 1,024 chars (~1,035 bytes each) in bulk, then the rest feature by feature,
      // each leaving room for the next one's name.
      while (gap() > 5000) {
        for (let n = Math.floor((gap() - 3000) / 1040); n > 0; n--) features[`p${f++}`] = 'p'.repeat(1024);
      }
      while (gap() > 0) {
        const name = `p${f++}`;
        features[name] = '';
        const left = gap();
        features[name] = 'p'.repeat(left > 1024 ? Math.min(1024, left - 20) : left);
      }
      expect(gap()).toBe(0);
      return event;
    };
    const atLimit = eventOf(0, limit);
    const overLimit = eventOf(1, limit + 1);
    const small = scoringEvent(2, model, { numeric: 2, categorical: 0 });
    const body = [atLimit, overLimit, small];
    for (let round = 0; round < 2; round++) {
      const answer = await post(app, '/v1/events?ack=logged', body);
      expect(answer.status).toBe(207);
      expect(answer.body.logged).toBe(2);
      const rejected = answer.body.rejected as { index: number; reason: string }[];
      expect(rejected.map((r) => r.index)).toEqual([1]);
      expect(rejected[0]!.reason).toContain(`${limit + 1} bytes`);
      expect(rejected[0]!.reason).toContain(`${limit}-byte limit`);
      expect(rejected[0]!.reason).toContain('kafka.maxMessageBytes');
      expect(rejected[0]!.reason).toContain('ack=stored');
    }
    await landed();
    expect((await sources(model)).map((r) => r.event_id)).toEqual([atLimit.event_id, small.event_id]);
    // Kept once, though posted twice: its id is its payload's digest, as for any rejected record.
    const dead = await queryRows<{ reason: string; source: string; payload_bytes: string }>(
      ch.client,
      'SELECT reason, source, length(payload) AS payload_bytes FROM dead_letters WHERE model_id = {model:String}',
      { model },
    );
    expect(dead).toHaveLength(1);
    expect(dead[0]!.source).toBe('http');
    expect(dead[0]!.reason).toContain('kafka.maxMessageBytes');
    expect(Number(dead[0]!.payload_bytes)).toBeGreaterThan(limit - 1000);
    // ack=stored does not go through Kafka: the same record is stored.
    const stored = await post(app, '/v1/events?ack=stored', [overLimit]);
    expect(stored).toEqual({ status: 200, body: { accepted: 1, duplicates: 0, rejected: [] } });
  });

  it('refuses a bad ack value, and ack=logged without Kafka, naming the setting', async () => {
    const withLog = await api({ default: 'stored', log });
    const bad = await post(withLog, '/v1/events?ack=durable', [scoringEvent(0, 'x')]);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('ack must be one of stored, logged');

    const noKafka = await api();
    const model = uniqueName('no-kafka');
    const refused = await post(noKafka, '/v1/events?ack=logged', [scoringEvent(0, model)]);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('no-log');
    expect(refused.body.message).toContain('ingest.httpAcknowledge');
    expect(refused.body.message).toContain('ack=stored');
    // Nothing of a refused request is stored.
    expect(await count('SELECT count() AS n FROM scoring_events WHERE model_id = {model:String}', { model })).toBe(0);
    // Without Kafka, ack=stored (the default) still works.
    expect((await post(noKafka, '/v1/events', [scoringEvent(0, model)])).status).toBe(200);

    expect(() => ingestRoutes(repo, undefined, undefined, { default: 'logged' })).toThrow(ConfigError);
    expect(() => ingestRoutes(repo, undefined, undefined, { default: 'logged' })).toThrow(/ingest\.httpAcknowledge/);
  });

  it('documents ?ack= and both answers in the OpenAPI document', async () => {
    const app = await api({ default: 'stored', log });
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, { post: OpenApiOperation }>;
    }>();
    for (const path of ['/v1/events', '/v1/labels']) {
      const op = doc.paths[path]!.post;
      const ack = op.parameters.find((p) => p.name === 'ack');
      expect(ack, path).toMatchObject({ in: 'query', required: false, schema: { enum: ['stored', 'logged'] } });
      const shape = (status: string) =>
        Object.keys(op.responses[status]?.content?.['application/json']?.schema?.properties ?? {});
      expect(shape('200')).toEqual(['accepted', 'duplicates', 'rejected']);
      expect(shape('202')).toEqual(['logged', 'rejected']);
      expect(op.responses['202']!.description).toContain('cannot count them');
      expect(op.responses).toHaveProperty('503');
    }
  });
});

interface OpenApiOperation {
  parameters: { name: string; in: string; required: boolean; schema: unknown }[];
  responses: Record<
    string,
    { description: string; content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> }
  >;
}
