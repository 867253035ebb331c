import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore } from '../../platform/auth.ts';
import { openClickHouse, queryRows, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { listDecisions } from '../../platform/clickhouse/decisions-repository.ts';
import { subjectDigest, type ErasureReport } from '../../operations/erase-subject.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { ClickHouseRegistryRepository } from '../../platform/clickhouse/registry-repository.ts';
import type { HalflifeConfig } from '../../platform/config.ts';
import { createLogger } from '../../platform/logger.ts';
import { LocalArtifactStore } from '../../platform/registry/artifact-store.ts';
import { buildApi } from '../../workers/api.ts';
import { operatorRoutes } from '../../workers/routes/operator-api.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';
import { seedModel, type SeededModel } from './audit-fixtures.ts';

const ADMIN = 'test-admin-token-0123456789';

/** Every row of every table of the database, as text: where a subject could hide. */
async function everyTable(ch: ClickHouse): Promise<Record<string, string>> {
  const tables = await queryRows<{ name: string }>(
    ch.client,
    'SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name',
  );
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    const result = await ch.client.query({ query: `SELECT * FROM ${name}`, format: 'JSONEachRow' });
    out[name] = (await result.text()).split('\n').sort().join('\n');
  }
  return out;
}

describe('GDPR erasure', () => {
  let config: HalflifeConfig;
  let ch: ClickHouse;
  let app: FastifyInstance;
  let seeded: SeededModel;
  const alice = `subject-alice-${randomUUID()}`;
  const bob = `subject-bob-${randomUUID()}`;

  beforeAll(async () => {
    config = testConfig({ api: { token: ADMIN } });
    ch = await openClickHouse(config);
    await applyMigrations(ch.client);
    seeded = await seedModel(ch.client, config.dataDir, uniqueName('gdpr-model'), { alice, bob });
    const tokens = new TokenStore();
    tokens.add(ADMIN, { name: 'dpo', role: 'admin' });
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

  const erase = async (body: unknown) => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/gdpr/erase',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as ErasureReport;
  };

  it('a dry run counts what would go and changes nothing', async () => {
    const before = await everyTable(ch);
    const report = await erase({ subject: alice, dryRun: true });
    expect(report.dryRun).toBe(true);
    // 4 events (+1 shadow scoring), 4 labels, 2 dead letters (one by subject, one by event id), 4 shadow results
    // (and 2 multiclass shadow pairs), 4 held-out validation outputs, 4 lineage rows.
    expect(report.deleted).toEqual({
      labels: 4,
      shadow_results: 4,
      validation_outputs: 4,
      shadow_outcome_results: 2,
      dead_letters: 2,
      training_lineage: 4,
      scoring_events: 5,
    });
    expect(report.tainted.map((t) => `${t.modelId} ${t.version}`)).toEqual([`${seeded.model} v2`]);
    const after = await everyTable(ch);
    // Only the access log grows (the request itself is recorded).
    expect({ ...after, access_log: '' }).toEqual({ ...before, access_log: '' });
  });

  it('erases every row of the subject, taints the versions trained on them, records it, and says what will be retrained', async () => {
    const report = await erase({ subject: alice, as: 'dpo-anna' });
    expect(report.dryRun).toBe(false);
    expect(report.remaining).toEqual({
      labels: 0,
      shadow_results: 0,
      validation_outputs: 0,
      shadow_outcome_results: 0,
      dead_letters: 0,
      training_lineage: 0,
      scoring_events: 0,
    });
    expect(report.tainted).toEqual([
      expect.objectContaining({
        modelId: seeded.model,
        version: 'v2',
        previousStage: 'production',
        changed: true,
        trainRows: 4,
        holdoutRows: 0,
      }),
    ]);
    // No monitor runs for this model: the report says so instead of pretending a retrain is coming.
    expect(report.retrains).toEqual([
      { modelId: seeded.model, requested: false, reason: expect.stringContaining('no monitor runs') },
    ]);
    expect(report.snapshotFiles.map((f) => f.removedRows).reduce((a, b) => a + b, 0)).toBe(4);

    // Not one trace of the subject or their events in any table; bob's rows are all there.
    const tables = await everyTable(ch);
    for (const [table, text] of Object.entries(tables)) {
      expect(text.includes(alice), `subject id in ${table}`).toBe(false);
      for (const id of seeded.events.alice) expect(text.includes(`"${id}"`), `event ${id} in ${table}`).toBe(false);
    }
    const bobRows = await queryRows<{ n: string }>(
      ch.client,
      'SELECT count() AS n FROM scoring_events WHERE subject_id = {s:String}',
      { s: bob },
    );
    expect(Number(bobRows[0]?.n)).toBe(4);
    expect(tables.labels?.includes(seeded.events.bob[0] as string)).toBe(true);

    // The snapshot files no longer hold the subject's rows.
    const train = await readFile(
      await LocalArtifactStore.forDataDir(config.dataDir).localPath(seeded.trainUri),
      'utf8',
    );
    for (const id of seeded.events.alice) expect(train).not.toContain(id);
    expect(train).toContain(seeded.events.bob[0]);

    // Tainted in the registry, with a stage event naming the erasure (by digest).
    const registry = new ClickHouseRegistryRepository(ch.client);
    expect((await registry.getVersion(seeded.model, 'v2'))?.stage).toBe('tainted');
    expect((await registry.getVersion(seeded.model, 'v1'))?.stage).toBe('archived');
    const digest = subjectDigest(alice);
    expect((await registry.stageHistory(seeded.model, 'v2')).at(-1)).toMatchObject({
      toStage: 'tainted',
      actor: 'dpo-anna (token dpo)',
      reason: expect.stringContaining(digest.slice(0, 16)),
    });

    // The decision and the access log record the operation.
    const decisions = await listDecisions(ch.client, { modelId: seeded.model, kinds: ['gdpr-erasure'] });
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({
      actor: 'dpo-anna (token dpo)',
      statistics: { deleted: report.deleted },
      details: { erasureId: report.erasureId, subjectDigest: digest },
    });
    const access = await app.inject({
      method: 'GET',
      url: `/v1/audit/history/${seeded.model}`,
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(access.json()).toMatchObject({
      entries: expect.arrayContaining([
        expect.objectContaining({ type: 'decision', kind: 'gdpr-erasure' }),
        expect.objectContaining({ type: 'stage', kind: 'production → tainted' }),
      ]),
    });
    // Access entries are buffered, and a request's entry is added by a hook that can run just after
    // its response: ask for the access report (which stores the buffer first) until it is there.
    let logged: { actor: string; role: string; action: string; status: number; detail: string } | undefined;
    for (let attempt = 0; attempt < 50 && !logged; attempt++) {
      await app.inject({
        method: 'GET',
        url: `/v1/audit/accessed/${seeded.model}`,
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      [logged] = await queryRows<{ actor: string; role: string; action: string; status: number; detail: string }>(
        ch.client,
        "SELECT actor, role, action, status, detail FROM access_log WHERE route = '/v1/gdpr/erase' AND position(detail, {id:String}) > 0",
        { id: report.erasureId },
      );
      if (!logged) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(logged).toMatchObject({ actor: 'dpo', role: 'admin', action: 'write', status: 200 });
    expect(JSON.parse(logged?.detail ?? '{}')).toMatchObject({ subjectDigest: digest, deleted: report.deleted });
  });

  it('a second erasure of the same subject finds nothing and changes nothing more', async () => {
    const report = await erase({ subject: alice });
    expect(Object.values(report.deleted).every((n) => n === 0)).toBe(true);
    expect(report.tainted).toEqual([]);
  });
});
