import type { FeatureNames } from './features.ts';

export interface OnnxSession {
  readonly features: FeatureNames;
  readonly convention: 'packed' | 'per-column';
  readonly output: string;
  readonly inputs: string[];
  readonly outputs: string[];
}

export function openSession(
  bytes: Uint8Array,
  features: FeatureNames,
  options: { intraOpThreads: number },
): Promise<OnnxSession>;
export function runSession(
  model: OnnxSession,
  rows: number,
  numeric: Float32Array,
  categorical: string[],
): Promise<{ scores: Float64Array; runMs: number }>;
export function closeSession(model: OnnxSession | undefined): Promise<void>;
export function sessionInfo(model: OnnxSession): {
  convention: 'packed' | 'per-column';
  output: string;
  inputs: string[];
  outputs: string[];
};
