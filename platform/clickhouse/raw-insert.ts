/**
 * Inserts of rows already encoded as JSONCompactEachRow lines (one JSON array per row, in a
 * fixed column order). Embedded chDB takes them through its zero-copy raw insert
 * (`connection.chdb.rawInsert`): the Buffer goes straight to the engine's parser, where
 * @clickhouse/client's own path for chDB first builds one SQL string of the values. A ClickHouse
 * server gets the same bytes as a stream.
 */
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';

type RawInsert = (params: {
  table: string;
  values: Buffer;
  format: 'JSONCompactEachRow';
  columns: readonly string[];
  settings?: Record<string, number>;
}) => Promise<unknown>;

/**
 * chDB's raw insert when `client` runs on the embedded engine, else undefined. The connection is
 * a private field of the client, so this is probed defensively and callers fall back to the
 * public API (always used for a remote server).
 */
export function chdbRawInsert(client: ClickHouseClient): RawInsert | undefined {
  const connection = (client as unknown as { connection?: { chdb?: { rawInsert?: RawInsert } } }).connection;
  const raw = connection?.chdb?.rawInsert;
  return typeof raw === 'function' ? raw.bind(connection?.chdb) : undefined;
}

/** Insert `body` (JSONCompactEachRow lines of `columns`) into `table`. */
export async function insertCompactRows(
  client: ClickHouseClient,
  raw: RawInsert | undefined,
  insert: { table: string; columns: readonly string[]; body: Buffer; settings?: Record<string, number> },
): Promise<void> {
  const { table, columns, body, settings } = insert;
  if (raw) {
    await raw({ table, values: body, format: 'JSONCompactEachRow', columns, ...(settings ? { settings } : {}) });
    return;
  }
  // A byte stream (not object mode) is sent as is: the lines already are JSONCompactEachRow.
  await client.insert({
    table,
    columns: columns as [string, ...string[]],
    values: Readable.from([body], { objectMode: false }),
    format: 'JSONCompactEachRow',
    ...(settings ? { clickhouse_settings: settings } : {}),
  });
}
