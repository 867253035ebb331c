/**
 * Champion vs challenger promotion decision on the same events.
 *
 * "One better number is not enough": the challenger is promoted only when the whole confidence
 * interval of its improvement clears the bar — above `minimumImprovement` (superiority) or above
 * −`margin` (non-inferiority) — the guardrails pass, and, for accuracy under superiority,
 * McNemar's test agrees. It is rejected when the interval lies entirely below the bar or a
 * guardrail fails. Anything in between is inconclusive: keep shadowing and collect more events.
 */
import { assertBinaryLabels, assertProbabilities, assertSameLength } from '../quality/types.ts';
import { decideBeforeInterval, decideOnInterval, formatFigure } from './interval-decision.ts';
import { evaluateGuardrails } from './guardrails.ts';
import type { GuardrailInput, GuardrailOptions, GuardrailResult } from './guardrails.ts';
import { DEFAULT_MCNEMAR_EXACT_BELOW, discordantPairs, mcnemarTest } from './mcnemar.ts';
import type { McNemarResult } from './mcnemar.ts';
import { eventBootstrapMeans, pairedAucImprovement, pairedBootstrapImprovement } from './paired-difference.ts';
import type { EventResampler, ImprovementInterval, PromotionMetric } from './paired-difference.ts';
import type { PairedLoss, PairedLossTest } from './paired-loss.ts';

export type PromotionDecision = 'promote' | 'reject' | 'inconclusive';
export type PromotionTestKind = 'superiority' | 'non-inferiority';

export interface PromotionOptions {
  /** Metric the decision rests on. @default 'logLoss' */
  metric: PromotionMetric;
  /** Superiority: must be better; non-inferiority: must not be worse by more than `margin`. @default 'superiority' */
  test: PromotionTestKind;
  /** Non-inferiority margin, in metric units (a loss increase or score decrease). @default 0.005 */
  margin: number;
  /** Superiority: smallest improvement worth a deployment, in metric units. @default 0 */
  minimumImprovement: number;
  /** Two-sided confidence level of the improvement interval. @default 0.95 */
  level: number;
  /** Fewer paired events than this is always inconclusive. @default 500 */
  minEvents: number;
  /** Score >= threshold predicts positive (accuracy and McNemar). @default 0.5 */
  threshold: number;
  /** @default 2000 */
  bootstrapReplicates: number;
  /** @default 20240611 */
  seed: number;
  /** McNemar uses the exact binomial test below this many discordant pairs. @default 25 */
  mcnemarExactBelow: number;
  /** @default GUARDRAIL_DEFAULTS */
  guardrails: Partial<GuardrailOptions>;
  /** How an event-resampling bootstrap computes its replicates (e.g. over threads); the same values whatever it is. @default eventBootstrapMeans */
  eventResampler: EventResampler;
}

export const PROMOTION_DEFAULTS: Readonly<PromotionOptions> = Object.freeze({
  metric: 'logLoss',
  test: 'superiority',
  margin: 0.005,
  minimumImprovement: 0,
  level: 0.95,
  minEvents: 500,
  threshold: 0.5,
  bootstrapReplicates: 2000,
  seed: 20240611,
  mcnemarExactBelow: DEFAULT_MCNEMAR_EXACT_BELOW,
  guardrails: {},
  eventResampler: eventBootstrapMeans,
});

export interface PairedScores {
  /** 0/1 outcome per event. */
  labels: readonly number[];
  /** Champion's probability of class 1 per event. */
  champion: readonly number[];
  /** Challenger's probability of class 1 per event (same events, same order). */
  challenger: readonly number[];
}

export interface PromotionStatistics {
  n: number;
  /** A binary model's metric, or a multiclass or regression model's per-event loss (loss-verdict.ts). */
  metric: PromotionMetric | PairedLoss;
  test: PromotionTestKind;
  level: number;
  /** The bar the interval is compared with: minimumImprovement or −margin. */
  bar: number;
  improvement: ImprovementInterval | null;
  /** McNemar on the paired correctness (null for a regression model: nothing is right or wrong). */
  mcnemar: McNemarResult | null;
  guardrails: GuardrailResult;
  /** Multiclass and regression: the paired t test of the per-event loss difference, beside the bootstrap interval. */
  pairedT?: PairedLossTest | null;
}

export interface PromotionVerdict {
  decision: PromotionDecision;
  reasons: string[];
  statistics: PromotionStatistics;
}

const fmt = formatFigure;

export function promotionVerdict(
  scores: PairedScores,
  guardrailInput: GuardrailInput = {},
  options: Partial<PromotionOptions> = {},
): PromotionVerdict {
  const o = { ...PROMOTION_DEFAULTS, ...options };
  const { labels, champion, challenger } = scores;
  assertSameLength(labels, champion, 'promotionVerdict champion');
  assertSameLength(labels, challenger, 'promotionVerdict challenger');
  assertBinaryLabels(labels);
  assertProbabilities(champion);
  assertProbabilities(challenger);
  const n = labels.length;
  const bar = o.test === 'superiority' ? o.minimumImprovement : -o.margin;

  const predict = (s: readonly number[]) => s.map((p) => (p >= o.threshold ? 1 : 0));
  const pairs = discordantPairs(labels, predict(champion), predict(challenger));
  const mcnemar = mcnemarTest(pairs.championOnlyCorrect, pairs.challengerOnlyCorrect, o.mcnemarExactBelow);
  const guardrails = evaluateGuardrails(guardrailInput, o.guardrails);

  let improvement: ImprovementInterval | null = null;
  if (n > 0) {
    improvement =
      o.metric === 'rocAuc'
        ? pairedAucImprovement(labels, champion, challenger, o.level)
        : pairedBootstrapImprovement(o.metric, labels, champion, challenger, {
            replicates: o.bootstrapReplicates,
            seed: o.seed,
            level: o.level,
            threshold: o.threshold,
            eventResampler: o.eventResampler,
          });
  }
  const statistics: PromotionStatistics = {
    n,
    metric: o.metric,
    test: o.test,
    level: o.level,
    bar,
    improvement,
    mcnemar,
    guardrails,
  };
  const reasons: string[] = [];
  const verdict = (decision: PromotionDecision): PromotionVerdict => ({ decision, reasons, statistics });

  const early = decideBeforeInterval({ guardrails, n, minEvents: o.minEvents }, reasons);
  if (early) return verdict(early);
  if (improvement === null) {
    reasons.push(`${o.metric} difference undefined: need at least 2 events of each class`);
    return verdict('inconclusive');
  }
  const pct = Math.round(o.level * 100);
  const summary = `${o.metric}: champion ${fmt(improvement.champion)}, challenger ${fmt(improvement.challenger)}; improvement ${fmt(improvement.improvement)} (${pct}% CI ${fmt(improvement.lower)} to ${fmt(improvement.upper)}, ${improvement.method})`;
  reasons.push(summary);
  return verdict(
    decideOnInterval(
      {
        improvement,
        bar,
        test: o.test,
        margin: o.margin,
        level: o.level,
        accuracy: o.metric === 'accuracy',
        mcnemar,
        notEvaluated: guardrails.notEvaluated,
      },
      reasons,
    ),
  );
}
