import { describe, expect, it } from 'vitest';
import { openClickHouse, queryRows } from '../../platform/clickhouse/client.ts';
import {
  applyMigrations,
  migrationChecksum,
  MIGRATIONS,
  type Migration,
} from '../../platform/clickhouse/migrations.ts';
import { testConfig } from '../helpers/stack.ts';

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
});
