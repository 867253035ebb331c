import { ConflictError } from '../platform/errors.ts';
import { crashPoint } from '../platform/fault-injection.ts';
import { TERMINAL_STAGES } from '../platform/registry/types.ts';
import { recordManualDecision } from './manual-decision.ts';
import type { PromotionContext } from './promotion-context.ts';
import { publishFullTraffic } from './publish-model-update.ts';

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
}

/**
 * Make a version production (the previous one is archived by the registry) and publish all
 * traffic to it: the Retrain workflow's last step, and the demo's first model.
 */
export async function promoteVersion(ctx: PromotionContext, input: PromoteVersionInput): Promise<PromoteVersionResult> {
  const v = await ctx.registry.requireVersion(input.modelId, input.version);
  if (TERMINAL_STAGES.includes(v.stage))
    throw new ConflictError(`${input.modelId} ${input.version} is ${v.stage} and cannot be promoted`);
  const alreadyPromoted = v.stage === 'production';
  const previous = alreadyPromoted
    ? await ctx.registry.previousProductionVersion(input.modelId)
    : await ctx.registry.productionVersion(input.modelId);
  const reason = input.reason ?? 'promoted';
  if (!alreadyPromoted) await ctx.registry.setStage(input.modelId, input.version, 'production', input.actor, reason);
  crashPoint('promote:after-stage');
  // Published on every call: the key makes it once, and a retry after a crash between the
  // stage change and the publish completes the promotion.
  const published = await publishFullTraffic(ctx, input.modelId, v, `${input.retrainId}/promote`, reason);
  return { alreadyPromoted, version: input.version, previousVersion: previous?.version ?? null, published };
}

/**
 * A person's promotion (API, CLI): {@link promoteVersion}, recorded as a `promote` decision
 * unless the version already was production. Returns the decision id (null when nothing changed).
 */
export async function promoteVersionManually(
  ctx: PromotionContext,
  input: PromoteVersionInput & { reason: string },
): Promise<PromoteVersionResult & { decisionId: string | null }> {
  const result = await promoteVersion(ctx, input);
  const decisionId = result.alreadyPromoted
    ? null
    : await recordManualDecision(ctx.clickhouse, 'promote', input.modelId, input.version, input.actor, input.reason, {
        manual: true,
        previousVersion: result.previousVersion,
        published: result.published,
      });
  return { ...result, decisionId };
}
