/** Seeded labelled events written straight into ClickHouse, and registered models, for the registry/training/shadow/scorer tests. */
import type { ClickHouseClient } from '@clickhouse/client';
import { fitLogistic, type LogisticModel } from '../../training/logistic.ts';
import { logisticToOnnx } from '../../training/logistic-onnx.ts';
import { closeRetrainActivities, createRetrainActivities, type RetrainActivities } from '../../activities/retrain.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import type { HalflifeConfig } from '../../platform/config.ts';
import { createLogger } from '../../platform/logger.ts';
import { OnnxPool } from '../../platform/onnx/pool.ts';
import { LocalArtifactStore } from '../../platform/registry/artifact-store.ts';
import type { LabelRow, ScoringEventRow } from '../../platform/contracts.ts';
import type { RawFeatures } from '../../platform/onnx/features.ts';
import {
  ClickHouseRegistryRepository,
  type RegistryRepository,
} from '../../platform/clickhouse/registry-repository.ts';
import type { ArtifactStore } from '../../platform/registry/artifact-store.ts';
import type { ModelStage, ModelVersion } from '../../platform/registry/types.ts';
import { seaStream, take } from '../../synthetic/index.ts';

export const T0 = Date.UTC(2026, 0, 1);
export const SEA_FEATURES = { numeric: ['f1', 'f2', 'f3'], categorical: ['region'] };
const REGIONS = ['eu', 'us', 'apac'];

export interface SeaSample {
  rows: RawFeatures[];
  labels: number[];
}

/** SEA concept `concept` (θ = 8, 9, 7, 9.5) with 10% label noise, plus an uninformative categorical feature. */
export function seaSample(seed: number, n: number, concept = 0): SeaSample {
  const events = take(seaStream({ seed, noise: 0.1, schedule: { initial: concept } }), n);
  return {
    rows: events.map((e, i) => ({
      f1: e.features[0] ?? null,
      f2: e.features[1] ?? null,
      f3: e.features[2] ?? null,
      region: REGIONS[i % 3] ?? 'eu',
    })),
    labels: events.map((e) => e.label),
  };
}

export interface SeedOptions {
  seed: number;
  n: number;
  concept?: number;
  /** First event time (ms). @default T0 */
  start?: number;
  /** Gap between events (ms). @default 1000 */
  stepMs?: number;
  modelVersion?: string;
  /** Subject of event i. @default `subj-${i % 50}` */
  subject?: (i: number) => string;
  prefix?: string;
  /** Recorded prediction score of event i. @default 0.5 */
  score?: (row: RawFeatures, i: number) => number;
  /** How long after its event each label arrives (ms). @default 60000 */
  labelDelayMs?: number;
}

/** Insert n labelled scoring events for `modelId`. Returns their ids. */
export async function seedLabelledEvents(client: ClickHouseClient, modelId: string, o: SeedOptions): Promise<string[]> {
  const sample = seaSample(o.seed, o.n, o.concept ?? 0);
  const start = o.start ?? T0;
  const step = o.stepMs ?? 1000;
  const events: ScoringEventRow[] = [];
  const labels: LabelRow[] = [];
  sample.rows.forEach((row, i) => {
    const id = `${o.prefix ?? modelId}-e${String(i).padStart(6, '0')}`;
    events.push({
      event_id: id,
      model_id: modelId,
      model_version: o.modelVersion ?? 'v0',
      ts: start + i * step,
      subject_id: o.subject ? o.subject(i) : `subj-${i % 50}`,
      num_features: { f1: row.f1 as number, f2: row.f2 as number, f3: row.f3 as number },
      cat_features: { region: row.region as string },
      missing_features: [],
      prediction_score: o.score ? o.score(row, i) : 0.5,
      prediction_class: null,
      prediction_value: null,
      metadata: {},
      contract_version: 1,
      source: 'http',
      source_ref: 'test',
    });
    labels.push({
      event_id: id,
      label: String(sample.labels[i]),
      label_numeric: sample.labels[i] as number,
      label_ts: start + i * step + (o.labelDelayMs ?? 60_000),
      contract_version: 1,
      source: 'http',
      source_ref: 'test',
    });
  });
  const repo = new ClickHouseIngestRepository(client);
  await repo.insertScoringEvents(events);
  await repo.insertLabels(labels);
  return events.map((e) => e.event_id);
}

/** The retrain activities over `config`'s chDB (migrated) with one onnxruntime thread, as the retrain step tests run them. */
export interface RetrainTestStack {
  ch: ClickHouse;
  pool: OnnxPool;
  acts: RetrainActivities;
  registry: ClickHouseRegistryRepository;
  artifacts: ArtifactStore;
  /** Closes the activities, the thread and chDB. */
  close(): Promise<void>;
}

export async function openRetrainTestStack(config: HalflifeConfig): Promise<RetrainTestStack> {
  const ch = await openClickHouse(config);
  await applyMigrations(ch.client);
  const pool = new OnnxPool({ threads: 1 });
  const acts = createRetrainActivities({ clickhouse: ch.client, config, log: createLogger('test', 'warn'), pool });
  return {
    ch,
    pool,
    acts,
    registry: new ClickHouseRegistryRepository(ch.client),
    artifacts: LocalArtifactStore.forDataDir(config.dataDir),
    async close() {
      await closeRetrainActivities(acts);
      await pool.close();
      await ch.close();
    },
  };
}

/** Fit a logistic regression on SEA data of a concept and register it. */
export async function registerTrainedModel(
  registry: RegistryRepository,
  artifacts: ArtifactStore,
  modelId: string,
  options: { seed: number; n: number; concept: number; stage?: ModelStage; l2?: number },
): Promise<{ version: ModelVersion; model: LogisticModel }> {
  const sample = seaSample(options.seed, options.n, options.concept);
  const { model } = fitLogistic({ features: SEA_FEATURES, ...sample }, { l2: options.l2 ?? 1 });
  const bytes = logisticToOnnx(model);
  const stored = await artifacts.put(
    `models/${modelId}/fixture-${options.seed}-${options.concept}-${options.n}/model.onnx`,
    bytes,
  );
  const version = await registry.registerVersion({
    modelId,
    stage: options.stage ?? 'candidate',
    artifactUri: stored.uri,
    sha256: stored.sha256,
    trainer: 'builtin:logistic-regression',
    params: { l2: options.l2 ?? 1 },
    metrics: {},
    features: SEA_FEATURES,
    codeVersion: 'test',
    seed: options.seed,
    createdBy: 'test',
  });
  return { version, model };
}
