/** Retrain economics: staleness cost versus retraining cost. */
export { evaluateRetrainEconomics, weightedQuantile } from './retrain-economics.ts';
export { accumulatedStalenessCost } from './cumulative.ts';
export type { AccumulatedCostOptions, WindowQuality } from './cumulative.ts';
export type { EconomicsInput, EconomicsRule, RetrainEconomics } from './types.ts';
