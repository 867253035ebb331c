/**
 * Records the workflow histories the replay suite checks the workflow code against:
 * `npx tsx test/replay/record-histories.ts` (run it again only on purpose, after a change that
 * is allowed to break replay — i.e. a new workflow version with `patched()` guards for old runs).
 * `--name <name>` writes `<name>.json` and `<name>.decisions.json` instead of the original
 * recording (kept: it replays runs from before rule revision 2), and no retrain history;
 * `--label-delay-hours <h>` makes labels arrive that much after their events (default 1 minute),
 * so a window is measured by late labels; `--realised-only` makes the threshold trigger ignore
 * label-free estimates. `--name model-monitor-r3 --label-delay-hours 8 --realised-only` is the
 * rule revision 3 recording. `--probes` records a cost-aware monitor of a flat model that learned
 * the wrong concept (a challenger probe measures the gap, then it retrains; no approval):
 * `--name model-monitor-probes --probes` is the rule revision 4 recording; `--name
 * model-monitor-markers --probes` the one of the consolidated `patched` marker (2026-12-06).
 *
 * It runs a real ModelMonitor for 8 simulated days on the time-skipping test server, against a
 * real Kafka broker and embedded ClickHouse, with traffic from a drifting world; a person
 * approves the retrain it asks for. It writes the monitor's and the retrain's histories, and the
 * decisions the code derived while recording (the replay must derive the same ones).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { closeRetrainActivities } from '../../activities/retrain.ts';
import { openClickHouse } from '../../platform/clickhouse/client.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { loadConfig } from '../../platform/config.ts';
import { createLogger } from '../../platform/logger.ts';
import { installed } from '../../platform/paths.ts';
import { parsePolicy } from '../../platform/policy-file.ts';
import { registerSearchAttributes } from '../../platform/temporal.ts';
import { freePort } from '../../local-services/process.ts';
import { freeTemporalPort } from '../../local-services/temporal.ts';
import { servicesDown, servicesUp } from '../../local-services/stack.ts';
import { createActivities, nonRetryableErrors, workflowBundle } from '../../workers/temporal-worker.ts';
import {
  approveUpdate,
  monitorWorkflowId,
  retrainWorkflowId,
  statusQuery,
  type DerivedDecision,
} from '../../workflows/messages.ts';
import type { ModelMonitorInput } from '../../workflows/monitor/input.ts';
import { SimulatedProduction } from '../helpers/world.ts';
import { halflifeDataConverter } from '../../platform/temporal-payload-codec.ts';

const HOUR = 3_600_000;
const CADENCE = 6 * HOUR;
const out = path.join(path.dirname(new URL(import.meta.url).pathname), 'histories');

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const NAME = argument('--name') ?? 'model-monitor';
const LABEL_DELAY_HOURS = Number(argument('--label-delay-hours') ?? 1 / 60);
const REALISED_ONLY = process.argv.includes('--realised-only');
const PROBES = process.argv.includes('--probes');

async function run(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'halflife-record-'));
  const ports = {
    temporalPort: await freeTemporalPort(),
    temporalUiPort: await freePort(),
    kafkaPort: await freePort(),
    kafkaControllerPort: await freePort(),
  };
  const stackConfig = loadConfig({
    env: {},
    overrides: { dataDir, services: ports, temporal: { address: 'unused:1' } },
  });
  const started = await servicesUp(stackConfig, { onProgress: (l) => process.stderr.write(`${l}\n`) });
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir,
      kafka: { brokers: `127.0.0.1:${ports.kafkaPort}` },
      temporal: { address: 'unused:1', taskQueue: 'replay-recording' },
      logLevel: 'warn',
    },
  });
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: installed.temporalTestServer } },
    client: { dataConverter: halflifeDataConverter({ compress: config.temporal.compressPayloads }) },
  });
  await registerSearchAttributes(env.connection, 'default');
  const ch = await openClickHouse(config);
  await applyMigrations(ch.client);
  const modelId = 'replay-model';
  const start = Math.floor(Date.now() / CADENCE) * CADENCE;
  const world = new SimulatedProduction(ch.client, {
    modelId,
    dataDir,
    // With probes: a flat world whose truth (θ = 10) the hand-made v1 (θ = 8) gets wrong on ~18% of rows.
    world: PROBES
      ? { seed: 5, thetaStart: 10, thetaPerDay: 0, epoch: start, labelNoise: 0.05 }
      : { seed: 5, thetaStart: 8, thetaPerDay: 0.35, epoch: start, labelNoise: 0.05 },
    eventsPerWindow: 1000,
    initialTheta: 8,
    labelDelayMs: Math.round(LABEL_DELAY_HOURS * 3_600_000),
    // With probes, a hand-made version outside the registry's names (probes take registry names).
    ...(PROBES ? { initialVersion: 'v0' } : {}),
  });
  const log = createLogger('record', 'warn');
  const activities = createActivities({ config, clickhouse: ch.client, log });
  const decisions: DerivedDecision[] = [];
  const policy = parsePolicy(
    PROBES
      ? {
          name: 'replay-probes',
          version: '1',
          model: modelId,
          trigger: { kind: 'cost-aware', valuePerQualityUnit: 1, retrainCost: 50 },
          guards: { cooldown: '1d', budget: { maxRetrains: 5, per: '30d' }, approval: { required: false } },
          trainingWindow: { kind: 'fixed', duration: '1d' },
          probes: { priorGap: 0.05 },
        }
      : {
          name: 'replay-floor',
          version: '1',
          model: modelId,
          trigger: {
            kind: 'threshold',
            metric: 'accuracy',
            threshold: 0.85,
            consecutiveWindows: 2,
            ...(REALISED_ONLY ? { acceptEstimated: false } : {}),
          },
          guards: { cooldown: '1d', approval: { required: true, timeout: '1d' } },
          trainingWindow: { kind: 'fixed', duration: '2d' },
        },
  );
  const input: ModelMonitorInput = {
    modelId,
    policy: policy.policy,
    policyRef: policy.ref,
    cadence: '6h',
    maxTicksPerRun: 1000,
    // One run holds the whole recording: a bounded run would continue as new every ~15 ticks.
    maxRunHistoryBytes: 64 * 2 ** 20,
  };
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: await workflowBundle(),
    dataConverter: halflifeDataConverter({ compress: config.temporal.compressPayloads }),
    activities: {
      ...activities,
      collectWindow: async (i: Parameters<typeof activities.collectWindow>[0]) => (
        await world.emit(i.start, i.end),
        activities.collectWindow(i)
      ),
    },
    sinks: {
      decisions: { derived: { fn: (_info, d: DerivedDecision) => void decisions.push(d), callDuringReplay: false } },
    },
    interceptors: { activity: [nonRetryableErrors] },
  });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start('ModelMonitor', {
      workflowId: monitorWorkflowId(modelId),
      taskQueue: config.temporal.taskQueue,
      args: [input],
    });
    let approved = false;
    for (let t = 0; t < 32; t++) {
      await env.sleep(CADENCE);
      const status = await handle.query(statusQuery);
      if (status.stage === 'awaiting-approval' && !approved) {
        await handle.executeUpdate(approveUpdate, {
          args: [{ actor: 'alice@example.com', reason: 'reviewed the drift report' }],
        });
        approved = true;
      }
    }
    await handle.terminate('recording over');
    writeFileSync(path.join(out, `${NAME}.json`), historyToJSON(await handle.fetchHistory()));
    const retrain = env.client.workflow.getHandle(retrainWorkflowId(modelId, 1));
    await retrain.result().catch(() => undefined);
    if (NAME === 'model-monitor')
      writeFileSync(path.join(out, 'retrain.json'), historyToJSON(await retrain.fetchHistory()));
    writeFileSync(
      path.join(out, `${NAME}.decisions.json`),
      `${JSON.stringify(
        decisions.map(({ decisionId, kind, reason }) => ({ decisionId, kind, reason })),
        null,
        1,
      )}\n`,
    );
    process.stderr.write(
      `recorded ${decisions.length} decisions (${[...new Set(decisions.map((d) => d.kind))].join(', ')}); approved: ${approved}\n`,
    );
  });
  await closeRetrainActivities(activities);
  await world.close();
  await ch.close();
  await env.teardown();
  await servicesDown(stackConfig, started);
  rmSync(dataDir, { recursive: true, force: true });
}

run().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
