/**
 * A multiclass or regression window's label-free estimate as the monitor's window read returns
 * it: a few numbers per metric, never the estimator or the rows (they stay in the activity).
 *
 * - multiclass: CBPE (cbpe-multiclass.ts) from the window's calibrated probability sums
 *   (cbpe-multiclass-sums.ts): accuracy, macro-F1 and the log loss of the served probabilities;
 * - regression: DLE (dle.ts) on a bounded sample of the window's rows: MAE and RMSE. R² is not
 *   estimated: it needs the spread of the unseen targets, which no loss model gives.
 */
import type { MulticlassSumsEstimate } from './cbpe-multiclass-sums.ts';
import type { DleEstimate } from './dle.ts';
import type { EstimatorFit } from './estimator-source.ts';
import type { QualityMetric } from './quality-metric.ts';
import type { MetricEstimate } from './types.ts';

export type OutcomeEstimateMethod = 'CBPE' | 'DLE';

/** One metric's estimate in its own units, with its interval. */
export interface EstimatedFigure {
  value: number | null;
  interval: { lower: number; upper: number; level: number } | null;
}

export interface OutcomeEstimate {
  kind: 'multiclass' | 'regression';
  method: OutcomeEstimateMethod;
  /** Events the estimate rests on: the window's (multiclass) or its sample's (regression). */
  n: number;
  /** Events of the window (more than `n` when the estimate rests on a sample). */
  windowEvents: number;
  trustworthy: boolean;
  /** Why it is not trustworthy, or how it was made. */
  reasons: string[];
  /** The metrics the method estimates. */
  figures: Partial<Record<QualityMetric, EstimatedFigure>>;
  /** What the estimator was fitted on (estimator-source.ts). @default undefined (no estimator, or not recorded) */
  fittedOn?: EstimatorFit;
}

function figureOf(estimate: MetricEstimate): EstimatedFigure {
  const i = estimate.interval;
  return { value: estimate.value, interval: i ? { lower: i.lower, upper: i.upper, level: i.level } : null };
}

/** A multiclass window's CBPE estimate, for the observation. */
export function multiclassOutcomeEstimate(
  estimate: MulticlassSumsEstimate,
  windowEvents: number,
  extraReasons: readonly string[] = [],
): OutcomeEstimate {
  return {
    kind: 'multiclass',
    method: 'CBPE',
    n: estimate.n,
    windowEvents,
    trustworthy: estimate.trustworthy && estimate.n > 0,
    reasons: [...estimate.reasons, ...extraReasons],
    figures: {
      accuracy: figureOf(estimate.accuracy),
      macro_f1: figureOf(estimate.macroF1),
      log_loss: figureOf(estimate.logLoss),
    },
  };
}

/** A regression window's (or segment's, `of`) DLE estimate (on `estimate.n` sampled rows of `windowEvents`), for the observation. */
export function regressionOutcomeEstimate(
  estimate: DleEstimate,
  windowEvents: number,
  extraReasons: readonly string[] = [],
  of: 'window' | 'segment' = 'window',
): OutcomeEstimate {
  const sampled =
    estimate.n < windowEvents ? [`DLE on a sample of ${estimate.n} of the ${of}'s ${windowEvents} events`] : [];
  return {
    kind: 'regression',
    method: 'DLE',
    n: estimate.n,
    windowEvents,
    trustworthy: estimate.trustworthy && estimate.n > 0,
    reasons: [...estimate.reasons, ...sampled, ...extraReasons],
    figures: { mae: figureOf(estimate.mae), rmse: figureOf(estimate.rmse) },
  };
}

/** An estimate that could not be made (no estimator fitted, no events), with why. */
export function unavailableOutcomeEstimate(
  kind: OutcomeEstimate['kind'],
  windowEvents: number,
  reasons: readonly string[],
): OutcomeEstimate {
  return {
    kind,
    method: kind === 'multiclass' ? 'CBPE' : 'DLE',
    n: 0,
    windowEvents,
    trustworthy: false,
    reasons: [...reasons],
    figures: {},
  };
}
