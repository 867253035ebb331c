import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local-services/process.ts';
import { servicesStatus } from '../../local-services/stack.ts';
import { runDaemon, type Daemon } from '../../workers/daemon.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';

const TOKEN = 'test-admin-token-0123456789';

describe('daemon: API, HTTP ingest, readiness', () => {
  let daemon: Daemon;
  const model = uniqueName('http-model');

  beforeAll(async () => {
    const port = await freePort();
    const prefix = uniqueName('topics');
    daemon = await runDaemon({
      handleSignals: false,
      config: testConfig({
        api: { port, token: TOKEN },
        kafka: { scoringEventsTopic: `${prefix}.events`, labelsTopic: `${prefix}.labels` },
        ingest: { groupId: uniqueName('group') },
      }),
    });
  });
  afterAll(async () => {
    await daemon?.stop();
  });

  const post = (path: string, body: unknown, token: string | null = TOKEN, contentType = 'application/json') =>
    fetch(`${daemon.apiUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': contentType, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  const event = (id: string) => ({
    event_id: id,
    model_id: model,
    model_version: 'v1',
    timestamp: '2026-11-26T10:00:00Z',
    features: { x: 1.5, plan: 'pro' },
    prediction: { score: 0.7 },
  });

  it('is live and ready', async () => {
    expect((await fetch(`${daemon.apiUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${daemon.apiUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ready',
      checks: { clickhouse: { ok: true }, ingest: { ok: true }, kafka: { ok: true }, temporal: { ok: true } },
    });
  });

  it('services status reports the embedded chDB as open in this daemon, not as a service of its own', async () => {
    const [status] = (await servicesStatus(daemon.config)).filter((s) => s.name === 'clickhouse');
    expect(status).toMatchObject({ mode: 'embedded', healthy: null, state: 'in-daemon' });
  });

  it('refuses requests without a valid token and stores nothing', async () => {
    expect((await post('/v1/events', event('no-token'), null)).status).toBe(401);
    expect((await post('/v1/events', event('bad-token'), 'wrong-token-wrong-token')).status).toBe(401);
    const list = await fetch(`${daemon.apiUrl}/v1/decisions`);
    expect(list.status).toBe(401);
  });

  it('stores valid events once, dead-letters invalid ones with a reason', async () => {
    const first = await post('/v1/events', [event('h1'), event('h2'), { ...event('h3'), prediction: { score: 7 } }]);
    expect(first.status).toBe(207);
    const body = (await first.json()) as {
      accepted: number;
      duplicates: number;
      rejected: { index: number; reason: string }[];
    };
    expect(body.accepted).toBe(2);
    expect(body.rejected).toHaveLength(1);
    expect(body.rejected[0]).toMatchObject({ index: 2, reason: expect.stringContaining('prediction.score') });

    const again = await post(
      '/v1/events',
      `${JSON.stringify(event('h1'))}\n${JSON.stringify(event('h2'))}\n`,
      TOKEN,
      'application/x-ndjson',
    );
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ accepted: 0, duplicates: 2 });
  });

  it('rejects NDJSON with broken lines as a whole, naming the lines', async () => {
    const response = await post(
      '/v1/events',
      `${JSON.stringify(event('h9'))}\n{"broken":\n`,
      TOKEN,
      'application/x-ndjson',
    );
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toContain('lines 2');
  });
});
