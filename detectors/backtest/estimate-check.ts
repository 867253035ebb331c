/**
 * What `halflife backtest` reports of a window's label-free estimate: the estimate and its
 * interval beside the realised value of the same metric at the same threshold (every label of
 * the window, in hindsight), and the alert the estimate alone would raise — its upper bound below
 * the SLO, or below the reference band (the estimate over the reference period, less
 * {@link REFERENCE_BAND}) — so a team can see how early and how often the estimate would have
 * warned before the labels came.
 */
import { rocAuc } from '../quality/roc-auc.ts';
import type { MonitorSettings, WindowEvaluation } from '../monitor/types.ts';
import type { BacktestRow, BacktestWindow } from './types.ts';

/** Width below the reference period's estimate that is still "as on the reference" (as health's attainable tolerance). */
export const REFERENCE_BAND = 0.02;

/** The realised metric at `threshold` over the labelled rows (accuracy: score ≥ threshold is positive). */
export function realisedAt(
  scores: readonly number[],
  rows: readonly BacktestRow[],
  metric: MonitorSettings['qualityMetric'],
  threshold: number,
): number | null {
  const labels: number[] = [];
  const labelledScores: number[] = [];
  rows.forEach((r, i) => {
    if (r.label === null) return;
    labels.push(r.label);
    labelledScores.push(scores[i] as number);
  });
  if (labels.length === 0) return null;
  if (metric === 'auc') return rocAuc(labels, labelledScores);
  let correct = 0;
  labels.forEach((y, i) => {
    if (((labelledScores[i] as number) >= threshold ? 1 : 0) === y) correct += 1;
  });
  return correct / labels.length;
}

/** The window's estimate check; null without an estimate. */
export function windowEstimate(
  estimated: WindowEvaluation['quality']['estimated'],
  scores: readonly number[],
  rows: readonly BacktestRow[],
  settings: Pick<MonitorSettings, 'qualityMetric'>,
  slo: number | null,
  referenceEstimate: number | null,
): BacktestWindow['estimate'] {
  if (!estimated || estimated.value === null) return null;
  const threshold = estimated.threshold ?? 0.5;
  const upper = estimated.interval?.upper ?? estimated.value;
  const band = referenceEstimate === null ? null : referenceEstimate - REFERENCE_BAND;
  const alert =
    slo !== null && upper < slo
      ? `estimate's upper bound ${upper.toFixed(4)} is below the SLO ${slo}`
      : band !== null && upper < band
        ? `estimate's upper bound ${upper.toFixed(4)} is below the reference band (${referenceEstimate!.toFixed(4)} − ${REFERENCE_BAND})`
        : null;
  return {
    metric: settings.qualityMetric,
    value: estimated.value,
    lower: estimated.interval?.lower ?? null,
    upper: estimated.interval?.upper ?? null,
    threshold,
    trustworthy: estimated.trustworthy,
    realised: realisedAt(scores, rows, settings.qualityMetric, threshold),
    referenceEstimate,
    alert,
  };
}
