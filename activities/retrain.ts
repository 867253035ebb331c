/**
 * The side effects of the Retrain workflow, bound to this process's ClickHouse, Kafka, artifact
 * store and ONNX runner threads. Each activity takes one object and returns plain JSON; each is
 * idempotent by the retrain id (see the individual modules). The workflow imports only the type
 * {@link RetrainActivities}.
 */
import type { Kafka, Producer } from 'kafkajs';
import type { ClickHouseClient } from '../platform/clickhouse/client.ts';
import { ClickHouseLineageRepository } from '../platform/clickhouse/lineage-repository.ts';
import { ClickHouseRegistryRepository, type RegistryRepository } from '../platform/clickhouse/registry-repository.ts';
import type { HalflifeConfig } from '../platform/config.ts';
import { createKafka, createProducer, ensureTopics } from '../platform/kafka.ts';
import type { Logger } from '../platform/logger.ts';
import { OnnxPool } from '../platform/onnx/pool.ts';
import { LocalArtifactStore, type ArtifactStore } from '../platform/registry/artifact-store.ts';
import { createPromotionActivities } from './promotion.ts';
import { createShadowActivity } from './shadow.ts';
import { createSnapshotActivity } from './snapshot.ts';
import type { RetrainContext } from './retrain-context.ts';
import { createTrainModelActivity } from './train-model.ts';
import { createValidationActivity } from './validation.ts';

export interface RetrainDeps {
  clickhouse: ClickHouseClient;
  config: HalflifeConfig;
  log: Logger;
  /** @default a client for config.kafka */
  kafka?: Kafka;
  /** @default LocalArtifactStore in <dataDir>/artifacts */
  artifacts?: ArtifactStore;
  /** @default a pool started on first use */
  pool?: OnnxPool;
  /** @default a ClickHouseRegistryRepository on `clickhouse` */
  registry?: RegistryRepository;
}

const contexts = new WeakMap<object, { ctx: RetrainContext; close: () => Promise<void> }>();

export function createRetrainContext(deps: RetrainDeps): { ctx: RetrainContext; close: () => Promise<void> } {
  const kafka =
    deps.kafka ?? createKafka(deps.config, { clientId: `${deps.config.kafka.clientId}-retrain`, logger: deps.log });
  let pool = deps.pool;
  let producer: Promise<Producer> | undefined;
  const ctx: RetrainContext = {
    clickhouse: deps.clickhouse,
    config: deps.config,
    artifacts: deps.artifacts ?? LocalArtifactStore.forDataDir(deps.config.dataDir),
    registry: deps.registry ?? new ClickHouseRegistryRepository(deps.clickhouse),
    lineage: new ClickHouseLineageRepository(deps.clickhouse),
    log: deps.log,
    kafka,
    pool() {
      pool ??= new OnnxPool({ log: deps.log });
      return pool;
    },
    producer() {
      producer ??= (async () => {
        await ensureTopics(deps.config, [deps.config.kafka.modelUpdatesTopic], kafka);
        const p = createProducer(kafka, { idempotent: true, maxInFlightRequests: 1 });
        await p.connect();
        return p;
      })().catch((err: unknown) => {
        producer = undefined;
        throw err;
      });
      return producer;
    },
  };
  const close = async () => {
    if (producer) await (await producer.catch(() => undefined))?.disconnect();
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
export type {
  CanaryCheckInput,
  CanaryCheckResult,
  PromoteVersionInput,
  PromoteVersionResult,
  PublishModelUpdateInput,
  PublishModelUpdateResult,
  RejectVersionInput,
  RejectVersionResult,
  RollbackVersionInput,
  RollbackVersionResult,
} from './promotion.ts';
