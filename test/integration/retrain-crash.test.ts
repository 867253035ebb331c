import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { openClickHouse, queryRows } from '../../platform/clickhouse/client.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { projectRoot } from '../../platform/paths.ts';
import { DEFAULT_RETRAIN_SETTINGS, type RetrainInput, type RetrainResult } from '../../workflows/retrain.ts';
import { seedLabelledEvents, T0 } from './training-fixtures.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';
import { halflifeDataConverter } from '../../platform/temporal-payload-codec.ts';

/** Files under a directory, recursively. */
function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : [full];
  });
}

describe('Retrain survives its worker being killed (real Temporal dev server)', () => {
  const config = testConfig({ temporal: { taskQueue: uniqueName('crash-tq') } });
  const modelId = uniqueName('crash-model');
  const markers = path.join(config.dataDir, 'crash-markers');
  const children: ChildProcess[] = [];
  let connection: Connection | undefined;

  /** A worker process that SIGKILLs itself at the named crash points (once each). */
  const startWorker = () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(projectRoot, 'workers/temporal-worker-main.ts')],
      {
        cwd: projectRoot,
        env: {
          ...process.env,
          HALFLIFE_DATA_DIR: config.dataDir,
          TEMPORAL_ADDRESS: config.temporal.address,
          KAFKA_BROKERS: config.kafka.brokers,
          HALFLIFE_TASK_QUEUE: config.temporal.taskQueue,
          HALFLIFE_LOG_LEVEL: 'warn',
          HALFLIFE_CRASH_AT: 'train:after-artifact,promote:after-stage',
          HALFLIFE_CRASH_MARKER_DIR: markers,
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    children.push(child);
    return new Promise<NodeJS.Signals | number | null>((resolve) =>
      child.once('exit', (code, signal) => resolve(signal ?? code)),
    );
  };

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await connection?.close();
  });

  it('trains exactly once and promotes at most once though the worker dies mid-training and mid-promotion', async () => {
    const ch = await openClickHouse(config);
    await applyMigrations(ch.client);
    await seedLabelledEvents(ch.client, modelId, { seed: 3, n: 3000, start: T0, stepMs: 60_000 });
    await ch.close();

    connection = await Connection.connect({ address: config.temporal.address! });
    const client = new Client({
      connection,
      dataConverter: halflifeDataConverter({ compress: config.temporal.compressPayloads }),
    });
    const retrainId = uniqueName('retrain');
    const input: RetrainInput = {
      retrainId,
      modelId,
      championVersion: null,
      trainingWindow: { start: T0, end: T0 + 3000 * 60_000 },
      decisionId: 'test-decision',
      policy: { name: 'crash-test', version: '1', hash: '0'.repeat(64) },
      actor: 'test',
      settings: { ...DEFAULT_RETRAIN_SETTINGS, timeouts: { heartbeat: '3s', shortStep: '5s' } },
    };
    const handle = await client.workflow.start('Retrain', {
      workflowId: retrainId,
      taskQueue: config.temporal.taskQueue,
      args: [input],
    });

    // Each crash point kills the worker once; a new worker takes over every time.
    const exits: (NodeJS.Signals | number | null)[] = [];
    const result = handle.result() as Promise<RetrainResult>;
    let done = false;
    void result.finally(() => (done = true));
    while (!done && exits.length < 5) {
      const exited = startWorker();
      const outcome = await Promise.race([exited, result.then(() => 'done' as const)]);
      if (outcome === 'done') break;
      exits.push(outcome);
    }
    const final = await result;
    expect(exits).toEqual(['SIGKILL', 'SIGKILL']);
    expect(readdirSync(markers).sort()).toEqual(['promote_after-stage', 'train_after-artifact']);
    expect(final.outcome).toBe('promoted');

    // Stop the last worker so this process can open its embedded database.
    const last = children.at(-1)!;
    const stopped = new Promise((resolve) => last.once('exit', resolve));
    last.kill('SIGTERM');
    const clean = await Promise.race([
      stopped.then(() => true),
      new Promise((resolve) => setTimeout(() => resolve(false), 30_000)),
    ]);
    expect(clean, 'the worker exits on SIGTERM').toBe(true);

    const after = await openClickHouse(config);
    try {
      const versions = await queryRows<{ version: string; stage: string }>(
        after.client,
        'SELECT version, stage FROM model_versions FINAL WHERE model_id = {m:String}',
        { m: modelId },
      );
      expect(versions).toEqual([{ version: final.version, stage: 'production' }]);
      const artifacts = files(path.join(config.dataDir, 'artifacts')).filter(
        (f) => f.includes(modelId) && f.endsWith('.onnx'),
      );
      expect(artifacts).toHaveLength(1);
      const toProduction = await queryRows<{ n: string }>(
        after.client,
        "SELECT count() AS n FROM model_stage_events WHERE model_id = {m:String} AND to_stage = 'production'",
        { m: modelId },
      );
      expect(Number(toProduction[0]!.n)).toBe(1);
      const published = await queryRows<{ n: string }>(
        after.client,
        'SELECT count() AS n FROM model_updates FINAL WHERE model_id = {m:String}',
        { m: modelId },
      );
      expect(Number(published[0]!.n)).toBe(1);
      const promotions = await queryRows<{ n: string }>(
        after.client,
        "SELECT count() AS n FROM decisions FINAL WHERE model_id = {m:String} AND kind = 'promote'",
        { m: modelId },
      );
      expect(Number(promotions[0]!.n)).toBe(1);
    } finally {
      await after.close();
    }
  });
});
