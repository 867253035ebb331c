/**
 * A version's decision threshold: the score at or above which it predicts the positive class.
 * Recorded in the version's registry params as `decisionThreshold` (registration's
 * `--decision-threshold`); label-free estimation measures accuracy at it. A version that records
 * none is taken at 0.5, and says so.
 */
import type { ModelVersion } from './types.ts';

/** The param the threshold is recorded under. */
export const DECISION_THRESHOLD_PARAM = 'decisionThreshold';
export const DEFAULT_DECISION_THRESHOLD = 0.5;

export interface DecisionThreshold {
  value: number;
  /** `version`: recorded with the version; `default`: none recorded, 0.5 taken. */
  source: 'version' | 'default';
}

/** A valid threshold is a number in [0, 1]. */
export function isDecisionThreshold(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1;
}

/** The threshold `version` records, or the default when it records none (or no version is known). */
export function decisionThresholdOf(version: Pick<ModelVersion, 'params'> | null): DecisionThreshold {
  const recorded = version?.params[DECISION_THRESHOLD_PARAM];
  return isDecisionThreshold(recorded)
    ? { value: recorded, source: 'version' }
    : { value: DEFAULT_DECISION_THRESHOLD, source: 'default' };
}
