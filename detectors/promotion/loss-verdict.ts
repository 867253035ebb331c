/**
 * Champion vs challenger for a multiclass or regression model, on the same events: each event's
 * loss under each model — multiclass log loss or 0/1 error (accuracy), regression squared or
 * absolute error — and the mean of d = champion's − challenger's loss (positive: the challenger
 * is better) with the paired bootstrap's percentile interval, the same machinery as the binary
 * verdict (paired-difference.ts: value counts for 0/1 differences, resampled events otherwise,
 * through the same `eventResampler`). The paired t test of d (paired-loss.ts) is reported beside
 * it. The decision rule is the binary verdict's: promote when the whole interval clears the bar
 * (above `minimumImprovement`, or above −`margin`) and the guardrails pass; reject when it lies
 * wholly below the bar or a guardrail fails; otherwise inconclusive. Accuracy under superiority
 * also needs McNemar's agreement.
 */
import { decideBeforeInterval, decideOnInterval, formatFigure } from './interval-decision.ts';
import { evaluateGuardrails, type GuardrailInput } from './guardrails.ts';
import { discordantPairs, mcnemarTest, type McNemarResult } from './mcnemar.ts';
import { bootstrapMeanInterval, type ImprovementInterval } from './paired-difference.ts';
import { pairedLossSums, pairedLossTest, type PairedLoss } from './paired-loss.ts';
import {
  PROMOTION_DEFAULTS,
  type PromotionDecision,
  type PromotionOptions,
  type PromotionStatistics,
  type PromotionVerdict,
} from './verdict.ts';

/** What a multiclass or regression verdict compares: a per-event loss, or multiclass accuracy (0/1 error). */
export type LossVerdictMetric = PairedLoss | 'accuracy';

export interface PairedLosses {
  metric: LossVerdictMetric;
  /** Each event's loss under the champion (for accuracy: 1 when wrong, 0 when right). */
  champion: readonly number[];
  /** The challenger's, same events, same order. */
  challenger: readonly number[];
  /** Multiclass: whether each model got each event's class right (for McNemar); omitted for regression. */
  correct?: { champion: readonly boolean[]; challenger: readonly boolean[] };
}

const fmt = formatFigure;

const NAMES: Record<LossVerdictMetric, string> = {
  logLoss: 'log loss',
  squaredError: 'squared error',
  absoluteError: 'absolute error',
  accuracy: 'accuracy',
};

export function pairedLossVerdict(
  losses: PairedLosses,
  guardrailInput: GuardrailInput = {},
  options: Partial<Omit<PromotionOptions, 'metric' | 'threshold'>> = {},
): PromotionVerdict {
  const o = { ...PROMOTION_DEFAULTS, ...options };
  const { champion, challenger, metric } = losses;
  if (champion.length !== challenger.length)
    throw new RangeError(
      `pairedLossVerdict: ${champion.length} champion losses but ${challenger.length} challenger losses`,
    );
  const n = champion.length;
  const bar = o.test === 'superiority' ? o.minimumImprovement : -o.margin;
  let mcnemar: McNemarResult | null = null;
  if (losses.correct) {
    const truth = new Array<number>(n).fill(1);
    const pairs = discordantPairs(
      truth,
      losses.correct.champion.map((c) => (c ? 1 : 0)),
      losses.correct.challenger.map((c) => (c ? 1 : 0)),
    );
    mcnemar = mcnemarTest(pairs.championOnlyCorrect, pairs.challengerOnlyCorrect, o.mcnemarExactBelow);
  }
  const guardrails = evaluateGuardrails(guardrailInput, o.guardrails);
  const differences = new Float64Array(n);
  let championSum = 0;
  let challengerSum = 0;
  for (let i = 0; i < n; i++) {
    const a = champion[i] as number;
    const b = challenger[i] as number;
    if (!Number.isFinite(a) || !Number.isFinite(b))
      throw new RangeError(`event ${i}: losses must be finite numbers, got ${a} and ${b}`);
    championSum += a;
    challengerSum += b;
    differences[i] = a - b;
  }
  let improvement: ImprovementInterval | null = null;
  if (n > 0) {
    const interval = bootstrapMeanInterval(differences, {
      replicates: o.bootstrapReplicates,
      seed: o.seed,
      level: o.level,
      eventResampler: o.eventResampler,
    });
    const mean = (championSum - challengerSum) / n;
    // Accuracy is reported as itself (higher is better); the losses as mean losses.
    const asFigure = (lossMean: number) => (metric === 'accuracy' ? 1 - lossMean : lossMean);
    improvement = {
      metric,
      champion: asFigure(championSum / n),
      challenger: asFigure(challengerSum / n),
      improvement: mean,
      lower: interval.lower ?? mean,
      upper: interval.upper ?? mean,
      level: o.level,
      method: 'paired-bootstrap-percentile',
      resampling: interval.resampling,
    };
  }
  const pairedT = pairedLossTest(pairedLossSums(champion, challenger), { level: o.level, margin: o.margin });
  const statistics: PromotionStatistics = {
    n,
    metric,
    test: o.test,
    level: o.level,
    bar,
    improvement,
    mcnemar,
    guardrails,
    pairedT,
  };
  const reasons: string[] = [];
  const verdict = (decision: PromotionDecision): PromotionVerdict => ({ decision, reasons, statistics });
  // Without events there is no interval, whatever the minimum says.
  const early = decideBeforeInterval({ guardrails, n, minEvents: Math.max(1, o.minEvents) }, reasons);
  if (early || improvement === null) return verdict(early ?? 'inconclusive');
  const pct = Math.round(o.level * 100);
  const name = NAMES[metric];
  const figures = `${name}: champion ${fmt(improvement.champion)}, challenger ${fmt(improvement.challenger)}`;
  const gain = metric === 'accuracy' ? 'improvement' : 'mean loss reduction';
  reasons.push(
    `${figures}; ${gain} ${fmt(improvement.improvement)} (${pct}% CI ${fmt(improvement.lower)} to ${fmt(improvement.upper)}, paired bootstrap${pairedT ? `; paired t ${fmt(pairedT.lower)} to ${fmt(pairedT.upper)}` : ''})`,
  );
  return verdict(
    decideOnInterval(
      {
        improvement,
        bar,
        test: o.test,
        margin: o.margin,
        level: o.level,
        accuracy: metric === 'accuracy',
        mcnemar,
        notEvaluated: guardrails.notEvaluated,
      },
      reasons,
    ),
  );
}
