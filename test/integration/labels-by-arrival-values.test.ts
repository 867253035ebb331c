/**
 * Migration 76: the labels' arrival projection carries the label and its insert time
 * (`labels_by_arrival_values`, replacing `labels_by_arrival`), and the batched late-label read
 * takes the newest label of each event among those that arrived since its earliest range from it.
 * On a store migrated from 75 with labels already in it: the projection holds every stored label,
 * the old one is gone, and the batched read returns what each model's own late-label query
 * (`labels FINAL`, the reference) returns — a correction that arrived after the range leaves the
 * event to a later tick, an older label before the range never wins, a newer null label drops it.
 */
import { describe, expect, it } from 'vitest';
import { openClickHouse, queryRows } from '../../platform/clickhouse/client.ts';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { batchedLateLabelledScoreGroups } from '../../platform/clickhouse/late-label-batch-repository.ts';
import { applyMigrations, MIGRATIONS } from '../../platform/clickhouse/migrations.ts';
import { lateLabelledScoreGroups } from '../../platform/clickhouse/window-repository.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { testConfig } from '../helpers/stack.ts';
import { scoringEventRow } from '../helpers/stored-rows.ts';

const MINUTE = 60_000;
const T = Date.UTC(2026, 10, 21, 9, 0, 0);
const BINS = 10;
const at = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

describe('labels found by arrival with their values (migration 76, embedded chDB)', () => {
  it('migrates stored labels into the projection and reads late labels as FINAL does', async () => {
    const ch = await openClickHouse(testConfig());
    try {
      await applyMigrations(
        ch.client,
        MIGRATIONS.filter((m) => m.version < 76),
      );
      const repo = new ClickHouseIngestRepository(ch.client);
      const models = ['arr-a', 'arr-b'];
      const earlier = { start: T - MINUTE, end: T };
      const arrived = { start: T, end: T + MINUTE };
      // 40 events of each model in the earlier window, scores spread over the bins.
      const events = models.flatMap((model) =>
        Array.from({ length: 40 }, (_, i) =>
          scoringEventRow({
            event_id: `${model}-e${i}`,
            model_id: model,
            ts: earlier.start + i * 1000,
            num_features: { f1: i },
            prediction_score: (i % 10) / 10 + 0.05,
          }),
        ),
      );
      await repo.insertScoringEvents(events);
      const label = (id: string, value: number | null, labelTs: number) => ({
        event_id: id,
        label: value === null ? '' : String(value),
        label_numeric: value,
        label_ts: at(labelTs),
        contract_version: 1,
        source: 'test',
        source_ref: '',
      });
      const rows = models.flatMap((model) =>
        Array.from({ length: 40 }, (_, i) => {
          const id = `${model}-e${i}`;
          if (i < 10) return [label(id, i % 2, T - 30_000)]; // arrived before the range: not late
          if (i < 30) return [label(id, i % 3 === 0 ? 1 : 0, T + i * 1000)]; // arrived in the range
          if (i < 34) return [label(id, 1, T - 30_000), label(id, 0, T + 5_000)]; // corrected in the range
          if (i < 37) return [label(id, 1, T + 5_000), label(id, 0, T + 2 * MINUTE)]; // corrected after it
          return [label(id, 1, T + 5_000), label(id, null, T + 10_000)]; // a newer label without a value
        }).flat(),
      );
      // Two inserts (two parts), so the newest label of an event may sit in another part.
      await ch.client.insert({ table: 'labels', values: rows.slice(0, 40), format: 'JSONEachRow' });
      await ch.client.insert({ table: 'labels', values: rows.slice(40), format: 'JSONEachRow' });

      const upgraded = await applyMigrations(
        ch.client,
        MIGRATIONS.filter((m) => m.version <= 76),
      );
      expect(upgraded.applied).toEqual([76]);
      const projections = await queryRows<{ name: string }>(
        ch.client,
        `SELECT DISTINCT name FROM system.projection_parts
         WHERE database = {db:String} AND table = 'labels' AND active ORDER BY name`,
        { db: ch.database },
      );
      expect(projections.map((p) => p.name)).toEqual(['labels_by_arrival_values']);
      const [counts] = await queryRows<{ projected: string; stored: string }>(
        ch.client,
        `SELECT (SELECT sum(rows) FROM system.projection_parts WHERE database = {db:String} AND table = 'labels'
                   AND name = 'labels_by_arrival_values' AND active) AS projected,
                (SELECT count() FROM labels) AS stored`,
        { db: ch.database },
      );
      expect(Number(counts!.projected)).toBe(Number(counts!.stored));

      const batched = await batchedLateLabelledScoreGroups(
        ch.client,
        models.map((modelId) => ({ modelId, windows: [earlier], arrived })),
        BINS,
      );
      for (const [i, model] of models.entries()) {
        const alone = await lateLabelledScoreGroups(ch.client, model, [earlier], arrived, BINS);
        const key = (g: { windowStart: number; bin: number; positive: boolean }) =>
          `${g.windowStart}/${g.bin}/${g.positive}`;
        const sorted = <G extends { windowStart: number; bin: number; positive: boolean }>(gs: G[]) =>
          [...gs].sort((a, b) => key(a).localeCompare(key(b)));
        const mine = sorted(batched[i]!);
        const reference = sorted(alone);
        expect(mine.map(key)).toEqual(reference.map(key));
        mine.forEach((g, k) => {
          expect(g.events).toBe(reference[k]!.events);
          expectClose(g.scoreSum, reference[k]!.scoreSum);
        });
        // 20 arrived in the range, 4 corrected in it; not the 10 before it, the 3 corrected after
        // it, nor the 3 whose newest label has no value.
        expect(mine.reduce((n, g) => n + g.events, 0)).toBe(24);
      }
    } finally {
      await ch.close();
    }
  });
});
