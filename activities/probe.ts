/**
 * scoreProbe: a challenger probe's shadow scoring. The challenger (a registry version in stage
 * `probe`, trained by snapshotTrainingData + trainModel like a retrain's candidate but never
 * served) scores, with onnxruntime, the labelled events the champion served since the probe
 * started; the champion's side is the score it served. Both are read at their own decision
 * thresholds and returned as the paired counts detectors/probes turns into the gap. Each call
 * re-reads every event since the start, oldest first, so labels that arrived late count once; the
 * per-event results go to `shadow_results` (source `probe`) under one evaluation id per probe.
 */
import { createHash } from 'node:crypto';
import { pairedCountsOf } from '../detectors/probes/paired-gap.ts';
import type { PairedCounts } from '../detectors/probes/types.ts';
import { insertShadowResults, probeEvents, type ShadowResultRow } from '../platform/clickhouse/shadow-repository.ts';
import { encodeSplitFeatures } from '../platform/onnx/features.ts';
import { decisionThresholdOf } from '../platform/registry/decision-threshold.ts';
import { heartbeat, nonRetryable, type RetrainContext } from './retrain-context.ts';
import { loadVersion, scoreEncodedRows } from './scoring.ts';
import { binaryLabel } from './snapshot.ts';

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
      return { evaluationId, counts: empty, read: 0, unscored: 0, thresholds };
    const events = await probeEvents(ctx.clickhouse, {
      modelId: input.modelId,
      championVersion: input.championVersion,
      window: input.window,
      labelsArrivedBy: input.labelsArrivedBy,
      trainingSnapshotId: challenger.lineageId,
      limit: input.maxEvents ?? 20_000,
    });
    const usable = events
      .map((e) => ({ e, y: binaryLabel(e.label, e.label_numeric === null ? null : Number(e.label_numeric)) }))
      .filter((x): x is { e: (typeof events)[number]; y: 0 | 1 } => x.y !== null && x.e.prediction_score !== null);
    heartbeat({ evaluationId, events: usable.length });
    const runner = await loadVersion(ctx, challenger);
    let scores: Float64Array;
    try {
      const encoded = encodeSplitFeatures(
        challenger.features,
        usable.map((x) => x.e),
      );
      ({ scores } = await scoreEncodedRows(runner, encoded, 256, () => heartbeat({ evaluationId })));
    } finally {
      await runner.unload();
    }
    const labels: number[] = [];
    const championScores: number[] = [];
    const challengerScores: number[] = [];
    const stored: ShadowResultRow[] = [];
    const now = Date.now();
    usable.forEach((x, i) => {
      const k = scores[i] as number;
      if (Number.isNaN(k)) return;
      const c = Number(x.e.prediction_score);
      labels.push(x.y);
      championScores.push(c);
      challengerScores.push(k);
      stored.push({
        evaluation_id: evaluationId,
        model_id: input.modelId,
        candidate_version: input.challengerVersion,
        champion_version: input.championVersion,
        event_id: x.e.event_id,
        source: 'probe',
        label: x.y,
        champion_score: c,
        candidate_score: k,
        champion_latency_ms: 0,
        candidate_latency_ms: 0,
        evaluated_at: now,
      });
    });
    await insertShadowResults(ctx.clickhouse, stored);
    return {
      evaluationId,
      counts: pairedCountsOf(labels, championScores, challengerScores, thresholds.champion, thresholds.challenger),
      read: usable.length,
      unscored: usable.length - labels.length,
      thresholds,
    };
  };
}
