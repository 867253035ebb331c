import { describe, expect, it } from 'vitest';
import { denseBuckets } from '../../workers/routes/dashboard-data.ts';

const row = (start: number, events: number) => ({ start, events, labelled: events, deadLetters: 0 });

describe("the dashboard's ingest buckets", () => {
  const bucket = 30_000;

  it('leaves out the bucket still filling, so a live chart does not fall to zero at its right edge', () => {
    const rows = [row(0, 3000), row(30_000, 3000), row(60_000, 800)];
    expect(denseBuckets(rows, bucket, 75_000).map((r) => r.start)).toEqual([0, 30_000]);
    // Once it has closed, it is drawn.
    expect(denseBuckets(rows, bucket, 90_000).map((r) => r.start)).toEqual([0, 30_000, 60_000]);
  });

  it('keeps the only bucket there is, and fills gaps between closed ones with zeros', () => {
    expect(denseBuckets([row(60_000, 5)], bucket, 61_000)).toEqual([row(60_000, 5)]);
    expect(denseBuckets([row(0, 3), row(90_000, 4)], bucket, 200_000).map((r) => r.events)).toEqual([3, 0, 0, 4]);
    expect(denseBuckets([], bucket, 0)).toEqual([]);
  });
});
