/**
 * A binary model's backtest window as `collectWindow` computes it in ClickHouse: feature counts,
 * a 100-bin score histogram, the labelled score histogram of the labels that had arrived, late
 * labels of earlier windows, and the scores grouped for the reference's estimator.
 */
import { numericWindowCounts } from '../drift/profiles.ts';
import type { MonitorReference, WindowObservation } from '../monitor/types.ts';
import { windowEstimationGrouping } from '../monitor/window-estimate.ts';
import { equalWidthBin } from '../quality/calibration.ts';
import { groupScores } from '../quality/cbpe-groups.ts';
import { buildScoreHistogram, DEFAULT_SCORE_HISTOGRAM_BINS } from '../quality/score-histogram.ts';
import { labelledPairs } from './binary-quality.ts';
import type { BinaryReference } from './binary-reference.ts';
import type { PendingLabel } from './label-queue.ts';
import type { BacktestRow } from './types.ts';
import { windowFeatureCounts } from './window-features.ts';

export function binaryObservation(
  start: number,
  end: number,
  rows: readonly BacktestRow[],
  scores: readonly number[],
  arrived: readonly boolean[],
  late: readonly PendingLabel[],
  withReference: BinaryReference | null,
  version: string,
  trainedAt: number | null,
  /** The p99 delay (hours) of the labels that arrived in time, as production's read gives it. @default null */
  labelDelayHoursP99: number | null = null,
): WindowObservation {
  const reference = withReference?.profiles ?? null;
  const bins = DEFAULT_SCORE_HISTOGRAM_BINS;
  const scoreHistogram = new Array<number>(bins).fill(0);
  for (const p of scores) {
    const b = equalWidthBin(p, bins);
    scoreHistogram[b] = (scoreHistogram[b] as number) + 1;
  }
  const { labels, labelledScores } = labelledPairs(rows, scores, (_r, i) => arrived[i] === true);
  const predictionProfile = reference?.prediction ?? null;
  const prediction = predictionProfile ? numericWindowCounts(scores, predictionProfile.cuts) : null;
  const { features, quality } = windowFeatureCounts(rows, withReference, prediction);
  return {
    start,
    end,
    events: rows.length,
    versions: rows.length > 0 ? [{ version, events: rows.length, trainedAt }] : [],
    deadLettered: 0,
    features,
    prediction,
    scoreHistogram: rows.length > 0 ? scoreHistogram : null,
    quality,
    labelled:
      labels.length > 0
        ? {
            events: labels.length,
            histogram: buildScoreHistogram(labels, labelledScores),
            labelDelayHoursP50: null,
            labelDelayHoursP99,
          }
        : null,
    labelsArrivedBy: end,
    lateLabelled: lateLabelsByWindow(late),
    estimationGroups: estimationGroupsOf(reference, scores),
  };
}

/** The window's scores grouped as the window query groups them for the reference's estimator. */
function estimationGroupsOf(
  reference: MonitorReference | null,
  scores: readonly number[],
): WindowObservation['estimationGroups'] {
  const grouping = windowEstimationGrouping(reference);
  if (!grouping || !reference?.cbpe || scores.length === 0) return null;
  const [low, high] = reference.cbpe.referenceScoreRange;
  return {
    grouping,
    groups: groupScores(grouping, scores),
    outside: scores.filter((s) => s < low || s > high).length,
  };
}

/** Late labels grouped into one labelled histogram per window start, oldest first. */
function lateLabelsByWindow(late: readonly PendingLabel[]): NonNullable<WindowObservation['lateLabelled']> {
  const byWindow = new Map<number, { labels: number[]; scores: number[] }>();
  for (const l of late) {
    const entry = byWindow.get(l.windowStart) ?? { labels: [], scores: [] };
    entry.labels.push(l.label);
    entry.scores.push(l.score);
    byWindow.set(l.windowStart, entry);
  }
  return [...byWindow]
    .sort(([a], [b]) => a - b)
    .map(([start, e]) => {
      const h = buildScoreHistogram(e.labels, e.scores);
      return { start, events: e.labels.length, histogram: { positives: h.positives, negatives: h.negatives } };
    });
}
