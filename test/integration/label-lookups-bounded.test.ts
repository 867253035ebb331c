/**
 * Ingest's duplicate look-up of a batch's labels reads what the batch's label times can match,
 * not the table: with many unrelated older labels stored (random ids interleaved with the
 * batch's, merged into one part, where a look-up by event id alone touches a granule per id), the
 * rows the engine reads stay those of the batch's own time. And what counts as a duplicate is
 * unchanged: a redelivered label (same event, same label time) is dropped, every time; a
 * correction (same event, later label time) is stored and wins.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClickHouse, queryRows, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { ingestHttp } from '../../workers/ingest/http.ts';
import { readStatisticsClient, rowsRead } from '../../platform/clickhouse/read-statistics.ts';
import { testConfig } from '../helpers/stack.ts';

const T = Date.UTC(2026, 10, 20, 12, 0, 0);
const DAY = 86_400_000;
const BATCH = 300;
const OLDER = 200_000;

/** A random-looking id, so the batch's ids interleave with the older labels' in key order. */
const hexId = (seed: string): string => createHash('sha256').update(seed).digest('hex').slice(0, 16);
const batchLabel = (i: number, ts = T) => ({ event_id: hexId(`batch-${i}`), label: i % 2, timestamp: ts });

describe("ingest's label look-up is bounded by the batch's label times", () => {
  let ch: ClickHouse;
  let stats: ReturnType<typeof readStatisticsClient>;
  let repo: ClickHouseIngestRepository;
  /** Rows the engine read for the look-ups of labels in the last post. */
  const lookupRows = () => rowsRead(stats.take().filter((q) => /FROM labels/.test(q.sql)));
  const labelsStored = async () =>
    Number((await queryRows<{ n: string }>(ch.client, 'SELECT count() AS n FROM labels'))[0]!.n);

  beforeAll(async () => {
    ch = await openClickHouse(testConfig());
    await applyMigrations(ch.client);
    stats = readStatisticsClient(ch.client);
    repo = new ClickHouseIngestRepository(stats.client);
  });

  afterAll(async () => {
    await ch?.close();
  });

  it('drops redeliveries and stores corrections, reading as many rows with 200k older labels as without', async () => {
    const first = await ingestHttp(
      repo,
      Array.from({ length: BATCH }, (_, i) => batchLabel(i)),
      'labels',
    );
    expect(first).toMatchObject({ accepted: BATCH, duplicates: 0, rejected: [] });
    stats.take();

    const redelivered = await ingestHttp(
      repo,
      Array.from({ length: BATCH }, (_, i) => batchLabel(i)),
      'labels',
    );
    expect(redelivered).toMatchObject({ accepted: 0, duplicates: BATCH });
    const alone = lookupRows();
    expect(alone).toBeGreaterThanOrEqual(BATCH);

    // Older labels of other events, a second to 30 days before, merged into one part with the
    // batch's: looked up by event id alone, each of the batch's ids would touch its own granule.
    await ch.client.command({
      query: `INSERT INTO labels (event_id, label, label_numeric, label_ts, contract_version, source, source_ref)
              SELECT lower(hex(cityHash64({seed:String}, number))), toString(number % 2), number % 2,
                     fromUnixTimestamp64Milli({t:Int64} - 1000 - toInt64(number * {step:UInt32})), 1, 'test', ''
              FROM numbers({n:UInt32})`,
      query_params: { seed: 'older', t: T, step: Math.floor((30 * DAY) / OLDER), n: OLDER },
    });
    await ch.client.command({ query: 'OPTIMIZE TABLE labels FINAL' });
    expect(await labelsStored()).toBe(OLDER + BATCH);
    const parts = await queryRows<{ n: string }>(
      ch.client,
      "SELECT count() AS n FROM system.parts WHERE active AND database = currentDatabase() AND table = 'labels'",
    );
    expect(Number(parts[0]!.n)).toBe(1);

    const again = await ingestHttp(
      repo,
      Array.from({ length: BATCH }, (_, i) => batchLabel(i)),
      'labels',
    );
    expect(again).toMatchObject({ accepted: 0, duplicates: BATCH });
    const amongOlder = lookupRows();
    // The batch's own rows and at most a granule of neighbours on each side (256-row granules).
    expect(amongOlder).toBeLessThanOrEqual(alone + 2 * 256);
    // What the data makes a look-up by event id alone read (the form this replaced): most of the table.
    const byIdAlone = readStatisticsClient(ch.client);
    await queryRows(byIdAlone.client, 'SELECT event_id, label_ts FROM labels WHERE event_id IN {ids:Array(String)}', {
      ids: Array.from({ length: BATCH }, (_, i) => hexId(`batch-${i}`)),
    });
    expect(rowsRead(byIdAlone.take())).toBeGreaterThan(OLDER / 4);

    // Corrections of the first 100 (a minute later), 50 new labels and the other 150 again.
    const mixed = [
      ...Array.from({ length: 100 }, (_, i) => ({ ...batchLabel(i, T + 60_000), label: 1 - (i % 2) })),
      ...Array.from({ length: 50 }, (_, i) => batchLabel(BATCH + i, T + 60_000)),
      ...Array.from({ length: 150 }, (_, i) => batchLabel(150 + i)),
    ];
    expect(await ingestHttp(repo, mixed, 'labels')).toMatchObject({ accepted: 150, duplicates: 150 });
    expect(lookupRows()).toBeLessThanOrEqual(alone + 2 * 256 + 150);
    // Posting it again stores nothing; the corrections win under FINAL.
    expect(await ingestHttp(repo, mixed, 'labels')).toMatchObject({ accepted: 0, duplicates: mixed.length });
    expect(await labelsStored()).toBe(OLDER + BATCH + 150);
    const newest = await queryRows<{ event_id: string; label: string }>(
      ch.client,
      'SELECT event_id, label FROM labels FINAL WHERE event_id IN {ids:Array(String)}',
      { ids: Array.from({ length: 100 }, (_, i) => hexId(`batch-${i}`)) },
    );
    expect(new Map(newest.map((r) => [r.event_id, r.label]))).toEqual(
      new Map(Array.from({ length: 100 }, (_, i) => [hexId(`batch-${i}`), String(1 - (i % 2))])),
    );
  });

  it('still finds a redelivered label whose time is far from the rest of its batch', async () => {
    const older = await queryRows<{ event_id: string; ts: string }>(
      ch.client,
      `SELECT event_id, toUnixTimestamp64Milli(label_ts) AS ts FROM labels
       WHERE event_id = lower(hex(cityHash64({seed:String}, toUInt64(12345))))`,
      { seed: 'older' },
    );
    expect(older).toHaveLength(1);
    const [{ event_id, ts }] = older as [{ event_id: string; ts: string }];
    // The older label redelivered (its label "1" as posted: 12345 is odd) beside two new labels.
    const posted = [
      { event_id, label: 1, timestamp: Number(ts) },
      batchLabel(1000, T + 120_000),
      batchLabel(1001, T + 120_000),
    ];
    expect(await ingestHttp(repo, posted, 'labels')).toMatchObject({ accepted: 2, duplicates: 1 });
    expect(await ingestHttp(repo, posted, 'labels')).toMatchObject({ accepted: 0, duplicates: 3 });
  });

  it('a batch whose label times are weeks apart reads each time cluster, not the weeks between, staged or by parameter', async () => {
    // Five older labels spread over the 30 days, redelivered with today's batch.
    const older = await queryRows<{ event_id: string; label: string; ts: string }>(
      ch.client,
      `SELECT event_id, label, toUnixTimestamp64Milli(label_ts) AS ts FROM labels
       WHERE event_id IN (SELECT lower(hex(cityHash64({seed:String}, toUInt64(arrayJoin({picks:Array(UInt32)}))))))`,
      { seed: 'older', picks: [1000, 50_000, 100_000, 150_000, 190_000] },
    );
    expect(older).toHaveLength(5);
    const spread = [
      ...Array.from({ length: BATCH }, (_, i) => batchLabel(150 + (i % 150))),
      ...older.map((o) => ({ event_id: o.event_id, label: Number(o.label), timestamp: Number(o.ts) })),
    ];
    const staged = readStatisticsClient(ch.ingestClient);
    const stagedRepo = new ClickHouseIngestRepository(staged.client, { lookups: 'staged' });
    const clusteredReads: number[] = [];
    for (const [how, viaRepo, taken] of [
      ['by parameter', repo, () => stats.take()],
      ['staged', stagedRepo, () => staged.take()],
    ] as const) {
      taken();
      expect(await ingestHttp(viaRepo, spread.slice(0, BATCH), 'labels'), how).toMatchObject({ accepted: 0 });
      const alone = rowsRead(taken().filter((q) => /FROM labels/.test(q.sql)));
      expect(await ingestHttp(viaRepo, spread, 'labels'), how).toMatchObject({
        accepted: 0,
        duplicates: spread.length,
      });
      // Today's rows, and each older label's granule with at most a neighbour granule on each side.
      const read = rowsRead(taken().filter((q) => /FROM labels/.test(q.sql)));
      expect(read, how).toBeLessThanOrEqual(alone + 5 * 3 * 256);
      clusteredReads.push(read);
    }
    // One range from the oldest label time to today's (the look-up before time clusters): most of the table.
    const oneRange = readStatisticsClient(ch.client);
    const times = spread.map((l) => l.timestamp);
    await queryRows(
      oneRange.client,
      `SELECT event_id, label_ts FROM labels
       WHERE label_ts >= fromUnixTimestamp64Milli({from:Int64}) AND label_ts <= fromUnixTimestamp64Milli({to:Int64})
         AND event_id IN (SELECT arrayJoin({ids:Array(String)}))`,
      { from: Math.min(...times), to: Math.max(...times), ids: spread.map((l) => l.event_id) },
    );
    const oneRangeRows = rowsRead(oneRange.take());
    expect(oneRangeRows).toBeGreaterThan(OLDER / 8);
    expect(oneRangeRows).toBeGreaterThan(5 * Math.max(...clusteredReads));
  });
});
