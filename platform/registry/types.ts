/** The model registry's vocabulary: versions, stages and their history. */
import type { FeatureNames } from '../onnx/features.ts';

/**
 * `probe`: a challenger a monitor trained only to measure what a fresh model attains (challenger
 * probes); registered for lineage and audit, never promoted, published or served.
 */
export const MODEL_STAGES = [
  'candidate',
  'shadow',
  'canary',
  'production',
  'archived',
  'rejected',
  'tainted',
  'probe',
] as const;
export type ModelStage = (typeof MODEL_STAGES)[number];

export function isModelStage(s: string): s is ModelStage {
  return (MODEL_STAGES as readonly string[]).includes(s);
}

/** Stages a version can never leave for serving again (it must be retrained and re-registered). */
export const TERMINAL_STAGES: readonly ModelStage[] = ['rejected', 'tainted', 'probe'];
/** Stages in which a version receives traffic (live or shadow). */
export const SERVING_STAGES: readonly ModelStage[] = ['shadow', 'canary', 'production'];

export interface ModelVersion {
  modelId: string;
  /** `v1`, `v2`, … in registration order per model. */
  version: string;
  stage: ModelStage;
  artifactUri: string;
  sha256: string;
  /** The production version when this one was trained, if any. */
  parentVersion: string | null;
  /** Training snapshot id (training_snapshots / training_lineage); '' for imported models. */
  lineageId: string;
  /** The Retrain run that produced it; '' for imported models. */
  retrainId: string;
  /** `builtin:logistic-regression`, `command:<argv0>`, `import`. */
  trainer: string;
  params: Record<string, unknown>;
  metrics: Record<string, unknown>;
  features: FeatureNames;
  codeVersion: string;
  seed: number;
  createdAt: string;
  createdBy: string;
  promotedAt: string | null;
  promotedBy: string | null;
  /** Why the version is in its stage (the last setStage reason). */
  stageReason: string;
  updatedAt: string;
}

export interface NewModelVersion {
  modelId: string;
  /** Omit to take the next `v<n>`. */
  version?: string;
  /** @default 'candidate' */
  stage?: ModelStage;
  artifactUri: string;
  sha256: string;
  parentVersion?: string | null;
  lineageId?: string;
  /** Registering twice with the same retrainId returns the first version (idempotent). */
  retrainId?: string;
  trainer: string;
  params?: Record<string, unknown>;
  metrics?: Record<string, unknown>;
  features: FeatureNames;
  codeVersion: string;
  seed?: number;
  createdBy: string;
}

export interface StageEvent {
  modelId: string;
  version: string;
  fromStage: string;
  toStage: ModelStage;
  actor: string;
  reason: string;
  at: string;
}

export interface StageChange {
  /** False when the version was already in that stage (nothing written). */
  changed: boolean;
  previousStage: ModelStage;
  version: ModelVersion;
}
