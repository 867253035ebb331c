/**
 * Labelled events of multiclass and regression models, one generator for the integration tests
 * that need them:
 *
 * - a training history (`featureHistory`): features f1, f2, f3 uniform in [0, 10] and a region,
 *   labelled from them (`truthFromFeatures`) and served without predictions — what a retrain
 *   trains on and a shadow replays;
 * - a served model's outcome (`multiclassOutcome`, `regressionOutcome`): the truth and what a
 *   model of a given quality predicted for it — what a monitor or a canary measures. Each test
 *   draws its own features around them.
 *
 * Each function says what it draws from `random`, in order: a test's data is fixed by its seed.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Random } from '../../detectors/random.ts';
import { registerModel } from '../../operations/register-model.ts';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { ClickHouseRegistryRepository } from '../../platform/clickhouse/registry-repository.ts';
import type { LabelRow, ScoringEventRow } from '../../platform/contracts.ts';
import { LocalArtifactStore } from '../../platform/registry/artifact-store.ts';
import type { MonitorHarness } from './monitor-harness.ts';

/** The classes of the tests' multiclass models, in order. */
export const OUTCOME_CLASSES = ['low', 'mid', 'high'];

export type OutcomeModelKind = 'multiclass' | 'regression';

export interface HistoryFeatures {
  f1: number;
  f2: number;
  f3: number;
}

/** Features f1, f2, f3 uniform in [0, 10]; draws three uniforms, in that order. */
export function historyFeatures(random: Random): HistoryFeatures {
  const f1 = 10 * random.next();
  const f2 = 10 * random.next();
  return { f1, f2, f3: 10 * random.next() };
}

/**
 * The label of events with features `f`, as text: a class of {@link OUTCOME_CLASSES} from
 * f1 + f2 + N(0, 1.5), or 2·f1 − f2 + 0.5·f3 + N(0, 1). Draws one normal.
 */
export function truthFromFeatures(kind: OutcomeModelKind, f: HistoryFeatures, random: Random): string {
  if (kind === 'multiclass') {
    const s = f.f1 + f.f2 + random.normal(0, 1.5);
    return OUTCOME_CLASSES[s < 8 ? 0 : s < 12 ? 1 : 2]!;
  }
  return String(2 * f.f1 - f.f2 + 0.5 * f.f3 + random.normal(0, 1));
}

export interface FeatureHistoryOptions {
  modelId: string;
  kind: OutcomeModelKind;
  events: number;
  random: Random;
  /** The first event's time; the others follow a second apart, each labelled a minute after it. */
  start: number;
  /** Id of event `i`. @default `${modelId}-e${i}`, i zero-padded to five digits */
  eventId?: (i: number) => string;
}

/**
 * `events` labelled events of version v0 without predictions: per event its features
 * ({@link historyFeatures}), then its label ({@link truthFromFeatures}); subjects `subj-0` to
 * `subj-49` in turn, regions `us` and `eu` alternately.
 */
export function featureHistory(o: FeatureHistoryOptions): { events: ScoringEventRow[]; labels: LabelRow[] } {
  const eventId = o.eventId ?? ((i: number) => `${o.modelId}-e${String(i).padStart(5, '0')}`);
  const events: ScoringEventRow[] = [];
  const labels: LabelRow[] = [];
  for (let i = 0; i < o.events; i++) {
    const f = historyFeatures(o.random);
    const label = truthFromFeatures(o.kind, f, o.random);
    const id = eventId(i);
    const ts = o.start + i * 1000;
    events.push({
      event_id: id,
      model_id: o.modelId,
      model_version: 'v0',
      ts,
      subject_id: `subj-${i % 50}`,
      num_features: { ...f },
      cat_features: { region: i % 2 ? 'eu' : 'us' },
      missing_features: [],
      prediction_score: null,
      prediction_class: null,
      prediction_value: null,
      metadata: {},
      contract_version: 1,
      source: 'http',
      source_ref: 'test',
    });
    labels.push({
      event_id: id,
      label,
      label_numeric: o.kind === 'regression' ? Number(label) : null,
      label_ts: ts + 60_000,
      contract_version: 1,
      source: 'http',
      source_ref: 'test',
    });
  }
  return { events, labels };
}

/** {@link featureHistory}, stored. */
export async function seedFeatureHistory(client: ClickHouseClient, o: FeatureHistoryOptions): Promise<void> {
  const { events, labels } = featureHistory(o);
  const repo = new ClickHouseIngestRepository(client);
  await repo.insertScoringEvents(events);
  await repo.insertLabels(labels);
}

/**
 * A multiclass model's output for one event of a true class drawn uniformly from `classes`: its
 * logit for the true class `sharpness` above the others', each with N(0, 1) noise (lower
 * sharpness: it tells the classes apart less well). Draws the class, then one normal a class.
 */
export function multiclassOutcome(
  random: Random,
  classes: number,
  sharpness: number,
): { truth: number; probabilities: number[] } {
  const truth = random.integer(0, classes - 1);
  const exp = Array.from({ length: classes }, (_, k) => Math.exp(random.normal() + (k === truth ? sharpness : 0)));
  const total = exp.reduce((a, b) => a + b, 0);
  return { truth, probabilities: exp.map((v) => v / total) };
}

/**
 * A regression model's output for one event: the truth ~ N(mean, sd), the prediction off it by
 * N(0, errorSd). Draws the truth, then the error.
 */
export function regressionOutcome(
  random: Random,
  errorSd: number,
  truth: { mean: number; sd: number } = { mean: 100, sd: 20 },
): { truth: number; prediction: number } {
  const y = random.normal(truth.mean, truth.sd);
  return { truth: y, prediction: y + random.normal(0, errorSd) };
}

/** Registers a multiclass model (of {@link OUTCOME_CLASSES}) and a regression model in the harness's registry. */
export async function registerOutcomeModels(
  harness: MonitorHarness,
  models: { multiclass: string; regression: string },
): Promise<void> {
  const context = {
    clickhouse: harness.ch.client,
    registry: new ClickHouseRegistryRepository(harness.ch.client),
    artifacts: LocalArtifactStore.forDataDir(harness.config.dataDir),
  };
  await registerModel(context, {
    modelId: models.multiclass,
    kind: { kind: 'multiclass', classes: OUTCOME_CLASSES },
    actor: 'test',
  });
  await registerModel(context, { modelId: models.regression, kind: { kind: 'regression' }, actor: 'test' });
}
