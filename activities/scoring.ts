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

/** One side of a replay: a loaded version and the rows encoded for its features. */
export interface ReplaySide {
  runner: ModelRunner;
  encoded: EncodedBatch;
}

/**
 * Score the same rows with two versions batch by batch, alternating which side goes first
 * (ABBA…), after one untimed warm-up run of each: their latency samples are then taken under the
 * same load and neither pays a cold session. Scored one after the other, a loaded machine's burst
 * during one side's pass alone made an equal challenger look ten times slower (CI, 2026-12-06).
 */
export async function scoreSideBySide(
  first: ReplaySide,
  second: ReplaySide,
  batchSize = 256,
  onBatch?: () => void,
): Promise<[BatchScores, BatchScores]> {
  const n = first.encoded.rows;
  if (second.encoded.rows !== n)
    throw new Error(
      `scoreSideBySide: the two sides encode ${n} and ${second.encoded.rows} rows; they must score the same rows`,
    );
  const sides = [first, second];
  const accumulators = sides.map((side) => {
    const width = outputWidth(side.runner.ref.output ?? BINARY);
    return {
      side,
      width,
      output: side.runner.ref.output ?? BINARY,
      scores: new Float64Array(n * width).fill(Number.NaN),
      latencyMs: new Float64Array(n),
      batchMs: [] as number[],
      errors: 0,
    };
  });
  if (n > 0) {
    const end = Math.min(n, batchSize);
    for (const { side } of accumulators)
      await side.runner.scoreEncoded(sliceBatch(side.runner.ref.features, side.encoded, 0, end)).catch(() => undefined);
  }
  for (let start = 0, batch = 0; start < n; start += batchSize, batch++) {
    const end = Math.min(n, start + batchSize);
    const size = end - start;
    const order = batch % 4 === 0 || batch % 4 === 3 ? accumulators : [...accumulators].reverse();
    for (const a of order) {
      try {
        const result = await a.side.runner.scoreEncoded(
          sliceBatch(a.side.runner.ref.features, a.side.encoded, start, end),
        );
        a.batchMs.push(result.runMs);
        for (let i = 0; i < size; i++) {
          if (outputProblem(a.output, result.scores, i) === null)
            for (let j = 0; j < a.width; j++)
              a.scores[(start + i) * a.width + j] = result.scores[i * a.width + j] as number;
          else a.errors++;
          a.latencyMs[start + i] = result.runMs / size;
        }
      } catch {
        a.errors += size;
      }
    }
    onBatch?.();
  }
  const [x, y] = accumulators.map(({ scores, width, latencyMs, batchMs, errors }) => ({
    scores,
    width,
    latencyMs,
    batchMs,
    errors,
  }));
  return [x!, y!];
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
