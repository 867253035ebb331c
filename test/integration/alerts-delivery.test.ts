import { randomBytes } from 'node:crypto';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createAlertActivities } from '../../activities/alerts.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../../detectors/random.ts';
import { payloadDigest } from '../../operations/alerts/send-alert.ts';
import { verifyAlertSignature } from '../../operations/alerts/signing.ts';
import { deliveryAttempts, listAlerts } from '../../platform/clickhouse/alerts-repository.ts';
import { openClickHouse, queryRows, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { listDecisions } from '../../platform/clickhouse/decisions-repository.ts';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import type { ScoringEventRow } from '../../platform/contracts.ts';
import { createLogger } from '../../platform/logger.ts';
import { parsePolicy } from '../../platform/policy-file.ts';
import { TokenStore } from '../../platform/auth.ts';
import { buildApi } from '../../workers/api.ts';
import { createMetrics } from '../../workers/metrics.ts';
import { openApiRoutes } from '../../workers/openapi.ts';
import { replayHistory } from '../../workers/replay.ts';
import { alertRoutes } from '../../workers/routes/alerts.ts';
import { nonRetryableErrors, workflowBundle } from '../../workers/temporal-worker.ts';
import { approveUpdate, monitorWorkflowId, servingReportSignal, statusQuery } from '../../workflows/messages.ts';
import { resolveAlertSignal } from '../../workflows/alerts/messages.ts';
import type { ModelMonitorInput } from '../../workflows/monitor/input.ts';
import { AlertReceiver, waitFor } from '../helpers/alert-receiver.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';
import { SimulatedProduction } from '../helpers/world.ts';
import { startMonitorHarness, type MonitorHarness } from '../helpers/monitor-harness.ts';
import { halflifeDataConverter } from '../../platform/temporal-payload-codec.ts';

const HOUR = 3_600_000;
const secret = () => randomBytes(12).toString('hex');

/** Environment variables the policies name; their values are the secrets no record may hold. */
const ENV = {
  jsonUrl: 'ALERTS_IT_JSON_URL',
  jsonKey: 'ALERTS_IT_JSON_SIGNING_KEY',
  slackUrl: 'ALERTS_IT_SLACK_URL',
  amUrl: 'ALERTS_IT_AM_URL',
  amToken: 'ALERTS_IT_AM_TOKEN',
};

describe('alerts from a real monitor reach webhook receivers (time-skipping server, loopback receivers)', () => {
  let harness: MonitorHarness;
  let worker: Worker;
  let running: Promise<void>;
  const receiver = new AlertReceiver();
  const secrets = { jsonPath: secret(), jsonKey: secret(), slackPath: secret(), amToken: secret() };
  const paths = {
    json: `/json/${secrets.jsonPath}`,
    slack: `/slack/T0/B0/${secrets.slackPath}`,
    am: '/am/api/v2/alerts',
  };
  /** Traffic per window start, by test: each test's emitter decides what a window looks like. */
  const emitters = new Map<string, (start: number, end: number) => Promise<void>>();
  const worlds: SimulatedProduction[] = [];

  beforeAll(async () => {
    const url = await receiver.start();
    process.env[ENV.jsonUrl] = `${url}${paths.json}`;
    process.env[ENV.jsonKey] = secrets.jsonKey;
    process.env[ENV.slackUrl] = `${url}${paths.slack}`;
    process.env[ENV.amUrl] = `${url}${paths.am}`;
    process.env[ENV.amToken] = secrets.amToken;

    harness = await startMonitorHarness();
    const { activities } = harness;
    worker = await harness.createWorker({
      ...activities,
      // Production traffic arrives as time passes: a window's events exist once the window has closed.
      collectWindow: async (input: Parameters<typeof activities.collectWindow>[0]) => {
        await emitters.get(input.modelId)?.(input.start, input.end);
        return activities.collectWindow(input);
      },
    });
    running = worker.run();
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await harness?.teardown(...worlds);
    await receiver.stop();
    for (const name of Object.values(ENV)) delete process.env[name];
  });

  it('sends a drift alert once in each format, through a receiver that fails and recovers, and a resolution when it clears', async () => {
    const { env, ch, config } = harness;
    const modelId = uniqueName('alerted');
    // Windows 2–4 (0 is the reference) have x1 shifted by two standard deviations: drift.
    const windowsSeen: number[] = [];
    const ingest = new ClickHouseIngestRepository(ch.client);
    emitters.set(modelId, async (start, end) => {
      if (windowsSeen.includes(start)) return;
      windowsSeen.push(start);
      const k = windowsSeen.length - 1;
      await ingest.insertScoringEvents(shiftedWindow(modelId, start, end, k, k >= 2 && k <= 4 ? 2 : 0));
    });
    // The JSON receiver answers 500, then never answers (a timeout), then takes the message.
    receiver.script(paths.json, [{ status: 500 }, 'hang']);
    const { policy, ref } = parsePolicy({
      name: 'alerting',
      version: 1,
      model: modelId,
      trigger: { kind: 'manual' },
      alerts: {
        receivers: [
          {
            name: 'webhook',
            format: 'json',
            url: { env: ENV.jsonUrl },
            signingKey: { env: ENV.jsonKey },
            timeout: '2s',
          },
          { name: 'chat', format: 'slack', url: { env: ENV.slackUrl } },
          {
            name: 'alertmanager',
            format: 'alertmanager',
            url: { env: ENV.amUrl },
            token: { env: ENV.amToken },
            // Re-sends fall at least 10 minutes from any tick, reminder or resolution: the count is exact.
            resendEvery: '50m',
          },
        ],
        rules: [{ kind: 'drift', consecutiveWindows: 1 }],
        renotifyEvery: '2h',
        retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', giveUpAfter: '1h' },
      },
    });
    const input: ModelMonitorInput = { modelId, policy, policyRef: ref, cadence: '1h' };
    const handle = await env.client.workflow.start('ModelMonitor', {
      workflowId: monitorWorkflowId(modelId),
      taskQueue: config.temporal.taskQueue,
      args: [input],
    });
    // Seven windows: reference, clean, three drifted, two clean.
    await env.sleep(7 * HOUR + 10 * 60_000);
    expect((await handle.query(statusQuery)).ticks).toBeGreaterThanOrEqual(7);

    // Recorded for one key: one firing (the drift held for three ticks), one reminder (renotifyEvery 2h), one resolution.
    const notifications = await waitFor('the firing, its reminder and its resolution, recorded', async () => {
      const rows = await listAlerts(ch.client, { modelId });
      return rows.length === 3 && rows.every((r) => r.deliveries.filter((d) => d.delivered).length === 3) ? rows : null;
    });
    const [resolved, reminder, firing] = notifications;
    expect(reminder!).toMatchObject({ type: 'renotify', key: `${modelId}/drift`, episodeId: firing!.episodeId });
    expect(reminder!.notifiedAt - firing!.startsAt).toBeGreaterThanOrEqual(2 * HOUR);
    expect(reminder!.notifiedAt - firing!.startsAt).toBeLessThan(2 * HOUR + 60_000);
    expect(firing!).toMatchObject({
      type: 'firing',
      key: `${modelId}/drift`,
      rule: 'drift',
      kind: 'drift',
      severity: 'warning',
      firing: false,
      receivers: ['webhook', 'chat', 'alertmanager'],
      source: { workflowId: monitorWorkflowId(modelId), policy: ref },
    });
    expect(firing!.summary).toMatch(new RegExp(`^${modelId}: input drift: x1`));
    expect(resolved!).toMatchObject({ type: 'resolved', key: firing!.key, episodeId: firing!.episodeId });
    expect(resolved!.resolution).toBe('the last window did not drift');
    expect(firing!.digest).toMatch(/^[0-9a-f]{64}$/);

    // The failing receiver: a 500, a timeout, then delivered — three attempts recorded, one message arrived.
    const attempts = (await deliveryAttempts(ch.client, firing!.notificationId)).filter(
      (a) => a.receiver === 'webhook',
    );
    expect(attempts.map((a) => [a.attempt, a.outcome, a.httpStatus])).toEqual([
      [1, 'failed', 500],
      [2, 'timeout', null],
      [3, 'delivered', 200],
    ]);
    expect(attempts[1]!.error).toBe('no answer within 2s');
    expect(new Set(attempts.map((a) => a.payloadDigest)).size).toBe(1);

    // Generic JSON: the firing, the reminder and the resolution, each arrived once, signed.
    const json = receiver.accepted(paths.json);
    expect(json.map(({ body }) => (body as { type: string }).type)).toEqual(['firing', 'renotify', 'resolved']);
    for (const { request, body } of json) {
      const timestamp = Number(request.headers['x-halflife-timestamp']);
      const signature = String(request.headers['x-halflife-signature']);
      expect(verifyAlertSignature(secrets.jsonKey, timestamp, request.body, signature)).toBe(true);
      expect(verifyAlertSignature('another key', timestamp, request.body, signature)).toBe(false);
      expect(body).toMatchObject({
        schema: 'halflife.alert/v1',
        key: firing!.key,
        model: modelId,
        rule: 'drift',
        alertname: 'HalflifeInputDrift',
      });
    }
    expect(json[0]!.body).toMatchObject({ id: firing!.notificationId, status: 'firing', endsAt: null });
    expect(json[1]!.body).toMatchObject({ id: reminder!.notificationId, status: 'firing', sequence: 2 });
    expect(json[2]!.body).toMatchObject({ id: resolved!.notificationId, status: 'resolved', sequence: 3 });
    expect(receiver.requests.filter((r) => r.path === paths.json)).toHaveLength(5);
    // The recorded digest is the sha256 of the bytes the receiver got.
    expect(attempts[2]!.payloadDigest).toBe(payloadDigest(json[0]!.request.body));

    // Slack: the firing, the reminder and the resolved message.
    const slack = receiver.accepted(paths.slack).map(({ body }) => body as { text: string; blocks: unknown[] });
    expect(slack).toHaveLength(3);
    expect(slack[0]!.text).toMatch(/^:warning: \[FIRING\] .*input drift/);
    expect(slack[1]!.text).toMatch(/^:warning: \[STILL FIRING since .*\] .*input drift/);
    expect(slack[2]!.text).toMatch(/^:white_check_mark: \[RESOLVED\] /);
    expect(slack[2]!.text).toContain('Resolved: the last window did not drift.');
    for (const message of slack) expect(message.blocks).toHaveLength(2);

    // Alertmanager: the same labels every time; firing ends ahead (re-sent while it fires), resolved ends when it resolved.
    // Firing (T), re-sent at T+50m and T+1h40m, the reminder (T+2h) re-sent at T+2h50m, the resolution (T+3h).
    const am = receiver.accepted(paths.am);
    expect(am).toHaveLength(6);
    const amSends = async (id: string) =>
      (await deliveryAttempts(ch.client, id))
        .filter((a) => a.receiver === 'alertmanager')
        .map((a) => `${a.send} ${a.outcome}`);
    expect(await amSends(firing!.notificationId)).toEqual([
      'notify delivered',
      'refresh-1 delivered',
      'refresh-2 delivered',
    ]);
    expect(await amSends(reminder!.notificationId)).toEqual(['notify delivered', 'refresh-3 delivered']);
    for (const { request } of am) expect(request.headers.authorization).toBe(`Bearer ${secrets.amToken}`);
    const alertsSent = am.map(({ body }) => {
      expect(Array.isArray(body) && body.length === 1).toBe(true);
      return (body as { labels: Record<string, string>; startsAt: string; endsAt: string }[])[0]!;
    });
    for (const a of alertsSent) {
      expect(a.labels).toEqual({
        alertname: 'HalflifeInputDrift',
        model: modelId,
        rule: 'drift',
        severity: 'warning',
        source: 'halflife',
      });
      expect(Date.parse(a.startsAt)).toBe(firing!.startsAt);
    }
    const last = alertsSent.at(-1)!;
    expect(Date.parse(last.endsAt)).toBe(resolved!.resolvedAt);
    for (const a of alertsSent.slice(0, -1)) expect(Date.parse(a.endsAt)).toBeGreaterThan(resolved!.resolvedAt!);

    // Alerting changes no decision: the monitor decided every window as before.
    const decisions = await listDecisions(ch.client, { modelId, limit: 100 });
    expect(decisions.filter((d) => d.kind === 'no-action').length).toBeGreaterThanOrEqual(7);

    // No secret is in any record, nor in the workflow histories.
    await expectNoSecrets(modelId, [handle.workflowId, firing!.episodeId]);

    // The monitor's and the episode's histories replay against the current code (deterministic alerting).
    for (const id of [handle.workflowId, firing!.episodeId]) {
      const outcome = await replayHistory(await env.client.workflow.getHandle(id).fetchHistory(), id);
      expect(outcome.error, id).toBeNull();
    }
    await handle.terminate('test over');
  });

  it('alerts on a retrain awaiting approval, on the failed retrain after it, and on serving disagreement', async () => {
    const { env, ch, config } = harness;
    const modelId = uniqueName('events');
    const start = Math.floor(Date.now() / HOUR) * HOUR;
    const world = new SimulatedProduction(ch.client, {
      modelId,
      eventIdPrefix: 'alerted-world', // fixed ids: the same holdout split and samples every run
      dataDir: config.dataDir,
      world: { seed: 4, thetaStart: 8, thetaPerDay: 0, epoch: start, labelNoise: 0.05 },
      eventsPerWindow: 400,
      initialTheta: 8,
    });
    worlds.push(world);
    emitters.set(modelId, (s, e) => world.emit(s, e));
    const { policy, ref } = parsePolicy({
      name: 'events',
      version: 1,
      model: modelId,
      // The model does ~0.95; a 0.99 floor asks for a retrain at the first window, which needs approval.
      trigger: { kind: 'threshold', metric: 'accuracy', threshold: 0.99, consecutiveWindows: 1 },
      guards: { cooldown: '2d', approval: { required: true, timeout: '2d' } },
      alerts: {
        receivers: [{ name: 'webhook', format: 'json', url: { env: ENV.jsonUrl }, signingKey: { env: ENV.jsonKey } }],
        rules: [{ kind: 'approval-pending' }, { kind: 'promotion-failed' }, { kind: 'serving-disagreement' }],
        retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', giveUpAfter: '1h' },
      },
    });
    const input: ModelMonitorInput = {
      modelId,
      policy,
      policyRef: ref,
      cadence: '1h',
      // A trainer that fails on its input: the retrain fails, nothing is promoted.
      retrain: { trainer: { kind: 'command', command: ['sh', '-c', 'echo broken features >&2; exit 3'], params: {} } },
    };
    const handle = await env.client.workflow.start('ModelMonitor', {
      workflowId: monitorWorkflowId(modelId),
      taskQueue: config.temporal.taskQueue,
      args: [input],
    });
    await env.sleep(2 * HOUR + 60_000);

    const kinds = async (type?: string) =>
      (await listAlerts(ch.client, { modelId })).filter((a) => !type || a.type === type).map((a) => a.kind);
    // The policy asked for a retrain, and it waits for a person: an approval-pending alert fires (once, over two ticks).
    expect((await handle.query(statusQuery)).stage).toBe('awaiting-approval');
    await waitFor('approval-pending firing', async () => (await kinds('firing')).includes('approval-pending'));

    // Approved: it resolves; the retrain runs and its trainer fails: promotion-failed fires.
    await handle.executeUpdate(approveUpdate, { args: [{ actor: 'pat' }] });
    await waitFor('approval-pending resolved', async () => (await kinds('resolved')).includes('approval-pending'));
    await env.sleep(HOUR);
    await waitFor('promotion-failed firing', async () => (await kinds('firing')).includes('promotion-failed'));
    const failed = (await listAlerts(ch.client, { modelId, status: 'firing' })).find(
      (a) => a.kind === 'promotion-failed',
    )!;
    expect(failed.summary).toBe(`${modelId}: a retrain failed`);
    expect(failed.description).toContain('broken features');
    expect(failed.details).toMatchObject({ outcome: 'failed', source: `halflife-retrain-${modelId}-1` });
    expect((await listDecisions(ch.client, { modelId, limit: 50 })).map((d) => d.kind)).toContain('training-failed');

    // Serving disagrees (what serving acknowledgements report), then agrees again.
    await handle.signal(servingReportSignal, {
      agrees: false,
      requested: 'v1',
      serving: ['v2'],
      reason: 'a scorer refused the update: sha256 mismatch',
      at: Date.now(),
    });
    await waitFor('serving-disagreement firing', async () => (await kinds('firing')).includes('serving-disagreement'));
    await handle.signal(servingReportSignal, {
      agrees: true,
      requested: 'v1',
      serving: ['v1'],
      reason: '',
      at: Date.now(),
    });
    await waitFor('serving-disagreement resolved', async () =>
      (await kinds('resolved')).includes('serving-disagreement'),
    );

    // Firing now: only the failed promotion (nothing promoted since). Every message reached the receiver.
    const firingNow = await listAlerts(ch.client, { modelId, status: 'firing' });
    expect(firingNow.map((a) => a.kind)).toEqual(['promotion-failed']);
    const all = await waitFor('every message delivered', async () => {
      const rows = await listAlerts(ch.client, { modelId });
      return rows.length === 5 && rows.every((r) => r.deliveries.some((d) => d.delivered)) ? rows : null;
    });
    const bodies = receiver
      .accepted(paths.json)
      .map(({ body }) => body as { model: string; kind: string; type: string })
      .filter((b) => b.model === modelId)
      .map((b) => `${b.type} ${b.kind}`);
    expect(bodies).toEqual([
      'firing approval-pending',
      'resolved approval-pending',
      'firing promotion-failed',
      'firing serving-disagreement',
      'resolved serving-disagreement',
    ]);
    expect(all.map((a) => `${a.type} ${a.kind}`).reverse()).toEqual(bodies);
    await expectNoSecrets(modelId, [handle.workflowId, ...all.map((a) => a.episodeId)]);
    await handle.terminate('test over');

    // The API lists them (viewer token), one message with every attempt, and documents both routes.
    const tokens = new TokenStore();
    tokens.add('viewer-token-0123456789', { name: 'viewer', role: 'viewer' });
    const api = await buildApi({
      tokens,
      logger: createLogger('test', 'warn'),
      readiness: {},
      routes: [openApiRoutes(), alertRoutes(ch.client)],
    });
    try {
      const auth = { authorization: 'Bearer viewer-token-0123456789' };
      expect((await api.inject({ method: 'GET', url: '/v1/alerts' })).statusCode).toBe(401);
      const listed = await api.inject({
        method: 'GET',
        url: `/v1/alerts?model=${modelId}&status=firing`,
        headers: auth,
      });
      expect(listed.statusCode).toBe(200);
      const firing = listed.json() as { notificationId: string; kind: string; deliveries: { delivered: boolean }[] }[];
      expect(firing.map((a) => a.kind)).toEqual(['promotion-failed']);
      expect(firing[0]!.deliveries).toEqual([expect.objectContaining({ receiver: 'webhook', delivered: true })]);
      const one = await api.inject({
        method: 'GET',
        url: `/v1/alerts/${encodeURIComponent(firing[0]!.notificationId)}`,
        headers: auth,
      });
      expect(one.statusCode).toBe(200);
      expect((one.json() as { attempts: { outcome: string }[] }).attempts.map((a) => a.outcome)).toEqual(['delivered']);
      expect((await api.inject({ method: 'GET', url: '/v1/alerts?kind=drfit', headers: auth })).json()).toMatchObject({
        error: 'bad-request',
      });
      expect((await api.inject({ method: 'GET', url: '/v1/alerts/nope', headers: auth })).statusCode).toBe(404);
      const paths = (await api.inject({ method: 'GET', url: '/openapi.json' })).json() as {
        paths: Record<string, unknown>;
      };
      expect(Object.keys(paths.paths)).toEqual(expect.arrayContaining(['/v1/alerts', '/v1/alerts/{id}']));
    } finally {
      await api.close();
    }

    // /metrics: the failed promotion fires; the resolved ones do not; the deliveries are counted.
    const { registry } = createMetrics({
      config,
      clickhouse: ch.client,
      log: createLogger('test', 'warn'),
      cacheMs: 0,
    });
    const text = await registry.metrics();
    const firingSeries = text.split('\n').filter((l) => l.startsWith('halflife_alerts_firing{') && l.includes(modelId));
    expect(firingSeries).toEqual([
      `halflife_alerts_firing{model="${modelId}",rule="promotion-failed",kind="promotion-failed",subject="",severity="critical"} 1`,
    ]);
    expect(text).toMatch(/halflife_alert_delivery_attempts_total\{receiver="webhook",outcome="delivered"\} \d+/);
    expect(text).toContain(
      `halflife_alert_notifications_total{model="${modelId}",kind="approval-pending",type="resolved"} 1`,
    );
  });

  /** Neither a receiver URL (or any part of it) nor a token or key in the alert tables, the decisions or the histories. */
  async function expectNoSecrets(modelId: string, workflowIds: string[]): Promise<void> {
    const { env, ch } = harness;
    const values = [secrets.jsonPath, secrets.jsonKey, secrets.slackPath, secrets.amToken, receiver.url];
    const tables = await Promise.all(
      ['alert_notifications', 'alert_deliveries', 'decisions'].map((table) =>
        queryRows<Record<string, unknown>>(ch.client, `SELECT * FROM ${table} WHERE model_id = {m:String}`, {
          m: modelId,
        }),
      ),
    );
    expect(tables[0]!.length).toBeGreaterThan(0);
    expect(tables[1]!.length).toBeGreaterThan(0);
    const stored = JSON.stringify(tables);
    const histories = await Promise.all(
      [...new Set(workflowIds)].map(async (id) =>
        historyToJSON(await env.client.workflow.getHandle(id).fetchHistory()),
      ),
    );
    for (const value of values) {
      expect(stored).not.toContain(value);
      for (const history of histories) expect(history).not.toContain(value);
    }
  }
});

describe('delivery across a worker restart (Temporal dev server)', () => {
  const receiver = new AlertReceiver();
  const config = testConfig({ temporal: { taskQueue: uniqueName('tq-restart') } });
  let ch: ClickHouse;
  let connection: Connection;

  beforeAll(async () => {
    await receiver.start();
    ch = await openClickHouse(config);
    await applyMigrations(ch.client);
    connection = await Connection.connect({ address: config.temporal.address! });
  });

  afterAll(async () => {
    await connection?.close();
    await ch?.close();
    await receiver.stop();
  });

  it('a delivery that is being retried when the worker stops is resumed by the next worker, and arrives once', async () => {
    const client = new Client({
      connection,
      dataConverter: halflifeDataConverter({ compress: config.temporal.compressPayloads }),
    });
    const modelId = uniqueName('restart');
    const path = `/restart/${modelId}`;
    const urlEnv = 'ALERTS_IT_RESTART_URL';
    process.env[urlEnv] = `${receiver.url}${path}`;
    // The receiver is down (500) for the first three attempts, then takes the message.
    receiver.script(path, [{ status: 500 }, { status: 500 }, { status: 500 }]);
    const log = createLogger('test', 'warn');
    const startWorker = async () => {
      const workerConnection = await NativeConnection.connect({ address: config.temporal.address! });
      const w = await Worker.create({
        connection: workerConnection,
        taskQueue: config.temporal.taskQueue,
        workflowBundle: await workflowBundle(),
        dataConverter: halflifeDataConverter({ compress: config.temporal.compressPayloads }),
        activities: createAlertActivities({ clickhouse: ch.client, log }),
        interceptors: { activity: [nonRetryableErrors] },
      });
      const running = w.run();
      return {
        stop: async () => {
          w.shutdown();
          await running;
          await workerConnection.close();
        },
      };
    };
    const startsAt = Date.now();
    const notice = {
      key: `${modelId}/drift`,
      episodeId: `halflife-alert/${modelId}/drift/${startsAt}`,
      modelId,
      modelVersion: 'v1',
      rule: 'drift',
      kind: 'drift' as const,
      severity: 'warning' as const,
      subject: null,
      summary: `${modelId}: input drift`,
      description: 'drift',
      details: {},
      startsAt,
      receivers: ['webhook'],
    };
    const first = await startWorker();
    const episode = await client.workflow.start('AlertEpisode', {
      workflowId: notice.episodeId,
      taskQueue: config.temporal.taskQueue,
      args: [
        {
          alert: notice,
          receivers: [{ name: 'webhook', format: 'json', url: { env: urlEnv }, timeout: '2s', resendEvery: '5m' }],
          retry: { initialInterval: '2s', backoffCoefficient: 1, maximumInterval: '2s', giveUpAfter: '1h' },
          renotifyEvery: null,
          source: { workflowId: 'test', runId: 'test', policy: null },
        },
      ],
    });
    const attemptsOf = async () => {
      const [firing] = await listAlerts(ch.client, { modelId });
      return firing ? deliveryAttempts(ch.client, firing.notificationId) : [];
    };
    await waitFor('a failed attempt', async () => (await attemptsOf()).length >= 1);
    // The daemon stops while the message waits for its next attempt; nothing has arrived yet.
    await first.stop();
    const deliveredBeforeRestart = receiver.accepted(path).length;

    const second = await startWorker();
    try {
      const attempts = await waitFor('delivered after the restart', async () => {
        const rows = await attemptsOf();
        return rows.some((a) => a.outcome === 'delivered') ? rows : null;
      });
      expect(deliveredBeforeRestart).toBe(0);
      expect(attempts.map((a) => [a.attempt, a.outcome])).toEqual([
        [1, 'failed'],
        [2, 'failed'],
        [3, 'failed'],
        [4, 'delivered'],
      ]);
      expect(receiver.accepted(path)).toHaveLength(1);
      // Resolved through the restarted worker too; the episode ends.
      await episode.signal(resolveAlertSignal, {
        key: notice.key,
        episodeId: notice.episodeId,
        at: Date.now(),
        reason: 'cleared',
      });
      expect(await episode.result()).toEqual({ notifications: 2 });
      expect(receiver.accepted(path).map(({ body }) => (body as { type: string }).type)).toEqual([
        'firing',
        'resolved',
      ]);
    } finally {
      await second.stop();
      delete process.env[urlEnv];
    }
  });

  it('a long-firing alert re-sends to Alertmanager, continues as new with its sequence and refreshes, and resolves', async () => {
    const client = new Client({
      connection,
      dataConverter: halflifeDataConverter({ compress: config.temporal.compressPayloads }),
    });
    const modelId = uniqueName('long');
    const path = `/am-long/${modelId}/api/v2/alerts`;
    const urlEnv = 'ALERTS_IT_LONG_AM_URL';
    process.env[urlEnv] = `${receiver.url}${path}`;
    const workerConnection = await NativeConnection.connect({ address: config.temporal.address! });
    const worker = await Worker.create({
      connection: workerConnection,
      taskQueue: config.temporal.taskQueue,
      workflowBundle: await workflowBundle(),
      dataConverter: halflifeDataConverter({ compress: config.temporal.compressPayloads }),
      activities: createAlertActivities({ clickhouse: ch.client, log: createLogger('test', 'warn') }),
      interceptors: { activity: [nonRetryableErrors] },
    });
    const running = worker.run();
    try {
      const startsAt = Date.now();
      const key = `${modelId}/health/degraded`;
      const episodeId = `halflife-alert/${key}/${startsAt}`;
      const episode = await client.workflow.start('AlertEpisode', {
        workflowId: episodeId,
        taskQueue: config.temporal.taskQueue,
        args: [
          {
            alert: {
              key,
              episodeId,
              modelId,
              modelVersion: 'v1',
              rule: 'health',
              kind: 'health',
              severity: 'warning',
              subject: 'degraded',
              summary: `${modelId} is degraded`,
              description: 'degraded',
              details: {},
              startsAt,
              receivers: ['am'],
            },
            receivers: [{ name: 'am', format: 'alertmanager', url: { env: urlEnv }, timeout: '2s', resendEvery: '1s' }],
            retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5s', giveUpAfter: '1h' },
            renotifyEvery: null,
            source: { workflowId: 'test', runId: 'test', policy: null },
            maxHistoryEvents: 60,
          },
        ],
      });
      const firstRun = episode.firstExecutionRunId;
      // Refreshes grow the history past 60 events: the episode continues as new, and refreshes go on.
      await waitFor('a second run', async () => (await episode.describe()).runId !== firstRun);
      const sentBefore = receiver.accepted(path).length;
      await waitFor('a refresh from the second run', () => receiver.accepted(path).length > sentBefore);
      const resolvedAt = Date.now();
      await episode.signal(resolveAlertSignal, { key, episodeId, at: resolvedAt, reason: 'health is now healthy' });
      expect(await client.workflow.getHandle(episodeId).result()).toEqual({ notifications: 2 });

      const received = receiver.accepted(path);
      const sent = received.map(({ body }) => (body as { labels: object; endsAt: string }[])[0]!);
      expect(sent.length).toBeGreaterThanOrEqual(4);
      for (const alert of sent) expect(alert.labels).toEqual(sent[0]!.labels);
      expect(sent[0]!.labels).toMatchObject({ alertname: 'HalflifeModelUnhealthy', subject: 'degraded' });
      // While it fires, each message ends ahead of its arrival (4 × resendEvery); the resolution ends when it resolved.
      for (const [i, alert] of sent.slice(0, -1).entries())
        expect(Date.parse(alert.endsAt)).toBeGreaterThan(received[i]!.request.at);
      expect(Date.parse(sent.at(-1)!.endsAt)).toBe(resolvedAt);
      // Two messages recorded (the sequence went on across runs); each refresh recorded once, numbered on.
      const records = await listAlerts(ch.client, { modelId });
      expect(records.map((r) => r.notificationId)).toEqual([`${episodeId}/2`, `${episodeId}/1`]);
      const sends = (await deliveryAttempts(ch.client, `${episodeId}/1`)).map((a) => a.send);
      expect(sends[0]).toBe('notify');
      expect(sends.slice(1)).toEqual(sends.slice(1).map((_, i) => `refresh-${i + 1}`));
      expect(sends.length).toBe(sent.length - 1);
    } finally {
      worker.shutdown();
      await running;
      await workerConnection.close();
      delete process.env[urlEnv];
    }
  });
});

/** One window of scoring events: x1 ~ N(shift, 1), x2 ~ N(0, 1), a logistic score. */
function shiftedWindow(modelId: string, start: number, end: number, k: number, shift: number): ScoringEventRow[] {
  const random = new Random(1000 + k);
  const n = 400;
  return Array.from({ length: n }, (_, i) => {
    const x1 = random.normal(shift, 1);
    const x2 = random.normal(0, 1);
    return {
      event_id: `${modelId}-${k}-${i}`,
      model_id: modelId,
      model_version: 'v1',
      ts: start + Math.floor(((end - start) * i) / n),
      subject_id: `s-${i % 20}`,
      num_features: { x1, x2 },
      cat_features: {},
      missing_features: [],
      prediction_score: 1 / (1 + Math.exp(-(x1 + x2))),
      prediction_class: null,
      prediction_value: null,
      metadata: {},
      contract_version: 1,
      source: 'test',
      source_ref: 'alerts-delivery',
    };
  });
}
