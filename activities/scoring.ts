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

/**
 * One runner's scores over rows encoded for it, filled batch by batch: a row whose batch failed,
 * or whose output is not what the model's kind outputs, stays NaN and counts as an error.
 */
class BatchScorer {
  readonly #runner: ModelRunner;
  readonly #encoded: EncodedBatch;
  readonly #output: ModelOutput;
  readonly #result: BatchScores;

  constructor(runner: ModelRunner, encoded: EncodedBatch) {
    this.#runner = runner;
    this.#encoded = encoded;
    this.#output = runner.ref.output ?? BINARY;
    const width = outputWidth(this.#output);
    this.#result = {
      scores: new Float64Array(encoded.rows * width).fill(Number.NaN),
      width,
      latencyMs: new Float64Array(encoded.rows),
      batchMs: [],
      errors: 0,
    };
  }

  get result(): BatchScores {
    return this.#result;
  }

  /** An untimed run of rows [start, end), its scores discarded: the session's first run warms it. */
  async warmUp(start: number, end: number): Promise<void> {
    await this.#runner.scoreEncoded(this.#slice(start, end)).catch(() => undefined);
  }

  /** Score rows [start, end) into the result, their batch's time a latency sample. */
  async score(start: number, end: number): Promise<void> {
    const size = end - start;
    const r = this.#result;
    try {
      const run = await this.#runner.scoreEncoded(this.#slice(start, end));
      r.batchMs.push(run.runMs);
      for (let i = 0; i < size; i++) {
        if (outputProblem(this.#output, run.scores, i) === null)
          for (let j = 0; j < r.width; j++) r.scores[(start + i) * r.width + j] = run.scores[i * r.width + j] as number;
        else r.errors++;
        r.latencyMs[start + i] = run.runMs / size;
      }
    } catch {
      r.errors += size;
    }
  }

  #slice(start: number, end: number): EncodedBatch {
    return sliceBatch(this.#runner.ref.features, this.#encoded, start, end);
  }
}

/** {@link scoreRows} of rows encoded once for the runner's features (batches are views into them). */
export async function scoreEncodedRows(
  runner: ModelRunner,
  encoded: EncodedBatch,
  batchSize = 256,
  onBatch?: () => void,
): Promise<BatchScores> {
  const scorer = new BatchScorer(runner, encoded);
  for (let start = 0; start < encoded.rows; start += batchSize) {
    await scorer.score(start, Math.min(encoded.rows, start + batchSize));
    onBatch?.();
  }
  return scorer.result;
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
  const scorers = [new BatchScorer(first.runner, first.encoded), new BatchScorer(second.runner, second.encoded)];
  if (n > 0) for (const scorer of scorers) await scorer.warmUp(0, Math.min(n, batchSize));
  for (let start = 0, batch = 0; start < n; start += batchSize, batch++) {
    const end = Math.min(n, start + batchSize);
    const order = batch % 4 === 0 || batch % 4 === 3 ? scorers : [...scorers].reverse();
    for (const scorer of order) await scorer.score(start, end);
    onBatch?.();
  }
  return [scorers[0]!.result, scorers[1]!.result];
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
