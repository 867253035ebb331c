/** A binary model's realised quality in the backtest: the monitor's metric, from the same histogram form. */
import type { MonitorSettings } from '../monitor/types.ts';
import { buildScoreHistogram, qualityFromScoreHistogram } from '../quality/score-histogram.ts';
import type { BacktestRow } from './types.ts';

/** Realised quality of scored rows; null without labels. */
export function qualityOf(
  scores: readonly number[],
  labels: readonly (0 | 1 | null)[],
  settings: Pick<MonitorSettings, 'qualityMetric'>,
): number | null {
  const s: number[] = [];
  const y: number[] = [];
  labels.forEach((label, i) => {
    if (label === null) return;
    y.push(label);
    s.push(scores[i] as number);
  });
  if (y.length === 0) return null;
  const q = qualityFromScoreHistogram(buildScoreHistogram(y, s));
  return settings.qualityMetric === 'auc' ? q.rocAuc.value : q.threshold.accuracy.value;
}

/** Labels of the labelled rows (those `use` keeps) and the scores given to those same rows. */
export function labelledPairs(
  rows: readonly BacktestRow[],
  scores: readonly number[],
  use: (row: BacktestRow, index: number) => boolean = () => true,
): { labels: number[]; labelledScores: number[] } {
  const labels: number[] = [];
  const labelledScores: number[] = [];
  rows.forEach((r, i) => {
    if (r.label === null || !use(r, i)) return;
    labels.push(r.label);
    labelledScores.push(scores[i] as number);
  });
  return { labels, labelledScores };
}

/** A trained model's score as a probability: clamped to [0, 1], 0.5 when not finite. */
export function clampProbability(p: number): number {
  return Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : 0.5;
}
