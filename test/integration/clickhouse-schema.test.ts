import { describe, expect, it } from 'vitest';
import { openClickHouse, queryRows } from '../../platform/clickhouse/client.ts';
import {
  applyMigrations,
  migrationChecksum,
  MIGRATIONS,
  type Migration,
} from '../../platform/clickhouse/migrations.ts';
import { testConfig } from '../helpers/stack.ts';

/** `count` labels of events e-0, e-1, …, alternately 0 and 1, as a store holds them before an upgrade. */
function storedLabels(count: number) {
  return Array.from({ length: count }, (_, i) => ({
    event_id: `e-${i}`,
    label: String(i % 2),
    label_numeric: i % 2,
    label_ts: '2026-01-01 00:00:00.000',
    contract_version: 1,
    source: 'test',
    source_ref: '',
  }));
}

/** A table's engine with its settings, as `system.tables` shows it. */
async function tableEngine(ch: Awaited<ReturnType<typeof openClickHouse>>, table: string): Promise<string> {
  const [row] = await queryRows<{ engine_full: string }>(
    ch.client,
    'SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = {table:String}',
    { db: ch.database, table },
  );
  return row!.engine_full;
}

describe('ClickHouse schema (embedded chDB)', () => {
  it('applies migrations once, records the version, and refuses an edited migration', async () => {
    const ch = await openClickHouse(testConfig());
    try {
      const first = await applyMigrations(ch.client);
      expect(first.applied).toEqual(MIGRATIONS.map((m) => m.version));
      const second = await applyMigrations(ch.client);
      expect(second.applied).toEqual([]);
      expect(second.version).toBe(first.version);

      const recorded = await queryRows<{ version: number; checksum: string }>(
        ch.client,
        'SELECT version, checksum FROM schema_migrations ORDER BY version',
      );
      expect(recorded.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((m) => m.version));
      expect(recorded[0]!.checksum).toBe(migrationChecksum(MIGRATIONS[0]!));

      const edited: Migration[] = [
        { ...MIGRATIONS[0]!, statements: [...MIGRATIONS[0]!.statements, 'SELECT 1'] },
        ...MIGRATIONS.slice(1),
      ];
      await expect(applyMigrations(ch.client, edited)).rejects.toThrow(/changed after it was applied/);

      const tables = await queryRows<{ name: string }>(
        ch.client,
        'SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name',
        { db: ch.database },
      );
      expect(tables.map((t) => t.name)).toEqual(
        expect.arrayContaining(['dead_letters', 'labels', 'schema_migrations', 'scoring_events']),
      );
    } finally {
      await ch.close();
    }
  });

  it('keeps SQL-looking values inert because they travel as query parameters', async () => {
    const ch = await openClickHouse(testConfig());
    try {
      await applyMigrations(ch.client);
      const hostile = "x'); DROP TABLE scoring_events; --";
      const rows = await queryRows<{ n: string }>(
        ch.client,
        'SELECT count() AS n FROM scoring_events WHERE event_id = {id:String}',
        { id: hostile },
      );
      expect(Number(rows[0]!.n)).toBe(0);
      const still = await queryRows<{ name: string }>(
        ch.client,
        "SELECT name FROM system.tables WHERE name = 'scoring_events'",
      );
      expect(still).toHaveLength(1);
    } finally {
      await ch.close();
    }
  });

  it('rebuilds labels with small granules, keeping every label stored before the upgrade', async () => {
    const ch = await openClickHouse(testConfig());
    try {
      await applyMigrations(
        ch.client,
        MIGRATIONS.filter((m) => m.version < 40),
      );
      const labels = storedLabels(1000);
      await ch.client.insert({ table: 'labels', values: labels, format: 'JSONEachRow' });
      // A correction of one label: the newer label_ts wins after the rebuild as before it.
      await ch.client.insert({
        table: 'labels',
        values: [{ ...labels[0]!, label: '1', label_numeric: 1, label_ts: '2026-01-02 00:00:00.000' }],
        format: 'JSONEachRow',
      });
      const upgraded = await applyMigrations(ch.client);
      expect(upgraded.applied).toContain(40);
      expect(await tableEngine(ch, 'labels')).toMatch(/index_granularity = 256/);
      const stored = await queryRows<{ n: number; positives: number; first: string }>(
        ch.client,
        "SELECT count() AS n, sum(label_numeric) AS positives, anyIf(label, event_id = 'e-0') AS first FROM labels FINAL",
      );
      expect(stored[0]).toEqual({ n: 1000, positives: 501, first: '1' });
      const leftovers = await queryRows<{ name: string }>(
        ch.client,
        "SELECT name FROM system.tables WHERE database = {db:String} AND name = 'labels_rebuilt'",
        { db: ch.database },
      );
      expect(leftovers).toEqual([]);
    } finally {
      await ch.close();
    }
  });

  it('merges events and labels in fewer rounds from migration 77, on a store that already holds rows', async () => {
    const ch = await openClickHouse(testConfig());
    try {
      await applyMigrations(
        ch.client,
        MIGRATIONS.filter((m) => m.version < 77),
      );
      expect(await tableEngine(ch, 'scoring_events')).not.toMatch(/merge_selector_base/);
      await ch.client.insert({ table: 'labels', values: storedLabels(100), format: 'JSONEachRow' });

      const upgraded = await applyMigrations(ch.client);
      expect(upgraded.applied).toContain(77);
      expect(await tableEngine(ch, 'scoring_events')).toMatch(/merge_selector_base = 10/);
      const labelsEngine = await tableEngine(ch, 'labels');
      expect(labelsEngine).toMatch(/merge_selector_base = 10/);
      // The setting joins the table's others; it does not replace them.
      expect(labelsEngine).toMatch(/index_granularity = 256/);
      const [stored] = await queryRows<{ n: string }>(ch.client, 'SELECT count() AS n FROM labels FINAL');
      expect(Number(stored!.n)).toBe(100);
    } finally {
      await ch.close();
    }
  });
});
