/**
 * The side effects of the Retrain workflow, bound to this process's ClickHouse, Kafka, artifact
 * store and ONNX runner threads. Each activity takes one object and returns plain JSON; each is
 * idempotent by the retrain id (see the individual modules). The workflow imports only the type
 * {@link RetrainActivities}.
 */
import { openPromotionContext, type PromotionDeps } from '../operations/promotion-context.ts';
import { ClickHouseLineageRepository } from '../platform/clickhouse/lineage-repository.ts';
import { OnnxPool } from '../platform/onnx/pool.ts';
import { LocalArtifactStore, type ArtifactStore } from '../platform/registry/artifact-store.ts';
import { createOutcomeProbeActivity } from './outcome-probe.ts';
import { createProbeActivity } from './probe.ts';
import { createPromotionActivities } from './promotion.ts';
import { createShadowActivity } from './shadow.ts';
import { createLiveShadowActivities } from './shadow-live.ts';
import { createSnapshotActivity } from './snapshot.ts';
import type { RetrainContext } from './retrain-context.ts';
import { createTrainModelActivity } from './train-model.ts';
import { createValidationActivity } from './validation.ts';

export interface RetrainDeps extends PromotionDeps {
  /** @default LocalArtifactStore in <dataDir>/artifacts */
  artifacts?: ArtifactStore;
  /** @default a pool started on first use */
  pool?: OnnxPool;
}

const contexts = new WeakMap<object, { ctx: RetrainContext; close: () => Promise<void> }>();

export function createRetrainContext(deps: RetrainDeps): { ctx: RetrainContext; close: () => Promise<void> } {
  const promotion = openPromotionContext(deps);
  let pool = deps.pool;
  const ctx: RetrainContext = {
    ...promotion.ctx,
    artifacts: deps.artifacts ?? LocalArtifactStore.forDataDir(deps.config.dataDir),
    lineage: new ClickHouseLineageRepository(deps.clickhouse),
    pool() {
      pool ??= new OnnxPool({ log: deps.log });
      return pool;
    },
  };
  const close = async () => {
    await promotion.close();
    if (pool && !deps.pool) await pool.close();
  };
  return { ctx, close };
}

export function createRetrainActivities(deps: RetrainDeps) {
  const { ctx, close } = createRetrainContext(deps);
  const activities = {
    snapshotTrainingData: createSnapshotActivity(ctx),
    trainModel: createTrainModelActivity(ctx),
    validateOffline: createValidationActivity(ctx),
    shadowEvaluate: createShadowActivity(ctx),
    ...createLiveShadowActivities(ctx),
    scoreProbe: createProbeActivity(ctx),
    scoreOutcomeProbe: createOutcomeProbeActivity(ctx),
    ...createPromotionActivities(ctx),
  };
  contexts.set(activities, { ctx, close });
  return activities;
}

export type RetrainActivities = ReturnType<typeof createRetrainActivities>;

/** Disconnect the producer and stop the runner threads the activities started. */
export async function closeRetrainActivities(activities: RetrainActivities): Promise<void> {
  await contexts.get(activities)?.close();
}

export type { SnapshotInput, SnapshotResult } from './snapshot.ts';
export type { TrainModelInput, TrainModelResult } from './train-model.ts';
export type { TrainerSpec } from '../training/trainer-spec.ts';
export type { ValidateOfflineInput, ValidateOfflineResult } from './validation.ts';
export type { ShadowEvaluateInput, ShadowEvaluateResult } from './shadow.ts';
export type { LiveShadowPairsInput, StartLiveShadowInput, StartLiveShadowResult } from './shadow-live.ts';
export type { ScoreProbeInput, ScoreProbeResult } from './probe.ts';
export type { ScoreOutcomeProbeInput, ScoreOutcomeProbeResult } from './outcome-probe.ts';
