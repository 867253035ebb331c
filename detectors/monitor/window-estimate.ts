/**
 * A window's label-free quality estimate (CBPE) for the metric the policy measures, at the
 * model's own decision threshold, with its interval (estimation revision 2).
 *
 * The window query groups the window's scores as the reference's estimator asks
 * (quality/cbpe-groups.ts: isotonic step × side of the threshold × score bin, with score sums),
 * so the estimate equals the one computed from every score. Without groups (a window read before
 * its reference existed) it falls back to the score histogram, each bin taken at its centre.
 */
import {
  estimateCbpeFromGroups,
  estimationGrouping,
  scoreGroupKey,
  type EstimationGrouping,
  type ScoreGroup,
} from '../quality/cbpe-groups.ts';
import type { CbpeEstimate } from '../quality/cbpe.ts';
import type { MonitorReference, MonitorSettings, WindowEvaluation, WindowObservation } from './types.ts';

/** The metric's name in texts. */
export function metricName(metric: string): string {
  return metric === 'auc' ? 'ROC AUC' : metric;
}

/** The grouping a window query applies for the reference's estimator; null without one. */
export function windowEstimationGrouping(reference: MonitorReference | null): EstimationGrouping | null {
  return reference?.cbpe ? estimationGrouping(reference.cbpe) : null;
}

/** Why the estimator's threshold is what it is, when it is not the version's own. */
function thresholdNote(reference: MonitorReference): string | null {
  const source = reference.decisionThreshold?.source;
  if (source === 'version') return null;
  const threshold = reference.cbpe?.options.threshold ?? 0.5;
  return `threshold ${threshold}: the version records no decision threshold (register it with --decision-threshold)`;
}

/** Groups of the score histogram's bins, each at its centre (the fallback without window groups). */
function histogramGroups(histogram: readonly number[], grouping: EstimationGrouping): ScoreGroup[] {
  const bins = histogram.length;
  const groups: ScoreGroup[] = [];
  histogram.forEach((events, b) => {
    if (events <= 0) return;
    const centre = (b + 0.5) / bins;
    groups.push({
      ...scoreGroupKey(grouping, centre),
      events,
      scoreSum: events * centre,
      scoreSquareSum: events * centre * centre,
    });
  });
  return groups;
}

/** Whether two groupings group scores the same way (a window's groups are read with the reference's). */
export const sameGrouping = (a: EstimationGrouping, b: EstimationGrouping): boolean =>
  a.threshold === b.threshold && a.bins === b.bins && JSON.stringify(a.steps) === JSON.stringify(b.steps);

/** The window's estimate of `settings.qualityMetric` (accuracy or ROC AUC); null without an estimator or scores. */
export function estimateWindowQuality(
  reference: MonitorReference | null,
  observation: WindowObservation,
  settings: Pick<MonitorSettings, 'qualityMetric'>,
): WindowEvaluation['quality']['estimated'] {
  const model = reference?.cbpe;
  if (!reference || !model) return null;
  const grouping = estimationGrouping(model);
  const pushed = observation.estimationGroups;
  let estimate: CbpeEstimate;
  let source: 'score groups' | 'histogram';
  if (pushed && sameGrouping(pushed.grouping, grouping)) {
    estimate = estimateCbpeFromGroups(model, pushed.groups, grouping, pushed.outside);
    source = 'score groups';
  } else if (observation.scoreHistogram) {
    estimate = estimateCbpeFromGroups(model, histogramGroups(observation.scoreHistogram, grouping), grouping);
    source = 'histogram';
  } else return null;
  const auc = settings.qualityMetric === 'auc';
  const value = auc ? estimate.rocAuc : estimate.accuracy;
  const interval = auc ? estimate.rocAucInterval : estimate.accuracyInterval;
  const note = thresholdNote(reference);
  return {
    value,
    n: estimate.n,
    trustworthy: estimate.trustworthy && estimate.n > 0 && value !== null,
    reasons: [
      ...estimate.reasons,
      ...(note === null ? [] : [note]),
      ...(source === 'histogram' ? ['from the score histogram (the window was read before its reference)'] : []),
      ...(estimate.n > 0 && value === null
        ? [`no ${metricName(settings.qualityMetric)}: one expected class only`]
        : []),
    ],
    interval: interval ? { lower: interval.lower, upper: interval.upper, level: interval.level } : null,
    threshold: grouping.threshold,
    method: 'CBPE',
  };
}

/** "estimated ROC AUC 0.812 [0.791, 0.833], CBPE at threshold 0.65": an estimate as texts state it. */
export function describeEstimate(
  metric: string,
  value: number,
  interval: { lower: number; upper: number } | null | undefined,
  threshold: number | null | undefined,
): string {
  const band = interval ? ` [${interval.lower.toFixed(3)}, ${interval.upper.toFixed(3)}]` : '';
  const at = threshold === null || threshold === undefined ? '' : ` at threshold ${threshold}`;
  return `estimated ${metricName(metric)} ${value.toFixed(3)}${band}, CBPE${at}`;
}
