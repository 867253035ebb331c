import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local-services/process.ts';
import { promoteVersionManually } from '../../operations/promote-version.ts';
import { publishModelUpdate } from '../../operations/publish-model-update.ts';
import { servingDisagreement, type ServingStatus } from '../../operations/serving-status.ts';
import { TokenStore } from '../../platform/auth.ts';
import { queryRows } from '../../platform/clickhouse/client.ts';
import { listDecisions } from '../../platform/clickhouse/decisions-repository.ts';
import { latestModelUpdate } from '../../platform/clickhouse/model-updates-repository.ts';
import { projectRoot } from '../../platform/paths.ts';
import type { ModelVersion } from '../../platform/registry/types.ts';
import { buildApi } from '../../workers/api.ts';
import { dashboardDataRoutes } from '../../workers/routes/dashboard-data.ts';
import { operatorRoutes } from '../../workers/routes/operator-api.ts';
import type { Scorer } from '../../workers/scorer.ts';
import { produceAll, waitUntil } from '../helpers/kafka.ts';
import { startServingStack, type ServingStack } from '../helpers/serving-stack.ts';
import { uniqueName } from '../helpers/stack.ts';
import { registerTrainedModel, SEA_FEATURES } from './training-fixtures.ts';

const exec = promisify(execFile);
const TOKEN = 'serving-acks-token-0123456789';

/**
 * What is serving is always true (issue: a rollback the scorer refused printed "v3 is production"
 * with exit 0 while v4 kept serving; the dashboard showed the registry's version while events were
 * scored by another; a restarted scorer replayed a stale routing). Real Kafka, chDB, the reference
 * scorer and its serving reports, the API on a port and the `halflife` command through it.
 */
describe('serving acknowledgements: promotions and rollbacks complete only when serving confirms them', () => {
  let stack: ServingStack;
  let app: FastifyInstance;
  let env: NodeJS.ProcessEnv;
  const model = uniqueName('acks');
  const v: Record<string, ModelVersion> = {};

  const halflife = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await exec(process.execPath, [path.join(projectRoot, 'bin/halflife.mjs'), ...args], {
        env,
        cwd: projectRoot,
        timeout: 120_000,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const api = async (method: 'GET' | 'POST', url: string, body?: unknown) => {
    const response = await app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { payload: JSON.stringify(body) } : {}),
    });
    return { status: response.statusCode, body: response.json() as Record<string, unknown> };
  };
  const serving = async () => (await api('GET', `/v1/models/${model}/serving`)).body as unknown as ServingStatus;
  const liveVersions = (s: Scorer) =>
    s
      .routing(model)
      ?.live.filter((r) => r.share > 0)
      .map((r) => r.version) ?? [];
  const reportsOf = (scorerId: string) =>
    queryRows<{ event: string; model_id: string; update_key: string; version: string; sha256: string; reason: string }>(
      stack.ch.client,
      `SELECT event, model_id, update_key, version, sha256, reason FROM serving_reports
       WHERE scorer_id = {s:String} ORDER BY seq`,
      { s: scorerId },
    );

  beforeAll(async () => {
    const port = await freePort();
    stack = await startServingStack({ api: { port, token: TOKEN, host: '127.0.0.1' } });
    for (const [seed, concept] of [
      [1, 0],
      [2, 1],
      [3, 2],
    ] as const) {
      const { version } = await registerTrainedModel(stack.registry, stack.artifacts, model, { seed, n: 600, concept });
      v[version.version] = version;
    }
    const tokens = new TokenStore();
    tokens.add(TOKEN, { name: 'oncall', role: 'admin' });
    app = await buildApi({
      tokens,
      logger: stack.log,
      readiness: {},
      routes: [
        ...operatorRoutes({ config: stack.config, clickhouse: stack.ch.client, log: stack.log }),
        dashboardDataRoutes(stack.ch.client, { config: stack.config }),
      ],
    });
    await app.listen({ host: '127.0.0.1', port });
    env = {
      ...process.env,
      HALFLIFE_DATA_DIR: stack.config.dataDir,
      HALFLIFE_API_PORT: String(port),
      HALFLIFE_API_TOKEN: TOKEN,
      KAFKA_BROKERS: stack.config.kafka.brokers,
      HALFLIFE_LOG_LEVEL: 'warn',
    };
    // Wait for the scorer's first heartbeat to be stored: from then on it is a live scorer.
    await waitUntil(
      'the scorer to report',
      async () => (await reportsOf(stack.scorer.instanceId)).some((r) => r.event === 'heartbeat'),
      30_000,
    );
    stack.startTraffic([model]);
  });
  afterAll(async () => {
    await app?.close();
    await stack?.stop();
  });

  it('a scorer reports what it serves on start, on every update it applies, and at every heartbeat; a promotion waits for it', async () => {
    const promoted = await promoteVersionManually(stack.promotion, {
      retrainId: 'acks-1',
      modelId: model,
      version: 'v1',
      actor: 'alice',
      reason: 'first',
    });
    expect(promoted.confirmed).toBe(true);
    expect(promoted.serving).toMatchObject({
      status: 'confirmed',
      updateKey: 'acks-1/promote',
      scorers: [{ scorerId: stack.scorer.instanceId, outcome: 'applied' }],
    });
    expect(liveVersions(stack.scorer)).toEqual(['v1']);
    await waitUntil(
      'serving heartbeats of v1',
      async () =>
        (await reportsOf(stack.scorer.instanceId)).filter(
          (r) => r.event === 'serving' && r.model_id === model && r.version === 'v1',
        ).length >= 2,
      30_000,
    );
    const reports = await reportsOf(stack.scorer.instanceId);
    expect(reports[0]).toMatchObject({ event: 'started', model_id: '' });
    expect(reports).toContainEqual(
      expect.objectContaining({
        event: 'applied',
        model_id: model,
        update_key: 'acks-1/promote',
        version: 'v1',
        sha256: v.v1!.sha256,
      }),
    );

    // Through the API: answered once the scorer confirmed, with what it answered.
    const second = await api('POST', `/v1/models/${model}/versions/v2/promote`, { as: 'bob', reason: 'better' });
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(second.body).toMatchObject({
      confirmed: true,
      serving: { status: 'confirmed', scorers: [{ scorerId: stack.scorer.instanceId, outcome: 'applied' }] },
    });
    expect(liveVersions(stack.scorer)).toEqual(['v2']);
  });

  it('a rollback the scorer refuses (tampered artifact) is recorded as failed, undone, its routing restored, and the CLI exits non-zero naming the scorer and its reason', async () => {
    const file = await stack.artifacts.localPath(v.v1!.artifactUri);
    await writeFile(file, Buffer.from('tampered: not the registered model'));

    const cli = await halflife('models', 'rollback', model, '--reason', 'conversion dropped', '--as', 'carol');
    expect(cli.code, cli.stdout + cli.stderr).toBe(1);
    expect(cli.stderr).toContain(stack.scorer.instanceId);
    expect(cli.stderr).toMatch(/failed its integrity check/);
    expect(cli.stderr).toMatch(/undone: v2 is production again/);

    // The registry says what serves: v2 is production (not rejected, so it can be promoted and rolled back again), v1 archived.
    expect((await stack.registry.productionVersion(model))?.version).toBe('v2');
    expect((await stack.registry.requireVersion(model, 'v1')).stage).toBe('archived');
    // production → archived (superseded by v1) → rejected (rolled back) → production (undone).
    expect((await stack.registry.stageHistory(model, 'v2')).map((e) => e.toStage).slice(-4)).toEqual([
      'production',
      'archived',
      'rejected',
      'production',
    ]);
    // Recorded as a failed rollback, with the scorer's own reason.
    const [failed] = await listDecisions(stack.ch.client, { modelId: model, kinds: ['rollback-failed'] });
    expect(failed).toMatchObject({ actor: expect.stringContaining('carol'), modelVersion: 'v2' });
    expect((failed!.details as { serving: { scorers: unknown[] } }).serving.scorers).toEqual([
      expect.objectContaining({
        scorerId: stack.scorer.instanceId,
        outcome: 'refused',
        reason: expect.stringMatching(/integrity check/),
      }),
    ]);
    // The scorer said so itself, and the last routing published is v2's again (what a restarted scorer takes).
    expect(await reportsOf(stack.scorer.instanceId)).toContainEqual(
      expect.objectContaining({ event: 'refused', model_id: model, reason: expect.stringMatching(/integrity check/) }),
    );
    const latest = await latestModelUpdate(stack.ch.client, model);
    expect(latest?.idempotencyKey).toMatch(/\/restore$/);
    expect(JSON.parse(latest!.payload)).toMatchObject({ traffic_split: { v2: 1 } });
    expect(liveVersions(stack.scorer)).toEqual(['v2']);

    // The API answers with an error naming the scorer and its reason.
    const refused = await api('POST', `/v1/models/${model}/rollback`, { reason: 'again' });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain(stack.scorer.instanceId);
    expect(refused.body.message).toMatch(/integrity check/);
    expect((await stack.registry.productionVersion(model))?.version).toBe('v2');
  });

  it('the API, the CLI and the dashboard data show the version events are scored by, and flag a disagreement', async () => {
    await waitUntil(
      'events scored by v2 and serving in agreement',
      async () => {
        const s = await serving();
        return s.scoredBy === 'v2' && s.agreement === 'agrees';
      },
      60_000,
      250,
    );
    const dashboard = await api('GET', `/v1/dashboard/models/${model}`);
    expect(dashboard.body.serving).toMatchObject({ scoredBy: 'v2', agreement: 'agrees' });
    const list = await halflife('models', 'list', '--json');
    expect(list.code, list.stderr).toBe(0);
    expect(
      (JSON.parse(list.stdout) as Array<{ modelId: string; serving: ServingStatus }>).find((m) => m.modelId === model),
    ).toMatchObject({ production: 'v2', serving: { scoredBy: 'v2', agreement: 'agrees' } });

    // Serving moves behind the registry's back (an update published by hand): everything says so.
    await produceAll(stack.config, stack.config.kafka.modelUpdatesTopic, [
      {
        key: model,
        value: JSON.stringify({
          type: 'model-update',
          schema_version: 1,
          model_id: model,
          version: 'v3',
          traffic_split: { v3: 1 },
          shadow: [],
          models: { v3: { artifact_uri: v.v3!.artifactUri, sha256: v.v3!.sha256, features: SEA_FEATURES } },
          reason: 'out of band',
          idempotency_key: 'out-of-band',
          published_at: Date.now(),
        }),
      },
    ]);
    await waitUntil('the disagreement to show', async () => (await serving()).agreement === 'disagrees', 30_000, 250);
    const s = await serving();
    expect(s.disagreements).toContainEqual({
      source: stack.scorer.instanceId,
      reason: expect.stringMatching(/serves v3 while the registry's production version is v2/),
    });
    expect(await servingDisagreement(stack.ch.client, stack.config, model)).toMatchObject({ disagrees: true });
    await waitUntil(
      'the dashboard to show events scored by v3',
      async () => {
        const d = (await api('GET', `/v1/dashboard/models/${model}`)).body.serving as ServingStatus;
        return d.scoredBy === 'v3' && d.agreement === 'disagrees';
      },
      30_000,
      250,
    );
    const text = await halflife('models', 'list', model);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/DISAGREES \(.*\): serves v3 while the registry's production version is v2/);

    // Put the registry's routing back.
    await publishModelUpdate(stack.promotion, {
      modelId: model,
      version: 'v2',
      artifactUri: v.v2!.artifactUri,
      sha256: v.v2!.sha256,
      trafficSplit: { v2: 1 },
      reason: 'back to the registry',
      idempotencyKey: 'back-to-v2',
    });
    await waitUntil('agreement again', async () => (await serving()).agreement !== 'disagrees', 60_000, 250);
  });

  it("a restarted scorer takes the registry's current routing; when the newest update is refused it serves nothing rather than a stale version", async () => {
    const old = stack.scorer.instanceId;
    const restarted = await stack.restartScorer();
    expect(liveVersions(restarted)).toEqual(['v2']);
    await waitUntil(
      'the stopped scorer to drop out',
      async () => (await serving()).scorers.find((x) => x.scorerId === old)?.live === false,
      30_000,
      250,
    );

    // v3 is promoted properly (confirmed by the restarted scorer), then its artifact is tampered with.
    const promoted = await promoteVersionManually(stack.promotion, {
      retrainId: 'acks-3',
      modelId: model,
      version: 'v3',
      actor: 'alice',
      reason: 'next',
    });
    expect(promoted.serving.scorers).toEqual([
      expect.objectContaining({ scorerId: restarted.instanceId, outcome: 'applied' }),
    ]);
    await writeFile(await stack.artifacts.localPath(v.v3!.artifactUri), Buffer.from('tampered after promotion'));
    const third = await stack.restartScorer();
    // A replay of every update in order would leave v2 serving (the last update it could load): stale.
    expect(third.routing(model)).toBeNull();
    await waitUntil(
      'the refusal to be reported',
      async () => (await serving()).scorers.find((x) => x.scorerId === third.instanceId)?.refusal !== null,
      30_000,
      250,
    );
    const s = await serving();
    expect(s.agreement).toBe('disagrees');
    expect(s.disagreements).toContainEqual({
      source: third.instanceId,
      reason: expect.stringMatching(
        /serves nothing while the registry's production version is v3; it refused update acks-3\/promote \(v3\): .*integrity check/,
      ),
    });
  });
});
