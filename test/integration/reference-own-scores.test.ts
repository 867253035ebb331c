import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '@clickhouse/client';
import { createMonitorActivities } from '../../activities/monitor.ts';
import { numericReferenceProfile } from '../../detectors/drift/profiles.ts';
import { estimateCbpe } from '../../detectors/quality/cbpe.ts';
import { Random } from '../../detectors/random.ts';
import { buildReference } from '../../operations/build-reference.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import {
  ClickHouseIngestRepository,
  encodeLabel,
  encodeScoringEvent,
} from '../../platform/clickhouse/ingest-repository.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { loadReference } from '../../platform/clickhouse/reference-repository.ts';
import { insertShadowResults, type ShadowResultRow } from '../../platform/clickhouse/shadow-repository.ts';
import { createLogger } from '../../platform/logger.ts';
import { testConfig } from '../helpers/stack.ts';

const MODEL = 'own-scores';
const T0 = Date.UTC(2026, 0, 5);
const N = 2000;
const SNAPSHOT = 'snap-own-scores';

/**
 * A version promoted from a retrain gets its reference from its training snapshot, whose stored
 * events carry the scores of the version that served them (v1: hesitant, ~0.5). The new version
 * (v2: confident, near 0 or 1) is profiled and calibrated on its own scores from its shadow
 * evaluation, so its label-free estimate and its prediction drift are about v2, not v1.
 */
describe('the reference of a version promoted from a retrain (real chDB)', () => {
  let ch: ClickHouse;
  let activities: ReturnType<typeof createMonitorActivities>;
  const random = new Random(7);
  const labels: number[] = [];
  const v2Scores: number[] = [];

  beforeAll(async () => {
    const config = testConfig();
    ch = await openClickHouse(config);
    await applyMigrations(ch.client);
    const repo = new ClickHouseIngestRepository(ch.client);
    const events = [];
    for (let i = 0; i < N; i++) {
      const label = random.bernoulli(0.5) ? 1 : 0;
      labels.push(label);
      // v2 is right 90% of the time and says so; v1 barely leans the right way.
      const v2Right = random.bernoulli(0.9);
      v2Scores.push((v2Right ? label : 1 - label) === 1 ? random.uniform(0.8, 0.99) : random.uniform(0.01, 0.2));
      events.push({
        event_id: `own-${i}`,
        model_id: MODEL,
        model_version: 'v1',
        ts: T0 + i * 1000,
        subject_id: `s-${i}`,
        num_features: { x: random.normal(0, 1) },
        cat_features: {},
        missing_features: [],
        prediction_score: label === 1 ? random.uniform(0.45, 0.6) : random.uniform(0.4, 0.55),
        prediction_class: null,
        prediction_value: null,
        metadata: {},
        contract_version: 1,
        source: 'test',
        source_ref: '',
      });
    }
    await repo.insertEncoded('scoring_events', events.map(encodeScoringEvent));
    await repo.insertEncoded(
      'labels',
      events.map((e, i) =>
        encodeLabel({
          event_id: e.event_id,
          label: String(labels[i]),
          label_numeric: labels[i] as number,
          label_ts: e.ts + 1000,
          contract_version: 1,
          source: 'test',
          source_ref: '',
        }),
      ),
    );
    await ch.client.insert({
      table: 'training_lineage',
      values: events.map((e) => ({
        snapshot_id: SNAPSHOT,
        model_id: MODEL,
        event_id: e.event_id,
        subject_id: e.subject_id,
        split: 'train',
      })),
      format: 'JSONEachRow',
    });
    // v2's shadow evaluation on the same events; a probe's rows of another version are not its own.
    const shadow: ShadowResultRow[] = events.map((e, i) => ({
      evaluation_id: 'eval-v2',
      model_id: MODEL,
      candidate_version: 'v2',
      champion_version: 'v1',
      event_id: e.event_id,
      source: 'replay',
      label: labels[i] as 0 | 1,
      champion_score: e.prediction_score,
      candidate_score: v2Scores[i] as number,
      champion_latency_ms: 1,
      candidate_latency_ms: 1,
      evaluated_at: T0 + N * 1000,
    }));
    await insertShadowResults(ch.client, [
      ...shadow,
      ...shadow.map((r) => ({ ...r, evaluation_id: 'probe-v3', candidate_version: 'v3', source: 'probe' as const })),
    ]);
    activities = createMonitorActivities({
      clickhouse: ch.client,
      log: createLogger('test', 'warn'),
      config: config,
    });
  }, 120_000);

  afterAll(async () => {
    await ch?.close();
  });

  it('profiles and calibrates the new version on its own scores, and stores what it returns', async () => {
    const reference = await activities.buildReference({ modelId: MODEL, modelVersion: 'v2', lineageId: SNAPSHOT });
    expect(reference).not.toBeNull();
    const meanV2 = v2Scores.reduce((a, b) => a + b, 0) / N;
    // The prediction profile is v2's scores (mean ~0.5 but spread to the ends), not v1's (0.40–0.60).
    expect(reference!.prediction!.cuts[0]!).toBeLessThan(0.3);
    expect(reference!.prediction!.cuts.at(-1)!).toBeGreaterThan(0.7);
    expect(reference!.prediction!.mean).toBeCloseTo(meanV2, 6);
    // Window reads count into the stored reference's cuts: the stored one is the one returned.
    const stored = await loadReference(ch.client, reference!.referenceId);
    expect(stored.prediction).toEqual(reference!.prediction);
    // The label-free estimate of v2's traffic is v2's accuracy (0.9), not v1's calibration applied to v2.
    const realised = v2Scores.filter((s, i) => (s >= 0.5 ? 1 : 0) === labels[i]).length / N;
    const estimate = estimateCbpe(reference!.cbpe!, v2Scores, { threshold: 0.5 });
    expect(Math.abs((estimate.accuracy as number) - realised)).toBeLessThan(0.02);
  });

  it("given the version's own scores, the build reads no stored score and the rest of the reference is unchanged", async () => {
    const window = { modelId: MODEL, start: T0, end: T0 + N * 1000 };
    const stored = sentQueries(ch.client);
    const fromStored = await buildReference(stored.client, { ...window, referenceId: 'from-stored-scores' });
    const own = sentQueries(ch.client);
    const fromOwn = await buildReference(own.client, {
      ...window,
      referenceId: 'from-own-scores',
      predictionScores: v2Scores,
    });
    // Only the discovery query (which columns exist) names the stored score; the stored-score build counts it too.
    const scoreReads = (queries: string[]) =>
      queries.filter((q) => q.includes('prediction_score') && !q.includes('score_n'));
    expect(scoreReads(stored.queries).length).toBeGreaterThan(0);
    expect(scoreReads(own.queries)).toEqual([]);
    const { referenceId: _a, createdAt: _b, prediction, ...rest } = fromOwn;
    const { referenceId: _c, createdAt: _d, prediction: storedPrediction, ...storedRest } = fromStored;
    expect(rest).toEqual(storedRest);
    expect(storedPrediction).not.toBeNull();
    expect(prediction).toEqual(numericReferenceProfile(v2Scores, fromStored.nBins));
  });

  it('a version with no shadow evaluation of its own gets no prediction profile and no estimator', async () => {
    const reference = await activities.buildReference({ modelId: MODEL, modelVersion: 'v3', lineageId: SNAPSHOT });
    expect(reference).not.toBeNull();
    expect(reference!.prediction).toBeNull();
    expect(reference!.cbpe).toBeNull();
    // Its features are still the training data's.
    expect(reference!.features.x).toBeDefined();
  });
});

/** A client that records the text of every query sent through it. */
function sentQueries(client: ClickHouseClient): { client: ClickHouseClient; queries: string[] } {
  const queries: string[] = [];
  const recording = new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== 'query' || typeof value !== 'function') return value;
      return (params: { query: string }) => {
        queries.push(params.query);
        return (value as (p: unknown) => unknown).call(target, params);
      };
    },
  });
  return { client: recording, queries };
}
