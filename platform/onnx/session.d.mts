import type { FeatureNames } from './features.ts';

/** What a model outputs: a probability (binary), K class probabilities (multiclass), a number (regression). */
export type ModelOutput = { kind: 'binary' } | { kind: 'multiclass'; classes: number } | { kind: 'regression' };

export interface OnnxSession {
  readonly features: FeatureNames;
  readonly convention: 'packed' | 'per-column';
  readonly output: string;
  readonly inputs: string[];
  readonly outputs: string[];
  readonly kind: ModelOutput;
}

export function openSession(
  bytes: Uint8Array,
  features: FeatureNames,
  options: { intraOpThreads: number; output?: ModelOutput },
): Promise<OnnxSession>;
export function runSession(
  model: OnnxSession,
  rows: number,
  numeric: Float32Array,
  categorical: string[],
  /** 'run': onnxruntime's own run time (run-clock.mjs), for comparing two runs; 'wall': from the call. @default 'wall' */
  clock?: RunClock,
): Promise<{ scores: Float64Array; runMs: number }>;
export type RunClock = 'wall' | 'run';
export function outputProblem(output: ModelOutput, scores: ArrayLike<number>, row: number): string | null;
export function closeSession(model: OnnxSession | undefined): Promise<void>;
export function sessionInfo(model: OnnxSession): {
  convention: 'packed' | 'per-column';
  output: string;
  inputs: string[];
  outputs: string[];
};
