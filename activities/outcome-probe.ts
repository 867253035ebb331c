/**
 * scoreOutcomeProbe: a challenger probe of a multiclass or regression model, scored as
 * scoreProbe (probe.ts) scores a binary one. The challenger (a registry version in stage `probe`)
 * produces, with onnxruntime, class probabilities or a predicted number for the labelled events
 * the champion served since the probe started; the champion's side is what it served. Each
 * event's loss under the policy's metric (the shadow verdict's: detectors/promotion/
 * outcome-pairs.ts) is summed into the paired sums detectors/probes/outcome-gap.ts turns into
 * the gap. Each call counts every event since the start, oldest first, so late labels count once;
 * only events the probe has not scored yet are read whole and scored — the challenger's earlier
 * outputs are its per-event results in `shadow_outcome_results` (source `probe`, one evaluation id
 * per probe) — so a call costs O(new events) in onnxruntime and feature reads. A pair is stored
 * when first scored and again when its label (or the champion's served output) changed.
 */
import {
  pairOutcomes,
  probabilityVector,
  valueOutput,
  type OutcomePairInput,
} from '../detectors/promotion/outcome-pairs.ts';
import {
  pairedOutcomeSumsOf,
  probeLossOf,
  type OutcomeProbeMetric,
  type PairedOutcomeSums,
} from '../detectors/probes/outcome-gap.ts';
import { modelKindOf } from '../platform/clickhouse/model-kind-repository.ts';
import {
  outcomeProbePairs,
  storeShadowOutcomes,
  type OutcomeProbePairRow,
} from '../platform/clickhouse/shadow-outcome-repository.ts';
import { eventFeatures } from '../platform/clickhouse/shadow-repository.ts';
import { encodeSplitFeatures } from '../platform/onnx/features.ts';
import { modelOutputOf } from '../platform/registry/model-output.ts';
import { targetValue } from '../training/training-target.ts';
import { probeEvaluationId, type ScoreProbeInput } from './probe.ts';
import { heartbeat, nonRetryable, type RetrainContext } from './retrain-context.ts';
import { loadVersion, scoreEncodedRows } from './scoring.ts';

/** A binary probe's input, and the policy's metric the gap is measured in with MAE's and RMSE's worthless error. */
export type ScoreOutcomeProbeInput = ScoreProbeInput & {
  metric: OutcomeProbeMetric;
  worthlessError: number | null;
};

export interface ScoreOutcomeProbeResult {
  evaluationId: string;
  /** Paired sums over every event since the probe started (cumulative). */
  sums: PairedOutcomeSums;
  /** Labelled events read, and those left out (a side gave no usable output, or the label does not fit the kind). */
  read: number;
  unscored: number;
  /** Events the challenger scored in this call. */
  scored: number;
}

export function createOutcomeProbeActivity(ctx: RetrainContext) {
  return async function scoreOutcomeProbe(input: ScoreOutcomeProbeInput): Promise<ScoreOutcomeProbeResult> {
    const challenger = await ctx.registry.requireVersion(input.modelId, input.challengerVersion).catch((e: Error) => {
      throw nonRetryable('ValidationError', e.message);
    });
    if (challenger.stage !== 'probe')
      throw nonRetryable(
        'ValidationError',
        `${input.modelId} ${input.challengerVersion} is ${challenger.stage}, not a probe challenger`,
      );
    const kind = await modelKindOf(ctx.clickhouse, input.modelId);
    if (kind.kind === 'binary')
      throw nonRetryable(
        'ValidationError',
        `${input.modelId} is a binary model: its probes pair correctness (scoreProbe), not ${input.metric}`,
      );
    const evaluationId = probeEvaluationId(input.modelId, input.probeId);
    const loss = probeLossOf(input.metric);
    const empty = pairedOutcomeSumsOf(input.metric, input.worthlessError, [], [], []);
    if (!(input.window.start < input.window.end)) return { evaluationId, sums: empty, read: 0, unscored: 0, scored: 0 };
    const rows = await outcomeProbePairs(ctx.clickhouse, {
      modelId: input.modelId,
      championVersion: input.championVersion,
      window: input.window,
      labelsArrivedBy: input.labelsArrivedBy,
      trainingSnapshotId: challenger.lineageId,
      limit: input.maxEvents ?? 20_000,
      evaluationId,
    });
    const outputOf = (probabilities: Record<string, number>, value: number | null): number[] | null =>
      kind.kind === 'multiclass' ? probabilityVector(probabilities, kind.classes) : valueOutput(value);
    // The challenger's output of an event does not change: only events this probe never scored are read whole and scored.
    const toScore = rows.filter((r) => r.stored === 0);
    const features = new Map(
      (
        await eventFeatures(
          ctx.clickhouse,
          input.modelId,
          toScore.map((r) => r.event_id),
        )
      ).map((f) => [f.event_id, f]),
    );
    // An event erased between the two reads is not read at all.
    const usable = rows.filter((r) => r.stored === 1 || features.has(r.event_id));
    const fresh = toScore.filter((r) => features.has(r.event_id));
    heartbeat({ evaluationId, events: usable.length, scoring: fresh.length });
    const freshOutputs = new Map<string, number[] | null>();
    if (fresh.length > 0) {
      const runner = await loadVersion(ctx, challenger, modelOutputOf(kind));
      try {
        const encoded = encodeSplitFeatures(
          challenger.features,
          fresh.map((r) => features.get(r.event_id)!),
        );
        const { scores, width } = await scoreEncodedRows(runner, encoded, 256, () => heartbeat({ evaluationId }));
        fresh.forEach((r, i) => {
          const output = Array.from(scores.subarray(i * width, (i + 1) * width));
          freshOutputs.set(r.event_id, output.every((v) => Number.isFinite(v)) ? output : null);
        });
      } finally {
        await runner.unload();
      }
    }
    const storedOutput = (r: OutcomeProbePairRow) =>
      outputOf(r.stored_candidate_probabilities, r.stored_candidate_value);
    const events: (OutcomePairInput & { row: OutcomeProbePairRow })[] = [];
    for (const r of usable) {
      const truth = targetValue(kind, r.label, r.label_numeric);
      if (truth === null) continue;
      events.push({
        row: r,
        truth,
        champion: outputOf(r.prediction_probabilities, r.prediction_value),
        challenger: r.stored === 1 ? storedOutput(r) : (freshOutputs.get(r.event_id) ?? null),
      });
    }
    const pairs = pairOutcomes(kind.kind, loss, events);
    const paired = pairs.paired.map((i) => events[i]!.row);
    // New pairs, and pairs whose label or champion output changed since they were stored.
    const changed = paired
      .map((r, j) => ({ r, j }))
      .filter(({ r, j }) => r.stored === 0 || !sameAsStored(kind, r, pairs.truth[j] as number));
    if (changed.length > 0) {
      const at = (xs: readonly number[][], j: number) => xs[j] as number[];
      await storeShadowOutcomes(ctx.clickhouse, {
        evaluation_id: evaluationId,
        model_id: input.modelId,
        candidate_version: input.challengerVersion,
        champion_version: input.championVersion,
        source: 'probe',
        kind: kind.kind,
        loss,
        evaluated_at: Date.now(),
        event_ids: changed.map(({ r }) => r.event_id),
        ...(kind.kind === 'multiclass'
          ? {
              label_classes: changed.map(({ j }) => kind.classes[pairs.truth[j] as number] as string),
              champion_probabilities: changed.map(({ j }) => byClass(kind.classes, at(pairs.champion, j))),
              candidate_probabilities: changed.map(({ j }) => byClass(kind.classes, at(pairs.challenger, j))),
            }
          : {
              label_values: changed.map(({ j }) => pairs.truth[j] as number),
              champion_values: changed.map(({ j }) => at(pairs.champion, j)[0] as number),
              candidate_values: changed.map(({ j }) => at(pairs.challenger, j)[0] as number),
            }),
        champion_losses: changed.map(({ j }) => pairs.championLosses[j] as number),
        candidate_losses: changed.map(({ j }) => pairs.challengerLosses[j] as number),
        champion_latency_ms: changed.map(() => 0),
        candidate_latency_ms: changed.map(() => 0),
      });
    }
    return {
      evaluationId,
      sums: pairedOutcomeSumsOf(
        input.metric,
        input.worthlessError,
        pairs.truth,
        pairs.championLosses,
        pairs.challengerLosses,
      ),
      read: usable.length,
      unscored: usable.length - pairs.paired.length,
      scored: fresh.length,
    };
  };
}

/** Whether a stored pair still has the truth and champion output it was stored with. */
function sameAsStored(
  kind: { kind: 'multiclass'; classes: string[] } | { kind: 'regression' },
  r: OutcomeProbePairRow,
  truth: number,
): boolean {
  if (kind.kind === 'regression')
    return r.stored_label_value === truth && r.stored_champion_value === r.prediction_value;
  const classes = kind.classes;
  if (r.stored_label_class !== classes[truth]) return false;
  return classes.every((c) => r.stored_champion_probabilities[c] === r.prediction_probabilities[c]);
}

function byClass(classes: readonly string[], probabilities: readonly number[]): Record<string, number> {
  return Object.fromEntries(classes.map((c, j) => [c, probabilities[j] as number]));
}
