import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MultivariateDriftReport } from '../../detectors/drift/multivariate/report.ts';
import { staggerOffsetMs, windowStartAt } from '../../detectors/monitor/schedule.ts';
import { Random } from '../../detectors/random.ts';
import { eraseSubject } from '../../operations/erase-subject.ts';
import { registerModel } from '../../operations/register-model.ts';
import { queryRows } from '../../platform/clickhouse/client.ts';
import type { DecisionRecord } from '../../platform/clickhouse/decisions-repository.ts';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { ClickHouseRegistryRepository } from '../../platform/clickhouse/registry-repository.ts';
import { LocalArtifactStore } from '../../platform/registry/artifact-store.ts';
import { ingestHttp } from '../../workers/ingest/http.ts';
import { uniqueName } from '../helpers/stack.ts';
import { timeWithRoomInWindows } from '../helpers/window-room.ts';
import { startMonitorHarness, type MonitorHarness } from '../helpers/monitor-harness.ts';
import { driftOf, multivariateMonitorDecisions, windowOf } from '../helpers/multivariate-monitor.ts';

const HOUR = 3_600_000;
const EVENTS_PER_WINDOW = 1500;
const DIMENSION = 16;
/** Coordinates 0–3 of the embedding move by this much in the shifted window (a subspace of 4 of 16). */
const SHIFT = 0.5;

/**
 * A window's events as posted: two scalar features (correlated 0.7) and a 16-dimensional embedding ~ N(0, I),
 * its first four coordinates shifted by `shift`. Ids are fixed (not derived from the random
 * model id), so the hash sample and with the tests' seeds every verdict are the same each run.
 */
function events(modelId: string, start: number, shift: number, seed: number): Record<string, unknown>[] {
  const random = new Random(seed);
  return Array.from({ length: EVENTS_PER_WINDOW }, (_, i) => {
    const embedding = Array.from({ length: DIMENSION }, (_, j) => random.normal() + (j < 4 ? shift : 0));
    const x1 = random.normal();
    return {
      event_id: `vectors-${seed}-${i}`,
      model_id: modelId,
      model_version: 'v1',
      timestamp: start + Math.floor((i * HOUR) / EVENTS_PER_WINDOW),
      features: { x1, x2: 0.7 * x1 + Math.sqrt(1 - 0.49) * random.normal(), embedding },
      prediction: { score: random.uniform() },
      subject_id: `subject-${seed}-${i % 100}`,
    };
  });
}

/**
 * Embeddings end to end on the real stack: a model declares a 16-dimensional vector feature
 * (registration), events carrying it are posted through HTTP ingest into chDB (broken vectors
 * dead-lettered with their reason), and the ModelMonitor workflow's ticks (time-skipping test
 * server) run the multivariate tests on the vectors of a hash sample: a mean shift in a subspace
 * of the embedding is caught by MMD on the embedding and by the domain classifier, and an
 * unshifted window is not. Erasing a subject erases their vectors with their events.
 */
describe('vector features through ingest and a monitor tick (time-skipping test server)', () => {
  let harness: MonitorHarness;
  const modelId = uniqueName('vectors');
  let firstWindowStart = 0;
  let decisions: DecisionRecord[] = [];
  let rejected: { index: number; reason: string }[] = [];
  let accepted = 0;

  beforeAll(async () => {
    harness = await startMonitorHarness();
    const { env, ch, config } = harness;
    await registerModel(
      {
        clickhouse: ch.client,
        registry: new ClickHouseRegistryRepository(ch.client),
        artifacts: LocalArtifactStore.forDataDir(config.dataDir),
      },
      { modelId, vectorFeatures: { embedding: DIMENSION }, actor: 'test' },
    );
    const startedAt = await timeWithRoomInWindows(env, [modelId], HOUR);
    firstWindowStart = windowStartAt(startedAt, HOUR, staggerOffsetMs(modelId, HOUR));
    // The first window becomes the reference; the second has the embedding shifted; the third is back.
    const repo = new ClickHouseIngestRepository(ch.client);
    const timestamps = { min: 0, maxAheadMs: 10 * HOUR };
    const bad = [
      { ...events(modelId, firstWindowStart, 0, 9)[0]!, event_id: 'bad-length', features: { embedding: [1, 2, 3] } },
      {
        ...events(modelId, firstWindowStart, 0, 9)[1]!,
        event_id: 'bad-element',
        features: { embedding: [...Array(15).fill(0), 'x'] },
      },
      { ...events(modelId, firstWindowStart, 0, 9)[2]!, event_id: 'bad-name', features: { other: [1, 2] } },
    ];
    for (const [window, shift, seed] of [
      [0, 0, 1],
      [1, SHIFT, 2],
      [2, 0, 3],
    ] as const) {
      const result = await ingestHttp(
        repo,
        [...events(modelId, firstWindowStart + window * HOUR, shift, seed), ...(window === 0 ? bad : [])],
        'events',
        { timestamps },
      );
      accepted += result.accepted;
      rejected = [...rejected, ...result.rejected];
    }
    decisions = await multivariateMonitorDecisions(harness, modelId, 'vectors');
  }, 300_000);

  afterAll(async () => {
    await harness?.teardown();
  });

  it('ingest stores every valid event with its vector, and dead-letters each broken vector with its reason', async () => {
    expect(accepted).toBe(3 * EVENTS_PER_WINDOW);
    expect(rejected.map((r) => r.reason)).toEqual([
      expect.stringContaining(
        `features.embedding: vector feature embedding of model ${modelId} has dimension 16, this one has 3 numbers: send exactly 16`,
      ),
      expect.stringContaining('features.embedding.15: element 15 of vector feature embedding is a string'),
      expect.stringContaining(`model ${modelId} declares no vector feature other: declare it first`),
    ]);
    const [dead] = await queryRows<{ n: string }>(
      harness.ch.client,
      "SELECT count() AS n FROM dead_letters WHERE model_id = {m:String} AND payload LIKE '%bad-%'",
      { m: modelId },
    );
    expect(Number(dead?.n)).toBe(3);
    const [stored] = await queryRows<{ n: string; dims: number[] }>(
      harness.ch.client,
      `SELECT count() AS n, groupUniqArray(length(vec_features['embedding'])) AS dims
       FROM scoring_events FINAL WHERE model_id = {m:String}`,
      { m: modelId },
    );
    expect(Number(stored?.n)).toBe(3 * EVENTS_PER_WINDOW);
    expect(stored?.dims).toEqual([DIMENSION]);
  });

  it('posting the same events again stores nothing twice (vectors included)', async () => {
    const again = await ingestHttp(
      new ClickHouseIngestRepository(harness.ch.client),
      events(modelId, firstWindowStart + HOUR, SHIFT, 2).slice(0, 50),
      'events',
      { timestamps: { min: 0, maxAheadMs: 10 * HOUR } },
    );
    expect(again).toMatchObject({ accepted: 0, duplicates: 50, rejected: [] });
  });

  it('the shifted embedding: MMD on the vector and the domain classifier drift, driven by the embedding', () => {
    const [, second] = decisions.filter((d) => d.kind === 'no-action');
    expect(windowOf(second!).start).toBe(firstWindowStart + HOUR);
    const drift = driftOf(second!)!;
    // Per-feature drift reads scalar features only: the vector is not one of them.
    const names = drift.features.map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['x1', 'x2']));
    expect(names).not.toContain('embedding');
    expect(drift.features.filter((f) => f.drifted)).toEqual([]);
    expect(drift.dataset_drift).toBe(true);
    const multivariate = drift.multivariate as MultivariateDriftReport;
    const onVector = multivariate.tests.find((t) => t.test === 'mmd' && t.features.join() === 'embedding')!;
    expect(onVector.drifted).toBe(true);
    expect(onVector.pvalue).toBeLessThan(onVector.level);
    const onScalars = multivariate.tests.find((t) => t.test === 'mmd' && t.features.join() === 'x1,x2')!;
    expect(onScalars.drifted).toBe(false);
    const classifier = multivariate.tests.find((t) => t.test === 'domain-classifier')!;
    expect(classifier.drifted).toBe(true);
    expect(classifier.features).toEqual(['embedding', 'x1', 'x2']);
    expect(classifier.driving_features[0]?.feature).toBe('embedding');
    expect([...multivariate.drifted_tests].sort()).toEqual(['domain-classifier', 'mmd']);
    // The scalar features' joint distribution did not change: PCA on them stays inside its band.
    expect(multivariate.tests.find((t) => t.test === 'pca-reconstruction')?.drifted).toBe(false);
  });

  it('an unshifted window: the tests read the vectors and find nothing', () => {
    const [, , third] = decisions.filter((d) => d.kind === 'no-action');
    expect(windowOf(third!).start).toBe(firstWindowStart + 2 * HOUR);
    const drift = driftOf(third!)!;
    const multivariate = drift.multivariate as MultivariateDriftReport;
    expect(multivariate.tests.some((t) => t.features.includes('embedding'))).toBe(true);
    expect(multivariate.tests.filter((t) => t.drifted).map((t) => t.reason)).toEqual([]);
    expect(drift.dataset_drift).toBe(false);
  });

  it('erasing a subject erases their vectors with their events', async () => {
    const subject = 'subject-2-7';
    const vectorsOf = async () => {
      const [row] = await queryRows<{ n: string }>(
        harness.ch.client,
        "SELECT count() AS n FROM scoring_events WHERE subject_id = {s:String} AND length(vec_features['embedding']) > 0",
        { s: subject },
      );
      return Number(row?.n);
    };
    expect(await vectorsOf()).toBe(EVENTS_PER_WINDOW / 100);
    const report = await eraseSubject(harness.ch.client, { subjectId: subject, actor: 'test' });
    expect(report.deleted.scoring_events).toBe(EVENTS_PER_WINDOW / 100);
    expect(report.remaining?.scoring_events).toBe(0);
    expect(await vectorsOf()).toBe(0);
  });
});
