/**
 * trainModel: run a trainer on a snapshot, check that its ONNX loads and scores, store the
 * artifact and register a candidate version. Idempotent: the version is registered with the
 * retrain id, and a call that finds it returns it without training, so one retrain yields
 * exactly one training artifact.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { asyncLocalStorage } from '@temporalio/activity';
import { OnnxModelError } from '../platform/onnx/pool.ts';
import { crashPoint } from '../platform/fault-injection.ts';
import { TrainerError, type Trainer } from '../training/trainer.ts';
import { trainerFor, type TrainerSpec } from '../training/trainer-spec.ts';
import { modelKindOf } from '../platform/clickhouse/model-kind-repository.ts';
import { modelOutputOf } from '../platform/registry/model-output.ts';
import { heartbeat, nonRetryable, retryable, type RetrainContext } from './retrain-context.ts';

export interface TrainModelInput {
  retrainId: string;
  modelId: string;
  snapshotId: string;
  trainer: TrainerSpec;
  seed: number;
  /**
   * `probe`: a challenger probe's challenger, registered in stage `probe` (never promoted,
   * published or served) instead of `candidate`. @default 'retrain'
   */
  purpose?: 'retrain' | 'probe';
}

export interface TrainModelResult {
  modelVersion: string;
  artifactUri: string;
  sha256: string;
  metrics: Record<string, unknown>;
  params: Record<string, unknown>;
  codeVersion: string;
  trainer: string;
  /** True when the version already existed (a retried call): nothing was trained. */
  reused: boolean;
}

export function createTrainModelActivity(ctx: RetrainContext) {
  return async function trainModel(input: TrainModelInput): Promise<TrainModelResult> {
    const { retrainId, modelId, snapshotId } = input;
    const log = ctx.log.child({ modelId, retrainId, snapshotId });
    const existing = await ctx.registry.versionByRetrainId(modelId, retrainId);
    if (existing) {
      log.info(
        { version: existing.version },
        'training already done for this retrain: returning the registered version',
      );
      return {
        modelVersion: existing.version,
        artifactUri: existing.artifactUri,
        sha256: existing.sha256,
        metrics: existing.metrics,
        params: existing.params,
        codeVersion: existing.codeVersion,
        trainer: existing.trainer,
        reused: true,
      };
    }
    const snapshot = await ctx.lineage.getSnapshot(snapshotId);
    if (!snapshot)
      throw nonRetryable(
        'TrainingInputError',
        `training snapshot ${snapshotId} does not exist: run snapshotTrainingData first`,
      );
    if (snapshot.modelId !== modelId)
      throw nonRetryable('TrainingInputError', `snapshot ${snapshotId} belongs to ${snapshot.modelId}, not ${modelId}`);

    // The built-in trainer and the model's output follow the model's declared kind.
    const target = await modelKindOf(ctx.clickhouse, modelId);
    let trainer: Trainer;
    try {
      trainer = trainerFor(input.trainer, target);
    } catch (err) {
      throw nonRetryable('TrainingInputError', (err as Error).message);
    }
    const retrainKey = createHash('sha256').update(`${modelId}\u0000${retrainId}`).digest('hex').slice(0, 24);
    const outDir = path.join(ctx.config.dataDir, 'training', retrainKey, randomUUID());
    const started = performance.now();
    let output;
    try {
      output = await trainer.train({
        trainFile: await ctx.artifacts.localPath(snapshot.trainUri),
        featureNames: snapshot.features,
        params: input.trainer.params ?? {},
        target,
        seed: input.seed,
        outDir,
        heartbeat,
        signal: asyncLocalStorage.getStore()?.cancellationSignal,
      });
    } catch (err) {
      if (err instanceof TrainerError) {
        log.warn({ err: err.message, exitCode: err.exitCode }, 'training failed');
        const details = { trainer: trainer.name, stderrTail: err.stderrTail, exitCode: err.exitCode };
        throw err.badInput
          ? nonRetryable('TrainingInputError', err.message, details)
          : retryable('TrainingFailed', err.message, details);
      }
      throw retryable(
        'TrainingFailed',
        `${trainer.name} failed: ${(err as Error).message}`,
        { trainer: trainer.name },
        err as Error,
      );
    }
    const bytes = new Uint8Array(await readFile(output.onnxPath));
    const features = output.features ?? snapshot.features;
    // A model that onnxruntime cannot load or that does not follow the serving contract is a
    // failed training, not a candidate.
    const probeKey = `probe:${retrainKey}:${randomUUID()}`;
    try {
      await ctx.pool().load(probeKey, bytes, features, modelOutputOf(target));
    } catch (err) {
      if (err instanceof OnnxModelError)
        throw nonRetryable('TrainingInputError', `${trainer.name} produced an unusable model: ${err.message}`, {
          trainer: trainer.name,
        });
      throw err;
    } finally {
      await ctx.pool().unload(probeKey);
    }
    const stored = await ctx.artifacts.put(`models/${modelId}/${retrainKey}/model.onnx`, bytes);
    // Dying here leaves an artifact without a registry row: the retry must reuse the key, not add a second artifact.
    crashPoint('train:after-artifact');
    const parent = await ctx.registry.productionVersion(modelId);
    const version = await ctx.registry.registerVersion({
      modelId,
      stage: input.purpose === 'probe' ? 'probe' : 'candidate',
      artifactUri: stored.uri,
      sha256: stored.sha256,
      parentVersion: parent?.version ?? null,
      lineageId: snapshotId,
      retrainId,
      trainer: trainer.name,
      params: output.params,
      metrics: output.metrics,
      features,
      codeVersion: output.codeVersion,
      seed: input.seed,
      createdBy: `${input.purpose === 'probe' ? 'probe' : 'retrain'}:${retrainId}`,
    });
    await rm(outDir, { recursive: true, force: true });
    log.info(
      {
        version: version.version,
        trainer: trainer.name,
        seconds: (performance.now() - started) / 1000,
        sha256: stored.sha256,
      },
      input.purpose === 'probe' ? 'trained and registered a probe challenger' : 'trained and registered a candidate',
    );
    return {
      modelVersion: version.version,
      artifactUri: version.artifactUri,
      sha256: version.sha256,
      metrics: version.metrics,
      params: version.params,
      codeVersion: version.codeVersion,
      trainer: version.trainer,
      reused: false,
    };
  };
}
