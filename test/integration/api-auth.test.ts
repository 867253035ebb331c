import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, revokeToken, TokenStore, tokensFile } from '../../platform/auth.ts';
import { openClickHouse, queryRows, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { ClickHouseRegistryRepository } from '../../platform/clickhouse/registry-repository.ts';
import type { HalflifeConfig } from '../../platform/config.ts';
import { createLogger } from '../../platform/logger.ts';
import { buildApi } from '../../workers/api.ts';
import { decisionRoutes } from '../../workers/routes/decisions.ts';
import { operatorRoutes } from '../../workers/routes/operator-api.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';
import { seedModel, type SeededModel } from './audit-fixtures.ts';

const ADMIN = 'test-admin-token-0123456789';

describe('operator API: token roles, injection, access log', () => {
  let config: HalflifeConfig;
  let ch: ClickHouse;
  let app: FastifyInstance;
  let seeded: SeededModel;
  let viewer: string;
  let operator: string;

  beforeAll(async () => {
    config = testConfig({ api: { token: ADMIN }, kafka: { modelUpdatesTopic: uniqueName('updates') } });
    ch = await openClickHouse(config);
    await applyMigrations(ch.client);
    seeded = await seedModel(ch.client, config.dataDir, uniqueName('auth-model'));
    const tokens = new TokenStore();
    tokens.add(ADMIN, { name: 'admin', role: 'admin' });
    tokens.useFile(tokensFile(config));
    viewer = createToken(tokensFile(config), 'vera', 'viewer', 'test').token;
    operator = createToken(tokensFile(config), 'otto', 'operator', 'test').token;
    app = await buildApi({
      tokens,
      logger: createLogger('test', 'warn'),
      readiness: {},
      routes: [
        ...operatorRoutes({ config, clickhouse: ch.client, log: createLogger('test', 'warn') }),
        decisionRoutes(ch.client),
      ],
    });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await ch?.close();
  });

  const call = async (method: 'GET' | 'POST' | 'PUT', url: string, token: string | null, body?: unknown) => {
    const response = await app.inject({
      method,
      url,
      headers: {
        'user-agent': 'api-auth-test/1.0',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
    return {
      status: response.statusCode,
      body: response.headers['content-type']?.toString().includes('json')
        ? (response.json() as unknown)
        : response.body,
    };
  };

  /** Everything a refused request must not have changed. */
  const state = async () => {
    const registry = new ClickHouseRegistryRepository(ch.client);
    const versions = (await registry.listVersions(seeded.model)).map((v) => `${v.version}:${v.stage}`);
    const counts = await queryRows<{ t: string; n: string }>(
      ch.client,
      `SELECT 'decisions' AS t, count() AS n FROM decisions UNION ALL SELECT 'events', count() FROM scoring_events UNION ALL SELECT 'labels', count() FROM labels
       UNION ALL SELECT 'stages', count() FROM model_stage_events UNION ALL SELECT 'lineage', count() FROM training_lineage UNION ALL SELECT 'dead', count() FROM dead_letters
       UNION ALL SELECT 'tables', count() FROM system.tables WHERE database = currentDatabase()`,
    );
    return { versions, counts: Object.fromEntries(counts.map((c) => [c.t, Number(c.n)])) };
  };

  const writes = () => {
    const m = seeded.model;
    return [
      { method: 'POST' as const, url: `/v1/models/${m}/versions/v1/promote`, body: {}, role: 'operator' },
      { method: 'POST' as const, url: `/v1/models/${m}/rollback`, body: {}, role: 'operator' },
      { method: 'POST' as const, url: `/v1/models/${m}/versions/v1/archive`, body: {}, role: 'operator' },
      { method: 'POST' as const, url: `/v1/monitors/${m}/approve`, body: {}, role: 'operator' },
      { method: 'POST' as const, url: `/v1/monitors/${m}/reject`, body: {}, role: 'operator' },
      { method: 'POST' as const, url: `/v1/monitors/${m}/pause`, body: {}, role: 'operator' },
      { method: 'POST' as const, url: `/v1/monitors/${m}/resume`, body: {}, role: 'operator' },
      { method: 'POST' as const, url: `/v1/monitors/${m}/retrain`, body: {}, role: 'operator' },
      { method: 'PUT' as const, url: `/v1/monitors/${m}/policy`, body: { yaml: 'x: 1' }, role: 'operator' },
      { method: 'POST' as const, url: '/v1/gdpr/erase', body: { subject: 'alice' }, role: 'admin' },
      { method: 'GET' as const, url: `/v1/audit/accessed/${m}`, body: undefined, role: 'admin' },
      { method: 'GET' as const, url: `/v1/audit/trained-on/${m}/v2`, body: undefined, role: 'operator' },
    ];
  };

  it('refuses missing and unknown tokens (401) and too-low roles (403), and nothing changes', async () => {
    const before = await state();
    for (const w of writes()) {
      expect((await call(w.method, w.url, null, w.body)).status, `${w.method} ${w.url} without a token`).toBe(401);
      expect(
        (await call(w.method, w.url, 'hl_not-a-real-token-at-all', w.body)).status,
        `${w.method} ${w.url} with a wrong token`,
      ).toBe(401);
      expect((await call(w.method, w.url, viewer, w.body)).status, `${w.method} ${w.url} as viewer`).toBe(403);
      if (w.role === 'admin')
        expect((await call(w.method, w.url, operator, w.body)).status, `${w.method} ${w.url} as operator`).toBe(403);
    }
    // A forced retrain overrides guards: admin only, even for an operator.
    expect((await call('POST', `/v1/monitors/${seeded.model}/retrain`, operator, { force: true })).status).toBe(403);
    expect(await state()).toEqual(before);
    // Viewers read.
    expect((await call('GET', '/v1/models', viewer)).status).toBe(200);
    expect((await call('GET', `/v1/models/${seeded.model}/versions/v2`, viewer)).body).toMatchObject({
      version: 'v2',
      stage: 'production',
    });
  });

  it('treats SQL-like and path-like strings in every parameter as plain values', async () => {
    const before = await state();
    const evil = [
      "'; DROP TABLE scoring_events; --",
      "\\' OR 1=1 --",
      '../../etc/passwd',
      '..%2F..%2Fetc%2Fpasswd',
      '{m:String}',
      'x\u0000y',
      "v1' OR '1'='1",
    ];
    const m = seeded.model;
    for (const s of evil) {
      const e = encodeURIComponent(s);
      const attempts: Array<[string, string, unknown?]> = [
        ['GET', `/v1/models/${e}`],
        ['GET', `/v1/models/${m}?stage=${e}`],
        ['GET', `/v1/models/${e}/versions/v1`],
        ['GET', `/v1/models/${m}/versions/${e}`],
        ['GET', `/v1/models/${m}/versions/${e}/artifact`],
        ['GET', `/v1/audit/scored-by/${e}`],
        ['GET', `/v1/audit/trained-on/${e}/v2`],
        ['GET', `/v1/audit/trained-on/${m}/${e}`],
        ['GET', `/v1/audit/accessed/${e}`],
        ['GET', `/v1/audit/accessed/${m}?actor=${e}`],
        ['GET', `/v1/audit/accessed/${m}?since=${e}`],
        ['GET', `/v1/audit/history/${e}`],
        ['GET', `/v1/audit/lineage/${e}`],
        ['GET', `/v1/monitors/${e}`],
        ['GET', `/v1/decisions?model=${e}&kind=${e}`],
        ['GET', `/v1/decisions/${e}`],
        ['POST', `/v1/models/${e}/versions/v1/promote`, {}],
        ['POST', `/v1/models/${m}/versions/${e}/promote`, {}],
        ['POST', `/v1/models/${m}/versions/${e}/archive`, { reason: s, as: s }],
        ['POST', `/v1/models/${m}/rollback`, { to: s }],
        ['POST', `/v1/monitors/${e}/pause`, { reason: s }],
        ['PUT', `/v1/monitors/${m}/policy`, { yaml: s }],
        ['POST', '/v1/policies/validate', { yaml: s }],
        ['POST', '/v1/gdpr/erase', { subject: s, dryRun: true }],
        ['POST', '/v1/gdpr/erase', { subject: s, as: s }],
      ];
      for (const [method, url, body] of attempts) {
        const r = await call(method as 'GET', url, ADMIN, body);
        expect(r.status, `${method} ${url} → ${JSON.stringify(r.body).slice(0, 200)}`).toBeLessThan(500);
        if (r.status === 200 && url.startsWith('/v1/gdpr'))
          expect((r.body as { deleted: Record<string, number> }).deleted).toEqual({
            labels: 0,
            shadow_results: 0,
            validation_outputs: 0,
            shadow_outcome_results: 0,
            dead_letters: 0,
            training_lineage: 0,
            scoring_events: 0,
          });
        if (r.status === 200 && url.startsWith('/v1/audit/scored-by'))
          expect((r.body as { scorings: unknown[] }).scorings).toEqual([]);
        if (r.status === 200 && url.startsWith('/v1/decisions?')) expect(r.body).toEqual([]);
      }
      // Unencoded path traversal never reaches a handler with a file path.
      expect(
        (await call('GET', `/v1/models/${m}/versions/../../../../etc/passwd/artifact`, ADMIN)).status,
      ).toBeGreaterThanOrEqual(400);
    }
    const after = await state();
    // Only gdpr-erasure decisions (recorded for each erase, none deleting anything) were added.
    expect(after.versions).toEqual(before.versions);
    expect({ ...after.counts, decisions: 0 }).toEqual({ ...before.counts, decisions: 0 });
  });

  it('records a model read and a write in the access log: who, role, what, when, from where, outcome', async () => {
    const started = Date.now();
    expect((await call('GET', `/v1/models/${seeded.model}/versions/v2`, viewer)).status).toBe(200);
    expect(
      (await call('POST', `/v1/models/${seeded.model}/versions/v1/archive`, viewer, { reason: 'not allowed' })).status,
    ).toBe(403);
    const promote = await call('POST', `/v1/models/${seeded.model}/versions/v1/promote`, operator, {
      reason: 'back to v1 for the test',
      as: 'olga',
    });
    expect(promote.status).toBe(200);
    expect(promote.body).toMatchObject({
      version: 'v1',
      previousVersion: 'v2',
      decisionId: expect.stringMatching(/^manual-/),
    });
    // The access hook runs after each response is sent: poll briefly rather than race it.
    let entries: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 20 && !entries.some((e) => e.route === '/v1/models/:model/versions/:version/promote'); i++) {
      const log = await call('GET', `/v1/audit/accessed/${seeded.model}?since=${started}`, ADMIN);
      expect(log.status).toBe(200);
      entries = log.body as Array<Record<string, unknown>>;
      if (!entries.some((e) => e.route === '/v1/models/:model/versions/:version/promote'))
        await new Promise((r) => setTimeout(r, 100));
    }
    const read = entries.find((e) => e.method === 'GET' && e.route === '/v1/models/:model/versions/:version');
    expect(read).toMatchObject({
      actor: 'vera',
      role: 'viewer',
      source: 'api',
      action: 'read',
      modelId: seeded.model,
      modelVersion: 'v2',
      status: 200,
      ip: '127.0.0.1',
      userAgent: 'api-auth-test/1.0',
    });
    expect(Date.parse(read?.at as string)).toBeGreaterThanOrEqual(started - 1000);
    expect(entries.find((e) => e.method === 'POST' && e.status === 403)).toMatchObject({
      actor: 'vera',
      role: 'viewer',
      action: 'write',
      route: '/v1/models/:model/versions/:version/archive',
    });
    expect(entries.find((e) => e.route === '/v1/models/:model/versions/:version/promote')).toMatchObject({
      actor: 'otto',
      role: 'operator',
      action: 'write',
      modelVersion: 'v1',
      status: 200,
    });
    const registry = new ClickHouseRegistryRepository(ch.client);
    expect((await registry.productionVersion(seeded.model))?.version).toBe('v1');
    expect((await registry.stageHistory(seeded.model, 'v1')).at(-1)).toMatchObject({
      toStage: 'production',
      actor: 'olga (token otto)',
    });
  });

  it('serves an OpenAPI document covering every route with its role', async () => {
    const doc = (await call('GET', '/openapi.json', null)).body as {
      paths: Record<string, Record<string, { 'x-halflife-role': string }>>;
    };
    expect(doc.paths['/v1/gdpr/erase']?.post?.['x-halflife-role']).toBe('admin');
    expect(doc.paths['/v1/models/{model}/versions/{version}/promote']?.post?.['x-halflife-role']).toBe('operator');
    expect(doc.paths['/v1/decisions']?.get?.['x-halflife-role']).toBe('viewer');
    expect(Object.keys(doc.paths).length).toBeGreaterThan(15);
  });

  it('takes a revoked token away within about a second', async () => {
    expect((await call('GET', '/v1/models', viewer)).status).toBe(200);
    revokeToken(tokensFile(config), 'vera', 'test');
    await new Promise((r) => setTimeout(r, 1100));
    expect((await call('GET', '/v1/models', viewer)).status).toBe(401);
  });
});
