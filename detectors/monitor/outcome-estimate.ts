/**
 * A multiclass or regression window's estimated quality in a tick: the estimate the window read
 * made (quality/outcome-estimate.ts) of the policy's metric, turned into quality with its
 * interval as the realised figure is (quality-metric.ts). It then stands in for realised quality
 * exactly as the binary estimate does (quality-evidence.ts) while labels are scarce.
 */
import type { OutcomeEstimate } from '../quality/outcome-estimate.ts';
import { qualityInterval, qualityOfMetric, qualityTransformText } from '../quality/quality-metric.ts';
import type { MonitorSettings, WindowEvaluation, WindowObservation } from './types.ts';

/** The window's estimate of `settings.qualityMetric`; the reason it has none otherwise. */
export function estimateOfOutcomes(
  observation: Pick<WindowObservation, 'outcomes' | 'outcomeEstimate'>,
  settings: Pick<MonitorSettings, 'qualityMetric' | 'worthlessError'>,
): WindowEvaluation['quality']['estimated'] {
  const kind = observation.outcomes?.kind ?? observation.outcomeEstimate?.kind ?? 'multiclass';
  const estimate = observation.outcomeEstimate;
  // Runs recorded before the window read made these estimates keep their reason.
  if (estimate === undefined)
    return {
      value: null,
      n: 0,
      trustworthy: false,
      reasons: [`the monitor does not run the label-free estimate of a ${kind} model yet`],
    };
  if (estimate === null)
    return { value: null, n: 0, trustworthy: false, reasons: ['no label-free estimate: no reference yet'] };
  return estimatedQuality(estimate, settings);
}

/** The estimate's figure of the metric, as quality. */
export function estimatedQuality(
  estimate: OutcomeEstimate,
  settings: Pick<MonitorSettings, 'qualityMetric' | 'worthlessError'>,
): NonNullable<WindowEvaluation['quality']['estimated']> {
  const metric = settings.qualityMetric;
  const worthless = settings.worthlessError ?? null;
  const figure = estimate.figures[metric];
  const base = {
    n: estimate.n,
    method: estimate.method,
    reasons: [...estimate.reasons],
    ...(estimate.fittedOn ? { fittedOn: estimate.fittedOn } : {}),
  };
  if (!figure)
    return {
      ...base,
      value: null,
      trustworthy: false,
      reasons: [
        ...base.reasons,
        estimate.n > 0 || Object.keys(estimate.figures).length > 0
          ? `${estimate.method} does not estimate ${metric} (it estimates ${Object.keys(estimate.figures).join(', ')})`
          : `no ${estimate.method} estimate of ${metric}`,
      ],
    };
  const value = figure.value === null ? null : qualityOfMetric(metric, figure.value, worthless);
  const interval = figure.interval ? qualityInterval(metric, figure.interval, worthless) : null;
  return {
    ...base,
    value,
    trustworthy: estimate.trustworthy && value !== null,
    interval: interval && figure.interval ? { ...interval, level: figure.interval.level } : null,
    figure: {
      value: figure.value,
      interval: figure.interval ? { lower: figure.interval.lower, upper: figure.interval.upper } : null,
      transform: qualityTransformText(metric, worthless),
    },
  };
}

/** "estimated log_loss 0.612 [0.590, 0.634] (quality 0.542), CBPE": a multiclass or regression estimate as texts state it. */
export function describeOutcomeEstimate(
  metric: string,
  quality: number,
  figure: { method: string; value: number; interval: { lower: number; upper: number } | null },
): string {
  const band = figure.interval ? ` [${round(figure.interval.lower)}, ${round(figure.interval.upper)}]` : '';
  return `estimated ${metric} ${round(figure.value)}${band} (quality ${quality.toFixed(3)}), ${figure.method}`;
}

/** Three decimals for figures near 1, one above 10 (an RMSE of 12.3). */
function round(value: number): string {
  return Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(3);
}
