import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictProbability, type LogisticModel } from '../../training/logistic.ts';
import type { RetrainActivities } from '../../activities/retrain.ts';
import type { SummaryMetrics } from '../../activities/scoring.ts';
import { queryRows, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { ClickHouseRegistryRepository } from '../../platform/clickhouse/registry-repository.ts';
import type { HalflifeConfig } from '../../platform/config.ts';
import { LocalArtifactStore } from '../../platform/registry/artifact-store.ts';
import { shadowModelId } from '../../platform/registry/shadow.ts';
import type { ModelVersion } from '../../platform/registry/types.ts';
import { testConfig } from '../helpers/stack.ts';
import {
  openRetrainTestStack,
  registerTrainedModel,
  seedLabelledEvents,
  T0,
  type RetrainTestStack,
} from './training-fixtures.ts';

/**
 * Events follow SEA concept 0 (θ = 8). Models: A and B are both fitted on concept 0 (different
 * samples: equally good up to noise); S is fitted on concept 3 (θ = 9.5), i.e. stale.
 */
describe('shadow evaluation: paired statistics on the same events (chDB)', () => {
  let config: HalflifeConfig;
  let ch: ClickHouse;
  let acts: RetrainActivities;
  let stack: RetrainTestStack;
  let A: ModelVersion;
  let B: ModelVersion;
  let S: ModelVersion;
  let modelB: LogisticModel;
  let modelS: LogisticModel;
  const modelId = 'fraud';
  const N = 4000;
  const window = { start: T0, end: T0 + N * 1000 };

  beforeAll(async () => {
    config = testConfig();
    stack = await openRetrainTestStack(config);
    ({ ch, acts } = stack);
    const { registry, artifacts } = stack;
    A = (
      await registerTrainedModel(registry, artifacts, modelId, { seed: 24, n: 5000, concept: 0, stage: 'production' })
    ).version;
    ({ version: B, model: modelB } = await registerTrainedModel(registry, artifacts, modelId, {
      seed: 21,
      n: 5000,
      concept: 0,
    }));
    ({ version: S, model: modelS } = await registerTrainedModel(registry, artifacts, modelId, {
      seed: 22,
      n: 5000,
      concept: 3,
    }));
    await seedLabelledEvents(ch.client, modelId, { seed: 5, n: N });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('rejects a worse challenger, with the statistics in the verdict', async () => {
    for (const mode of ['superiority', 'non-inferiority'] as const) {
      const result = await acts.shadowEvaluate({
        modelId,
        candidateVersion: S.version,
        championVersion: B.version,
        window,
        margin: 0.01,
        mode,
        maxEvents: 20_000,
      });
      expect(result.n).toBe(N);
      expect(result.verdict.decision).toBe('reject');
      const imp = result.verdict.statistics.improvement!;
      expect(imp.upper).toBeLessThan(mode === 'superiority' ? 0.01 : -0.01);
      expect(result.verdict.statistics.mcnemar!.pValue).toBeGreaterThanOrEqual(0);
      expect(result.verdict.reasons.join(' ')).toMatch(/whole interval is below/);
      expect(result.statistics.championScoredBy).toBe('onnx');
      // Small enough for Temporal history.
      expect(JSON.stringify(result).length).toBeLessThan(100_000);
    }
  });

  it('does not promote a challenger that is only noisily better: inconclusive, interval straddles the bar', async () => {
    const result = await acts.shadowEvaluate({
      modelId,
      candidateVersion: B.version,
      championVersion: A.version,
      window,
      margin: 0,
      mode: 'superiority',
      maxEvents: 20_000,
    });
    const imp = result.verdict.statistics.improvement!;
    expect(imp.improvement).toBeGreaterThan(0);
    expect(imp.lower).toBeLessThan(0);
    expect(result.verdict.decision).toBe('inconclusive');
    expect(result.verdict.reasons.join(' ')).toMatch(/within noise/);
  });

  it('promotes a clearly better challenger, and stores every paired event in shadow_results', async () => {
    const result = await acts.shadowEvaluate({
      modelId,
      candidateVersion: B.version,
      championVersion: S.version,
      window,
      margin: 0.005,
      mode: 'superiority',
      maxEvents: 3000,
    });
    expect(result.n).toBe(3000);
    expect(result.verdict.decision).toBe('promote');
    expect(result.verdict.statistics.improvement!.lower).toBeGreaterThan(0.005);
    expect(result.statistics.candidate.logLoss!).toBeLessThan(result.statistics.champion.logLoss!);
    const rows = await queryRows<{ n: string; label_sum: string; diff: number }>(
      ch.client,
      `SELECT count() AS n, sum(label) AS label_sum, max(abs(candidate_score - champion_score)) AS diff FROM shadow_results FINAL WHERE evaluation_id = {e:String}`,
      { e: result.evaluationId },
    );
    expect(Number(rows[0]!.n)).toBe(3000);
    expect(rows[0]!.diff).toBeGreaterThan(0);
    // Every stored pair is what was scored: each model's score re-computed from the event's
    // features, the label and the evaluation's own fields, column by column.
    const stored = await queryRows<{
      event_id: string;
      label: number;
      champion_score: number;
      candidate_score: number;
      source: string;
      model_id: string;
      candidate_version: string;
      champion_version: string;
      evaluated_ms: string;
      f: Record<string, number>;
      c: Record<string, string>;
      y: number;
    }>(
      ch.client,
      `SELECT r.event_id AS event_id, r.label AS label, r.champion_score AS champion_score, r.candidate_score AS candidate_score,
              r.source AS source, r.model_id AS model_id, r.candidate_version AS candidate_version, r.champion_version AS champion_version,
              toUnixTimestamp64Milli(r.evaluated_at) AS evaluated_ms, e.num_features AS f, e.cat_features AS c, l.label_numeric AS y
       FROM shadow_results AS r FINAL
       INNER JOIN (SELECT event_id, num_features, cat_features FROM scoring_events FINAL WHERE model_id = {m:String}) AS e ON e.event_id = r.event_id
       INNER JOIN (SELECT event_id, argMax(label_numeric, label_ts) AS label_numeric FROM labels GROUP BY event_id) AS l ON l.event_id = r.event_id
       WHERE r.evaluation_id = {e:String}`,
      { e: result.evaluationId, m: modelId },
    );
    expect(stored).toHaveLength(3000);
    expect(new Set(stored.map((r) => r.event_id)).size).toBe(3000);
    let positives = 0;
    for (const r of stored) {
      expect(r.label).toBe(Number(r.y));
      positives += r.label;
      expect(Math.abs(r.candidate_score - predictProbability(modelB, { ...r.f, ...r.c }))).toBeLessThan(1e-5);
      expect(Math.abs(r.champion_score - predictProbability(modelS, { ...r.f, ...r.c }))).toBeLessThan(1e-5);
      expect([r.source, r.model_id, r.candidate_version, r.champion_version]).toEqual([
        'replay',
        modelId,
        B.version,
        S.version,
      ]);
      expect(Math.abs(Number(r.evaluated_ms) - Date.now())).toBeLessThan(600_000);
    }
    expect(positives).toBe((result.statistics.candidate as SummaryMetrics).positives);
    const storedLogLoss =
      stored.reduce((a, r) => a - (r.label === 1 ? Math.log(r.candidate_score) : Math.log(1 - r.candidate_score)), 0) /
      stored.length;
    expect(Math.abs(storedLogLoss - result.statistics.candidate.logLoss!)).toBeLessThan(1e-9);

    // Accuracy as the metric: McNemar must agree before promotion.
    const acc = await acts.shadowEvaluate({
      modelId,
      candidateVersion: B.version,
      championVersion: S.version,
      window,
      margin: 0,
      mode: 'superiority',
      maxEvents: 20_000,
      metric: 'accuracy',
    });
    expect(acc.verdict.decision).toBe('promote');
    expect(acc.verdict.statistics.mcnemar!.pValue).toBeLessThan(0.05);
    expect(acc.verdict.reasons.join(' ')).toMatch(/McNemar p = .* confirms/);
  });

  it('pairs live shadow traffic (events of <model>.shadow) with the champion’s production events', async () => {
    // What the scorer would have emitted: production events scored by S, shadow events scored by B.
    const liveModel = 'fraud-live';
    const start = T0 + 10 * 86_400_000;
    const registry = new ClickHouseRegistryRepository(ch.client);
    const artifacts = LocalArtifactStore.forDataDir(config.dataDir);
    const champ = (
      await registerTrainedModel(registry, artifacts, liveModel, { seed: 22, n: 5000, concept: 3, stage: 'production' })
    ).version;
    const cand = (await registerTrainedModel(registry, artifacts, liveModel, { seed: 21, n: 5000, concept: 0 }))
      .version;
    await seedLabelledEvents(ch.client, liveModel, {
      seed: 6,
      n: 1500,
      start,
      modelVersion: champ.version,
      prefix: 'live',
      score: (row) => predictProbability(modelS, row),
    });
    await seedLabelledEvents(ch.client, shadowModelId(liveModel), {
      seed: 6,
      n: 1500,
      start,
      modelVersion: cand.version,
      prefix: 'live',
      score: (row) => predictProbability(modelB, row),
    });
    const result = await acts.shadowEvaluate({
      modelId: liveModel,
      candidateVersion: cand.version,
      championVersion: champ.version,
      window: { start, end: start + 1500 * 1000 },
      margin: 0.005,
      mode: 'superiority',
      maxEvents: 20_000,
      source: 'live',
    });
    expect(result.statistics.source).toBe('live');
    expect(result.statistics.championScoredBy).toBe('recorded');
    expect(result.n).toBe(1500);
    expect(result.verdict.decision).toBe('promote');
  });
});
