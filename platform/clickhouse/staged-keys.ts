/**
 * Look-ups whose keys travel as inserted rows instead of query parameters.
 *
 * Why: chDB's Node binding runs one *parameterised* query at a time for the whole process
 * (query-scheduler.ts), and a connection runs its own statements one at a time. Ingest's id
 * look-ups used to take their ids as a parameter, so each waited for the monitor read ahead of it
 * in that lane, and its inserts waited behind whatever ran on the shared connection. On its own
 * connection, with the keys inserted into a scratch table (migrations 73–75) and read back by a query
 * without parameters, a look-up runs beside the monitor reads. No value ever enters SQL text: the
 * keys reach the engine the way every ingested row does, as data of an insert.
 *
 * A scratch table holds one look-up's keys at a time: look-ups through it take turns, whatever
 * connection they use (on one connection they would anyway — it runs one statement at a time).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { chdbRawInsert, insertCompactRows } from './raw-insert.ts';

/** The scratch tables and their columns (migration 73; the events' instants 74, the labels' times 75). */
export const STAGING_TABLES = {
  events: { table: 'ingest_lookup_event_instants', columns: ['model_id', 'event_id', 'ts_ms'] },
  labels: { table: 'ingest_lookup_labels', columns: ['event_id', 'label_ts_ms'] },
  deadLetters: { table: 'ingest_lookup_dead_letters', columns: ['dead_letter_id'] },
} as const;

export type StagingTable = keyof typeof STAGING_TABLES;

/** One look-up at a time per scratch table (a table of the engine, whichever connection reads it): the tail of its queue. */
const turns = new Map<string, Promise<unknown>>();

/** Scratch tables this process emptied after its last look-up through them. */
const clean = new Set<string>();

/**
 * Insert `rows` (each a tuple of the scratch table's columns) into `staging`'s scratch table and
 * run `read` (a query without parameters naming that table) while they are there.
 */
export function withStagedKeys<T>(
  client: ClickHouseClient,
  staging: StagingTable,
  rows: readonly (readonly (string | number)[])[],
  read: (table: string) => Promise<T>,
): Promise<T> {
  const { table, columns } = STAGING_TABLES[staging];
  const previous = turns.get(table) ?? Promise.resolve();
  const turn = previous.then(async () => {
    // Only when an earlier look-up may have left keys behind (its truncate failed, or none ran yet
    // in this process): one statement fewer per look-up on ingest's connection.
    if (!clean.has(table)) await client.command({ query: `TRUNCATE TABLE ${table}` });
    clean.delete(table);
    try {
      await insertCompactRows(client, chdbRawInsert(client), {
        table,
        columns,
        body: Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n')),
      });
      return await read(table);
    } finally {
      // Ids of data subjects should not outlive the look-up, even in memory.
      await client.command({ query: `TRUNCATE TABLE ${table}` });
      clean.add(table);
    }
  });
  turns.set(
    table,
    turn.catch(() => undefined),
  );
  return turn;
}
