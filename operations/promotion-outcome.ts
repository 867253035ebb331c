/**
 * A person's promotion or rollback, told to the model's monitor: a failure fires its
 * `promotion-failed` alert rule, a promotion resolves it. Telling is best effort: the stage
 * change and its decision record stand whether or not a monitor runs or Temporal answers.
 */
import type { PromotionOutcome } from '../detectors/alerts/types.ts';
import type { PromotionContext } from './promotion-context.ts';

export async function tellMonitor(ctx: PromotionContext, modelId: string, outcome: PromotionOutcome): Promise<void> {
  if (!ctx.monitors) return;
  try {
    const told = await ctx.monitors.notePromotionOutcome(modelId, outcome);
    if (!told) ctx.log.info({ modelId, outcome: outcome.outcome }, 'no monitor runs for the model: outcome not told');
  } catch (err) {
    ctx.log.warn(
      { modelId, outcome: outcome.outcome, err: (err as Error).message },
      "the model's monitor was not told how the promotion ended; its alert rules will not see it",
    );
  }
}
