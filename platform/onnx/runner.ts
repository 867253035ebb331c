/**
 * A registered model version ready to score: its artifact read through the artifact store with
 * the registry's sha256 (a mismatch is never loaded), loaded into an {@link OnnxPool}.
 */
import type { ArtifactStore } from '../registry/artifact-store.ts';
import { encodeBatch, type EncodedBatch, type FeatureNames, type RawFeatures } from './features.ts';
import type { LoadedModelInfo, ModelOutput, OnnxPool, RunResult } from './pool.ts';
import type { RunClock } from './session.mjs';

export interface ModelRef {
  modelId: string;
  version: string;
  artifactUri: string;
  sha256: string;
  features: FeatureNames;
  /** What the model outputs (its declared kind). @default binary */
  output?: ModelOutput;
  /** A multiclass model's class names, in the order of its probability output. */
  classes?: readonly string[];
}

export interface ModelRunner {
  readonly ref: ModelRef;
  readonly key: string;
  readonly info: LoadedModelInfo;
  /**
   * Each row's output, in order: probability of class 1, class probabilities, or prediction (see
   * RunResult). `clock` 'run' times onnxruntime's own run, for comparing two models' latencies. @default 'wall'
   */
  score(rows: readonly RawFeatures[], clock?: RunClock): Promise<RunResult>;
  /** {@link score} of rows already encoded for this model's features. */
  scoreEncoded(batch: EncodedBatch): Promise<RunResult>;
  unload(): Promise<void>;
}

export function runnerKey(ref: Pick<ModelRef, 'modelId' | 'version' | 'sha256'>): string {
  return `${ref.modelId}@${ref.version}#${ref.sha256.slice(0, 16)}`;
}

/** Verify and load a model. Throws ArtifactIntegrityError (sha256 mismatch) or OnnxModelError (not servable). */
export async function loadModelRunner(pool: OnnxPool, artifacts: ArtifactStore, ref: ModelRef): Promise<ModelRunner> {
  const key = runnerKey(ref);
  const bytes = await artifacts.get(ref.artifactUri, ref.sha256);
  const info = await pool.load(key, bytes, ref.features, ref.output);
  return {
    ref,
    key,
    info,
    score: (rows, clock) => pool.run(key, encodeBatch(ref.features, rows), clock),
    scoreEncoded: (batch) => pool.run(key, batch),
    unload: () => pool.unload(key),
  };
}
