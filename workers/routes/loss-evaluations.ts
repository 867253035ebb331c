/**
 * A multiclass or regression model's shadow evaluations as the dashboard shows them: per
 * evaluation, each side's mean per-event loss and the paired difference over the stored pairs
 * (paired-loss-summary.ts), how the pairs split (challenger lower, higher, tied) and the spread of
 * the per-event difference, the running mean with its paired t interval over the pairs, and the
 * promote or reject decision that rests on it with its verdict (the bootstrap interval, bar,
 * guardrails) and, for a live shadow, how the source was chosen.
 */
import { pairedLossSummary, runningImprovement } from '../../detectors/promotion/paired-loss-summary.ts';
import type { PromotionVerdictRow } from '../../platform/clickhouse/dashboard-repository.ts';
import {
  DIFFERENCE_QUANTILES,
  type ShadowOutcomeCheckpointRow,
  type ShadowOutcomeEvaluationRow,
} from '../../platform/clickhouse/shadow-outcome-repository.ts';

/** Evaluations (newest first) whose running mean is drawn; older ones keep their summary only. */
export const RUNNING_EVALUATIONS = 6;
/** About this many points on each running-mean curve. */
export const RUNNING_POINTS = 120;

const parsed = (text: string): unknown => {
  if (text === '' || text === 'null') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
};

/** The evaluations whose running mean the API computes: the newest `RUNNING_EVALUATIONS` (rows come oldest first). */
export const runningEvaluationIds = (rows: readonly ShadowOutcomeEvaluationRow[]): string[] =>
  rows.slice(-RUNNING_EVALUATIONS).map((r) => r.evaluation_id);

/**
 * The decision resting on an evaluation: the one naming it, else (a promotion after a replay does
 * not name its evaluation) the newest promote / reject / rollback with a verdict of its challenger
 * against its champion.
 */
function decisionOf(s: ShadowOutcomeEvaluationRow, verdicts: readonly PromotionVerdictRow[]) {
  const named = verdicts.find((v) => v.evaluation_id === s.evaluation_id);
  if (named) return named;
  return [...verdicts].reverse().find(
    (v) =>
      v.evaluation_id === '' &&
      v.version === s.candidate &&
      (v.champion === '' || v.champion === s.champion) &&
      // A person's rollback carries no verdict; the retrain's decision does.
      parsed(v.verdict) !== null,
  );
}

export function lossEvaluations(
  rows: readonly ShadowOutcomeEvaluationRow[],
  verdicts: readonly PromotionVerdictRow[],
  checkpoints: readonly ShadowOutcomeCheckpointRow[],
) {
  return rows.map((s) => {
    const n = Number(s.n);
    const summary = pairedLossSummary({
      n,
      championLoss: Number(s.loss_champion),
      candidateLoss: Number(s.loss_candidate),
      differenceMean: Number(s.diff_mean),
      differenceSd: s.diff_sd === null ? null : Number(s.diff_sd),
    });
    const lower = Number(s.challenger_lower);
    const higher = Number(s.challenger_higher);
    const own = checkpoints.filter((c) => c.evaluation_id === s.evaluation_id);
    const decision = decisionOf(s, verdicts);
    return {
      evaluationId: s.evaluation_id,
      candidate: s.candidate,
      champion: s.champion,
      source: s.source,
      kind: s.kind,
      loss: s.loss,
      n: summary.n,
      level: summary.level,
      meanLoss: { candidate: summary.candidate, champion: summary.champion },
      difference: summary.difference,
      pairs: {
        challengerLower: lower,
        challengerHigher: higher,
        tied: n - lower - higher,
        quantiles: DIFFERENCE_QUANTILES.map((q, i) => ({ q, value: Number(s.diff_quantiles[i]) })),
      },
      running:
        own.length === 0
          ? null
          : runningImprovement(
              own.map((c) => ({
                n: c.n,
                sumDifference: c.sum_difference,
                sumSquaredDifference: c.sum_squared_difference,
              })),
              summary.level,
            ),
      decision: decision
        ? {
            decisionId: decision.decision_id,
            at: Number(decision.at),
            kind: decision.kind,
            reason: decision.reason,
            verdict: parsed(decision.verdict),
            live: parsed(decision.live_choice),
          }
        : null,
      from: Number(s.first),
      to: Number(s.last),
    };
  });
}
