import { ConflictError, ValidationError } from '../platform/errors.ts';
import { TERMINAL_STAGES, type ModelVersion } from '../platform/registry/types.ts';
import { failUnconfirmed, recordManualDecision } from './manual-decision.ts';
import type { PromotionContext } from './promotion-context.ts';
import { tellMonitor } from './promotion-outcome.ts';
import { publishFullTraffic } from './publish-model-update.ts';
import { restoreRouting, type RoutingRestore } from './restore-routing.ts';
import { confirmServing, scorersToConfirm, type ServingConfirmation } from './serving-confirmation.ts';

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
  /**
   * Serving confirmed the restored routing (or no scorer reports and none is required). False for a
   * production rollback: it was undone; for a candidate's: the candidate stays rejected, and the
   * disagreement shows in the registry's serving view.
   */
  confirmed: boolean;
  /** What the live scorers answered; null when nothing was published (no production version to restore). */
  serving: ServingConfirmation | null;
  /** A production rollback serving did not confirm: the rolled-back version is production again. */
  undone: { restore: RoutingRestore } | null;
}

/**
 * Reject a version and give all traffic back to production: to the previous production version
 * when the rolled-back one is production, else to the current one (or to `toVersion`). Waits for
 * every live scorer to confirm the restored routing. A production rollback serving refuses or does
 * not confirm in time is undone (the rolled-back version is production again, the other returns
 * to its stage, and its routing is published again); the result says so, it does not throw.
 */
export async function rollbackVersion(
  ctx: PromotionContext,
  input: RollbackVersionInput,
): Promise<RollbackVersionResult> {
  const v = await ctx.registry.requireVersion(input.modelId, input.version);
  const key = `${input.retrainId ?? 'manual'}/rollback/${input.version}`;
  const alreadyRolledBack = v.stage === 'rejected';
  const scorers = await scorersToConfirm(ctx);
  const rollbackReason = `rollback from ${input.version}: ${input.reason}`;
  const reinstate = (version: ModelVersion) =>
    ctx.registry.setStage(input.modelId, version.version, 'production', input.actor, rollbackReason);
  let restored: ModelVersion | null;
  if (v.stage === 'production') {
    restored = input.toVersion
      ? await ctx.registry.requireVersion(input.modelId, input.toVersion)
      : await ctx.registry.previousProductionVersion(input.modelId);
    if (!restored) throw new ConflictError(`${input.modelId} has no earlier production version to roll back to`);
    if (TERMINAL_STAGES.includes(restored.stage))
      throw new ConflictError(`${input.modelId} ${restored.version} is ${restored.stage} and is never served again`);
    const restoredFrom = restored.stage;
    await reinstate(restored);
    await ctx.registry.setStage(input.modelId, input.version, 'rejected', input.actor, `rolled back: ${input.reason}`);
    await publishFullTraffic(ctx, input.modelId, restored, key, rollbackReason);
    const serving = await confirmServing(ctx, { modelId: input.modelId, updateKey: key, scorers });
    const result = { alreadyRolledBack, rolledBackVersion: input.version, restoredVersion: restored.version };
    if (serving.ok) return { ...result, confirmed: true, serving, undone: null };

    // Undo: the rolled-back version serves on (the scorers kept it), so the registry says so again.
    const why = `serving did not confirm the rollback to ${restored.version}: ${serving.summary}`;
    ctx.log.warn({ modelId: input.modelId, version: input.version, serving }, 'rollback undone');
    await ctx.registry.undoStage(input.modelId, restored.version, restoredFrom, input.actor, `rollback undone: ${why}`);
    const back = await ctx.registry.undoStage(
      input.modelId,
      input.version,
      'production',
      input.actor,
      `restored: ${why}`,
    );
    const restore = await restoreRouting(
      ctx,
      input.modelId,
      back.version,
      `${key}/restore`,
      `restore after a refused rollback: ${why}`,
      input.version,
    );
    return { ...result, restoredVersion: null, confirmed: false, serving, undone: { restore } };
  }
  if (!alreadyRolledBack)
    await ctx.registry.setStage(input.modelId, input.version, 'rejected', input.actor, `rolled back: ${input.reason}`);
  restored = input.toVersion
    ? await ctx.registry.requireVersion(input.modelId, input.toVersion)
    : await ctx.registry.productionVersion(input.modelId);
  if (restored && input.toVersion && restored.stage !== 'production') {
    restored = (await reinstate(restored)).version;
  }
  let serving: ServingConfirmation | null = null;
  if (restored) {
    await publishFullTraffic(ctx, input.modelId, restored, key, rollbackReason);
    serving = await confirmServing(ctx, { modelId: input.modelId, updateKey: key, scorers });
  }
  return {
    alreadyRolledBack,
    rolledBackVersion: input.version,
    restoredVersion: restored?.version ?? null,
    confirmed: serving?.ok ?? true,
    serving,
    undone: null,
  };
}

/**
 * A person's rollback of a model's production version (API, CLI): {@link rollbackVersion},
 * recorded as a `rollback` decision (on the restored version) unless it was already rolled back.
 * When serving does not confirm it, it is recorded as a `rollback-failed` decision and a
 * {@link ServingNotConfirmedError} names the scorers and their reasons, and the model's monitor is
 * told (`ctx.monitors`), for its `promotion-failed` alert rule.
 */
export async function rollbackProductionManually(
  ctx: PromotionContext,
  input: Omit<RollbackVersionInput, 'version'>,
): Promise<RollbackVersionResult & { decisionId: string | null }> {
  const current = await ctx.registry.productionVersion(input.modelId);
  if (!current) throw new ValidationError(`${input.modelId} has no production version to roll back`);
  const result = await rollbackVersion(ctx, { ...input, version: current.version });
  const { serving } = result;
  if (!result.confirmed && serving) {
    await tellMonitor(ctx, input.modelId, {
      outcome: 'failed',
      action: 'rollback',
      version: current.version,
      reason: `${input.reason}: not confirmed by serving: ${serving.summary}; undone (${current.version} is production again)`,
      at: Date.now(),
      source: input.actor,
    });
    await failUnconfirmed(
      ctx.clickhouse,
      'rollback-failed',
      { ...input, version: current.version },
      serving,
      { manual: true, rolledBackVersion: current.version, serving, undone: result.undone },
      (decisionId) =>
        `${input.modelId}: the rollback from ${current.version} was not applied: ${serving.summary}. It was undone: ${current.version} is production again (decision ${decisionId}).`,
    );
  }
  const decisionId = result.alreadyRolledBack
    ? null
    : await recordManualDecision(
        ctx.clickhouse,
        'rollback',
        input.modelId,
        result.restoredVersion ?? '',
        input.actor,
        input.reason,
        { manual: true, rolledBackVersion: result.rolledBackVersion, serving: result.serving },
      );
  return { ...result, decisionId };
}
