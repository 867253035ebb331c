/**
 * `scoring_events` sorted by (model_id, toStartOfMinute(ts), event_id) (migration 74): a window
 * read and ingest's duplicate look-up read what their own minutes hold, not the stored history;
 * duplicates still collapse; the migration keeps every event stored before it.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openClickHouse, queryRows, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { applyMigrations, MIGRATIONS } from '../../platform/clickhouse/migrations.ts';
import { scoreBinCounts, versionsInWindow } from '../../platform/clickhouse/window-repository.ts';
import type { ScoringEventRow } from '../../platform/contracts.ts';
import { ingestHttp } from '../../workers/ingest/http.ts';
import { readStatisticsClient } from '../../platform/clickhouse/read-statistics.ts';
import { testConfig } from '../helpers/stack.ts';
import { scoringEventRow } from '../helpers/stored-rows.ts';

const MINUTE = 60_000;
/** One granule of the table (its default index_granularity): what a key range may read beyond its rows. */
const GRANULE = 8192;

function event(modelId: string, id: string, ts: number, score = 0.5): ScoringEventRow {
  return scoringEventRow({ event_id: id, model_id: modelId, ts, num_features: { f1: 1 }, prediction_score: score });
}

/** An id that sorts at random among the others, as producers' ids (UUIDs) do. */
const randomlySorted = (name: string): string =>
  `${createHash('sha256').update(name).digest('hex').slice(0, 8)}-${name}`;

/** `perMinute` events of each model in each of `minutes` minutes from `start`, ids prefixed. */
function history(models: string[], start: number, minutes: number, perMinute: number, prefix: string) {
  const rows: ScoringEventRow[] = [];
  for (let m = 0; m < minutes; m++)
    for (const model of models)
      for (let k = 0; k < perMinute; k++)
        rows.push(
          event(
            model,
            randomlySorted(`${prefix}-${model}-${m}-${k}`),
            start + m * MINUTE + Math.floor((k * MINUTE) / perMinute),
          ),
        );
  return rows;
}

async function withClickHouse(run: (ch: ClickHouse) => Promise<void>): Promise<void> {
  const ch = await openClickHouse(testConfig());
  try {
    await run(ch);
  } finally {
    await ch.close();
  }
}

describe('scoring events sorted by minute (embedded chDB)', () => {
  it('reads a window and looks up a batch from their own minutes, however much older history is stored', async () => {
    await withClickHouse(async (ch) => {
      await applyMigrations(ch.client);
      const repo = new ClickHouseIngestRepository(ch.client);
      const models = ['m-a', 'm-b', 'm-c', 'm-d'];
      // The window: 2026-03-20 12:00, the month's last minutes; history: earlier that month.
      const windowStart = Date.UTC(2026, 2, 20, 12, 0);
      const window = { start: windowStart, end: windowStart + MINUTE };
      const current = history(models, windowStart, 1, 300, 'now');
      await repo.insertScoringEvents(current);
      const costs = async () => {
        const { client: counted, take } = readStatisticsClient(ch.client);
        const rowsRead = () => take().reduce((sum, q) => sum + q.rowsRead, 0);
        const versions = await versionsInWindow(counted, 'm-b', window);
        const bins = await scoreBinCounts(counted, 'm-b', window, 10);
        const windowRows = rowsRead();
        // The minute's events of every model again, as a redelivery: all found.
        const lookup = current.map((e) => ({ modelId: e.model_id, eventId: e.event_id, ts: e.ts }));
        const found = await new ClickHouseIngestRepository(counted).existingEventIds(lookup);
        return { versions, bins, windowRows, lookupRows: rowsRead(), found: found.size };
      };
      const before = await costs();
      expect(before.versions).toEqual([{ version: 'v1', events: 300, firstSeen: windowStart }]);
      expect(before.found).toBe(1200);

      // 19 days × 240 minutes × 4 models × 10 events of older history in the same monthly partition,
      // merged into one part: 45,600 events of m-b, which events sorted by (model, id) made every
      // read above scan (more than the bounds asserted below).
      const older = Date.UTC(2026, 2, 1, 0, 0);
      for (let day = 0; day < 19; day++)
        await repo.insertScoringEvents(history(models, older + day * 24 * 60 * MINUTE, 240, 10, `old${day}`));
      await ch.client.command({ query: 'OPTIMIZE TABLE scoring_events FINAL' });
      const [stored] = await queryRows<{ n: string }>(ch.client, 'SELECT count() AS n FROM scoring_events');
      expect(Number(stored!.n)).toBe(1200 + 19 * 240 * 4 * 10);

      const after = await costs();
      expect(after.versions).toEqual(before.versions);
      expect(after.bins).toEqual(before.bins);
      expect(after.found).toBe(1200);
      // Each window query reads at most the two granules its model's minute may straddle, and the
      // look-up the two its instants may (the projection by time): not a granule per model.
      expect(before.windowRows).toBeLessThanOrEqual(2 * 1200);
      expect(after.windowRows).toBeLessThanOrEqual(2 * 2 * GRANULE);
      expect(after.lookupRows).toBeLessThanOrEqual(2 * GRANULE);
    });
  });

  it('drops duplicates exactly once within a batch and across batches, old and new timestamps mixed', async () => {
    await withClickHouse(async (ch) => {
      await applyMigrations(ch.client);
      const repo = new ClickHouseIngestRepository(ch.client);
      const now = Date.now() - 5 * MINUTE;
      const old = now - 3 * 24 * 60 * MINUTE;
      const record = (id: string, model: string, timestamp: number) => ({
        event_id: id,
        model_id: model,
        model_version: 'v1',
        timestamp,
        features: { f1: 1 },
        prediction: { score: 0.4 },
      });
      // One batch: new events, an event three days old, and a repeat of each within the batch.
      const first = [
        record('n-1', 'dup-a', now),
        record('n-2', 'dup-a', now + 1),
        record('o-1', 'dup-a', old),
        record('n-1', 'dup-b', now),
        record('n-1', 'dup-a', now),
        record('o-1', 'dup-a', old),
      ];
      expect(await ingestHttp(repo, first, 'events')).toMatchObject({ accepted: 4, duplicates: 2, rejected: [] });
      // Redelivered with new events, in another order: only the new ones are stored.
      const second = [
        record('o-2', 'dup-b', old + 7 * MINUTE),
        ...first.slice().reverse(),
        record('n-3', 'dup-a', now + 2),
        record('o-1', 'dup-b', old),
      ];
      expect(await ingestHttp(repo, second, 'events')).toMatchObject({ accepted: 3, duplicates: 6, rejected: [] });
      // Raw rows, before any merge: each event stored once.
      expect(await repo.countEvents({ final: false })).toBe(7);
      expect(await repo.countEvents({ final: true })).toBe(7);
      const ids = await queryRows<{ model_id: string; event_id: string }>(
        ch.client,
        'SELECT model_id, event_id FROM scoring_events ORDER BY model_id, event_id',
      );
      expect(ids.map((r) => `${r.model_id}/${r.event_id}`)).toEqual([
        'dup-a/n-1',
        'dup-a/n-2',
        'dup-a/n-3',
        'dup-a/o-1',
        'dup-b/n-1',
        'dup-b/o-1',
        'dup-b/o-2',
      ]);
      // Two consumers racing past the look-up: ReplacingMergeTree collapses the pair (FINAL).
      await repo.insertScoringEvents([event('dup-a', 'o-1', old)]);
      expect(await repo.countEvents({ final: false })).toBe(8);
      expect(await repo.countEvents({ final: true })).toBe(7);
    });
  });

  it('migrates stored events to the minute-sorted table: nothing lost, duplicates collapsed', async () => {
    await withClickHouse(async (ch) => {
      await applyMigrations(
        ch.client,
        MIGRATIONS.filter((m) => m.version < 74),
      );
      const repo = new ClickHouseIngestRepository(ch.client);
      const start = Date.UTC(2026, 0, 31, 23, 50);
      // Across a month boundary (two partitions), and one event stored twice (two parts).
      const rows = history(['mig-a', 'mig-b'], start, 20, 25, 'h');
      await repo.insertScoringEvents(rows);
      const twice = rows[77]!;
      await new Promise((r) => setTimeout(r, 10)); // a later ingested_at: the later delivery wins
      await repo.insertScoringEvents([{ ...twice, prediction_score: 0.9 }]);
      expect(await repo.countEvents({ final: false })).toBe(1001);

      const upgraded = await applyMigrations(ch.client);
      expect(upgraded.applied).toContain(74);
      const [table] = await queryRows<{ sorting_key: string }>(
        ch.client,
        'SELECT sorting_key FROM system.tables WHERE database = {db:String} AND name = {t:String}',
        { db: ch.database, t: 'scoring_events' },
      );
      expect(table!.sorting_key).toBe('model_id, toStartOfMinute(ts), event_id');
      const indices = await queryRows<{ name: string }>(
        ch.client,
        'SELECT name FROM system.data_skipping_indices WHERE database = {db:String} AND table = {t:String}',
        { db: ch.database, t: 'scoring_events' },
      );
      expect(indices.map((i) => i.name)).toEqual(['event_id_bloom']);
      const [projection] = await queryRows<{ n: string }>(
        ch.client,
        `SELECT sum(rows) AS n FROM system.projection_parts
         WHERE database = {db:String} AND table = {t:String} AND name = 'events_by_time' AND active`,
        { db: ch.database, t: 'scoring_events' },
      );
      expect(Number(projection!.n)).toBe(1000);
      // Copied FINAL: the duplicate is one row (the later delivery), every other event is kept.
      expect(await repo.countEvents({ final: false })).toBe(1000);
      const [summary] = await queryRows<Record<string, string | number>>(
        ch.client,
        `SELECT count() AS n, uniqExact(model_id, event_id, ts) AS ids, uniqExact(toYYYYMM(ts)) AS months,
                countIf(prediction_score = 0.5) AS halves,
                anyIf(prediction_score, event_id = {id:String} AND model_id = {model:String}) AS redelivered
         FROM scoring_events FINAL`,
        { id: twice.event_id, model: twice.model_id },
      );
      expect(Object.fromEntries(Object.entries(summary!).map(([k, v]) => [k, Number(v)]))).toEqual({
        n: 1000,
        ids: 1000,
        months: 2,
        halves: 999,
        redelivered: 0.9,
      });
      const leftovers = await queryRows<{ name: string }>(
        ch.client,
        "SELECT name FROM system.tables WHERE database = {db:String} AND name = 'scoring_events_rebuilt'",
        { db: ch.database },
      );
      expect(leftovers).toEqual([]);
      // After the swap, ingest's look-up finds the migrated events: a re-send stores nothing.
      const resend = rows.slice(0, 50).map((r) => ({ modelId: r.model_id, eventId: r.event_id, ts: r.ts }));
      expect((await repo.existingEventIds(resend)).size).toBe(50);
    });
  });

  it('completes the migration when re-run after a crash between the swap and the drop', async () => {
    await withClickHouse(async (ch) => {
      const before = MIGRATIONS.filter((m) => m.version < 74);
      await applyMigrations(ch.client, before);
      const repo = new ClickHouseIngestRepository(ch.client);
      await repo.insertScoringEvents(history(['crash'], Date.UTC(2026, 4, 1), 5, 20, 'c'));
      const migration = MIGRATIONS.find((m) => m.version === 74)!;
      const swap = migration.statements.findIndex((s) => s.startsWith('EXCHANGE TABLES'));
      // Every statement up to and including the swap ran; the process died before the drop.
      for (const statement of migration.statements.slice(0, swap + 1)) await ch.client.command({ query: statement });
      const resumed = await applyMigrations(ch.client);
      expect(resumed.applied).toEqual(MIGRATIONS.filter((m) => m.version >= 74).map((m) => m.version));
      expect(await repo.countEvents({ final: false })).toBe(100);
      const [table] = await queryRows<{ sorting_key: string }>(
        ch.client,
        'SELECT sorting_key FROM system.tables WHERE database = {db:String} AND name = {t:String}',
        { db: ch.database, t: 'scoring_events' },
      );
      expect(table!.sorting_key).toBe('model_id, toStartOfMinute(ts), event_id');
    });
  });
});
