import { ConflictError } from '../platform/errors.ts';
import type { PromotionContext } from './promotion-context.ts';
import { publishFullTraffic } from './publish-model-update.ts';

export interface RejectVersionInput {
  /** Keys the model update that takes the version out of serving. @default 'manual' */
  retrainId?: string;
  modelId: string;
  version: string;
  actor: string;
  reason: string;
}

export interface RejectVersionResult {
  alreadyRejected: boolean;
  /** The version given all traffic again when the rejected one had some. */
  restoredVersion: string | null;
}

/** Reject a candidate that failed validation, shadow or canary; a version that had traffic is taken out of serving. */
export async function rejectVersion(ctx: PromotionContext, input: RejectVersionInput): Promise<RejectVersionResult> {
  const v = await ctx.registry.requireVersion(input.modelId, input.version);
  if (v.stage === 'production')
    throw new ConflictError(`${input.modelId} ${input.version} is in production: roll it back instead of rejecting it`);
  const alreadyRejected = v.stage === 'rejected';
  if (!alreadyRejected)
    await ctx.registry.setStage(input.modelId, input.version, 'rejected', input.actor, input.reason);
  // A version that received traffic (canary or shadow) must be taken out of serving: all
  // traffic goes back to production. Decided from the stage history so a retry decides alike.
  const history = await ctx.registry.stageHistory(input.modelId, input.version);
  const hadTraffic = history.some((e) => e.toStage === 'canary' || e.toStage === 'shadow');
  let restoredVersion: string | null = null;
  if (hadTraffic) {
    const production = await ctx.registry.productionVersion(input.modelId);
    if (production) {
      await publishFullTraffic(
        ctx,
        input.modelId,
        production,
        `${input.retrainId ?? 'manual'}/reject/${input.version}`,
        `${input.version} rejected: ${input.reason}`,
      );
      restoredVersion = production.version;
    }
  }
  return { alreadyRejected, restoredVersion };
}
