/**
 * The texts people read: durations, instants and money in one form, decision reasons without a
 * repeated kind, and the one statement of the retrain economics. Pure (workflow code writes them).
 */
export {
  formatDuration,
  formatDurationText,
  formatEstimateHours,
  formatHours,
  formatInstant,
  formatMoney,
  plural,
} from './format.ts';
export { composeDecisionReason, displayReason, heldTriggerReason, reasonHeadline } from './decision-reason.ts';
export type { BlockingGuard } from './decision-reason.ts';
export { accumulationText, describeEconomics } from './economics-statement.ts';
export type { EconomicsContext, EconomicsStatement, EconomicsVerdict } from './economics-statement.ts';
export { LATEST_TEXT_REVISION } from './revision.ts';
export { decisionTexts, economicsContext, economicsOf } from './decision-view.ts';
export type { DecisionTexts, StoredDecision } from './decision-view.ts';
export { probeStatement } from './probe-statement.ts';
