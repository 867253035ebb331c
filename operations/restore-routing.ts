import type { ModelVersion } from '../platform/registry/types.ts';
import type { PromotionContext } from './promotion-context.ts';
import { publishFullTraffic, publishWithdrawal } from './publish-model-update.ts';
import { confirmServing, scorersToConfirm, type ServingConfirmation } from './serving-confirmation.ts';

/** What putting the routing back after an unconfirmed change did. */
export interface RoutingRestore {
  /** The version given all traffic again; null: the model was withdrawn (nothing to go back to). */
  restoredVersion: string | null;
  updateKey: string;
  serving: ServingConfirmation;
}

/**
 * Publish the routing the registry holds again — all traffic to `version`, or nothing at all — and
 * wait for serving to confirm it, so the compacted update topic ends with what the registry says
 * and a scorer that restarts serves that, not the refused change.
 */
export async function restoreRouting(
  ctx: PromotionContext,
  modelId: string,
  version: ModelVersion | null,
  updateKey: string,
  reason: string,
  withdrawnVersion: string,
): Promise<RoutingRestore> {
  const scorers = await scorersToConfirm(ctx);
  if (version) await publishFullTraffic(ctx, modelId, version, updateKey, reason);
  else await publishWithdrawal(ctx, modelId, withdrawnVersion, updateKey, reason);
  const serving = await confirmServing(ctx, { modelId, updateKey, scorers });
  return { restoredVersion: version?.version ?? null, updateKey, serving };
}
