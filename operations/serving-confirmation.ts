/**
 * Waiting for serving to confirm a routing change. After a promotion, rollback or withdrawal is
 * published, every scorer that was live when it was published must report that it applied the
 * update (by its idempotency key) within `serving.confirmTimeoutMs`; one refusal (the scorer's
 * reason, e.g. an artifact that fails its sha256 check) or silence past the timeout fails the
 * change, and the caller undoes it. With no live scorer there is nothing to confirm: the change
 * completes as unconfirmed, unless `serving.requireLiveScorer` says it must not.
 */
import { liveScorers, updateConfirmations, type ScorerSeen } from '../platform/clickhouse/serving-repository.ts';
import { ConflictError } from '../platform/errors.ts';
import type { PromotionContext } from './promotion-context.ts';

export type ServingConfirmationStatus = 'confirmed' | 'refused' | 'timeout' | 'no-live-scorer';

export interface ScorerAnswer {
  scorerId: string;
  outcome: 'applied' | 'refused' | 'silent';
  /** The scorer's reason when it refused; why it counts as silent otherwise. */
  reason: string;
  at: number | null;
}

export interface ServingConfirmation {
  status: ServingConfirmationStatus;
  /** True when the change may stand: confirmed, or no live scorer and none required. */
  ok: boolean;
  modelId: string;
  updateKey: string;
  scorers: ScorerAnswer[];
  waitedMs: number;
  /** One line for people, naming each scorer that refused or stayed silent and why. */
  summary: string;
}

export interface ConfirmServingInput {
  modelId: string;
  updateKey: string;
  /** The scorers that were live when the update was published (read before publishing). */
  scorers: readonly ScorerSeen[];
  /** @default config.serving.confirmTimeoutMs */
  timeoutMs?: number;
  /** @default 250 */
  pollMs?: number;
}

/** The scorers a routing change must be confirmed by: read this before publishing it. */
export function scorersToConfirm(ctx: PromotionContext): Promise<ScorerSeen[]> {
  return liveScorers(ctx.clickhouse);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Wait until every scorer answered the update (or the timeout passed); never throws for a refusal. */
export async function confirmServing(ctx: PromotionContext, input: ConfirmServingInput): Promise<ServingConfirmation> {
  const timeoutMs = input.timeoutMs ?? ctx.config.serving.confirmTimeoutMs;
  const pollMs = input.pollMs ?? 250;
  const t0 = Date.now();
  const base = { modelId: input.modelId, updateKey: input.updateKey };
  let required = new Set(input.scorers.map((s) => s.scorerId));
  if (required.size === 0) {
    const ok = !ctx.config.serving.requireLiveScorer;
    return {
      ...base,
      status: 'no-live-scorer',
      ok,
      scorers: [],
      waitedMs: 0,
      summary: ok
        ? 'no scorer reported in the last three heartbeats: nothing to confirm (the next scorer to start serves this routing)'
        : 'no scorer reported in the last three heartbeats, and serving.requireLiveScorer asks for one',
    };
  }
  let lastLivenessCheck = t0;
  for (;;) {
    const answers = new Map(
      (await updateConfirmations(ctx.clickhouse, input.modelId, input.updateKey)).map((a) => [a.scorerId, a]),
    );
    // A scorer that stopped (or died) while we waited is no longer serving anything to confirm.
    if (Date.now() - lastLivenessCheck >= 2000) {
      lastLivenessCheck = Date.now();
      const live = new Set((await liveScorers(ctx.clickhouse)).map((s) => s.scorerId));
      required = new Set([...required].filter((id) => live.has(id) || answers.has(id)));
    }
    const done = [...required].every((id) => answers.has(id));
    const refused = [...answers.values()].some((a) => required.has(a.scorerId) && a.outcome === 'refused');
    const waitedMs = Date.now() - t0;
    if (done || refused || waitedMs >= timeoutMs || required.size === 0) {
      const scorers: ScorerAnswer[] = [...new Set([...input.scorers.map((s) => s.scorerId), ...answers.keys()])]
        .sort()
        .map((scorerId) => {
          const a = answers.get(scorerId);
          if (a) return { scorerId, outcome: a.outcome, reason: a.reason, at: a.at };
          return {
            scorerId,
            outcome: 'silent',
            reason: required.has(scorerId)
              ? `no report on update ${input.updateKey} within ${timeoutMs} ms`
              : 'stopped while the update was published',
            at: null,
          };
        });
      const applied = scorers.filter((s) => s.outcome === 'applied' && required.has(s.scorerId)).length;
      const status: ServingConfirmationStatus = refused
        ? 'refused'
        : scorers.some((s) => s.outcome === 'silent' && required.has(s.scorerId))
          ? 'timeout'
          : applied === 0
            ? 'no-live-scorer'
            : 'confirmed';
      const problems = scorers.filter(
        (s) => s.outcome === 'refused' || (s.outcome === 'silent' && required.has(s.scorerId)),
      );
      return {
        ...base,
        status,
        ok: status === 'confirmed' || (status === 'no-live-scorer' && !ctx.config.serving.requireLiveScorer),
        scorers,
        waitedMs,
        summary:
          status === 'confirmed'
            ? `confirmed by ${applied} scorer(s)`
            : status === 'no-live-scorer'
              ? 'every scorer that was live stopped before answering: nothing to confirm'
              : problems.map((s) => `scorer ${s.scorerId} ${s.outcome}: ${s.reason}`).join('; '),
      };
    }
    await sleep(pollMs);
  }
}

/**
 * Serving did not confirm a routing change, which was undone. The message names each scorer and
 * its reason; the CLI exits 1 and the API answers 409.
 */
export class ServingNotConfirmedError extends ConflictError {
  constructor(
    message: string,
    readonly confirmation: ServingConfirmation,
    readonly decisionId: string | null,
  ) {
    super(message);
  }
}
