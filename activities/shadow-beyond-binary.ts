/**
 * The shadow evaluation of a multiclass or regression challenger: champion and challenger
 * re-score the SAME recent labelled events (a replay, never the challenger's training split),
 * each event's loss is taken under the policy's metric — multiclass log loss (or 0/1 error for
 * accuracy), regression squared error (RMSE, R²) or absolute error (MAE) — and
 * detectors/promotion's paired loss verdict decides on the interval of the mean difference.
 * Both models must be registered versions (their class probabilities or predictions are
 * recomputed; a recorded score is not enough).
 */
import type { EventResampler } from '../detectors/promotion/index.ts';
import { pairedLossVerdict, perEventLosses, type LossVerdictMetric } from '../detectors/promotion/index.ts';
import {
  argmax,
  multiclassSummary,
  regressionSummary,
  type OutputsSummary,
} from '../detectors/quality/outputs-summary.ts';
import type { QualityMetric } from '../detectors/quality/quality-metric.ts';
import type { ModelKindDeclaration } from '../platform/clickhouse/model-kind-repository.ts';
import type { ShadowEventRow } from '../platform/clickhouse/shadow-repository.ts';
import { encodeSplitFeatures } from '../platform/onnx/features.ts';
import { modelOutputOf } from '../platform/registry/model-output.ts';
import type { ModelVersion } from '../platform/registry/types.ts';
import { targetValue } from '../training/training-target.ts';
import { heartbeat, type RetrainContext } from './retrain-context.ts';
import { loadVersion, scoreEncodedRows, type BatchScores } from './scoring.ts';
import type { PromotionVerdict } from '../detectors/promotion/index.ts';
import type { GuardrailOptions } from '../detectors/promotion/guardrails.ts';

type Kind = Exclude<ModelKindDeclaration, { kind: 'binary' }>;

/** The per-event comparison of the policy's metric: macro-F1 is not a mean over events, so its model is compared on log loss. */
export function lossOfMetric(kind: Kind, metric: QualityMetric): LossVerdictMetric {
  if (kind.kind === 'multiclass') return metric === 'accuracy' ? 'accuracy' : 'logLoss';
  return metric === 'mae' ? 'absoluteError' : 'squaredError';
}

export interface BeyondBinaryShadow {
  n: number;
  verdict: PromotionVerdict;
  loss: LossVerdictMetric;
  candidate: OutputsSummary;
  champion: OutputsSummary;
  candidateErrors: number;
  championErrors: number;
  candidateBatchMs: number[];
  championBatchMs: number[];
}

async function scoreWith(
  ctx: RetrainContext,
  version: ModelVersion,
  kind: Kind,
  events: readonly ShadowEventRow[],
  batchSize: number,
  step: string,
): Promise<BatchScores> {
  const runner = await loadVersion(ctx, version, modelOutputOf(kind));
  try {
    return await scoreEncodedRows(runner, encodeSplitFeatures(version.features, events), batchSize, () =>
      heartbeat({ step }),
    );
  } finally {
    await runner.unload();
  }
}

export async function shadowBeyondBinary(
  ctx: RetrainContext,
  args: {
    kind: Kind;
    metric: QualityMetric;
    candidate: ModelVersion;
    champion: ModelVersion;
    events: readonly ShadowEventRow[];
    batchSize: number;
    mode: 'superiority' | 'non-inferiority';
    margin: number;
    minEvents: number;
    guardrails: Partial<GuardrailOptions>;
    eventResampler: EventResampler;
  },
): Promise<BeyondBinaryShadow> {
  const { kind } = args;
  const usable = args.events
    .map((e) => ({ e, y: targetValue(kind, e.label, e.label_numeric === null ? null : Number(e.label_numeric)) }))
    .filter((x): x is { e: ShadowEventRow; y: number } => x.y !== null);
  const rows = usable.map((x) => x.e);
  const candidate = await scoreWith(ctx, args.candidate, kind, rows, args.batchSize, 'candidate');
  const champion = await scoreWith(ctx, args.champion, kind, rows, args.batchSize, 'champion');
  const width = candidate.width;
  const truth: number[] = [];
  const championOutputs: number[][] = [];
  const candidateOutputs: number[][] = [];
  usable.forEach((x, i) => {
    const a = Array.from(champion.scores.subarray(i * width, (i + 1) * width));
    const b = Array.from(candidate.scores.subarray(i * width, (i + 1) * width));
    // Paired events only: both models produced an output.
    if (a.some((v) => Number.isNaN(v)) || b.some((v) => Number.isNaN(v))) return;
    truth.push(x.y);
    championOutputs.push(a);
    candidateOutputs.push(b);
  });
  const loss = lossOfMetric(kind, args.metric);
  const lossesOf = (outputs: number[][]): number[] =>
    loss === 'accuracy'
      ? outputs.map((p, i) => (argmax(p) === truth[i] ? 0 : 1))
      : kind.kind === 'multiclass'
        ? perEventLosses('logLoss', truth, outputs)
        : perEventLosses(
            loss as 'squaredError' | 'absoluteError',
            truth,
            outputs.map((p) => p[0] as number),
          );
  const correct =
    kind.kind === 'multiclass'
      ? {
          champion: championOutputs.map((p, i) => argmax(p) === truth[i]),
          challenger: candidateOutputs.map((p, i) => argmax(p) === truth[i]),
        }
      : undefined;
  const verdict = pairedLossVerdict(
    {
      metric: loss,
      champion: lossesOf(championOutputs),
      challenger: lossesOf(candidateOutputs),
      ...(correct ? { correct } : {}),
    },
    {
      ...(champion.batchMs.length > 0 ? { championLatenciesMs: champion.batchMs } : {}),
      ...(candidate.batchMs.length > 0 ? { challengerLatenciesMs: candidate.batchMs } : {}),
      championServing: { requests: usable.length, errors: champion.errors },
      challengerServing: { requests: usable.length, errors: candidate.errors },
    },
    {
      test: args.mode,
      ...(args.mode === 'superiority' ? { minimumImprovement: args.margin } : { margin: args.margin }),
      minEvents: args.minEvents,
      guardrails: { maxLatencyP99Ratio: 2, ...args.guardrails },
      eventResampler: args.eventResampler,
    },
  );
  const summarise = (outputs: number[][]) =>
    kind.kind === 'multiclass'
      ? multiclassSummary(truth, outputs)
      : regressionSummary(
          truth,
          outputs.map((p) => p[0] as number),
        );
  return {
    n: truth.length,
    verdict,
    loss,
    candidate: summarise(candidateOutputs),
    champion: summarise(championOutputs),
    candidateErrors: candidate.errors,
    championErrors: champion.errors,
    candidateBatchMs: candidate.batchMs,
    championBatchMs: champion.batchMs,
  };
}
