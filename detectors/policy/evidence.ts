/**
 * The window minimums of a policy (`evidence`), with their defaults applied and "auto" sized to
 * the model. Pure; importable from workflow code.
 */
import { parseDuration } from './duration.ts';
import type { EvidencePolicy } from './types.ts';

export const DEFAULT_EVIDENCE: EvidencePolicy = {
  minLabelledEvents: 30,
  minDecayPoints: 4,
  minWindowRows: 100,
  minTrainingLabelled: 'auto',
};

/** Labelled rows per model parameter (features + intercept) that "auto" asks for after a change. */
export const AUTO_TRAINING_ROWS_PER_PARAMETER = 50;
/** Fewest labelled rows "auto" asks for after a change, however few the features. */
export const AUTO_TRAINING_ROWS_MINIMUM = 200;

export interface ResolvedEvidence {
  minLabelledEvents: number;
  minDecayPoints: number;
  minWindowRows: number;
  minTrainingLabelled: number;
  /** How `minTrainingLabelled` was chosen, for decision reasons. */
  minTrainingLabelledSource: string;
  /** How long late labels count after a window closes: "auto" or milliseconds (late-label-horizon.ts). */
  lateLabelHorizon: 'auto' | number;
}

/** The policy's minimums with defaults applied; "auto" from the model's feature count (unknown: the floor). */
export function resolveEvidence(
  evidence: Partial<EvidencePolicy> | undefined,
  featureCount: number | null,
): ResolvedEvidence {
  const e = { ...DEFAULT_EVIDENCE, ...evidence };
  const auto = e.minTrainingLabelled === 'auto';
  const features = featureCount ?? 0;
  const minTrainingLabelled = auto
    ? Math.max(AUTO_TRAINING_ROWS_MINIMUM, AUTO_TRAINING_ROWS_PER_PARAMETER * (features + 1))
    : (e.minTrainingLabelled as number);
  return {
    minLabelledEvents: e.minLabelledEvents,
    minDecayPoints: e.minDecayPoints,
    minWindowRows: e.minWindowRows,
    minTrainingLabelled,
    minTrainingLabelledSource: auto
      ? `auto: ${AUTO_TRAINING_ROWS_PER_PARAMETER} × (${featureCount ?? 'unknown'} features + 1), at least ${AUTO_TRAINING_ROWS_MINIMUM}`
      : 'policy evidence.minTrainingLabelled',
    lateLabelHorizon:
      e.lateLabelHorizon === undefined || e.lateLabelHorizon === 'auto' ? 'auto' : parseDuration(e.lateLabelHorizon),
  };
}
