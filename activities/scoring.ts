/** Scoring labelled rows with registered versions, for offline validation and shadow replays. */
import { brierScore, logLoss } from '../detectors/quality/probabilistic.ts';
import { rocAuc } from '../detectors/quality/roc-auc.ts';
import { loadModelRunner, type ModelRunner } from '../platform/onnx/runner.ts';
import { encodeBatch, sliceBatch, type EncodedBatch, type RawFeatures } from '../platform/onnx/features.ts';
import { outputWidth, type ModelOutput } from '../platform/onnx/pool.ts';
import { outputProblem } from '../platform/onnx/session.mjs';
import type { ModelVersion } from '../platform/registry/types.ts';
import type { RetrainContext } from './retrain-context.ts';

export interface BatchScores {
  /** `width` values a row (see RunResult): NaN for a row that failed. */
  scores: Float64Array;
  width: number;
  /** Per row: the onnxruntime time of its batch divided by the batch size (ms). */
  latencyMs: Float64Array;
  /** onnxruntime time per batch (ms). */
  batchMs: number[];
  /** Rows whose batch failed or whose output is not what the model's kind outputs (scored as NaN). */
  errors: number;
}

/** Load a registered version; `output` is what its model's kind outputs. @default binary */
export async function loadVersion(ctx: RetrainContext, v: ModelVersion, output?: ModelOutput): Promise<ModelRunner> {
  return loadModelRunner(ctx.pool(), ctx.artifacts, {
    modelId: v.modelId,
    version: v.version,
    artifactUri: v.artifactUri,
    sha256: v.sha256,
    features: v.features,
    ...(output ? { output } : {}),
  });
}

const BINARY: ModelOutput = { kind: 'binary' };

export async function scoreRows(
  runner: ModelRunner,
  rows: readonly RawFeatures[],
  batchSize = 256,
  onBatch?: () => void,
): Promise<BatchScores> {
  return scoreEncodedRows(runner, encodeBatch(runner.ref.features, rows), batchSize, onBatch);
}

/** {@link scoreRows} of rows encoded once for the runner's features (batches are views into them). */
export async function scoreEncodedRows(
  runner: ModelRunner,
  encoded: EncodedBatch,
  batchSize = 256,
  onBatch?: () => void,
): Promise<BatchScores> {
  const n = encoded.rows;
  const output = runner.ref.output ?? BINARY;
  const width = outputWidth(output);
  const scores = new Float64Array(n * width).fill(Number.NaN);
  const latencyMs = new Float64Array(n);
  const batchMs: number[] = [];
  let errors = 0;
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const size = end - start;
    try {
      const result = await runner.scoreEncoded(sliceBatch(runner.ref.features, encoded, start, end));
      batchMs.push(result.runMs);
      for (let i = 0; i < size; i++) {
        if (outputProblem(output, result.scores, i) === null)
          for (let j = 0; j < width; j++) scores[(start + i) * width + j] = result.scores[i * width + j] as number;
        else errors++;
        latencyMs[start + i] = result.runMs / size;
      }
    } catch {
      errors += size;
    }
    onBatch?.();
  }
  return { scores, width, latencyMs, batchMs, errors };
}

export interface SummaryMetrics {
  n: number;
  positives: number;
  accuracy: number | null;
  logLoss: number | null;
  brier: number | null;
  rocAuc: number | null;
  meanScore: number | null;
}

export function summaryMetrics(labels: readonly number[], scores: ArrayLike<number>): SummaryMetrics {
  const y: number[] = [];
  const p: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    const s = scores[i] as number;
    if (!Number.isNaN(s)) {
      y.push(labels[i] as number);
      p.push(s);
    }
  }
  const n = y.length;
  if (n === 0) return { n, positives: 0, accuracy: null, logLoss: null, brier: null, rocAuc: null, meanScore: null };
  let correct = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) {
    if (((p[i] as number) >= 0.5 ? 1 : 0) === y[i]) correct++;
    mean += p[i] as number;
  }
  return {
    n,
    positives: y.reduce((a, b) => a + b, 0),
    accuracy: correct / n,
    logLoss: logLoss(y, p),
    brier: brierScore(y, p),
    rocAuc: rocAuc(y, p),
    meanScore: mean / n,
  };
}
