/**
 * scoreProbe: a challenger probe's shadow scoring. The challenger (a registry version in stage
 * `probe`, trained by snapshotTrainingData + trainModel like a retrain's candidate but never
 * served) scores, with onnxruntime, the labelled events the champion served since the probe
 * started; the champion's side is the score it served. Both are read at their own decision
 * thresholds and returned as the paired counts detectors/probes turns into the gap. Each call
 * counts every event since the start, oldest first, so labels that arrived late count once: it
 * reads their ids, scores and labels, but reads the features of, and scores, only the events the
 * probe has not scored yet — the challenger's earlier scores are its per-event results in
 * `shadow_results` (source `probe`, one evaluation id per probe), so a call costs O(new events) in
 * onnxruntime and feature reads and counts exactly what re-scoring everything would. A pair is
 * stored when first scored and again when its label is corrected (its `evaluated_at` is when).
 */
import { createHash } from 'node:crypto';
import { pairedCountsOf } from '../detectors/probes/paired-gap.ts';
import type { PairedCounts } from '../detectors/probes/types.ts';
import {
  eventFeatures,
  insertShadowResults,
  probePairs,
  type ProbePairRow,
  type ShadowResultRow,
} from '../platform/clickhouse/shadow-repository.ts';
import { encodeSplitFeatures } from '../platform/onnx/features.ts';
import { decisionThresholdOf } from '../platform/registry/decision-threshold.ts';
import { heartbeat, nonRetryable, type RetrainContext } from './retrain-context.ts';
import { loadVersion, scoreEncodedRows } from './scoring.ts';
import { binaryLabel } from '../training/training-target.ts';

export interface ScoreProbeInput {
  modelId: string;
  /** The probe's id (detectors/probes: `<champion>@<started>`). */
  probeId: string;
  championVersion: string;
  challengerVersion: string;
  /** Events from the probe's start to the end of the window being closed. */
  window: { start: number; end: number };
  /** Labels that had arrived by the decision. */
  labelsArrivedBy: number;
  /** Oldest events first, at most this many. @default 20000 */
  maxEvents?: number;
}

export interface ScoreProbeResult {
  evaluationId: string;
  /** Paired counts over every event since the probe started (cumulative). */
  counts: PairedCounts;
  /** Labelled events read, and those the challenger could not score (left out). */
  read: number;
  unscored: number;
  /** Events the challenger scored in this call (the rest it scored in earlier calls of the probe). @default 0 */
  scored?: number;
  thresholds: { champion: number; challenger: number };
}

export function probeEvaluationId(modelId: string, probeId: string): string {
  return `probe-${createHash('sha256').update(`${modelId}\u0000${probeId}`).digest('hex').slice(0, 24)}`;
}

export function createProbeActivity(ctx: RetrainContext) {
  return async function scoreProbe(input: ScoreProbeInput): Promise<ScoreProbeResult> {
    const challenger = await ctx.registry.requireVersion(input.modelId, input.challengerVersion).catch((e: Error) => {
      throw nonRetryable('ValidationError', e.message);
    });
    if (challenger.stage !== 'probe')
      throw nonRetryable(
        'ValidationError',
        `${input.modelId} ${input.challengerVersion} is ${challenger.stage}, not a probe challenger`,
      );
    // A probe never serves, so a registered probe of that name is not the champion (whose version
    // may be outside the registry and share a name with it).
    const registered = await ctx.registry.getVersion(input.modelId, input.championVersion);
    const champion = registered?.stage === 'probe' ? null : registered;
    const evaluationId = probeEvaluationId(input.modelId, input.probeId);
    const empty = { events: 0, championCorrect: 0, challengerCorrect: 0, bothCorrect: 0 };
    const thresholds = {
      champion: decisionThresholdOf(champion).value,
      challenger: decisionThresholdOf(challenger).value,
    };
    if (!(input.window.start < input.window.end))
      return { evaluationId, counts: empty, read: 0, unscored: 0, scored: 0, thresholds };
    const pairs = await probePairs(ctx.clickhouse, {
      modelId: input.modelId,
      championVersion: input.championVersion,
      window: input.window,
      labelsArrivedBy: input.labelsArrivedBy,
      trainingSnapshotId: challenger.lineageId,
      limit: input.maxEvents ?? 20_000,
      evaluationId,
    });
    const labelled = pairs
      .map((p) => ({ p, y: binaryLabel(p.label, p.label_numeric) }))
      .filter((x): x is { p: ProbePairRow; y: 0 | 1 } => x.y !== null && x.p.prediction_score !== null);
    // The challenger's score of an event does not change: only events this probe never scored are read whole and scored.
    const toScore = labelled.filter((x) => x.p.stored_score === null);
    const features = new Map(
      (
        await eventFeatures(
          ctx.clickhouse,
          input.modelId,
          toScore.map((x) => x.p.event_id),
        )
      ).map((f) => [f.event_id, f]),
    );
    // An event erased between the two reads is not read at all.
    const usable = labelled.filter((x) => x.p.stored_score !== null || features.has(x.p.event_id));
    const fresh = toScore.filter((x) => features.has(x.p.event_id));
    heartbeat({ evaluationId, events: usable.length, scoring: fresh.length });
    const freshScores = new Map<string, number>();
    if (fresh.length > 0) {
      const runner = await loadVersion(ctx, challenger);
      try {
        const encoded = encodeSplitFeatures(
          challenger.features,
          fresh.map((x) => features.get(x.p.event_id)!),
        );
        const { scores } = await scoreEncodedRows(runner, encoded, 256, () => heartbeat({ evaluationId }));
        fresh.forEach((x, i) => freshScores.set(x.p.event_id, scores[i] as number));
      } finally {
        await runner.unload();
      }
    }
    const labels: number[] = [];
    const championScores: number[] = [];
    const challengerScores: number[] = [];
    const stored: ShadowResultRow[] = [];
    const now = Date.now();
    for (const { p, y } of usable) {
      const k = p.stored_score ?? (freshScores.get(p.event_id) as number);
      if (Number.isNaN(k)) continue;
      const c = Number(p.prediction_score);
      labels.push(y);
      championScores.push(c);
      challengerScores.push(k);
      // New pairs, and pairs whose label was corrected (or champion score redelivered) since they were stored.
      if (p.stored_score !== null && p.stored_label === y && p.stored_champion_score === c) continue;
      stored.push({
        evaluation_id: evaluationId,
        model_id: input.modelId,
        candidate_version: input.challengerVersion,
        champion_version: input.championVersion,
        event_id: p.event_id,
        source: 'probe',
        label: y,
        champion_score: c,
        candidate_score: k,
        champion_latency_ms: 0,
        candidate_latency_ms: 0,
        evaluated_at: now,
      });
    }
    await insertShadowResults(ctx.clickhouse, stored);
    return {
      evaluationId,
      counts: pairedCountsOf(labels, championScores, challengerScores, thresholds.champion, thresholds.challenger),
      read: usable.length,
      unscored: usable.length - labels.length,
      scored: fresh.length,
      thresholds,
    };
  };
}
