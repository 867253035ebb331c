/**
 * Multiclass and regression models' kind in the backtest: each window's labelled outcomes summed
 * as the monitor's window query sums them (outcome-rows.ts), so quality, pooling, late labels and
 * decay fits run on the policy's metric (accuracy, macro-F1, log loss; MAE, RMSE, R²) turned into
 * quality as in the monitor; the label-free estimate is the monitor's (outcome-estimator.ts; DLE
 * only for windows whose labels fall short of the policy's minimum, its fit being the costly
 * part); challenger probes pair each event's loss in the policy's metric (probe-runner.ts,
 * probes/outcome-gap.ts), as in the monitor, except under macro-F1, which is not a mean over events.
 */
import { categoricalProfile, numericReferenceProfile } from '../drift/profiles.ts';
import { tickSettings } from '../monitor/tick.ts';
import type { MonitorReference } from '../monitor/types.ts';
import { resolveEvidence } from '../policy/evidence.ts';
import type { RetrainPolicy } from '../policy/types.ts';
import { unavailableOutcomeEstimate } from '../quality/outcome-estimate.ts';
import {
  emptyOutcomeSums,
  outcomeEvents,
  realisedFromSums,
  type OutcomeKind,
  type OutcomeSums,
} from '../quality/outcome-sums.ts';
import { metricProblem, qualityOfMetric } from '../quality/quality-metric.ts';
import { numericColumn } from './history-row.ts';
import { trainWithHoldout } from './holdout-training.ts';
import { BacktestInputError } from './input-error.ts';
import type { BacktestKind, KindContext } from './kind.ts';
import { estimateOutcomeWindow, type OutcomeReference } from './outcome-estimator.ts';
import { addOutcome, outcomeSumsOf, type OutcomePrediction } from './outcome-rows.ts';
import type { OutcomeBacktestRow, OutcomeModel, OutcomeTrainer } from './outcome-types.ts';
import { windowFeatureCounts } from './window-features.ts';
import { BacktestProbes, outcomePairing } from './probe-runner.ts';
import { outcomeProbeMetric } from '../probes/outcome-gap.ts';
import { resolveProbePolicy } from '../probes/policy.ts';

/** A label on its way: when it arrives, its event's window, and the outcome it completes. */
interface PendingOutcome {
  arrival: number;
  windowStart: number;
  prediction: OutcomePrediction;
  label: number;
}

export function outcomeKind(
  context: KindContext<OutcomeBacktestRow>,
  options: { kind: OutcomeKind; policy: RetrainPolicy; trainer: OutcomeTrainer },
): BacktestKind<OutcomeBacktestRow, OutcomePrediction, OutcomeModel, OutcomeReference> {
  const { numeric, categorical, seed, validationShare, arrivalOf } = context;
  const { kind, policy, trainer } = options;
  // The policy's metric, as the tick will read it (a model of these kinds has no other).
  const settings = tickSettings(context.settings, policy, { outcomes: emptyOutcomeSums(kind) });
  const metric = settings.qualityMetric;
  const worthless = settings.worthlessError ?? null;
  const problem = metricProblem(kind.kind, metric, worthless);
  if (problem !== null) throw new BacktestInputError(`policy ${policy.name}: ${problem}`);
  const qualityOfSums = (sums: OutcomeSums): number | null => {
    const figure = realisedFromSums(metric, sums);
    return figure?.value === null || figure?.value === undefined || figure.n === 0
      ? null
      : qualityOfMetric(metric, figure.value, worthless);
  };
  const quality = (predictions: readonly OutcomePrediction[], labels: readonly (number | null)[]): number | null =>
    qualityOfSums(
      outcomeSumsOf(
        kind,
        labels.flatMap((label, i) => (label === null ? [] : [{ prediction: predictions[i]!, label }])),
      ),
    );
  // Probes of the metrics measured per event, as in the monitor (macro-F1 runs none: probes/outcome-gap.ts).
  const probeMetric = context.settings.kindProbes === true ? outcomeProbeMetric(kind.kind, metric) : null;
  const probePolicy = resolveProbePolicy(
    policy.probes,
    policy.trigger.kind === 'cost-aware' ? policy.trigger.retrainCost : 0,
  );
  const minLabelled = resolveEvidence(policy.evidence, numeric.length + categorical.length).minLabelledEvents;
  let inFlight: PendingOutcome[] = [];

  return {
    missingPrediction: 'no prediction',
    predict: (model, row) => model.predict(row.features),
    train: (rows) =>
      trainWithHoldout<OutcomeBacktestRow, OutcomePrediction, number, OutcomeModel>(rows, validationShare, {
        singleClass: (train) =>
          kind.kind === 'multiclass' && new Set(train.map((r) => r.label)).size < 2
            ? `the training window has a single class (${train.length} rows)`
            : null,
        fit: (train) => trainer.train({ rows: train, numeric, categorical }, seed),
        predict: (model, row) => model.predict(row.features),
        quality,
      }),
    quality,
    reference: (id, version, rows, predictions, known) => {
      const features: MonitorReference['features'] = {};
      for (const name of numeric) features[name] = numericReferenceProfile(numericColumn(rows, name));
      for (const name of categorical) features[name] = categoricalProfile(rows.map((r) => r.features[name] ?? null));
      const labelled: OutcomeReference['labelled'] = { features: [], predictions: [], labels: [] };
      rows.forEach((r, i) => {
        if (r.label === null || !known(r)) return;
        labelled.features.push(r.features);
        labelled.predictions.push(predictions[i] as OutcomePrediction);
        labelled.labels.push(r.label);
      });
      return {
        profiles: { referenceId: id, modelVersion: version, features, prediction: null, cbpe: null },
        rows: rows.length,
        labelled,
      };
    },
    observe: ({ start, end, rows, predictions, version, versionTrainedAt }, reference) => {
      // Labels arrived by the close count now; the rest arrive later at an earlier window.
      const late = inFlight.filter((l) => l.arrival < end);
      inFlight = inFlight.filter((l) => l.arrival >= end);
      const sums = emptyOutcomeSums(kind);
      rows.forEach((r, i) => {
        if (r.label === null) return;
        const outcome = { prediction: predictions[i]!, label: r.label };
        if (arrivalOf(r) < end) addOutcome(sums, outcome);
        else inFlight.push({ arrival: arrivalOf(r), windowStart: start, ...outcome });
      });
      const lateByWindow = new Map<number, OutcomeSums>();
      for (const l of late) {
        const s = lateByWindow.get(l.windowStart) ?? emptyOutcomeSums(kind);
        addOutcome(s, l);
        lateByWindow.set(l.windowStart, s);
      }
      // DLE is fitted only for windows whose own labels fall short (the multiclass estimate costs a pass).
      const needsEstimate = kind.kind === 'multiclass' || outcomeEvents(sums) < minLabelled;
      const { features, quality: featureQuality } = windowFeatureCounts(rows, reference, null);
      return {
        observation: {
          start,
          end,
          events: rows.length,
          versions: rows.length > 0 ? [{ version, events: rows.length, trainedAt: versionTrainedAt }] : [],
          deadLettered: 0,
          features,
          prediction: null,
          scoreHistogram: null,
          quality: featureQuality,
          labelled: null,
          labelsArrivedBy: end,
          lateLabelled: null,
          outcomes: sums,
          lateOutcomes: [...lateByWindow].sort(([a], [b]) => a - b).map(([at, s]) => ({ start: at, sums: s })),
          outcomeEstimate:
            reference === null
              ? null
              : needsEstimate
                ? estimateOutcomeWindow(kind, categorical, numeric.length, reference, rows, predictions)
                : unavailableOutcomeEstimate(kind.kind, rows.length, ["not estimated: the window's labels suffice"]),
        },
        labelledAtClose: outcomeEvents(sums),
      };
    },
    estimateCheck: () => null,
    probes:
      probeMetric === null ? null : new BacktestProbes(probePolicy, outcomePairing(kind.kind, probeMetric, worthless)),
  };
}
