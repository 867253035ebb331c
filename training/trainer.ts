/**
 * One interface for every trainer. A trainer reads the snapshot's training CSV, writes an ONNX
 * model into `outDir`, and reports metrics, the parameters it actually used and its code version.
 */
import type { FeatureNames } from '../platform/onnx/features.ts';
import type { TrainingTarget } from './training-target.ts';

export interface TrainRequest {
  trainFile: string;
  featureNames: FeatureNames;
  params: Record<string, unknown>;
  /** What the model predicts (its declared kind, a multiclass model's classes in order). @default binary */
  target?: TrainingTarget;
  seed: number;
  outDir: string;
  /** Called during long work; details are recorded with the Temporal heartbeat. */
  heartbeat: (details?: unknown) => void;
  /** Aborts the training (activity cancelled). */
  signal?: AbortSignal;
}

export interface TrainOutput {
  onnxPath: string;
  /** The features the model takes, when fewer than the training file's (e.g. numeric only). @default the request's */
  features?: FeatureNames;
  metrics: Record<string, unknown>;
  params: Record<string, unknown>;
  codeVersion: string;
}

export interface Trainer {
  /** Recorded in the registry: `builtin:logistic-regression`, `command:<program>`. */
  readonly name: string;
  train(request: TrainRequest): Promise<TrainOutput>;
}

/**
 * A training failure. `badInput` means retrying cannot help (bad params, unusable data, a
 * program that does not exist); otherwise the activity may be retried.
 */
export class TrainerError extends Error {
  constructor(
    message: string,
    readonly badInput: boolean,
    readonly stderrTail = '',
    readonly exitCode: number | null = null,
  ) {
    super(message);
    this.name = 'TrainerError';
  }
}
