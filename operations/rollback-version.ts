import { ConflictError, ValidationError } from '../platform/errors.ts';
import type { ModelVersion } from '../platform/registry/types.ts';
import { recordManualDecision } from './manual-decision.ts';
import type { PromotionContext } from './promotion-context.ts';
import { publishFullTraffic } from './publish-model-update.ts';

export interface RollbackVersionInput {
  /** Keys the model update that restores the previous version. @default 'manual' */
  retrainId?: string;
  modelId: string;
  /** The version being rolled back: a canary/shadow candidate, or the current production version. */
  version: string;
  /** Production version to return to. @default the previous production version */
  toVersion?: string;
  actor: string;
  reason: string;
}

export interface RollbackVersionResult {
  alreadyRolledBack: boolean;
  rolledBackVersion: string;
  restoredVersion: string | null;
}

/**
 * Reject a version and give all traffic back to production: to the previous production version
 * when the rolled-back one is production, else to the current one (or to `toVersion`).
 */
export async function rollbackVersion(
  ctx: PromotionContext,
  input: RollbackVersionInput,
): Promise<RollbackVersionResult> {
  const v = await ctx.registry.requireVersion(input.modelId, input.version);
  const key = `${input.retrainId ?? 'manual'}/rollback/${input.version}`;
  const alreadyRolledBack = v.stage === 'rejected';
  let restored: ModelVersion | null;
  if (v.stage === 'production') {
    restored = input.toVersion
      ? await ctx.registry.requireVersion(input.modelId, input.toVersion)
      : await ctx.registry.previousProductionVersion(input.modelId);
    if (!restored) throw new ConflictError(`${input.modelId} has no earlier production version to roll back to`);
    await ctx.registry.setStage(
      input.modelId,
      restored.version,
      'production',
      input.actor,
      `rollback from ${input.version}: ${input.reason}`,
    );
    await ctx.registry.setStage(input.modelId, input.version, 'rejected', input.actor, `rolled back: ${input.reason}`);
  } else {
    if (!alreadyRolledBack)
      await ctx.registry.setStage(
        input.modelId,
        input.version,
        'rejected',
        input.actor,
        `rolled back: ${input.reason}`,
      );
    restored = input.toVersion
      ? await ctx.registry.requireVersion(input.modelId, input.toVersion)
      : await ctx.registry.productionVersion(input.modelId);
    if (restored && input.toVersion && restored.stage !== 'production') {
      await ctx.registry.setStage(
        input.modelId,
        restored.version,
        'production',
        input.actor,
        `rollback from ${input.version}: ${input.reason}`,
      );
    }
  }
  if (restored)
    await publishFullTraffic(ctx, input.modelId, restored, key, `rollback from ${input.version}: ${input.reason}`);
  return { alreadyRolledBack, rolledBackVersion: input.version, restoredVersion: restored?.version ?? null };
}

/**
 * A person's rollback of a model's production version (API, CLI): {@link rollbackVersion},
 * recorded as a `rollback` decision (on the restored version) unless it was already rolled back.
 */
export async function rollbackProductionManually(
  ctx: PromotionContext,
  input: Omit<RollbackVersionInput, 'version'>,
): Promise<RollbackVersionResult & { decisionId: string | null }> {
  const current = await ctx.registry.productionVersion(input.modelId);
  if (!current) throw new ValidationError(`${input.modelId} has no production version to roll back`);
  const result = await rollbackVersion(ctx, { ...input, version: current.version });
  const decisionId = result.alreadyRolledBack
    ? null
    : await recordManualDecision(
        ctx.clickhouse,
        'rollback',
        input.modelId,
        result.restoredVersion ?? '',
        input.actor,
        input.reason,
        { manual: true, rolledBackVersion: result.rolledBackVersion },
      );
  return { ...result, decisionId };
}
