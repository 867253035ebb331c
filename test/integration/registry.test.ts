import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeRetrainActivities, createRetrainActivities, type RetrainActivities } from '../../activities/retrain.ts';
import { snapshotIdFor } from '../../activities/snapshot.ts';
import { openClickHouse, queryRows, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { ClickHouseLineageRepository } from '../../platform/clickhouse/lineage-repository.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { ClickHouseRegistryRepository } from '../../platform/clickhouse/registry-repository.ts';
import type { HalflifeConfig } from '../../platform/config.ts';
import { createLogger } from '../../platform/logger.ts';
import { LocalArtifactStore } from '../../platform/registry/artifact-store.ts';
import { testConfig } from '../helpers/stack.ts';
import { SEA_FEATURES, seedLabelledEvents, T0 } from './training-fixtures.ts';

describe('model registry and training lineage (chDB)', () => {
  let config: HalflifeConfig;
  let ch: ClickHouse;
  let registry: ClickHouseRegistryRepository;
  let acts: RetrainActivities;

  beforeAll(async () => {
    config = testConfig();
    ch = await openClickHouse(config);
    await applyMigrations(ch.client);
    registry = new ClickHouseRegistryRepository(ch.client);
    acts = createRetrainActivities({ clickhouse: ch.client, config, log: createLogger('test', 'warn') });
  });
  afterAll(async () => {
    await closeRetrainActivities(acts);
    await ch.close();
  });

  it('registers versions, keeps one production version, and records every stage change', async () => {
    const base = {
      artifactUri: 'local:models/reg/x.onnx',
      sha256: 'a'.repeat(64),
      trainer: 'test',
      features: SEA_FEATURES,
      codeVersion: 'test',
      createdBy: 'alice',
    };
    const v1 = await registry.registerVersion({ modelId: 'reg', ...base, stage: 'production' });
    const v2 = await registry.registerVersion({ modelId: 'reg', ...base, retrainId: 'r-2' });
    expect([v1.version, v2.version]).toEqual(['v1', 'v2']);
    // Same retrain id → the same version, not a new one.
    expect((await registry.registerVersion({ modelId: 'reg', ...base, retrainId: 'r-2' })).version).toBe('v2');
    expect((await registry.productionVersion('reg'))?.version).toBe('v1');

    const change = await registry.setStage('reg', 'v2', 'production', 'bob', 'better');
    expect(change).toMatchObject({ changed: true, previousStage: 'candidate' });
    expect((await registry.productionVersion('reg'))?.version).toBe('v2');
    expect((await registry.getVersion('reg', 'v1'))?.stage).toBe('archived');
    expect((await registry.getVersion('reg', 'v2'))?.promotedBy).toBe('bob');
    expect((await registry.setStage('reg', 'v2', 'production', 'bob', 'again')).changed).toBe(false);
    expect((await registry.previousProductionVersion('reg'))?.version).toBe('v1');

    await registry.setStage('reg', 'v1', 'tainted', 'dpo', 'trained on erased subject');
    await expect(registry.setStage('reg', 'v1', 'production', 'bob', 'no')).rejects.toThrow(
      /tainted: it cannot become production/,
    );
    const history = await registry.stageHistory('reg');
    expect(history.map((h) => `${h.version}:${h.fromStage}->${h.toStage}`)).toEqual([
      'v1:->production',
      'v2:->candidate',
      'v1:production->archived',
      'v2:candidate->production',
      'v1:archived->tainted',
    ]);
    expect((await registry.listVersions('reg')).map((v) => v.version)).toEqual(['v2', 'v1']);
    expect(await registry.listModels()).toContainEqual({ modelId: 'reg', versions: 2, production: 'v2' });
    await expect(registry.requireVersion('reg', 'v9')).rejects.toThrow(/no version v9/);
  });

  it('snapshots labelled events with lineage: which records trained a version, which versions used a subject', async () => {
    const ids = await seedLabelledEvents(ch.client, 'lin', { seed: 1, n: 1200, subject: (i) => `cust-${i % 40}` });
    // Events outside the window and unlabelled events do not go in.
    await seedLabelledEvents(ch.client, 'lin', { seed: 2, n: 50, start: T0 + 86_400_000 * 10, prefix: 'late' });
    const window = { start: T0, end: T0 + 1200 * 1000 };
    const input = { retrainId: 'retrain-lin-1', modelId: 'lin', window, excludeSubjects: ['cust-7'] };
    const snap = await acts.snapshotTrainingData(input);
    expect(snap.snapshotId).toBe(snapshotIdFor('lin', 'retrain-lin-1'));
    expect(snap.rowCount).toBe(1200);
    expect(snap.labelledRows).toBe(1200 - 30); // cust-7 has 30 of the 1200 events
    expect(snap.trainRows + snap.holdoutRows).toBe(snap.labelledRows);
    expect(snap.holdoutRows / snap.labelledRows).toBeGreaterThan(0.15);
    expect(snap.holdoutRows / snap.labelledRows).toBeLessThan(0.25);
    expect(snap.featureNames).toEqual(SEA_FEATURES);
    expect(snap.reused).toBe(false);

    // Idempotent: the same retrain gets the same snapshot back, nothing rewritten.
    const again = await acts.snapshotTrainingData(input);
    expect(again).toEqual({ ...snap, reused: true });

    // The training file has a header and one line per training row.
    const artifacts = LocalArtifactStore.forDataDir(config.dataDir);
    const csv = new TextDecoder().decode(await artifacts.get(snap.trainFile));
    expect(csv.split('\n')[0]).toBe('event_id,f1,f2,f3,region,label');
    expect(csv.trim().split('\n')).toHaveLength(snap.trainRows + 1);

    const trained = await acts.trainModel({
      retrainId: 'retrain-lin-1',
      modelId: 'lin',
      snapshotId: snap.snapshotId,
      trainer: { kind: 'builtin', params: {} },
      seed: 1,
    });
    const lineage = new ClickHouseLineageRepository(ch.client);
    const records = await lineage.recordsForVersion('lin', trained.modelVersion);
    expect(records).toHaveLength(snap.trainRows);
    expect(records.every((r) => ids.includes(r.eventId) && r.split === 'train')).toBe(true);
    expect(records.some((r) => r.subjectId === 'cust-7')).toBe(false);
    const holdout = await lineage.recordsForVersion('lin', trained.modelVersion, { split: 'holdout' });
    expect(holdout).toHaveLength(snap.holdoutRows);

    const bySubject = await lineage.versionsTrainedOnSubject('cust-3');
    expect(bySubject).toHaveLength(1);
    expect(bySubject[0]).toMatchObject({ modelId: 'lin', version: trained.modelVersion, snapshotId: snap.snapshotId });
    expect(bySubject[0]!.trainRows + bySubject[0]!.holdoutRows).toBe(30);
    expect(await lineage.versionsTrainedOnSubject('cust-7')).toEqual([]);

    // Both audit questions are single SQL statements over the stored tables.
    const [{ n }] = (await queryRows<{ n: string }>(
      ch.client,
      `SELECT count() AS n FROM training_lineage WHERE split = 'train' AND snapshot_id IN
         (SELECT lineage_id FROM model_versions FINAL WHERE model_id = {m:String} AND version = {v:String})`,
      { m: 'lin', v: trained.modelVersion },
    )) as [{ n: string }];
    expect(Number(n)).toBe(snap.trainRows);
  });

  it('refuses an empty window and a window without labelled events', async () => {
    await expect(
      acts.snapshotTrainingData({ retrainId: 'bad-1', modelId: 'lin', window: { start: T0 + 10, end: T0 } }),
    ).rejects.toThrow(/empty or invalid/);
    await expect(
      acts.snapshotTrainingData({ retrainId: 'bad-2', modelId: 'nobody', window: { start: T0, end: T0 + 1000 } }),
    ).rejects.toThrow(/no labelled events/);
  });
});
