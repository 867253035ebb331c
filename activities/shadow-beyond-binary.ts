/**
 * The shadow evaluation of a multiclass or regression challenger: champion and challenger on the
 * SAME labelled events (never the challenger's training split), each event's loss under the
 * policy's metric — multiclass log loss (or 0/1 error for accuracy), regression squared error
 * (RMSE, R²) or absolute error (MAE) — and detectors/promotion's paired loss verdict on the
 * interval of the mean difference. The outputs come from one of two sources:
 *
 * - live: what the scorer served while the challenger was in shadow — the champion's production
 *   event and the challenger's `<model>.shadow` event of the same request, each with its class
 *   probabilities or predicted number;
 * - replay: both registered versions re-score recent stored events (their outputs are
 *   recomputed; a recorded score is not enough).
 *
 * Every paired event is stored in `shadow_outcome_results` with both outputs, the truth and both
 * losses, so an auditor reads the events the verdict rests on.
 */
import type { EventResampler } from '../detectors/promotion/index.ts';
import { pairedLossVerdict, type LossVerdictMetric } from '../detectors/promotion/index.ts';
import {
  pairOutcomes,
  probabilityVector,
  valueOutput,
  type OutcomePairInput,
} from '../detectors/promotion/outcome-pairs.ts';
import { multiclassSummary, regressionSummary, type OutputsSummary } from '../detectors/quality/outputs-summary.ts';
import type { QualityMetric } from '../detectors/quality/quality-metric.ts';
import type { ModelKindDeclaration } from '../platform/clickhouse/model-kind-repository.ts';
import { storeShadowOutcomes, type LiveOutcomePairRow } from '../platform/clickhouse/shadow-outcome-repository.ts';
import type { ShadowEventRow } from '../platform/clickhouse/shadow-repository.ts';
import { encodeSplitFeatures } from '../platform/onnx/features.ts';
import { modelOutputOf } from '../platform/registry/model-output.ts';
import type { ModelVersion } from '../platform/registry/types.ts';
import { targetValue } from '../training/training-target.ts';
import { heartbeat, type RetrainContext } from './retrain-context.ts';
import { loadVersion, scoreSideBySide, type BatchScores } from './scoring.ts';
import type { PromotionVerdict } from '../detectors/promotion/index.ts';
import {
  latencySamplesByRun,
  SHADOW_MAX_LATENCY_P99_RATIO,
  type GuardrailOptions,
} from '../detectors/promotion/guardrails.ts';

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

/** Where the outputs come from: stored events both versions re-score, or the pairs the scorer served live. */
export type BeyondBinaryOutputs =
  | {
      source: 'replay';
      candidate: ModelVersion;
      champion: ModelVersion;
      events: readonly ShadowEventRow[];
      batchSize: number;
    }
  | { source: 'live'; pairs: readonly LiveOutcomePairRow[] };

/** Both versions scored on the same rows, side by side (see scoreSideBySide). */
async function scoreBoth(
  ctx: RetrainContext,
  candidate: ModelVersion,
  champion: ModelVersion,
  kind: Kind,
  events: readonly ShadowEventRow[],
  batchSize: number,
): Promise<{ candidate: BatchScores; champion: BatchScores }> {
  const candidateRunner = await loadVersion(ctx, candidate, modelOutputOf(kind));
  try {
    const championRunner = await loadVersion(ctx, champion, modelOutputOf(kind));
    try {
      const [candidateScores, championScores] = await scoreSideBySide(
        { runner: candidateRunner, encoded: encodeSplitFeatures(candidate.features, events) },
        { runner: championRunner, encoded: encodeSplitFeatures(champion.features, events) },
        batchSize,
        () => heartbeat({ step: 'candidate and champion' }),
      );
      return { candidate: candidateScores, champion: championScores };
    } finally {
      await championRunner.unload();
    }
  } finally {
    await candidateRunner.unload();
  }
}

/** One labelled event with each side's output and the latency it was produced in. */
interface SidedEvent extends OutcomePairInput {
  eventId: string;
  championLatencyMs: number;
  challengerLatencyMs: number;
}

interface Gathered {
  events: SidedEvent[];
  /** Latency samples, ms: one per batch (replay) or per scorer run (live). */
  championBatchMs: number[];
  candidateBatchMs: number[];
  /** Rows a side failed to score in a replay (a live side's missing outputs are counted by the pairing). */
  championErrors: number;
  candidateErrors: number;
}

const truthOf = (kind: Kind, label: string, numeric: number | null) =>
  targetValue(kind, label, numeric === null ? null : Number(numeric));

async function replayOutputs(
  ctx: RetrainContext,
  kind: Kind,
  o: Extract<BeyondBinaryOutputs, { source: 'replay' }>,
): Promise<Gathered> {
  const usable = o.events
    .map((e) => ({ e, y: truthOf(kind, e.label, e.label_numeric) }))
    .filter((x): x is { e: ShadowEventRow; y: number } => x.y !== null);
  const rows = usable.map((x) => x.e);
  const { candidate, champion } = await scoreBoth(ctx, o.candidate, o.champion, kind, rows, o.batchSize);
  const width = candidate.width;
  const outputAt = (s: BatchScores, i: number) => Array.from(s.scores.subarray(i * width, (i + 1) * width));
  return {
    events: usable.map((x, i) => ({
      eventId: x.e.event_id,
      truth: x.y,
      champion: outputAt(champion, i),
      challenger: outputAt(candidate, i),
      championLatencyMs: champion.latencyMs[i] ?? 0,
      challengerLatencyMs: candidate.latencyMs[i] ?? 0,
    })),
    championBatchMs: champion.batchMs,
    candidateBatchMs: candidate.batchMs,
    championErrors: champion.errors,
    candidateErrors: candidate.errors,
  };
}

function liveOutputs(kind: Kind, pairs: readonly LiveOutcomePairRow[]): Gathered {
  const latency = (text: string) => {
    const v = Number(text);
    return text !== '' && Number.isFinite(v) ? v : Number.NaN;
  };
  const outputOf = (probabilities: Record<string, number>, value: number | null) =>
    kind.kind === 'multiclass' ? probabilityVector(probabilities, kind.classes) : valueOutput(value);
  const events: SidedEvent[] = [];
  const championRuns: string[] = [];
  const candidateRuns: string[] = [];
  for (const p of pairs) {
    const y = truthOf(kind, p.label, p.label_numeric);
    if (y === null) continue;
    championRuns.push(p.champion_latency_run);
    candidateRuns.push(p.candidate_latency_run);
    events.push({
      eventId: p.event_id,
      truth: y,
      champion: outputOf(p.champion_probabilities, p.champion_value),
      challenger: outputOf(p.candidate_probabilities, p.candidate_value),
      championLatencyMs: latency(p.champion_latency),
      challengerLatencyMs: latency(p.candidate_latency),
    });
  }
  return {
    events,
    // One sample per scorer run, as a replay's are per batch: the events of a run share its measurement.
    championBatchMs: latencySamplesByRun(
      events.map((e) => e.championLatencyMs),
      championRuns,
    ),
    candidateBatchMs: latencySamplesByRun(
      events.map((e) => e.challengerLatencyMs),
      candidateRuns,
    ),
    championErrors: 0,
    candidateErrors: 0,
  };
}

export async function shadowBeyondBinary(
  ctx: RetrainContext,
  args: {
    kind: Kind;
    metric: QualityMetric;
    outputs: BeyondBinaryOutputs;
    mode: 'superiority' | 'non-inferiority';
    margin: number;
    minEvents: number;
    guardrails: Partial<GuardrailOptions>;
    eventResampler: EventResampler;
    /** Where the paired events are stored. */
    store: { evaluationId: string; modelId: string; candidateVersion: string; championVersion: string };
  },
): Promise<BeyondBinaryShadow> {
  const { kind } = args;
  const gathered =
    args.outputs.source === 'replay'
      ? await replayOutputs(ctx, kind, args.outputs)
      : liveOutputs(kind, args.outputs.pairs);
  const loss = lossOfMetric(kind, args.metric);
  // Paired events only: both models produced an output.
  const pairs = pairOutcomes(kind.kind, loss, gathered.events);
  const requests = gathered.events.length;
  const championErrors = gathered.championErrors + (args.outputs.source === 'live' ? pairs.championMissing : 0);
  const candidateErrors = gathered.candidateErrors + (args.outputs.source === 'live' ? pairs.challengerMissing : 0);
  const pairedEvents = pairs.paired.map((i) => gathered.events[i] as SidedEvent);
  const storing = storeShadowOutcomes(ctx.clickhouse, {
    evaluation_id: args.store.evaluationId,
    model_id: args.store.modelId,
    candidate_version: args.store.candidateVersion,
    champion_version: args.store.championVersion,
    source: args.outputs.source,
    kind: kind.kind,
    loss,
    evaluated_at: Date.now(),
    event_ids: pairedEvents.map((e) => e.eventId),
    ...(kind.kind === 'multiclass'
      ? {
          label_classes: pairs.truth.map((y) => kind.classes[y] as string),
          champion_probabilities: pairs.champion.map((p) => byClass(kind.classes, p)),
          candidate_probabilities: pairs.challenger.map((p) => byClass(kind.classes, p)),
        }
      : {
          label_values: pairs.truth,
          champion_values: pairs.champion.map((p) => p[0] as number),
          candidate_values: pairs.challenger.map((p) => p[0] as number),
        }),
    champion_losses: pairs.championLosses,
    candidate_losses: pairs.challengerLosses,
    champion_latency_ms: pairedEvents.map((e) => (Number.isNaN(e.championLatencyMs) ? 0 : e.championLatencyMs)),
    candidate_latency_ms: pairedEvents.map((e) => (Number.isNaN(e.challengerLatencyMs) ? 0 : e.challengerLatencyMs)),
  });
  let verdict: PromotionVerdict;
  try {
    verdict = pairedLossVerdict(
      {
        metric: loss,
        champion: pairs.championLosses,
        challenger: pairs.challengerLosses,
        ...(pairs.correct ? { correct: pairs.correct } : {}),
      },
      {
        ...(gathered.championBatchMs.length > 0 ? { championLatenciesMs: gathered.championBatchMs } : {}),
        ...(gathered.candidateBatchMs.length > 0 ? { challengerLatenciesMs: gathered.candidateBatchMs } : {}),
        championServing: { requests, errors: championErrors },
        challengerServing: { requests, errors: candidateErrors },
      },
      {
        test: args.mode,
        ...(args.mode === 'superiority' ? { minimumImprovement: args.margin } : { margin: args.margin }),
        minEvents: args.minEvents,
        // As a binary model's shadow: live latencies are each side's onnxruntime time in the same
        // batches, taking turns to run first (workers/scorer.ts), so their p99s compare.
        guardrails: { maxLatencyP99Ratio: SHADOW_MAX_LATENCY_P99_RATIO, ...args.guardrails },
        eventResampler: args.eventResampler,
      },
    );
  } finally {
    // Settles the stored rows whether or not the verdict threw (no rejection left unobserved).
    await storing;
  }
  const summarise = (outputs: number[][]) =>
    kind.kind === 'multiclass'
      ? multiclassSummary(pairs.truth, outputs)
      : regressionSummary(
          pairs.truth,
          outputs.map((p) => p[0] as number),
        );
  return {
    n: pairs.truth.length,
    verdict,
    loss,
    candidate: summarise(pairs.challenger),
    champion: summarise(pairs.champion),
    candidateErrors,
    championErrors,
    candidateBatchMs: gathered.candidateBatchMs,
    championBatchMs: gathered.championBatchMs,
  };
}

function byClass(classes: readonly string[], probabilities: readonly number[]): Record<string, number> {
  return Object.fromEntries(classes.map((c, j) => [c, probabilities[j] as number]));
}
