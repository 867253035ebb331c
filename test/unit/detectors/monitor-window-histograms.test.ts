import { describe, expect, it } from 'vitest';
import { labelledFromGroups, scoreHistogramFromBins } from '../../../detectors/monitor/window-histograms.ts';

describe('window histograms from grouped rows', () => {
  it('fills the score histogram, empty bins 0, and is null without scores', () => {
    expect(
      scoreHistogramFromBins(
        [
          { bin: 0, events: 3 },
          { bin: 3, events: 5 },
        ],
        4,
      ),
    ).toEqual([3, 0, 0, 5]);
    expect(scoreHistogramFromBins([], 4)).toBeNull();
  });

  it('splits labelled groups by label, sums scores per bin over both labels, and weights the label delay by events', () => {
    const labelled = labelledFromGroups(
      [
        { bin: 1, positive: true, events: 2, scoreSum: 0.75, scoreSquareSum: 0.125, labelDelayHoursP50: 4 },
        { bin: 1, positive: false, events: 6, scoreSum: 1.5, scoreSquareSum: 0.375, labelDelayHoursP50: 2 },
        { bin: 2, positive: false, events: 2, scoreSum: 1.25, scoreSquareSum: 0.5, labelDelayHoursP50: null },
      ],
      3,
    );
    expect(labelled).toEqual({
      events: 10,
      histogram: {
        positives: [0, 2, 0],
        negatives: [0, 6, 2],
        scoreSums: [0, 2.25, 1.25],
        scoreSquareSums: [0, 0.5, 0.5],
        positiveScoreSums: [0, 0.75, 0],
      },
      labelDelayHoursP50: (2 * 4 + 6 * 2) / 10,
    });
    expect(labelledFromGroups([], 3)).toBeNull();
  });
});
