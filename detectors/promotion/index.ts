/** Champion vs challenger promotion statistics and the promotion verdict. */
export { mcnemarTest, discordantPairs, DEFAULT_MCNEMAR_EXACT_BELOW } from './mcnemar.ts';
export type { McNemarResult } from './mcnemar.ts';
export {
  eventBootstrapMean,
  eventBootstrapMeans,
  pairedBootstrapImprovement,
  pairedAucImprovement,
  bootstrapMeanInterval,
  PAIRED_BOOTSTRAP_DEFAULTS,
} from './paired-difference.ts';
export type {
  EventResampler,
  ImprovementInterval,
  PairedBootstrapOptions,
  PromotionMetric,
} from './paired-difference.ts';
export { evaluateGuardrails, p99, GUARDRAIL_DEFAULTS } from './guardrails.ts';
export type { GuardrailInput, GuardrailOptions, GuardrailResult, ServingCounts } from './guardrails.ts';
export { promotionVerdict, PROMOTION_DEFAULTS } from './verdict.ts';
export type {
  PairedScores,
  PromotionDecision,
  PromotionOptions,
  PromotionStatistics,
  PromotionTestKind,
  PromotionVerdict,
} from './verdict.ts';
export { pairedLossSums, pairedLossTest, pairedSignedRankTest, perEventLosses } from './paired-loss.ts';
export type { PairedLoss, PairedLossSums, PairedLossTest, SignedRankTest } from './paired-loss.ts';
export { pairedLossVerdict } from './loss-verdict.ts';
export type { LossVerdictMetric, PairedLosses } from './loss-verdict.ts';
