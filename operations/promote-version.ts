import { ConflictError } from '../platform/errors.ts';
import { crashPoint } from '../platform/fault-injection.ts';
import { TERMINAL_STAGES, type ModelStage, type ModelVersion } from '../platform/registry/types.ts';
import { failUnconfirmed, recordManualDecision } from './manual-decision.ts';
import type { PromotionContext } from './promotion-context.ts';
import { tellMonitor } from './promotion-outcome.ts';
import { publishFullTraffic } from './publish-model-update.ts';
import { restoreRouting, type RoutingRestore } from './restore-routing.ts';
import { confirmServing, scorersToConfirm, type ServingConfirmation } from './serving-confirmation.ts';

export interface PromoteVersionInput {
  /** Keys the model update: a retry with the same id publishes once. */
  retrainId: string;
  modelId: string;
  version: string;
  actor: string;
  /** @default 'promoted' */
  reason?: string;
}

export interface PromoteVersionResult {
  alreadyPromoted: boolean;
  version: string;
  previousVersion: string | null;
  published: boolean;
  /** Serving confirmed the promotion (or no scorer reports and none is required). False: it was undone. */
  confirmed: boolean;
  /** What the live scorers answered. */
  serving: ServingConfirmation;
  /** When not confirmed: the stage the version went back to, and the routing published again. */
  undone: { stage: ModelStage; restore: RoutingRestore } | null;
}

/**
 * Make a version production (the previous one is archived by the registry), publish all traffic
 * to it and wait until every live scorer confirms it serves it: the Retrain workflow's last step,
 * the demo's first model, and a person's promotion. When a scorer refuses (its reason is kept) or
 * stays silent past `serving.confirmTimeoutMs`, the promotion is undone: the version returns to
 * its stage, the previous production version is production again, and an update restoring its
 * routing is published. The result says which; it does not throw for it.
 */
export async function promoteVersion(ctx: PromotionContext, input: PromoteVersionInput): Promise<PromoteVersionResult> {
  const v = await ctx.registry.requireVersion(input.modelId, input.version);
  if (TERMINAL_STAGES.includes(v.stage))
    throw new ConflictError(`${input.modelId} ${input.version} is ${v.stage} and cannot be promoted`);
  const alreadyPromoted = v.stage === 'production';
  const previous = alreadyPromoted
    ? await ctx.registry.previousProductionVersion(input.modelId)
    : await ctx.registry.productionVersion(input.modelId);
  const fromStage = alreadyPromoted ? await stageBeforeProduction(ctx, v) : v.stage;
  const reason = input.reason ?? 'promoted';
  const key = `${input.retrainId}/promote`;
  const scorers = await scorersToConfirm(ctx);
  if (!alreadyPromoted) await ctx.registry.setStage(input.modelId, input.version, 'production', input.actor, reason);
  crashPoint('promote:after-stage');
  // Published on every call: the key makes it once, and a retry after a crash between the
  // stage change and the publish completes the promotion.
  const published = await publishFullTraffic(ctx, input.modelId, v, key, reason);
  const serving = await confirmServing(ctx, { modelId: input.modelId, updateKey: key, scorers });
  const result = { alreadyPromoted, version: input.version, previousVersion: previous?.version ?? null, published };
  if (serving.ok) return { ...result, confirmed: true, serving, undone: null };

  const why = `serving did not confirm the promotion of ${input.version}: ${serving.summary}`;
  ctx.log.warn({ modelId: input.modelId, version: input.version, serving }, 'promotion undone');
  await ctx.registry.undoStage(input.modelId, input.version, fromStage, input.actor, `promotion undone: ${why}`);
  let restored: ModelVersion | null = null;
  if (previous) {
    const current = await ctx.registry.getVersion(input.modelId, previous.version);
    if (current && !TERMINAL_STAGES.includes(current.stage)) {
      restored = (
        await ctx.registry.undoStage(input.modelId, previous.version, 'production', input.actor, `restored: ${why}`)
      ).version;
    }
  }
  const restore = await restoreRouting(
    ctx,
    input.modelId,
    restored,
    `${key}/restore`,
    `restore after a refused promotion: ${why}`,
    input.version,
  );
  return { ...result, confirmed: false, serving, undone: { stage: fromStage, restore } };
}

/** The stage a production version had before it was promoted (for undoing a retried promotion). */
async function stageBeforeProduction(ctx: PromotionContext, v: ModelVersion): Promise<ModelStage> {
  const history = await ctx.registry.stageHistory(v.modelId, v.version);
  const last = [...history].reverse().find((e) => e.toStage === 'production');
  const from = last?.fromStage;
  return from && from !== 'production' && from !== '' ? (from as ModelStage) : 'candidate';
}

/**
 * A person's promotion (API, CLI): {@link promoteVersion}, recorded as a `promote` decision
 * unless the version already was production. When serving does not confirm it, it is recorded as
 * a `promotion-failed` decision and a {@link ServingNotConfirmedError} names the scorers and their reasons.
 * Either way the model's monitor is told (`ctx.monitors`), for its `promotion-failed` alert rule.
 */
export async function promoteVersionManually(
  ctx: PromotionContext,
  input: PromoteVersionInput & { reason: string },
): Promise<PromoteVersionResult & { decisionId: string | null }> {
  const result = await promoteVersion(ctx, input);
  if (!result.confirmed) {
    const restored = result.undone?.restore.restoredVersion ?? null;
    await tellMonitor(ctx, input.modelId, {
      outcome: 'failed',
      action: 'promotion',
      version: input.version,
      reason: `${input.reason}: not confirmed by serving: ${result.serving.summary}; undone (${restored ? `${restored} is production again` : 'no version is production'})`,
      at: Date.now(),
      source: input.actor,
    });
    await failUnconfirmed(
      ctx.clickhouse,
      'promotion-failed',
      input,
      result.serving,
      { manual: true, serving: result.serving, undone: result.undone, previousVersion: result.previousVersion },
      (decisionId) =>
        `${input.modelId} ${input.version} was not promoted: ${result.serving.summary}. The promotion was undone: ${input.version} is ${result.undone?.stage ?? 'back in its stage'}, ${restored ? `${restored} is production again` : 'no version is production'} (decision ${decisionId}).`,
    );
  }
  const decisionId = result.alreadyPromoted
    ? null
    : await recordManualDecision(ctx.clickhouse, 'promote', input.modelId, input.version, input.actor, input.reason, {
        manual: true,
        previousVersion: result.previousVersion,
        published: result.published,
        serving: result.serving,
      });
  if (!result.alreadyPromoted)
    await tellMonitor(ctx, input.modelId, {
      outcome: 'promoted',
      action: 'promotion',
      version: input.version,
      reason: input.reason,
      at: Date.now(),
      source: input.actor,
    });
  return { ...result, decisionId };
}
