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

/** The onnxruntime-node release whose native binding session.mjs calls directly. */
export const DIRECT_RUN_VERSION: string;
/** onnxruntime-node's binding module when `installed` is DIRECT_RUN_VERSION and it has the expected shape, else null. */
export function directBindingFor(installed: string | undefined): object | null;
/** Whether sessions open as 'direct' here (the installed onnxruntime-node is DIRECT_RUN_VERSION). */
export const directRunAvailable: boolean;
/** 'direct': onnxruntime-node's native binding, run synchronously; 'public': InferenceSession. */
export type SessionMode = 'direct' | 'public';

export function openSession(
  bytes: Uint8Array,
  features: FeatureNames,
  options: {
    intraOpThreads: number;
    output?: ModelOutput;
    /** false: the public InferenceSession even where the direct binding is available. @default true */
    direct?: boolean;
  },
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
/** runSession of a 'direct' session, done in the call. Throws for a 'public' session. */
export function runSessionNow(
  model: OnnxSession,
  rows: number,
  numeric: Float32Array,
  categorical: string[],
  clock?: RunClock,
): { scores: Float64Array; runMs: number };
export function sessionMode(model: OnnxSession): SessionMode;
export function outputProblem(output: ModelOutput, scores: ArrayLike<number>, row: number): string | null;
export function closeSession(model: OnnxSession | undefined): Promise<void>;
export function sessionInfo(model: OnnxSession): {
  convention: 'packed' | 'per-column';
  output: string;
  inputs: string[];
  outputs: string[];
  mode: SessionMode;
};
