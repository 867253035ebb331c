import http from 'node:http';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local-services/process.ts';
import { TokenStore } from '../../platform/auth.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { createLogger } from '../../platform/logger.ts';
import { buildApi, MAX_BODY_BYTES } from '../../workers/api.ts';
import { timestampWindowOf } from '../../workers/ingest/prepare-record.ts';
import { ingestRoutes } from '../../workers/routes/ingest.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';

/**
 * HTTP ingest over a real socket into real chDB, with what hostile or broken clients send:
 * oversized bodies without a token, invalid UTF-8, control characters in ids, overflowing
 * numbers, implausible timestamps, too many keys. Each is refused with a reason and stored,
 * if at all, as a dead letter — never as data.
 */
const TOKEN = 'input-limits-token-0123456789';

interface Answer {
  status: number;
  body: string;
}

/** A raw POST: the body is written as given (bytes, not re-encoded), and the answer is read even if the server stops reading the body. */
function post(port: number, path: string, body: Buffer, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-length': String(body.length), ...headers } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    // The server may answer and close before the whole body is written (that is the point).
    request.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err);
    });
    request.end(body);
  });
}

describe('HTTP ingest: input limits', () => {
  let ch: ClickHouse;
  let app: FastifyInstance;
  let port: number;
  const model = uniqueName('limits');

  beforeAll(async () => {
    const config = testConfig({ api: { token: TOKEN } });
    ch = await openClickHouse(config);
    await applyMigrations(ch.client);
    const tokens = new TokenStore();
    tokens.add(TOKEN, { name: 'admin', role: 'admin' });
    app = await buildApi({
      tokens,
      logger: createLogger('test', 'silent'),
      readiness: {},
      routes: [ingestRoutes(new ClickHouseIngestRepository(ch.client), timestampWindowOf(config))],
    });
    port = await freePort();
    await app.listen({ host: '127.0.0.1', port });
  });
  afterAll(async () => {
    await app?.close();
    await ch?.close();
  });

  const json = { 'content-type': 'application/json' };
  const auth = { ...json, authorization: `Bearer ${TOKEN}` };
  const event = (id: string, extra: Record<string, unknown> = {}) => ({
    event_id: id,
    model_id: model,
    model_version: 'v1',
    timestamp: Date.now() - 60_000,
    features: { x: 1.5, plan: 'pro' },
    prediction: { score: 0.4 },
    ...extra,
  });
  const stored = async (id: string) =>
    Number(
      (
        (await (
          await ch.client.query({
            query:
              'SELECT count() AS n FROM scoring_events FINAL WHERE model_id = {m:String} AND event_id = {id:String}',
            query_params: { m: model, id },
            format: 'JSONEachRow',
          })
        ).json()) as Array<{ n: string }>
      )[0]!.n,
    );

  it('refuses an unauthenticated 17 MB body with 401 before reading it; an authenticated one gets 413', async () => {
    const big = Buffer.alloc(MAX_BODY_BYTES + 1024 * 1024, 0x20);
    expect((await post(port, '/v1/events', big, json)).status).toBe(401);
    expect(
      (await post(port, '/v1/events', big, { ...json, authorization: 'Bearer wrong-token-0123456789' })).status,
    ).toBe(401);
    expect((await post(port, '/v1/events', big, auth)).status).toBe(413);
  });

  it('refuses a body that is not valid UTF-8 (an id with raw invalid bytes) and stores nothing', async () => {
    const text = JSON.stringify([event('utf8-XX')]);
    const bytes = Buffer.from(text);
    const at = bytes.indexOf('XX');
    bytes[at] = 0xc3; // a lead byte followed by ASCII: invalid
    bytes[at + 1] = 0x28;
    const answer = await post(port, '/v1/events', bytes, auth);
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('not valid UTF-8');
    expect(await stored('utf8-\ufffd(')).toBe(0);
  });

  it('dead-letters control characters in ids, overflowing numbers, implausible timestamps and 100,000 metadata keys', async () => {
    const cases: Array<[string, string, string]> = [
      // [event id, JSON text of the record, reason it must give]
      ['nul', JSON.stringify(event('nul\u0000id')), 'event_id: no control characters'],
      ['esc', JSON.stringify(event('esc', { model_version: 'v1\u001b[2J' })), 'model_version: no control characters'],
      [
        'inf',
        JSON.stringify(event('inf')).replace('"x":1.5', '"x":1e309'),
        'features.x: Infinity is not a finite number',
      ],
      ['y1900', JSON.stringify(event('y1900', { timestamp: '1900-01-01T00:00:00Z' })), 'earliest plausible time'],
      ['y9999', JSON.stringify(event('y9999', { timestamp: '9999-01-01T00:00:00Z' })), 'ahead of this machine'],
      [
        'meta',
        JSON.stringify(
          event('meta', { metadata: Object.fromEntries([...Array(100_000).keys()].map((i) => [`k${i}`, 'v'])) }),
        ),
        'at most 64 metadata keys',
      ],
    ];
    const body = Buffer.from(`[${[JSON.stringify(event('fine')), ...cases.map((c) => c[1])].join(',')}]`);
    const answer = await post(port, '/v1/events', body, auth);
    expect(answer.status, answer.body).toBe(207);
    const result = JSON.parse(answer.body) as { accepted: number; rejected: Array<{ index: number; reason: string }> };
    expect(result.accepted).toBe(1);
    expect(result.rejected.map((r) => r.index)).toEqual(cases.map((_c, i) => i + 1));
    cases.forEach(([, , reason], i) => expect(result.rejected[i]!.reason).toContain(reason));
    expect(await stored('fine')).toBe(1);
    for (const id of ['inf', 'y1900', 'y9999', 'meta', 'esc']) expect(await stored(id)).toBe(0);
    const dead = (await (
      await ch.client.query({
        query: "SELECT reason, payload FROM dead_letters FINAL WHERE model_id = {m:String} AND reason LIKE '%finite%'",
        query_params: { m: model },
        format: 'JSONEachRow',
      })
    ).json()) as Array<{ reason: string; payload: string }>;
    expect(dead).toHaveLength(1);
    expect(dead[0]!.payload).toContain('"x":"Infinity"');
  });
});
