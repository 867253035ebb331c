/**
 * A window's score histograms, from the grouped rows the statistics queries return (one row per
 * non-empty bin, or per bin and label), into the arrays a window observation carries.
 */
import type { LabelledScoreHistogram } from '../quality/score-histogram.ts';
import type { WindowObservation } from './types.ts';

/** Scored events of one equal-width score bin over [0, 1]. */
export interface ScoreBinCount {
  bin: number;
  events: number;
}

/** Labelled events of one score bin with one label. */
export interface LabelledScoreGroup {
  bin: number;
  positive: boolean;
  events: number;
  /** Σ score and Σ score² over the group's events. */
  scoreSum: number;
  scoreSquareSum: number;
  /** Median hours from the event to its label; null when unknown. */
  labelDelayHoursP50: number | null;
  /** 99th percentile of the hours from the event to its label; null or absent when unknown. @default undefined */
  labelDelayHoursP99?: number | null;
}

const zeros = (n: number): number[] => new Array<number>(n).fill(0);

/** Events per bin (`binCount` bins, empty ones 0), or null when no event had a score. */
export function scoreHistogramFromBins(rows: readonly ScoreBinCount[], binCount: number): number[] | null {
  if (rows.length === 0) return null;
  const histogram = zeros(binCount);
  for (const r of rows) histogram[r.bin] = r.events;
  return histogram;
}

/**
 * The labelled events of a window split by label, with score sums per bin, and their label
 * delay (the groups' medians weighted by their events; the p99 the largest group's p99, an upper
 * bound of the window's, which is all the late-label horizon needs); null when no event was labelled.
 */
export function labelledFromGroups(
  groups: readonly LabelledScoreGroup[],
  binCount: number,
): WindowObservation['labelled'] {
  if (groups.length === 0) return null;
  const histogram: Required<LabelledScoreHistogram> = {
    positives: zeros(binCount),
    negatives: zeros(binCount),
    scoreSums: zeros(binCount),
    scoreSquareSums: zeros(binCount),
    positiveScoreSums: zeros(binCount),
  };
  let events = 0;
  let delayWeighted = 0;
  let delayP99: number | null = null;
  for (const g of groups) {
    const b = g.bin;
    const n = g.events;
    events += n;
    if (g.positive) {
      histogram.positives[b] = n;
      histogram.positiveScoreSums[b] = g.scoreSum;
    } else histogram.negatives[b] = n;
    histogram.scoreSums[b] = (histogram.scoreSums[b] ?? 0) + g.scoreSum;
    histogram.scoreSquareSums[b] = (histogram.scoreSquareSums[b] ?? 0) + g.scoreSquareSum;
    delayWeighted += n * (g.labelDelayHoursP50 ?? 0);
    const p99 = g.labelDelayHoursP99;
    if (p99 !== null && p99 !== undefined && Number.isFinite(p99)) delayP99 = Math.max(delayP99 ?? 0, p99);
  }
  return {
    events,
    histogram,
    labelDelayHoursP50: events > 0 ? delayWeighted / events : null,
    ...(delayP99 === null ? {} : { labelDelayHoursP99: delayP99 }),
  };
}

/** Late labels grouped per window (one row per window, bin and label) into one labelled histogram per window start, oldest first. */
export function lateLabelledFromGroups(
  groups: readonly (LabelledScoreGroup & { windowStart: number })[],
  binCount: number,
): NonNullable<WindowObservation['lateLabelled']> {
  const byWindow = new Map<number, LabelledScoreGroup[]>();
  for (const g of groups) byWindow.set(g.windowStart, [...(byWindow.get(g.windowStart) ?? []), g]);
  return [...byWindow]
    .sort(([a], [b]) => a - b)
    .flatMap(([start, rows]) => {
      const labelled = labelledFromGroups(rows, binCount);
      // Label counts only: late labels fill in realised quality (score sums would only grow the history).
      const { positives, negatives } = labelled?.histogram ?? { positives: [], negatives: [] };
      return labelled === null ? [] : [{ start, events: labelled.events, histogram: { positives, negatives } }];
    });
}
