import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { archiveVersion } from '../../operations/archive-version.ts';
import { promoteVersionManually } from '../../operations/promote-version.ts';
import { openPromotionContext, type PromotionContext } from '../../operations/promotion-context.ts';
import { rollbackProductionManually } from '../../operations/rollback-version.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { getDecision } from '../../platform/clickhouse/decisions-repository.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { ClickHouseRegistryRepository } from '../../platform/clickhouse/registry-repository.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors.ts';
import { createLogger } from '../../platform/logger.ts';
import { LocalArtifactStore } from '../../platform/registry/artifact-store.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';
import { registerTrainedModel } from './training-fixtures.ts';

/** What the API and the CLI do when a person promotes, rolls back or archives a version. */
describe('manual promotion, rollback and archive (chDB + Kafka)', () => {
  let ch: ClickHouse;
  let promotion: { ctx: PromotionContext; close: () => Promise<void> };
  let registry: ClickHouseRegistryRepository;
  const modelId = 'manual-ops';

  beforeAll(async () => {
    const config = testConfig({
      kafka: { brokers: inject('stack').kafkaBrokers, modelUpdatesTopic: uniqueName('updates') },
    });
    ch = await openClickHouse(config);
    await applyMigrations(ch.client);
    promotion = openPromotionContext({ clickhouse: ch.client, config, log: createLogger('test', 'warn') });
    registry = new ClickHouseRegistryRepository(ch.client);
    const artifacts = LocalArtifactStore.forDataDir(config.dataDir);
    await registerTrainedModel(registry, artifacts, modelId, { seed: 1, n: 500, concept: 0, stage: 'production' });
    await registerTrainedModel(registry, artifacts, modelId, { seed: 2, n: 500, concept: 1 });
    await registerTrainedModel(registry, artifacts, modelId, { seed: 3, n: 500, concept: 2 });
  });
  afterAll(async () => {
    await promotion?.close();
    await ch?.close();
  });

  it('records a promotion as a promote decision, once', async () => {
    const input = { retrainId: 'cli-1', modelId, version: 'v2', actor: 'alice', reason: 'better on last week' };
    const promoted = await promoteVersionManually(promotion.ctx, input);
    expect(promoted).toMatchObject({ alreadyPromoted: false, previousVersion: 'v1', published: true });
    expect(await getDecision(ch.client, promoted.decisionId!)).toMatchObject({
      kind: 'promote',
      modelId,
      modelVersion: 'v2',
      actor: 'alice',
      reason: 'better on last week',
      details: { manual: true, previousVersion: 'v1', published: true },
    });
    expect(await promoteVersionManually(promotion.ctx, input)).toMatchObject({
      alreadyPromoted: true,
      decisionId: null,
    });
    await expect(promoteVersionManually(promotion.ctx, { ...input, version: 'v9' })).rejects.toThrow(NotFoundError);
  });

  it('records a rollback as a rollback decision on the restored version', async () => {
    const rolled = await rollbackProductionManually(promotion.ctx, {
      retrainId: 'cli-2',
      modelId,
      actor: 'bob',
      reason: 'conversion dropped',
    });
    expect(rolled).toMatchObject({ alreadyRolledBack: false, rolledBackVersion: 'v2', restoredVersion: 'v1' });
    expect(await getDecision(ch.client, rolled.decisionId!)).toMatchObject({
      kind: 'rollback',
      modelVersion: 'v1',
      actor: 'bob',
      details: { manual: true, rolledBackVersion: 'v2' },
    });
    expect((await registry.productionVersion(modelId))?.version).toBe('v1');
    // The rolled-back version is rejected: promoting it again is a conflict (the API's 409).
    await expect(
      promoteVersionManually(promotion.ctx, { retrainId: 'cli-3', modelId, version: 'v2', actor: 'x', reason: 'x' }),
    ).rejects.toThrow(ConflictError);
  });

  it('archives a version that is not in production as an archive decision, and refuses the production one', async () => {
    const change = await archiveVersion(ch.client, registry, {
      modelId,
      version: 'v3',
      actor: 'carol',
      reason: 'stale',
    });
    expect(change).toMatchObject({ changed: true, previousStage: 'candidate' });
    expect((await registry.requireVersion(modelId, 'v3')).stage).toBe('archived');
    expect(await getDecision(ch.client, change.decisionId!)).toMatchObject({
      kind: 'archive',
      modelId,
      modelVersion: 'v3',
      actor: 'carol',
      reason: 'stale',
      details: { manual: true, previousStage: 'candidate' },
    });
    // Archiving it again changes nothing and records nothing.
    expect(
      await archiveVersion(ch.client, registry, { modelId, version: 'v3', actor: 'carol', reason: 'again' }),
    ).toMatchObject({ changed: false, decisionId: null });
    await expect(
      archiveVersion(ch.client, registry, { modelId, version: 'v1', actor: 'carol', reason: 'oops' }),
    ).rejects.toThrow(ValidationError);
    expect((await registry.productionVersion(modelId))?.version).toBe('v1');
  });
});
