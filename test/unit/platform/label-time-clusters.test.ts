import { describe, expect, it } from 'vitest';
import { labelTimeClusters } from '../../../platform/clickhouse/label-time-clusters.ts';

const DAY = 86_400_000;
const T = Date.UTC(2026, 10, 20);
const at = (...times: number[]) => times.map((labelTs, i) => ({ eventId: `e${i}`, labelTs }));
const spans = (clusters: { labelTs: number }[][]) => clusters.map((c) => [c[0]!.labelTs, c.at(-1)!.labelTs]);

describe('labelTimeClusters', () => {
  it('splits a batch at the gaps between its label times, each cluster spanning only its own times', () => {
    const labels = at(T, T + 1000, T - 20 * DAY, T + 2000, T - 3 * DAY, T - 3 * DAY + 5000);
    const clusters = labelTimeClusters(labels);
    expect(spans(clusters)).toEqual([
      [T - 20 * DAY, T - 20 * DAY],
      [T - 3 * DAY, T - 3 * DAY + 5000],
      [T, T + 2000],
    ]);
    // Every label in exactly one cluster.
    expect(
      clusters
        .flat()
        .map((l) => l.eventId)
        .sort(),
    ).toEqual(labels.map((l) => l.eventId).sort());
  });

  it('keeps a batch whose times lie close together whole, and an empty batch empty', () => {
    expect(labelTimeClusters(at(T, T + 60_000, T + 120_000))).toHaveLength(1);
    expect(labelTimeClusters([])).toEqual([]);
  });

  it('splits at the largest gaps first when there are more gaps than clusters allowed', () => {
    // Gaps of 1, 5 and 2 days: with three clusters, the 5- and 2-day gaps split.
    const clusters = labelTimeClusters(at(T, T + DAY, T + 6 * DAY, T + 8 * DAY), { maxClusters: 3 });
    expect(spans(clusters)).toEqual([
      [T, T + DAY],
      [T + 6 * DAY, T + 6 * DAY],
      [T + 8 * DAY, T + 8 * DAY],
    ]);
  });
});
