import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore } from '../../platform/auth.ts';
import { openClickHouse, queryRows, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import type { HalflifeConfig } from '../../platform/config.ts';
import { createLogger } from '../../platform/logger.ts';
import { freePort } from '../../local-services/process.ts';
import { buildApi } from '../../workers/api.ts';
import { operatorRoutes } from '../../workers/routes/operator-api.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';
import { seedModel, type SeededModel } from './audit-fixtures.ts';

const run = promisify(execFile);
const ADMIN = 'test-admin-token-0123456789';

describe('audit answers', () => {
  let config: HalflifeConfig;
  let ch: ClickHouse | undefined;
  let app: FastifyInstance | undefined;
  let seeded: SeededModel;

  beforeAll(async () => {
    config = testConfig({ api: { token: ADMIN, port: await freePort() } });
    ch = await openClickHouse(config);
    await applyMigrations(ch.client);
    seeded = await seedModel(ch.client, config.dataDir, uniqueName('audit-model'));
    const tokens = new TokenStore();
    tokens.add(ADMIN, { name: 'auditor', role: 'admin' });
    app = await buildApi({
      tokens,
      logger: createLogger('test', 'warn'),
      readiness: {},
      routes: operatorRoutes({ config, clickhouse: ch.client, log: createLogger('test', 'warn') }),
    });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await ch?.close();
  });

  const get = async (url: string) => {
    const r = await app!.inject({ method: 'GET', url, headers: { authorization: `Bearer ${ADMIN}` } });
    expect(r.statusCode, r.body).toBe(200);
    return r.json() as Record<string, unknown>;
  };

  it('scored-by: the version and artifact sha256 that scored an event, shadow included', async () => {
    const r = await get(`/v1/audit/scored-by/${seeded.events.alice[0]}`);
    expect(r.scorings).toEqual([
      expect.objectContaining({
        modelId: seeded.model,
        version: 'v1',
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        shadowOf: null,
      }),
      expect.objectContaining({
        modelId: `${seeded.model}.shadow`,
        version: 'v2',
        shadowOf: seeded.model,
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      }),
    ]);
  });

  it('trained-on: the records and subjects behind a version', async () => {
    const r = await get(`/v1/audit/trained-on/${seeded.model}/v2`);
    expect(r).toMatchObject({ total: 8, truncated: false, snapshot: { snapshotId: seeded.snapshotId, trainRows: 6 } });
    expect(
      (r.records as Array<{ eventId: string; subjectId: string; split: string }>).filter((x) => x.split === 'train'),
    ).toHaveLength(6);
    expect((await get(`/v1/audit/trained-on/${seeded.model}/v2?limit=3`)).truncated).toBe(true);
  });

  it('history and lineage: every decision and stage change; the chain to production', async () => {
    const h = (await get(`/v1/audit/history/${seeded.model}`)) as { entries: Array<{ type: string; kind: string }> };
    expect(h.entries.map((e) => e.kind)).toEqual(
      expect.arrayContaining(['approve', 'retrain', 'promote', 'candidate → production', 'production → archived']),
    );
    const l = (await get(`/v1/audit/lineage/${seeded.model}`)) as {
      production: string;
      chain: Array<Record<string, unknown>>;
    };
    expect(l.production).toBe('v2');
    expect(l.chain).toHaveLength(2);
    expect(l.chain[0]).toMatchObject({
      version: 'v2',
      snapshotId: seeded.snapshotId,
      retrainDecision: { decisionId: seeded.retrainDecisionId, kind: 'retrain' },
      promoteDecision: { decisionId: seeded.promoteDecisionId },
      preceding: [expect.objectContaining({ kind: 'approve', actor: 'carol' })],
      parentVersion: 'v1',
    });
    expect(l.chain[1]).toMatchObject({
      version: 'v1',
      trainer: 'import',
      retrainDecision: null,
      promotion: { actor: 'seed' },
    });
  });

  it('the CLI answers from the database directly when no daemon runs, and logs its access with source cli', async () => {
    await app?.close();
    await ch?.close();
    app = undefined;
    ch = undefined;
    const env = {
      ...process.env,
      HALFLIFE_DATA_DIR: config.dataDir,
      HALFLIFE_API_PORT: String(config.api.port),
      HALFLIFE_API_TOKEN: ADMIN,
      HALFLIFE_LOG_LEVEL: 'warn',
      HALFLIFE_CONFIG: '',
    };
    delete (env as Record<string, string | undefined>).HALFLIFE_CONFIG;
    const cli = (...args: string[]) => run('npx', ['tsx', 'cli/main.ts', ...args], { env, cwd: process.cwd() });
    const lineage = JSON.parse((await cli('audit', 'lineage', seeded.model, '--json', '--as', 'ines')).stdout) as {
      production: string;
    };
    expect(lineage.production).toBe('v2');
    const text = (await cli('models', 'show', seeded.model, 'v2', '--as', 'ines')).stdout;
    expect(text).toContain('sha256');
    const missing = await cli('audit', 'history', 'no-such-model').catch((e: { code: number }) => e);
    expect((missing as { code: number }).code).toBe(5);

    ch = await openClickHouse(config);
    const rows = await queryRows<{
      actor: string;
      source: string;
      route: string;
      model_id: string;
      model_version: string;
      status: number;
      role: string;
    }>(
      ch.client,
      "SELECT actor, source, route, model_id, model_version, status, role FROM access_log WHERE source = 'cli' ORDER BY at",
    );
    expect(rows).toEqual([
      expect.objectContaining({
        actor: 'ines',
        route: 'audit lineage',
        model_id: seeded.model,
        status: 200,
        role: 'local',
      }),
      expect.objectContaining({
        actor: 'ines',
        route: 'models show',
        model_id: seeded.model,
        model_version: 'v2',
        status: 200,
      }),
      expect.objectContaining({ route: 'audit history', model_id: 'no-such-model', status: 404 }),
    ]);
  });

  it('every not-found answer of audit, models and explain exits 5 (README, exit codes)', async () => {
    await ch?.close();
    ch = undefined;
    const env = {
      ...process.env,
      HALFLIFE_DATA_DIR: config.dataDir,
      HALFLIFE_API_PORT: String(config.api.port),
      HALFLIFE_API_TOKEN: ADMIN,
      HALFLIFE_LOG_LEVEL: 'warn',
    };
    delete (env as Record<string, string | undefined>).HALFLIFE_CONFIG;
    const cli = (...args: string[]) => run('npx', ['tsx', 'cli/main.ts', ...args], { env, cwd: process.cwd() });
    for (const args of [
      ['audit', 'scored-by', 'no-such-event'],
      ['audit', 'lineage', 'no-such-model'],
      ['audit', 'trained-on', seeded.model, 'v99'],
      ['models', 'list', 'no-such-model'],
      ['models', 'show', seeded.model, 'v99'],
      ['explain', 'no-such-decision'],
    ]) {
      const missing = (await cli(...args).catch((e: unknown) => e)) as { code?: number; stderr?: string };
      expect(missing.code, `halflife ${args.join(' ')}: ${missing.stderr ?? ''}`).toBe(5);
    }
  });
});
