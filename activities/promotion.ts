/**
 * The Retrain workflow's canary and promotion steps, over the use cases in operations/: resolve the
 * champion (never a tainted one), publish a model update, check a canary, promote (confirmed by
 * serving, else undone), reject, roll back. Each is idempotent by the retrain id
 * (see the operations). A refusal (bad input, a missing or tainted version, nothing to roll back
 * to) fails the activity for good, as the non-retryable ValidationError the workflow expects.
 */
import { canaryCheck, type CanaryCheckInput } from '../operations/canary-check.ts';
import { promoteVersion, type PromoteVersionInput } from '../operations/promote-version.ts';
import type { PromotionContext } from '../operations/promotion-context.ts';
import { publishModelUpdate, type PublishModelUpdateInput } from '../operations/publish-model-update.ts';
import { rejectVersion, type RejectVersionInput } from '../operations/reject-version.ts';
import { resolveChampion } from '../operations/resolve-champion.ts';
import { withdrawTainted, type WithdrawTaintedInput } from '../operations/withdraw-tainted.ts';
import { rollbackVersion, type RollbackVersionInput } from '../operations/rollback-version.ts';
import { ConflictError, NotFoundError, ValidationError } from '../platform/errors.ts';
import { nonRetryable } from './retrain-context.ts';

export function createPromotionActivities(ctx: PromotionContext) {
  return {
    publishModelUpdate: (input: PublishModelUpdateInput) => refusalsFail(publishModelUpdate(ctx, input)),
    canaryCheck: (input: CanaryCheckInput) => canaryCheck(ctx.clickhouse, input),
    promoteVersion: (input: PromoteVersionInput) => refusalsFail(promoteVersion(ctx, input)),
    rejectVersion: (input: RejectVersionInput) => refusalsFail(rejectVersion(ctx, input)),
    rollbackVersion: (input: RollbackVersionInput) => refusalsFail(rollbackVersion(ctx, input)),
    resolveChampion: (input: { modelId: string; championVersion: string | null }) =>
      resolveChampion(ctx.registry, input),
    withdrawTainted: (input: WithdrawTaintedInput) => refusalsFail(withdrawTainted(ctx, input)),
  };
}

async function refusalsFail<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof ValidationError || err instanceof NotFoundError || err instanceof ConflictError)
      throw nonRetryable('ValidationError', err.message);
    throw err;
  }
}
