/**
 * shadowEvaluate: champion and challenger score the SAME recent labelled events, per-event
 * results go to `shadow_results`, and the decision is detectors/promotion's paired verdict
 * (bootstrap CI of the metric difference, McNemar for accuracy, superiority or non-inferiority
 * margin, guardrails). Only the verdict and summary statistics are returned (the return value
 * lands in Temporal history).
 *
 * Sources: 'replay' re-scores events stored in ClickHouse with both models; 'live' pairs the
 * production events of the champion with the shadow events the scorer emitted for the
 * challenger (model id `<model>.shadow`, same event ids); 'prefer-live' takes the live pairs of
 * `liveWindow` when at least `minEvents` of them are labelled and replays otherwise, and says
 * which it took and why (`statistics.live`). Events that trained the challenger are always left
 * out, so its score is out-of-sample. A multiclass or regression model's pairs carry its class
 * probabilities or predicted numbers (shadow-beyond-binary.ts).
 */
import { createHash } from 'node:crypto';
import { promotionVerdict, type PromotionMetric, type PromotionVerdict } from '../detectors/promotion/index.ts';
import type { GuardrailOptions } from '../detectors/promotion/guardrails.ts';
import { latencySamplesByRun, p99, SHADOW_MAX_LATENCY_P99_RATIO } from '../detectors/promotion/guardrails.ts';
import {
  livePairs,
  replayEvents,
  storeShadowResults,
  trainingSplitSize,
  type ShadowEventRow,
} from '../platform/clickhouse/shadow-repository.ts';
import { encodeSplitFeatures } from '../platform/onnx/features.ts';
import { shadowModelId } from '../platform/registry/shadow.ts';
import { threadedEventBootstrap } from './bootstrap-threads.ts';
import { heartbeat, ms, nonRetryable, type RetrainContext } from './retrain-context.ts';
import { binaryLabel } from '../training/training-target.ts';
import {
  loadVersion,
  scoreEncodedRows,
  scoreSideBySide,
  summaryMetrics,
  type BatchScores,
  type SummaryMetrics,
} from './scoring.ts';
import { modelKindOf } from '../platform/clickhouse/model-kind-repository.ts';
import { liveOutcomePairs, livePairCount } from '../platform/clickhouse/shadow-outcome-repository.ts';
import { chooseLiveSource, type LiveChoice } from '../detectors/promotion/live-choice.ts';
import type { OutputsSummary } from '../detectors/quality/outputs-summary.ts';
import { shadowBeyondBinary } from './shadow-beyond-binary.ts';
import { retrainMetric, type RetrainQuality } from './validation-beyond-binary.ts';

export interface ShadowEvaluateInput {
  modelId: string;
  candidateVersion: string;
  championVersion: string;
  window: { start: number | string; end: number | string };
  /** Superiority: the smallest improvement worth deploying; non-inferiority: the allowed loss. In metric units. */
  margin: number;
  mode: 'superiority' | 'non-inferiority';
  /** Most recent labelled events used. @default 20000 */
  maxEvents?: number;
  /** @default 'logLoss' */
  metric?: PromotionMetric;
  /** @default 'replay' */
  source?: 'replay' | 'live' | 'prefer-live';
  /**
   * The events the challenger scored in shadow (from when it was published in shadow to the
   * verdict), for 'prefer-live'. @default `window`
   */
  liveWindow?: { start: number | string; end: number | string };
  /** Fewer paired events is always inconclusive. @default 500 */
  minEvents?: number;
  /** @default { maxLatencyP99Ratio: SHADOW_MAX_LATENCY_P99_RATIO } (2: shadow latencies are measured on a shared machine) */
  guardrails?: Partial<GuardrailOptions>;
  /** Rows per onnxruntime call in a replay. @default 64 */
  batchSize?: number;
  /**
   * The policy's quality section: a multiclass or regression model is compared on its metric's
   * per-event loss (shadow-beyond-binary.ts). @default the kind's default metric
   */
  quality?: RetrainQuality;
}

export interface ShadowEvaluateResult {
  evaluationId: string;
  n: number;
  verdict: PromotionVerdict;
  statistics: {
    /** The source the verdict rests on. */
    source: 'replay' | 'live';
    /**
     * 'prefer-live' only: the labelled live pairs found in the live window, the minimum that
     * makes them the source, and the reason for the choice.
     */
    live?: LiveChoice;
    /** How the champion's scores were obtained. */
    championScoredBy: 'onnx' | 'recorded';
    /** A binary model's summary, or a multiclass or regression model's. */
    candidate: SummaryMetrics | OutputsSummary;
    champion: SummaryMetrics | OutputsSummary;
    candidateErrors: number;
    championErrors: number;
    /** Events left out because they were in the challenger's training split. */
    excludedTrainingEvents: number;
    latencyP99Ms: { candidate: number | null; champion: number | null };
    /**
     * Wall time of each step, ms: reading the events, scoring each model, encoding the pairs and
     * starting their inserts, the verdict (while the engine writes them), then waiting for the
     * last of the inserts.
     */
    /** ms per step; a replay against a registered champion scores both in `sideBySide`, else the candidate alone in `candidate`. */
    stepsMs: {
      read: number;
      candidate: number;
      champion: number;
      sideBySide: number;
      store: number;
      verdict: number;
      storeWait: number;
    };
  };
}

export function createShadowActivity(ctx: RetrainContext) {
  // Over many events the bootstrap's replicates are spread over the machine's cores (same values).
  const eventResampler = threadedEventBootstrap();
  return async function shadowEvaluate(input: ShadowEvaluateInput): Promise<ShadowEvaluateResult> {
    const requested = input.source ?? 'replay';
    const maxEvents = input.maxEvents ?? 20_000;
    const minEvents = input.minEvents ?? 500;
    const liveWindow = input.liveWindow ?? input.window;
    const metric = input.metric ?? 'logLoss';
    const start = ms(input.window.start);
    const end = ms(input.window.end);
    if (!(start < end))
      throw nonRetryable('ValidationError', `shadow window is empty: ${JSON.stringify(input.window)}`);
    const candidate = await ctx.registry.requireVersion(input.modelId, input.candidateVersion).catch((e: Error) => {
      throw nonRetryable('ValidationError', e.message);
    });
    const championVersion = await ctx.registry.getVersion(input.modelId, input.championVersion);
    // A tainted version is never a champion (the workflow resolves another one first; this is the backstop).
    if (championVersion?.stage === 'tainted')
      throw nonRetryable(
        'ValidationError',
        `${input.modelId} ${input.championVersion} is tainted: a tainted version is never a shadow champion`,
      );
    const evaluationId = `shadow-${createHash('sha256')
      .update(
        JSON.stringify([
          input.modelId,
          input.candidateVersion,
          input.championVersion,
          start,
          end,
          maxEvents,
          requested,
          ...(requested === 'prefer-live' ? [ms(liveWindow.start), ms(liveWindow.end)] : []),
        ]),
      )
      .digest('hex')
      .slice(0, 24)}`;
    const log = ctx.log.child({
      modelId: input.modelId,
      candidate: input.candidateVersion,
      champion: input.championVersion,
      evaluationId,
    });

    const stepsMs = { read: 0, candidate: 0, champion: 0, sideBySide: 0, store: 0, verdict: 0, storeWait: 0 };
    let stepStart = performance.now();
    const step = (name: keyof typeof stepsMs) => {
      const now = performance.now();
      stepsMs[name] = Math.round(now - stepStart);
      stepStart = now;
    };
    const excludedTrainingEvents = await trainingSplitSize(ctx.clickhouse, candidate.lineageId);
    const kind = await modelKindOf(ctx.clickhouse, input.modelId);
    const live = {
      modelId: input.modelId,
      shadowModelId: shadowModelId(input.modelId),
      championVersion: input.championVersion,
      candidateVersion: input.candidateVersion,
      trainingSnapshotId: candidate.lineageId,
    };
    let choice: LiveChoice | undefined;
    if (requested === 'prefer-live') {
      const window = { start: ms(liveWindow.start), end: ms(liveWindow.end) };
      choice = chooseLiveSource(
        (await livePairCount(ctx.clickhouse, { ...live, window })).labelledPairs,
        minEvents,
        window,
      );
    }
    const source: 'replay' | 'live' = requested === 'prefer-live' ? (choice?.used ? 'live' : 'replay') : requested;
    const liveQueryWindow = choice ? choice.window : { start, end };
    if (kind.kind !== 'binary' && source === 'replay' && !championVersion?.artifactUri)
      throw nonRetryable(
        'ValidationError',
        `champion ${input.championVersion} is not a registered version with an artifact: a ${kind.kind} challenger is compared on both models' recomputed outputs in a replay (a live shadow pairs what each served)`,
      );
    const query = {
      modelId: input.modelId,
      window: { start, end },
      trainingSnapshotId: candidate.lineageId,
      limit: maxEvents,
    };
    if (kind.kind !== 'binary') {
      const outputs =
        source === 'live'
          ? {
              source,
              pairs: await liveOutcomePairs(ctx.clickhouse, { ...live, window: liveQueryWindow, limit: maxEvents }),
            }
          : {
              source,
              candidate,
              champion: championVersion!,
              events: await replayEvents(ctx.clickhouse, query),
              batchSize: input.batchSize ?? 64,
            };
      step('read');
      heartbeat({
        evaluationId,
        source,
        events: outputs.source === 'live' ? outputs.pairs.length : outputs.events.length,
      });
      const metricOfPolicy = retrainMetric(kind, input.quality);
      const outcome = await shadowBeyondBinary(ctx, {
        kind,
        metric: metricOfPolicy,
        outputs,
        mode: input.mode,
        margin: input.margin,
        minEvents,
        guardrails: input.guardrails ?? {},
        eventResampler,
        store: {
          evaluationId,
          modelId: input.modelId,
          candidateVersion: input.candidateVersion,
          championVersion: input.championVersion,
        },
      });
      step('verdict');
      log.info(
        { n: outcome.n, kind: kind.kind, loss: outcome.loss, source, decision: outcome.verdict.decision },
        'shadow evaluation',
      );
      return {
        evaluationId,
        n: outcome.n,
        verdict: outcome.verdict,
        statistics: {
          source,
          ...(choice ? { live: choice } : {}),
          championScoredBy: source === 'live' ? 'recorded' : 'onnx',
          candidate: outcome.candidate,
          champion: outcome.champion,
          candidateErrors: outcome.candidateErrors,
          championErrors: outcome.championErrors,
          excludedTrainingEvents,
          latencyP99Ms: {
            candidate: outcome.candidateBatchMs.length > 0 ? p99(outcome.candidateBatchMs) : null,
            champion: outcome.championBatchMs.length > 0 ? p99(outcome.championBatchMs) : null,
          },
          stepsMs,
        },
      };
    }
    const events =
      source === 'replay'
        ? await replayEvents(ctx.clickhouse, query)
        : await livePairs(ctx.clickhouse, { ...query, ...live, window: liveQueryWindow });
    step('read');
    heartbeat({ evaluationId, events: events.length });
    const usable = events
      .map((e) => ({ e, y: binaryLabel(e.label, e.label_numeric === null ? null : Number(e.label_numeric)) }))
      .filter((x): x is { e: ShadowEventRow; y: 0 | 1 } => x.y !== null);
    const usableEvents = usable.map((x) => x.e);
    const batchSize = input.batchSize ?? 64;

    let championScores: Float64Array;
    let championLatency: Float64Array;
    let championBatchMs: number[] = [];
    let championErrors = 0;
    let championScoredBy: 'onnx' | 'recorded';
    let candidateScores: Float64Array;
    let candidateLatency: Float64Array;
    let candidateBatchMs: number[];
    let candidateErrors = 0;

    if (source === 'live') {
      championScoredBy = 'recorded';
      championScores = Float64Array.from(
        usable.map((x) => (x.e.prediction_score === null ? Number.NaN : Number(x.e.prediction_score))),
      );
      candidateScores = Float64Array.from(
        usable.map((x) =>
          x.e.shadow_score === null || x.e.shadow_score === undefined ? Number.NaN : Number(x.e.shadow_score),
        ),
      );
      championLatency = Float64Array.from(usable.map((x) => Number(x.e.live_latency || Number.NaN)));
      candidateLatency = Float64Array.from(usable.map((x) => Number(x.e.shadow_latency || Number.NaN)));
      // One sample per scorer run, as a replay's are per batch: the events of a run share its measurement.
      championBatchMs = latencySamplesByRun(
        [...championLatency],
        usable.map((x) => x.e.live_latency_run ?? ''),
      );
      candidateBatchMs = latencySamplesByRun(
        [...candidateLatency],
        usable.map((x) => x.e.shadow_latency_run ?? ''),
      );
    } else {
      const registeredChampion = championVersion?.artifactUri ? championVersion : null;
      const replayed = await (async (): Promise<{ candidate: BatchScores; champion: BatchScores | null }> => {
        const candidateRunner = await loadVersion(ctx, candidate);
        try {
          const candidateSide = {
            runner: candidateRunner,
            encoded: encodeSplitFeatures(candidate.features, usableEvents),
          };
          if (registeredChampion === null) {
            const alone = await scoreEncodedRows(candidateRunner, candidateSide.encoded, batchSize, () =>
              heartbeat({ evaluationId, step: 'candidate' }),
            );
            step('candidate');
            return { candidate: alone, champion: null };
          }
          const championRunner = await loadVersion(ctx, registeredChampion);
          try {
            const [candidateScored, championScored] = await scoreSideBySide(
              candidateSide,
              { runner: championRunner, encoded: encodeSplitFeatures(registeredChampion.features, usableEvents) },
              batchSize,
              () => heartbeat({ evaluationId, step: 'candidate and champion' }),
            );
            step('sideBySide');
            return { candidate: candidateScored, champion: championScored };
          } finally {
            await championRunner.unload();
          }
        } finally {
          await candidateRunner.unload();
        }
      })();
      ({
        scores: candidateScores,
        latencyMs: candidateLatency,
        batchMs: candidateBatchMs,
        errors: candidateErrors,
      } = replayed.candidate);
      if (replayed.champion !== null) {
        championScoredBy = 'onnx';
        ({
          scores: championScores,
          latencyMs: championLatency,
          batchMs: championBatchMs,
          errors: championErrors,
        } = replayed.champion);
      } else {
        // A champion outside the registry (e.g. the user's own serving): use the scores it
        // recorded live, on the events it scored.
        championScoredBy = 'recorded';
        championScores = Float64Array.from(
          usable.map((x) =>
            x.e.model_version === input.championVersion && x.e.prediction_score !== null
              ? Number(x.e.prediction_score)
              : Number.NaN,
          ),
        );
        championLatency = new Float64Array(usable.length).fill(Number.NaN);
        if (championScores.every((s) => Number.isNaN(s)) && usable.length > 0) {
          throw nonRetryable(
            'ValidationError',
            `champion ${input.championVersion} is not in the registry and scored none of the ${usable.length} events in the window`,
          );
        }
      }
    }

    // Paired events only: both models produced a probability.
    const pairedLabels: number[] = [];
    const pairedChampion: number[] = [];
    const pairedCandidate: number[] = [];
    const pairedEventIds: string[] = [];
    const pairedChampionLatency: number[] = [];
    const pairedCandidateLatency: number[] = [];
    for (let i = 0; i < usable.length; i++) {
      const c = championScores[i] as number;
      const k = candidateScores[i] as number;
      if (Number.isNaN(c) || Number.isNaN(k)) continue;
      const x = usable[i] as { e: ShadowEventRow; y: 0 | 1 };
      pairedLabels.push(x.y);
      pairedChampion.push(c);
      pairedCandidate.push(k);
      pairedEventIds.push(x.e.event_id);
      const cl = championLatency[i] as number;
      const kl = candidateLatency[i] as number;
      pairedChampionLatency.push(Number.isNaN(cl) ? 0 : cl);
      pairedCandidateLatency.push(Number.isNaN(kl) ? 0 : kl);
    }
    // Every pair is stored (auditors read them). The rows are encoded now and the engine writes
    // them on its own threads while the verdict is computed here; both are awaited below.
    const storing = storeShadowResults(ctx.clickhouse, {
      evaluation_id: evaluationId,
      model_id: input.modelId,
      candidate_version: input.candidateVersion,
      champion_version: input.championVersion,
      source,
      evaluated_at: Date.now(),
      event_ids: pairedEventIds,
      labels: pairedLabels,
      champion_scores: pairedChampion,
      candidate_scores: pairedCandidate,
      champion_latency_ms: pairedChampionLatency,
      candidate_latency_ms: pairedCandidateLatency,
    });
    step('store');
    if (source === 'live') {
      championErrors = usable.length - pairedLabels.length;
    }

    let verdict: PromotionVerdict;
    try {
      verdict = promotionVerdict(
        { labels: pairedLabels, champion: pairedChampion, challenger: pairedCandidate },
        {
          ...(championBatchMs.length > 0 ? { championLatenciesMs: championBatchMs } : {}),
          ...(candidateBatchMs.length > 0 ? { challengerLatenciesMs: candidateBatchMs } : {}),
          championServing: { requests: usable.length, errors: championErrors },
          challengerServing: { requests: usable.length, errors: candidateErrors },
        },
        {
          metric,
          test: input.mode,
          ...(input.mode === 'superiority' ? { minimumImprovement: input.margin } : { margin: input.margin }),
          minEvents,
          guardrails: { maxLatencyP99Ratio: SHADOW_MAX_LATENCY_P99_RATIO, ...input.guardrails },
          eventResampler,
        },
      );
    } finally {
      // Settles the stored rows whether or not the verdict threw (no rejection left unobserved).
      step('verdict');
      await storing;
      step('storeWait');
    }
    const result: ShadowEvaluateResult = {
      evaluationId,
      n: pairedLabels.length,
      verdict,
      statistics: {
        source,
        ...(choice ? { live: choice } : {}),
        championScoredBy,
        candidate: summaryMetrics(pairedLabels, pairedCandidate),
        champion: summaryMetrics(pairedLabels, pairedChampion),
        candidateErrors,
        championErrors,
        excludedTrainingEvents,
        latencyP99Ms: {
          candidate: candidateBatchMs.length > 0 ? p99(candidateBatchMs) : null,
          champion: championBatchMs.length > 0 ? p99(championBatchMs) : null,
        },
        stepsMs,
      },
    };
    log.info({ n: result.n, decision: verdict.decision, stepsMs }, 'shadow evaluation');
    return result;
  };
}
