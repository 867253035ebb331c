/**
 * The binary model's kind in the backtest: scores in [0, 1], quality (accuracy or AUC) from the
 * labelled score histogram, CBPE for the label-free estimate and its check against the realised
 * value, labels in flight in a queue by arrival, and challenger probes.
 */
import { qualitySlo } from '../monitor/health-inputs.ts';
import { resolveProbePolicy } from '../probes/policy.ts';
import type { RetrainPolicy } from '../policy/types.ts';
import { clampProbability, qualityOf } from './binary-quality.ts';
import { binaryObservation } from './binary-observation.ts';
import { binaryReference, type BinaryReference } from './binary-reference.ts';
import { trainVersion } from './binary-training.ts';
import { windowEstimate } from './estimate-check.ts';
import { BacktestInputError } from './input-error.ts';
import type { BacktestKind, KindContext } from './kind.ts';
import { LabelQueue } from './label-queue.ts';
import { BacktestProbes, BINARY_PAIRING } from './probe-runner.ts';
import type { BacktestModel, BacktestRow, BacktestTrainer } from './types.ts';

export function binaryKind(
  context: KindContext<BacktestRow>,
  options: {
    policy: RetrainPolicy;
    trainer: BacktestTrainer;
    /** The versions' decision threshold; null: none recorded (0.5). */
    decisionThreshold: number | null;
  },
): BacktestKind<BacktestRow, number, BacktestModel, BinaryReference> {
  const { settings, numeric, categorical, seed, validationShare, arrivalOf } = context;
  const { policy, trainer, decisionThreshold: threshold } = options;
  if (threshold !== null && !(threshold >= 0 && threshold <= 1))
    throw new BacktestInputError(`decision threshold must be between 0 and 1, got ${threshold}`);
  const slo = qualitySlo({ settings, policy });
  const inFlight = new LabelQueue();
  return {
    missingPrediction: 'no prediction score',
    predict: (model, row) => clampProbability(model.predict(row.features)),
    // The seed depends on nothing but the options, so one training window always gives one model.
    train: (rows) => trainVersion(trainer, rows, numeric, categorical, seed, validationShare, settings),
    quality: (scores, labels) => qualityOf(scores, labels, settings),
    reference: (id, version, rows, scores, known) =>
      binaryReference(id, version, rows, scores, numeric, categorical, known, threshold, settings.qualityMetric),
    observe: ({ start, end, rows, predictions: scores, version, versionTrainedAt }, reference) => {
      // Labels that arrived before the window closed count now; the rest travel on, and those of
      // earlier windows that arrived since the last close fill those windows in.
      const late = inFlight.takeBefore(end);
      const arrived: boolean[] = rows.map((r) => r.label !== null && arrivalOf(r) < end);
      rows.forEach((r, i) => {
        if (r.label !== null && !arrived[i])
          inFlight.push({ arrival: arrivalOf(r), windowStart: start, score: scores[i] as number, label: r.label });
      });
      const observation = binaryObservation(
        start,
        end,
        rows,
        scores,
        arrived,
        late,
        reference,
        version,
        versionTrainedAt,
        delayP99Hours(rows.flatMap((r, i) => (arrived[i] ? [arrivalOf(r) - r.time] : []))),
      );
      return { observation, labelledAtClose: observation.labelled?.events ?? 0 };
    },
    estimateCheck: (estimated, { rows, predictions }, reference) =>
      windowEstimate(estimated, predictions, rows, settings, slo, reference?.estimateOnReference ?? null),
    probes: new BacktestProbes(
      resolveProbePolicy(policy.probes, policy.trigger.kind === 'cost-aware' ? policy.trigger.retrainCost : 0),
      BINARY_PAIRING,
    ),
  };
}

/**
 * The 99th percentile (nearest rank) of the delays (ms) of the labels a window saw, in hours, as
 * production's labelled read gives it (for the late-label horizon); null when none.
 */
function delayP99Hours(delaysMs: number[]): number | null {
  if (delaysMs.length === 0) return null;
  const sorted = delaysMs.sort((a, b) => a - b);
  return Math.max(0, sorted[Math.ceil(0.99 * sorted.length) - 1] as number) / 3_600_000;
}
