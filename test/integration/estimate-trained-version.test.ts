import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMonitorActivities } from '../../activities/monitor.ts';
import { scoreRows } from '../../activities/scoring.ts';
import { realisedFromSums } from '../../detectors/quality/outcome-sums.ts';
import { summaryFigure, type OutputsSummary } from '../../detectors/quality/outputs-summary.ts';
import { Random } from '../../detectors/random.ts';
import { outcomeWindowEstimate } from '../../operations/outcome-estimate.ts';
import { queryRows } from '../../platform/clickhouse/client.ts';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { declareModelKind, type ModelKindDeclaration } from '../../platform/clickhouse/model-kind-repository.ts';
import {
  labelledProbabilityRows,
  labelledRegressionRows,
} from '../../platform/clickhouse/outcome-estimation-repository.ts';
import { outcomeSums } from '../../platform/clickhouse/outcome-sums-repository.ts';
import { loadReference } from '../../platform/clickhouse/reference-repository.ts';
import type { LabelRow, ScoringEventRow } from '../../platform/contracts.ts';
import { createLogger } from '../../platform/logger.ts';
import type { RawFeatures } from '../../platform/onnx/features.ts';
import { loadModelRunner } from '../../platform/onnx/runner.ts';
import { modelOutputOf } from '../../platform/registry/model-output.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';
import { scoringEventRow } from '../helpers/stored-rows.ts';
import { openRetrainTestStack, type RetrainTestStack } from './training-fixtures.ts';

const HOUR = 3_600_000;
const CLASSES = ['low', 'mid', 'high'];
/** Labelled events the retrain trains on; 40% are held out, so the holdout clears DLE's 1,000. */
const TRAINING_EVENTS = 3000;
const HOLDOUT_FRACTION = 0.4;
/** Events v1 serves after its promotion, their labels withheld. */
const SERVED_EVENTS = 1200;
const TRAINING = { start: Date.UTC(2026, 2, 1), end: Date.UTC(2026, 2, 1) + 6 * HOUR };
const SERVED = { start: TRAINING.end + HOUR, end: TRAINING.end + 7 * HOUR };

type Kind = Exclude<ModelKindDeclaration, { kind: 'binary' }>;

/**
 * One labelled row of a known process. Multiclass: the true class drawn from a softmax of x1 and x2
 * (a multinomial logistic model is well specified, so the trained one is calibrated); `spread`
 * narrows x1 after the promotion, putting rows near the boundaries (covariate shift: P(y | x) is
 * unchanged, which CBPE can see). Regression: y linear in x with an error spread of 1 + 2|x| (+2 in
 * the south), which the ridge model cannot see and DLE learns from the features; `mean` moves x outwards.
 */
function row(kind: Kind, random: Random, shifted: boolean): { features: RawFeatures; label: string; value: number } {
  if (kind.kind === 'multiclass') {
    const x1 = random.normal(0, shifted ? 0.5 : 2);
    const x2 = random.normal(0, 1);
    const logits = [1.5 * x1, -1.5 * x1 + 0.5 * x2, 1.2 * x2];
    const e = logits.map(Math.exp);
    const total = e.reduce((a, b) => a + b, 0);
    const u = random.next();
    const p0 = (e[0] as number) / total;
    const p1 = (e[1] as number) / total;
    const truth = u < p0 ? 0 : u < p0 + p1 ? 1 : 2;
    return { features: { x1, x2 }, label: CLASSES[truth] as string, value: truth };
  }
  const x = random.normal(shifted ? 2.2 : 0, shifted ? 0.5 : 1.5);
  const region = random.next() < 0.5 ? 'north' : 'south';
  const spread = 1 + 2 * Math.abs(x) + (region === 'south' ? 2 : 0);
  const y = 50 + 10 * x + random.normal(0, spread);
  return { features: { x, region }, label: String(y), value: y };
}

function event(modelId: string, id: string, version: string, ts: number, features: RawFeatures): ScoringEventRow {
  const num: Record<string, number> = {};
  const cat: Record<string, string> = {};
  for (const [name, value] of Object.entries(features)) {
    if (typeof value === 'number') num[name] = value;
    else if (typeof value === 'string') cat[name] = value;
  }
  return scoringEventRow({
    event_id: id,
    model_id: modelId,
    model_version: version,
    ts,
    subject_id: `subj-${id}`,
    num_features: num,
    cat_features: cat,
    prediction_score: null,
  });
}

const labelOf = (id: string, r: { label: string; value: number }, kind: Kind, ts: number): LabelRow => ({
  event_id: id,
  label: r.label,
  label_numeric: kind.kind === 'regression' ? r.value : null,
  label_ts: ts,
  contract_version: 1,
  source: 'test',
  source_ref: '',
});

/**
 * A multiclass and a regression version that a retrain trained (real chDB, the retrain's own
 * snapshot, built-in trainer and validation activities, onnxruntime) and that then serves shifted
 * traffic whose labels are late. Its reference is its training snapshot, where it served no event,
 * so before the held-out outputs there was no estimate at all. Its estimator is fitted on the
 * snapshot's held-out rows it scored at validation; once the labels arrive, ClickHouse sums the
 * realised metric, and the estimate made without them is close to it.
 */
describe('the label-free estimate of a version a retrain trained, before it has labels of its own (chDB)', () => {
  let stack: RetrainTestStack;
  let monitor: ReturnType<typeof createMonitorActivities>;

  beforeAll(async () => {
    const config = testConfig();
    stack = await openRetrainTestStack(config);
    monitor = createMonitorActivities({ clickhouse: stack.ch.client, log: createLogger('test', 'warn'), config });
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
  });

  async function trainServeAndEstimate(kind: Kind, seed: number) {
    const client = stack.ch.client;
    const modelId = uniqueName(`trained-${kind.kind}`);
    await declareModelKind(client, modelId, kind, 'test');
    const repo = new ClickHouseIngestRepository(client);
    const random = new Random(seed);

    // v0's labelled traffic: what the retrain trains on.
    const training = Array.from({ length: TRAINING_EVENTS }, () => row(kind, random, false));
    const trainingTs = (i: number) =>
      TRAINING.start + Math.floor(((TRAINING.end - TRAINING.start) * i) / TRAINING_EVENTS);
    await repo.insertScoringEvents(training.map((r, i) => event(modelId, `t-${i}`, 'v0', trainingTs(i), r.features)));
    await repo.insertLabels(training.map((r, i) => labelOf(`t-${i}`, r, kind, trainingTs(i) + 60_000)));

    // The retrain's steps: snapshot, built-in trainer of the kind, validation (which keeps v1's held-out outputs).
    const retrainId = uniqueName('retrain');
    const snapshot = await stack.acts.snapshotTrainingData({
      retrainId,
      modelId,
      window: TRAINING,
      holdoutFraction: HOLDOUT_FRACTION,
    });
    const trained = await stack.acts.trainModel({
      retrainId,
      modelId,
      snapshotId: snapshot.snapshotId,
      trainer: { kind: 'builtin', params: {} },
      seed: 1,
    });
    expect(trained.modelVersion).toBe('v1');
    const validation = await stack.acts.validateOffline({
      modelId,
      candidateVersion: 'v1',
      snapshotId: snapshot.snapshotId,
      quality: kind.kind === 'multiclass' ? { metric: 'accuracy' } : { metric: 'mae', worthlessError: 40 },
    });
    expect(validation.passed, validation.reasons.join('; ')).toBe(true);
    const [stored] = await queryRows<{ n: string; snapshots: string[] }>(
      client,
      `SELECT count() AS n, groupUniqArray(snapshot_id) AS snapshots FROM validation_outputs FINAL
       WHERE model_id = {m:String} AND model_version = 'v1'`,
      { m: modelId },
    );
    expect(Number(stored!.n)).toBe(snapshot.holdoutRows);
    expect(stored!.snapshots).toEqual([snapshot.snapshotId]);

    // Promoted: the monitor's reference for v1 is its training snapshot, where v1 served nothing.
    const built = await monitor.buildReference({ modelId, modelVersion: 'v1', lineageId: snapshot.snapshotId });
    expect(built).not.toBeNull();
    const reference = await loadReference(client, built!.referenceId);
    const ownWindow = { modelId, modelVersion: 'v1', start: reference.start, end: reference.end };
    const own =
      kind.kind === 'multiclass'
        ? await labelledProbabilityRows(client, ownWindow, kind.classes, 10_000)
        : await labelledRegressionRows(client, ownWindow, { numeric: ['x'], categorical: ['region'] }, 10_000);
    expect(own).toEqual([]);

    // v1 serves shifted traffic, scored by its own ONNX model; the labels are late.
    const version = await stack.registry.requireVersion(modelId, 'v1');
    const runner = await loadModelRunner(stack.pool, stack.artifacts, {
      modelId,
      version: 'v1',
      artifactUri: version.artifactUri,
      sha256: version.sha256,
      features: version.features,
      output: modelOutputOf(kind),
    });
    const served = Array.from({ length: SERVED_EVENTS }, () => row(kind, random, true));
    const scored = await scoreRows(
      runner,
      served.map((r) => r.features),
    ).finally(() => runner.unload());
    expect(scored.errors).toBe(0);
    const servedTs = (i: number) => SERVED.start + Math.floor(((SERVED.end - SERVED.start) * i) / SERVED_EVENTS);
    await repo.insertScoringEvents(
      served.map((r, i) => {
        const outputs = Array.from(scored.scores.subarray(i * scored.width, (i + 1) * scored.width));
        return {
          ...event(modelId, `s-${i}`, 'v1', servedTs(i), r.features),
          ...(kind.kind === 'multiclass'
            ? { prediction_probabilities: Object.fromEntries(kind.classes.map((c, k) => [c, outputs[k] as number])) }
            : { prediction_value: outputs[0] as number }),
        };
      }),
    );

    // The monitor's estimate of the served window, labels not yet arrived.
    const estimate = await outcomeWindowEstimate(
      client,
      { reference, version: 'v1', kind, window: { modelId, ...SERVED }, windowEvents: SERVED_EVENTS },
      new Map(),
    );

    // The labels arrive: the realised metric of the same window, summed in ClickHouse.
    await repo.insertLabels(served.map((r, i) => labelOf(`s-${i}`, r, kind, servedTs(i) + 60_000)));
    const metric = kind.kind === 'multiclass' ? 'accuracy' : 'mae';
    const [windowSums] = await outcomeSums(client, [{ modelId, kind, ...SERVED }]);
    const realised = realisedFromSums(metric, windowSums!)!.value!;
    // The version's figure on the held-out rows: its quality before the shift.
    const before = summaryFigure(validation.candidate as OutputsSummary, metric)!;
    return { estimate, realised, before, holdoutRows: snapshot.holdoutRows, snapshotId: snapshot.snapshotId };
  }

  it('multiclass: CBPE fitted on the held-out rows v1 scored at validation follows its realised accuracy', async () => {
    const { estimate, realised, before, holdoutRows, snapshotId } = await trainServeAndEstimate(
      { kind: 'multiclass', classes: CLASSES },
      31,
    );
    expect(holdoutRows).toBeGreaterThanOrEqual(500);
    expect(estimate.fittedOn).toEqual({ source: 'validation-holdout', rows: holdoutRows, version: 'v1', snapshotId });
    expect(estimate.reasons).toContain(
      `CBPE fitted on ${holdoutRows.toLocaleString('en-US')} held-out snapshot rows scored by v1 at validation (snapshot ${snapshotId}): the version has no labelled events of its own in its reference yet`,
    );
    expect(estimate).toMatchObject({ method: 'CBPE', n: SERVED_EVENTS, trustworthy: true });
    const figure = estimate.figures.accuracy!;
    const half = (figure.interval!.upper - figure.interval!.lower) / 2;
    process.stderr.write(
      `[measure] trained multiclass v1: estimated accuracy ${figure.value!.toFixed(4)} ± ${half.toFixed(4)}, realised ${realised.toFixed(4)}, holdout ${before.toFixed(4)} (${holdoutRows} held-out rows)\n`,
    );
    // The shift moved accuracy well away from the holdout's, and the estimate moved with it: off by
    // no more than the sampling noise its 95% interval measures, 1.5 half-widths.
    expect(before - realised).toBeGreaterThan(0.1);
    expect(Math.abs(figure.value! - realised)).toBeLessThan(1.5 * half);
  });

  it('regression: DLE fitted on the held-out rows v1 scored at validation follows its realised MAE', async () => {
    const { estimate, realised, before, holdoutRows, snapshotId } = await trainServeAndEstimate(
      { kind: 'regression' },
      32,
    );
    expect(holdoutRows).toBeGreaterThanOrEqual(1000);
    expect(estimate.fittedOn).toEqual({ source: 'validation-holdout', rows: holdoutRows, version: 'v1', snapshotId });
    expect(estimate).toMatchObject({ method: 'DLE', n: SERVED_EVENTS, trustworthy: true });
    const figure = estimate.figures.mae!;
    const half = (figure.interval!.upper - figure.interval!.lower) / 2;
    process.stderr.write(
      `[measure] trained regression v1: estimated MAE ${figure.value!.toFixed(3)} ± ${half.toFixed(3)}, realised ${realised.toFixed(3)}, holdout ${before.toFixed(3)} (${holdoutRows} held-out rows)\n`,
    );
    // Sampling noise plus the loss model's own error, allowed 10% of the MAE (as for a reference's own events).
    expect(realised / before).toBeGreaterThan(1.3);
    expect(Math.abs(figure.value! - realised)).toBeLessThan(half + 0.1 * figure.value!);
  });
});
