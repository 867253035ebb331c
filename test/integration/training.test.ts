import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeRetrainActivities,
  createRetrainActivities,
  type RetrainActivities,
  type SnapshotResult,
} from '../../activities/retrain.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { ClickHouseRegistryRepository } from '../../platform/clickhouse/registry-repository.ts';
import type { HalflifeConfig } from '../../platform/config.ts';
import { createLogger } from '../../platform/logger.ts';
import { loadModelRunner } from '../../platform/onnx/runner.ts';
import { OnnxPool } from '../../platform/onnx/pool.ts';
import { installed, projectRoot } from '../../platform/paths.ts';
import { ArtifactIntegrityError, LocalArtifactStore } from '../../platform/registry/artifact-store.ts';
import { testConfig } from '../helpers/stack.ts';
import { seaSample, seedLabelledEvents, T0 } from './training-fixtures.ts';

const SKLEARN_EXAMPLE = path.join(projectRoot, 'examples/trainers/sklearn_logreg.py');

describe('trainers, trainModel and offline validation (chDB)', () => {
  let config: HalflifeConfig;
  let ch: ClickHouse;
  let acts: RetrainActivities;
  let snap: SnapshotResult;
  let pool: OnnxPool;
  const artifacts = () => LocalArtifactStore.forDataDir(config.dataDir);

  beforeAll(async () => {
    config = testConfig();
    ch = await openClickHouse(config);
    await applyMigrations(ch.client);
    pool = new OnnxPool({ threads: 1 });
    acts = createRetrainActivities({ clickhouse: ch.client, config, log: createLogger('test', 'warn'), pool });
    await seedLabelledEvents(ch.client, 'churn', { seed: 11, n: 3000 });
    snap = await acts.snapshotTrainingData({
      retrainId: 'r-builtin',
      modelId: 'churn',
      window: { start: T0, end: T0 + 3000 * 1000 },
    });
  });
  afterAll(async () => {
    await closeRetrainActivities(acts);
    await pool.close();
    await ch.close();
  });

  it('trains the built-in logistic regression once per retrain and registers a candidate with lineage, params, code version and seed', async () => {
    const input = {
      retrainId: 'r-builtin',
      modelId: 'churn',
      snapshotId: snap.snapshotId,
      trainer: { kind: 'builtin' as const, params: { l2: 0.5 } },
      seed: 7,
    };
    const t0 = performance.now();
    const first = await acts.trainModel(input);
    const trainMs = performance.now() - t0;
    expect(first.reused).toBe(false);
    expect(first.modelVersion).toBe('v1');
    expect(first.trainer).toBe('builtin:logistic-regression');
    expect(first.params).toMatchObject({ l2: 0.5 });
    expect(first.codeVersion).toMatch(/^halflife@/);
    expect(first.metrics.trainAccuracy as number).toBeGreaterThan(0.85);
    process.stderr.write(
      `[measure] builtin trainModel on ${snap.trainRows} rows: ${trainMs.toFixed(0)} ms (fit ${((first.metrics.trainSeconds as number) * 1000).toFixed(0)} ms)\n`,
    );

    const again = await acts.trainModel(input);
    expect(again).toEqual({ ...first, reused: true });
    // Exactly one training artifact for the retrain.
    const modelDirs = readdirSync(path.join(artifacts().root, 'models/churn'));
    expect(modelDirs).toHaveLength(1);

    const registry = new ClickHouseRegistryRepository(ch.client);
    const v = await registry.requireVersion('churn', first.modelVersion);
    expect(v).toMatchObject({
      stage: 'candidate',
      lineageId: snap.snapshotId,
      retrainId: 'r-builtin',
      seed: 7,
      sha256: first.sha256,
    });

    // The stored ONNX loads in onnxruntime-node and scores.
    const runner = await loadModelRunner(pool, artifacts(), v);
    const sample = seaSample(99, 200);
    const out = await runner.score(sample.rows);
    const accuracy =
      sample.labels.reduce((a, y, i) => a + ((out.scores[i]! >= 0.5 ? 1 : 0) === y ? 1 : 0), 0) / sample.labels.length;
    expect(accuracy).toBeGreaterThan(0.8);
    await runner.unload();
  });

  it('runs the Python scikit-learn example through the external-command contract; its ONNX loads and scores', async () => {
    if (!existsSync(installed.devPython)) {
      throw new Error(
        `the dev Python venv is missing (${installed.devPython}): run \`npm run setup -- --dev\` so the scikit-learn trainer example can be tested`,
      );
    }
    const trained = await acts.trainModel({
      retrainId: 'r-sklearn',
      modelId: 'churn',
      snapshotId: snap.snapshotId,
      trainer: { kind: 'command', command: [installed.devPython, SKLEARN_EXAMPLE], params: { C: 0.5 } },
      seed: 3,
    });
    expect(trained.trainer).toBe('command:python');
    expect(trained.codeVersion).toMatch(/sklearn_logreg\.py@[0-9a-f]{12} sklearn 1\.7\.2 skl2onnx/);
    expect(trained.params).toMatchObject({ C: 0.5, seed: 3 });
    expect(trained.metrics.trainAccuracy as number).toBeGreaterThan(0.85);

    const bytes = await artifacts().get(trained.artifactUri, trained.sha256);
    const session = await ort.InferenceSession.create(bytes);
    expect([...session.inputNames].sort()).toEqual(['f1', 'f2', 'f3', 'region']);
    const registry = new ClickHouseRegistryRepository(ch.client);
    const runner = await loadModelRunner(
      pool,
      artifacts(),
      await registry.requireVersion('churn', trained.modelVersion),
    );
    expect(runner.info.convention).toBe('per-column');
    const sample = seaSample(98, 300);
    const out = await runner.score(sample.rows.concat([{ f1: null, f2: 3, f3: 1, region: 'unseen' }]));
    expect(out.scores).toHaveLength(301);
    expect([...out.scores].every((p) => p >= 0 && p <= 1)).toBe(true);
    await runner.unload();

    // Offline validation: candidate and champion on the same held-out slice.
    const validation = await acts.validateOffline({
      modelId: 'churn',
      candidateVersion: trained.modelVersion,
      championVersion: 'v1',
      snapshotId: snap.snapshotId,
    });
    expect(validation.holdoutRows).toBe(snap.holdoutRows);
    expect(validation.candidate?.n).toBe(snap.holdoutRows);
    expect(validation.champion?.n).toBe(snap.holdoutRows);
    expect(validation.passed).toBe(true);
    expect(Math.abs(validation.candidate!.logLoss! - validation.champion!.logLoss!)).toBeLessThan(0.02);
  });

  it('turns a failing trainer into an ApplicationFailure with the tail of stderr (non-retryable for bad input)', async () => {
    const failing = path.join(config.dataDir, 'failing-trainer.sh');
    writeFileSync(failing, '#!/bin/sh\necho "loading data" >&2\necho "ValueError: column f9 not found" >&2\nexit 3\n', {
      mode: 0o755,
    });
    const err = await acts
      .trainModel({
        retrainId: 'r-fail',
        modelId: 'churn',
        snapshotId: snap.snapshotId,
        trainer: { kind: 'command', command: [failing], params: {} },
        seed: 1,
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    const failure = err as ApplicationFailure;
    expect(failure.message).toMatch(/exited with code 3: loading data\nValueError: column f9 not found/);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('TrainingInputError');

    const crash = path.join(config.dataDir, 'crashing-trainer.sh');
    writeFileSync(crash, '#!/bin/sh\necho "killed: out of memory" >&2\nexit 137\n', { mode: 0o755 });
    const retryable = (await acts
      .trainModel({
        retrainId: 'r-crash',
        modelId: 'churn',
        snapshotId: snap.snapshotId,
        trainer: { kind: 'command', command: [crash], params: {} },
        seed: 1,
      })
      .catch((e: unknown) => e)) as ApplicationFailure;
    expect(retryable.nonRetryable).toBe(false);
    expect(retryable.message).toMatch(/out of memory/);

    const missing = (await acts
      .trainModel({
        retrainId: 'r-missing',
        modelId: 'churn',
        snapshotId: snap.snapshotId,
        trainer: { kind: 'command', command: ['/nonexistent/trainer'], params: {} },
        seed: 1,
      })
      .catch((e: unknown) => e)) as ApplicationFailure;
    expect(missing.nonRetryable).toBe(true);
    expect(missing.message).toMatch(/could not run \/nonexistent\/trainer/);

    // A "model" that is not ONNX is a failed training, not a candidate.
    const liar = path.join(config.dataDir, 'liar-trainer.sh');
    writeFileSync(
      liar,
      '#!/bin/sh\nwhile [ $# -gt 0 ]; do [ "$1" = --out-dir ] && out=$2; shift; done\necho garbage > "$out/model.onnx"\necho "{}" > "$out/metrics.json"\n',
      { mode: 0o755 },
    );
    await expect(
      acts.trainModel({
        retrainId: 'r-liar',
        modelId: 'churn',
        snapshotId: snap.snapshotId,
        trainer: { kind: 'command', command: [liar], params: {} },
        seed: 1,
      }),
    ).rejects.toThrow(/produced an unusable model: .*not a loadable ONNX model/);
    // Bad params for the built-in trainer.
    await expect(
      acts.trainModel({
        retrainId: 'r-badparam',
        modelId: 'churn',
        snapshotId: snap.snapshotId,
        trainer: { kind: 'builtin', params: { learning_rate: 1 } },
        seed: 1,
      }),
    ).rejects.toThrow(/unknown logistic-regression parameter "learning_rate"/);
    const registry = new ClickHouseRegistryRepository(ch.client);
    for (const r of ['r-fail', 'r-crash', 'r-missing', 'r-liar', 'r-badparam'])
      expect(await registry.versionByRetrainId('churn', r)).toBeNull();
  });

  it('never loads a corrupted artifact (sha256 mismatch) and validation fails with the reason', async () => {
    const trained = await acts.trainModel({
      retrainId: 'r-corrupt',
      modelId: 'churn',
      snapshotId: snap.snapshotId,
      trainer: { kind: 'builtin', params: {} },
      seed: 1,
    });
    const file = await artifacts().localPath(trained.artifactUri);
    const bytes = await artifacts().get(trained.artifactUri, trained.sha256);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 5] = (flipped[flipped.length - 5]! + 1) % 256;
    writeFileSync(file, flipped);
    const registry = new ClickHouseRegistryRepository(ch.client);
    await expect(
      loadModelRunner(pool, artifacts(), await registry.requireVersion('churn', trained.modelVersion)),
    ).rejects.toThrow(ArtifactIntegrityError);
    const validation = await acts.validateOffline({
      modelId: 'churn',
      candidateVersion: trained.modelVersion,
      snapshotId: snap.snapshotId,
    });
    expect(validation.passed).toBe(false);
    expect(validation.reasons.join(' ')).toMatch(/cannot be loaded: .*failed its integrity check/);
  });
});
