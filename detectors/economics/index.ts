/** Retrain economics: staleness cost versus retraining cost, and the benchmark oracle. */
export { evaluateRetrainEconomics, weightedQuantile } from './retrain-economics.ts';
export { accumulatedStalenessCost } from './cumulative.ts';
export type { AccumulatedCostOptions, WindowQuality } from './cumulative.ts';
export { oracleSchedule, scheduleCost } from './oracle.ts';
export type { CostModel, EconomicsInput, EconomicsRule, RetrainEconomics, ScheduleCost } from './types.ts';
