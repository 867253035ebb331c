import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeRetrainActivities, createRetrainActivities, type RetrainActivities } from '../../activities/retrain.ts';
import { eraseSubject, type ErasureReport } from '../../operations/erase-subject.ts';
import { MonitorClient } from '../../operations/monitor-control.ts';
import { promoteVersion } from '../../operations/promote-version.ts';
import type { PromotionContext } from '../../operations/promotion-context.ts';
import { servingStatus } from '../../operations/serving-status.ts';
import type { WithdrawalOutcome } from '../../operations/withdraw-tainted.ts';
import { queryRows } from '../../platform/clickhouse/client.ts';
import { listDecisions } from '../../platform/clickhouse/decisions-repository.ts';
import { ConflictError } from '../../platform/errors.ts';
import { sha256Hex } from '../../platform/registry/artifact-store.ts';
import { waitUntil } from '../helpers/kafka.ts';
import { runTemporalWorker, startServingStack, type ServingStack } from '../helpers/serving-stack.ts';
import { uniqueName } from '../helpers/stack.ts';
import { registerTrainedModel, seedLabelledEvents, T0 } from './training-fixtures.ts';

/**
 * GDPR withdrawal on the real stack (Kafka, the Temporal dev server, chDB, the reference scorer):
 * the issue saw a tainted production version keep scoring after an erasure, and come back after a
 * scorer restart. Each model here is trained by the real snapshot and training activities on
 * events of a subject who is then erased.
 */
describe('GDPR withdrawal: an erasure that taints the production version takes it out of serving', () => {
  let stack: ServingStack;
  let acts: RetrainActivities;
  let monitors: MonitorClient;
  let stopWorker: () => Promise<void>;
  const alice = `alice-${randomUUID()}`;
  const bob = `bob-${randomUUID()}`;
  const carol = `carol-${randomUUID()}`;
  const modelA = uniqueName('gdpr-a');
  const modelB = uniqueName('gdpr-b');
  const modelC = uniqueName('gdpr-c');

  const withConfig = (gdpr: Partial<ServingStack['config']['gdpr']>): PromotionContext => ({
    ...stack.promotion,
    config: { ...stack.config, gdpr: { ...stack.config.gdpr, ...gdpr } },
  });
  const erase = (subjectId: string, options: { dryRun?: boolean; promotion?: PromotionContext } = {}) =>
    eraseSubject(stack.ch.client, {
      subjectId,
      actor: 'dpo',
      dryRun: options.dryRun ?? false,
      artifacts: stack.artifacts,
      monitors,
      promotion: options.promotion ?? stack.promotion,
    });
  const liveVersions = (model: string) =>
    stack.scorer
      .routing(model)
      ?.live.filter((r) => r.share > 0)
      .map((r) => r.version) ?? null;
  /** Every event stored after `since` was scored by `version`, and there are enough of them to say so. */
  const eventsOnlyBy = async (model: string, version: string, since: number) => {
    const versions = await stack.versionsSince(model, since);
    return Object.keys(versions).length === 1 && (versions[version] ?? 0) >= 100;
  };

  /** v1 trained directly (never on the subject), then `retrains` versions trained by the activities on events including the subject; all promoted in turn. */
  async function trainedHistory(model: string, subject: string, retrains: number): Promise<void> {
    await registerTrainedModel(stack.registry, stack.artifacts, model, { seed: 1, n: 600, concept: 0 });
    expect(
      (await promoteVersion(stack.promotion, { retrainId: `${model}-0`, modelId: model, version: 'v1', actor: 't' }))
        .confirmed,
    ).toBe(true);
    await seedLabelledEvents(stack.ch.client, model, {
      seed: 4,
      n: 1200,
      subject: (i) => (i % 10 === 0 ? subject : `someone-${i % 50}`),
    });
    for (let r = 1; r <= retrains; r++) {
      const retrainId = `${model}-r${r}`;
      const snap = await acts.snapshotTrainingData({
        retrainId,
        modelId: model,
        window: { start: T0, end: T0 + 1_200_000 },
      });
      const trained = await acts.trainModel({
        retrainId,
        modelId: model,
        snapshotId: snap.snapshotId,
        trainer: { kind: 'builtin', params: {} },
        seed: r,
      });
      const promoted = await promoteVersion(stack.promotion, {
        retrainId,
        modelId: model,
        version: trained.modelVersion,
        actor: 't',
      });
      expect(promoted.serving.status).toBe('confirmed');
    }
  }

  beforeAll(async () => {
    stack = await startServingStack({ temporal: { taskQueue: uniqueName('gdpr-tq') } });
    acts = createRetrainActivities({ clickhouse: stack.ch.client, config: stack.config, log: stack.log });
    stopWorker = await runTemporalWorker(stack);
    monitors = new MonitorClient(stack.config);
    await waitUntil(
      'the scorer to be live',
      async () => (await servingStatus(stack.ch.client, stack.config, 'x')).scorers.some((s) => s.live),
      30_000,
    );
    await trainedHistory(modelA, alice, 2);
    await trainedHistory(modelB, bob, 1);
    await trainedHistory(modelC, carol, 1);
    stack.startTraffic([modelA, modelB, modelC]);
    await waitUntil('traffic scored by v3 of A', () => eventsOnlyBy(modelA, 'v3', Date.now() - 5000), 60_000, 250);
  }, 240_000);
  afterAll(async () => {
    await monitors?.close();
    await closeRetrainActivities(acts);
    await stopWorker?.();
    await stack?.stop();
  });

  let dryRun: ErasureReport;
  it('a dry run lists every snapshot file (and sidecar) it would rewrite and the stages after, and changes nothing', async () => {
    const stamp = async (uri: string) => sha256Hex(await readFile(await stack.artifacts.localPath(uri)));
    dryRun = await erase(alice, { dryRun: true });
    expect(dryRun.tainted.map((t) => [t.version, t.previousStage, t.stage])).toEqual([
      ['v2', 'archived', 'tainted'],
      ['v3', 'production', 'tainted'],
    ]);
    // Both retrains' snapshots hold alice's rows (the train files at least).
    expect(new Set(dryRun.snapshotFiles.map((f) => f.snapshotId)).size).toBe(2);
    for (const f of dryRun.snapshotFiles) {
      expect(f).toMatchObject({ sidecar: `${f.uri}.sha256`, sha256: null });
      expect(f.removedRows).toBeGreaterThan(0);
      // Unchanged: the file still matches its sidecar and still holds the subject's rows.
      await expect(stack.artifacts.get(f.uri)).resolves.toBeTruthy();
      expect(await stamp(f.uri)).toBe(
        (await readFile(`${await stack.artifacts.localPath(f.uri)}.sha256`, 'utf8')).trim(),
      );
    }
    expect(dryRun.withdrawals).toEqual([expect.objectContaining({ modelId: modelA, action: 'dry-run' })]);
    expect((await stack.registry.productionVersion(modelA))?.version).toBe('v3');
    expect(liveVersions(modelA)).toEqual(['v3']);
  });

  it("erasing a subject in production's training set withdraws the tainted version at once: events are scored by the newest untainted version within a bounded time", async () => {
    const report = await erase(alice);
    expect(report.tainted.map((t) => [t.version, t.previousStage, t.stage])).toEqual([
      ['v2', 'archived', 'tainted'],
      ['v3', 'production', 'tainted'],
    ]);
    const withdrawal = report.withdrawals[0] as WithdrawalOutcome;
    expect(withdrawal).toMatchObject({
      modelId: modelA,
      taintedServed: ['v3'],
      action: 'promoted',
      version: 'v1',
      serving: { status: 'confirmed', scorers: [{ scorerId: stack.scorer.instanceId, outcome: 'applied' }] },
    });
    const answered = Date.now();
    expect(liveVersions(modelA)).toEqual(['v1']);
    expect((await stack.registry.productionVersion(modelA))?.version).toBe('v1');
    const [decision] = await listDecisions(stack.ch.client, { modelId: modelA, kinds: ['gdpr-withdrawal'] });
    expect(decision).toMatchObject({
      actor: 'dpo',
      modelVersion: 'v1',
      details: { taintedServed: ['v3'], action: 'promoted' },
    });

    // Every snapshot file the dry run listed was rewritten, with a new sha256 sidecar that matches it.
    expect(report.snapshotFiles.map((f) => f.uri).sort()).toEqual(dryRun.snapshotFiles.map((f) => f.uri).sort());
    for (const f of report.snapshotFiles) {
      const file = await stack.artifacts.localPath(f.uri);
      const bytes = await readFile(file);
      expect(f.sha256).toBe(sha256Hex(bytes));
      expect((await readFile(`${file}.sha256`, 'utf8')).trim()).toBe(f.sha256);
      await expect(stack.artifacts.get(f.uri)).resolves.toBeTruthy();
      const ids = new Set(
        (
          await queryRows<{ id: string }>(
            stack.ch.client,
            'SELECT event_id AS id FROM scoring_events WHERE subject_id = {s:String}',
            { s: alice },
          )
        ).map((r) => r.id),
      );
      expect(ids.size).toBe(0);
      expect(bytes.toString('utf8')).not.toContain(`${modelA}-e000000,`);
    }

    await waitUntil('events scored only by v1', () => eventsOnlyBy(modelA, 'v1', answered), 60_000, 250);
    const status = await servingStatus(stack.ch.client, stack.config, modelA);
    expect(status.scoredBy).toBe('v1');
    expect(status.agreement).not.toBe('disagrees');

    // A tainted version is never a champion, nor promotable again.
    expect(await acts.resolveChampion({ modelId: modelA, championVersion: 'v3' })).toEqual({
      version: 'v1',
      requested: 'v3',
      reason: expect.stringMatching(
        /champion v3 is tainted: the challenger is compared with v1, the production version/,
      ),
    });
    await expect(
      acts.shadowEvaluate({
        modelId: modelA,
        candidateVersion: 'v1',
        championVersion: 'v3',
        window: { start: T0, end: T0 + 1_200_000 },
        margin: 0.01,
        mode: 'non-inferiority',
      }),
    ).rejects.toThrow(/never a shadow champion/);
    await expect(
      promoteVersion(stack.promotion, { retrainId: 'again', modelId: modelA, version: 'v3', actor: 'x' }),
    ).rejects.toThrow(ConflictError);
  });

  it("a tainted version is never served again: a scorer restart serves the registry's untainted version, not the tainted one", async () => {
    const restarted = await stack.restartScorer();
    expect(liveVersions(modelA)).toEqual(['v1']);
    const since = Date.now();
    await waitUntil('events after the restart scored only by v1', () => eventsOnlyBy(modelA, 'v1', since), 60_000, 250);
    const status = await servingStatus(stack.ch.client, stack.config, modelA);
    expect(status.scorers.find((s) => s.scorerId === restarted.instanceId)?.serving?.version).toBe('v1');
  });

  it('with a grace period the tainted version serves until a durable Temporal timer withdraws it', async () => {
    const report = await erase(bob, { promotion: withConfig({ withdrawalGraceMs: 3000 }) });
    expect(report.withdrawals).toEqual([
      expect.objectContaining({ modelId: modelB, action: 'scheduled', withdrawAt: expect.any(Number) }),
    ]);
    // Tainted in the registry at once; still served during the grace period (the registry shows no production).
    expect((await stack.registry.requireVersion(modelB, 'v2')).stage).toBe('tainted');
    expect(liveVersions(modelB)).toEqual(['v2']);
    // The withdrawal's decision is recorded once serving confirmed it.
    await waitUntil(
      'the timer to withdraw v2',
      async () => (await listDecisions(stack.ch.client, { modelId: modelB, kinds: ['gdpr-withdrawal'] })).length > 0,
      60_000,
      250,
    );
    const [decision] = await listDecisions(stack.ch.client, { modelId: modelB, kinds: ['gdpr-withdrawal'] });
    expect(decision).toMatchObject({ modelVersion: 'v1', details: { taintedServed: ['v2'], action: 'promoted' } });
    expect(liveVersions(modelB)).toEqual(['v1']);
    const since = Date.now();
    await waitUntil('events scored only by v1', () => eventsOnlyBy(modelB, 'v1', since), 60_000, 250);
  });

  it('with gdpr.withdrawal = stop-serving nothing serves the model, also after a restart, and a retrain has no tainted champion', async () => {
    const report = await erase(carol, { promotion: withConfig({ withdrawal: 'stop-serving' }) });
    expect(report.withdrawals).toEqual([
      expect.objectContaining({
        modelId: modelC,
        action: 'stopped-serving',
        version: null,
        serving: expect.objectContaining({ status: 'confirmed' }),
      }),
    ]);
    expect(await stack.registry.productionVersion(modelC)).toBeNull();
    expect(liveVersions(modelC)).toEqual([]);
    await stack.restartScorer();
    expect(liveVersions(modelC)).toEqual([]);
    const unscored = stack.scorer.stats.unscorable;
    await waitUntil(
      'requests for the withdrawn model to go unscored',
      () => stack.scorer.stats.unscorable > unscored,
      30_000,
    );
    expect((await servingStatus(stack.ch.client, stack.config, modelC)).agreement).not.toBe('disagrees');
    expect(await acts.resolveChampion({ modelId: modelC, championVersion: 'v2' })).toEqual({
      version: null,
      requested: 'v2',
      reason: expect.stringMatching(/v2 is tainted and no untainted version is production: no champion comparison/),
    });
  });
});
