/**
 * Pure retrain-policy evaluation. Importable from Temporal workflow code: no clock, no
 * randomness, no I/O, no Node built-ins (the zod schema lives in platform/policy-file.ts).
 */
export { evaluatePolicy, chooseTrainingWindow } from './evaluate.ts';
export { evaluateTrigger, observedTraffic, windowsSinceRetrain } from './triggers.ts';
export type { TriggerOutcome } from './triggers.ts';
export { DEFAULT_EVIDENCE, resolveEvidence } from './evidence.ts';
export type { ResolvedEvidence } from './evidence.ts';
export { activeBlackout, inBlackoutWindow, localTime } from './blackout.ts';
export { parseDuration, tryParseDuration, durationHours, DURATION_PATTERN } from './duration.ts';
export type * from './state.ts';
export type * from './types.ts';
