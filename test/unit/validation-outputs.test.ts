import { describe, expect, it } from 'vitest';
import { keptRows, validationOutputRow } from '../../activities/validation-outputs.ts';

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ eventId: `e-${i}`, truth: i % 3, outputs: [i] }));

describe("a candidate's held-out outputs as validation keeps them", () => {
  it('keeps every row up to the cap, and beyond it the same sample whatever the order', () => {
    expect(keptRows(rows(10), 10)).toHaveLength(10);
    const all = rows(1000);
    const kept = keptRows(all, 100);
    expect(kept).toHaveLength(100);
    const reversed = keptRows([...all].reverse(), 100);
    expect(new Set(reversed.map((r) => r.eventId))).toEqual(new Set(kept.map((r) => r.eventId)));
    // A hash sample, not the first rows.
    expect(kept.filter((r) => Number(r.eventId.slice(2)) < 100).length).toBeLessThan(50);
  });

  it('stores a multiclass row as class name and probabilities by class, a regression row as numbers', () => {
    const of = { modelId: 'm', version: 'v3', snapshotId: 'snap-1', scoredAt: 1000 };
    expect(
      validationOutputRow(
        of,
        { kind: 'multiclass', classes: ['low', 'mid', 'high'] },
        {
          eventId: 'e1',
          truth: 2,
          outputs: [0.1, 0.2, 0.7],
        },
      ),
    ).toEqual({
      model_id: 'm',
      model_version: 'v3',
      snapshot_id: 'snap-1',
      event_id: 'e1',
      label: 'high',
      label_numeric: null,
      prediction_probabilities: { low: 0.1, mid: 0.2, high: 0.7 },
      prediction_value: null,
      scored_at: 1000,
    });
    expect(
      validationOutputRow(of, { kind: 'regression' }, { eventId: 'e2', truth: 12.5, outputs: [11] }),
    ).toMatchObject({ label: '12.5', label_numeric: 12.5, prediction_probabilities: {}, prediction_value: 11 });
  });
});
