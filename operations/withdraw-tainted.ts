/**
 * Taking tainted versions out of serving (GDPR): when the routing serving was last asked for
 * includes a tainted version, publish one without it and wait for every live scorer to confirm.
 *
 * What serves instead (`gdpr.withdrawal`):
 * - the production version, if an untainted one is production (only a canary or shadow was
 *   tainted, or a retrain promoted a fresh version meanwhile);
 * - else, with `newest-untainted` (the default), the newest untainted version that has been
 *   production before, promoted again — a version never promoted is not served unvalidated;
 * - else, or with `stop-serving`, nothing: the model is withdrawn until a retrain promotes a new
 *   version (scoring requests for it go unscored, and say so).
 * If a scorer refuses the fallback version, the model is withdrawn instead: a tainted version is
 * never kept serving for want of another.
 */
import { latestModelUpdate } from '../platform/clickhouse/model-updates-repository.ts';
import { modelUpdateSchema } from '../platform/registry/model-update.ts';
import { TERMINAL_STAGES, type ModelVersion } from '../platform/registry/types.ts';
import { recordOperationDecision } from './manual-decision.ts';
import type { PromotionContext } from './promotion-context.ts';
import { publishFullTraffic, publishWithdrawal } from './publish-model-update.ts';
import { confirmServing, scorersToConfirm, type ServingConfirmation } from './serving-confirmation.ts';

export interface WithdrawTaintedInput {
  modelId: string;
  /** Keys the model updates and the decision: a retry publishes and records once. */
  erasureId: string;
  actor: string;
  /** Why (the erasure, by the subject's digest). */
  reason: string;
}

export interface WithdrawalOutcome {
  modelId: string;
  /** Tainted versions the last published routing served (live or shadow). */
  taintedServed: string[];
  /**
   * none: no tainted version was served; production: all traffic to the untainted production
   * version; promoted: a fallback version was promoted; stopped-serving: nothing serves the model;
   * scheduled: withdrawn after the grace period (`gdpr.withdrawalGraceMs`).
   */
  action: 'none' | 'production' | 'promoted' | 'stopped-serving' | 'scheduled';
  /** The version serving instead; null when nothing does. */
  version: string | null;
  /** What the live scorers answered (null: nothing was published). */
  serving: ServingConfirmation | null;
  reason: string;
  /** The `gdpr-withdrawal` decision (null when nothing was done). */
  decisionId: string | null;
  /** scheduled: when the grace period ends (epoch ms). */
  withdrawAt?: number;
}

/** Versions the newest published update routes traffic to or scores in shadow. */
async function lastServedVersions(ctx: PromotionContext, modelId: string): Promise<string[]> {
  const latest = await latestModelUpdate(ctx.clickhouse, modelId);
  if (!latest) return [];
  const parsed = modelUpdateSchema.safeParse(JSON.parse(latest.payload));
  if (!parsed.success) return [];
  const live = Object.entries(parsed.data.traffic_split).flatMap(([v, share]) => (share > 0 ? [v] : []));
  return [...new Set([...live, ...parsed.data.shadow])];
}

/** The newest version that is not tainted or rejected and has been production before. */
export async function newestUntaintedServedBefore(
  ctx: PromotionContext,
  modelId: string,
): Promise<ModelVersion | null> {
  const history = await ctx.registry.stageHistory(modelId);
  const wasProduction = new Set(history.filter((e) => e.toStage === 'production').map((e) => e.version));
  const versions = await ctx.registry.listVersions(modelId);
  return versions.find((v) => !TERMINAL_STAGES.includes(v.stage) && wasProduction.has(v.version)) ?? null;
}

/** Re-route a model whose last published routing serves a tainted version; see the module comment. */
export async function withdrawTainted(ctx: PromotionContext, input: WithdrawTaintedInput): Promise<WithdrawalOutcome> {
  const { modelId } = input;
  const served = await lastServedVersions(ctx, modelId);
  const taintedServed: string[] = [];
  for (const v of served) if ((await ctx.registry.getVersion(modelId, v))?.stage === 'tainted') taintedServed.push(v);
  const base = { modelId, taintedServed };
  if (taintedServed.length === 0)
    return {
      ...base,
      action: 'none',
      version: null,
      serving: null,
      reason: 'no tainted version is served',
      decisionId: null,
    };

  const key = `${input.erasureId}/withdraw`;
  const scorers = await scorersToConfirm(ctx);
  let action: WithdrawalOutcome['action'];
  let target = await ctx.registry.productionVersion(modelId);
  let promotedFrom: ModelVersion['stage'] | null = null;
  if (target) action = 'production';
  else if (
    ctx.config.gdpr.withdrawal === 'newest-untainted' &&
    (target = await newestUntaintedServedBefore(ctx, modelId))
  ) {
    promotedFrom = target.stage;
    target = (
      await ctx.registry.setStage(
        modelId,
        target.version,
        'production',
        input.actor,
        `gdpr withdrawal of ${taintedServed.join(', ')}: ${input.reason}`,
      )
    ).version;
    action = 'promoted';
  } else action = 'stopped-serving';

  let serving: ServingConfirmation;
  let note = '';
  if (target) {
    await publishFullTraffic(
      ctx,
      modelId,
      target,
      key,
      `gdpr withdrawal of ${taintedServed.join(', ')}: ${input.reason}`,
    );
    serving = await confirmServing(ctx, { modelId, updateKey: key, scorers });
    if (!serving.ok) {
      // The fallback does not serve: withdraw the model rather than leave the tainted version serving.
      note = `; ${target.version} was not confirmed (${serving.summary}), so nothing serves ${modelId}`;
      if (promotedFrom)
        await ctx.registry.undoStage(
          modelId,
          target.version,
          promotedFrom,
          input.actor,
          `gdpr fallback refused by serving${note}`,
        );
      target = null;
      action = 'stopped-serving';
    }
  }
  if (!target) {
    const stopKey = action === 'stopped-serving' && note ? `${key}/stop` : key;
    const stopScorers = note ? await scorersToConfirm(ctx) : scorers;
    await publishWithdrawal(ctx, modelId, taintedServed[0] ?? '', stopKey, `gdpr withdrawal: ${input.reason}`);
    serving = await confirmServing(ctx, { modelId, updateKey: stopKey, scorers: stopScorers });
  }
  const reason =
    action === 'stopped-serving'
      ? `tainted ${taintedServed.join(', ')} withdrawn: nothing serves ${modelId} until a retrain promotes a new version${note}`
      : `tainted ${taintedServed.join(', ')} withdrawn: ${target!.version} serves instead${action === 'promoted' ? ' (the newest untainted version that served before, promoted again)' : ' (the production version)'}`;
  const decisionId = `${input.erasureId}/${modelId}/withdrawal`;
  await recordOperationDecision(ctx.clickhouse, {
    decisionId,
    kind: 'gdpr-withdrawal',
    modelId,
    modelVersion: target?.version ?? '',
    actor: input.actor,
    reason: `${reason} (${input.reason})`,
    details: {
      erasureId: input.erasureId,
      taintedServed,
      action,
      version: target?.version ?? null,
      fallbackPolicy: ctx.config.gdpr.withdrawal,
      serving: serving!,
    },
  });
  return { ...base, action, version: target?.version ?? null, serving: serving!, reason, decisionId };
}
