/**
 * What `labels`' index granularity costs and buys for a tick's label side: the labels of a set of
 * random event ids read as the repositories read them (`labels FINAL PREWHERE event_id IN (…)`,
 * labels-of-events.ts), against copies of `labels`' schema at several granularities holding the
 * same labels merged into one part (random ids: each id lands in its own granule). Reported per
 * granularity: rows the engine read, ms (sorted, --repeat reads), and the primary index's bytes in
 * memory and the marks' bytes on disk.
 *
 *   npm run bench -- label-granularity [--labels 1000000] [--granularities 256,64,32] [--ids 10000]
 *                                      [--repeat 5] [--json]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openClickHouse, type ClickHouse } from '../platform/clickhouse/client.ts';
import { loadConfig } from '../platform/config.ts';
import { argReader, machine } from './lib/cli.ts';

const HELP = `usage: npm run bench -- label-granularity [options]
  --labels N            labels stored, random ids, merged into one part (default 1000000)
  --granularities A,B   index_granularity of each copy of labels (default 256,64,32; 256 is labels' own)
  --ids K               event ids read, half of them stored (default 10000: a batch of 32 windows × 300)
  --repeat R            reads per granularity (default 5)
  --json                print the result as JSON
`;

/** The stored ids are a hash of 0..N-1; the read asks for K/2 of them spread over the range and K/2 never stored. */
const READ_SQL = (table: string) => `
SELECT count() AS matched FROM ${table} FINAL
PREWHERE event_id IN (SELECT lower(hex(cityHash64({seed:String}, toUInt64(arrayJoin({numbers:Array(UInt64)}))))))`;

export async function main(argv: readonly string[]): Promise<void> {
  const { flag, option } = argReader(argv);
  if (flag('help')) {
    process.stdout.write(HELP);
    return;
  }
  const labels = Number(option('labels', '1000000'));
  const ids = Number(option('ids', '10000'));
  const repeat = Number(option('repeat', '5'));
  const granularities = option('granularities', '256,64,32').split(',').map(Number);
  for (const [name, v] of Object.entries({ labels, ids, repeat }))
    if (!(Number.isInteger(v) && v > 0)) throw new Error(`--${name} must be a positive integer, got ${v}`);
  for (const g of granularities)
    if (!(Number.isInteger(g) && g >= 1 && g <= 65_536))
      throw new Error(`--granularities must be integers in 1..65536, got ${g}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'halflife-label-granularity-'));
  const ch: ClickHouse = await openClickHouse(loadConfig({ env: {}, overrides: { dataDir: dir, logLevel: 'warn' } }));
  const seed = 'label-granularity';
  const numbers = [
    ...Array.from({ length: Math.ceil(ids / 2) }, (_, i) => Math.floor((i * labels) / Math.ceil(ids / 2))),
    ...Array.from({ length: Math.floor(ids / 2) }, (_, i) => labels + i),
  ];
  const results: object[] = [];
  try {
    for (const g of granularities) {
      const table = `labels_g${g}`;
      await ch.client.command({
        query: `CREATE TABLE ${table} (event_id String, label String, label_numeric Nullable(Float64),
          label_ts DateTime64(3, 'UTC'), contract_version UInt16, source LowCardinality(String), source_ref String)
          ENGINE = ReplacingMergeTree(label_ts) ORDER BY event_id SETTINGS index_granularity = ${g}`,
      });
      // Ten inserts (parts), as ingest writes, then merged: random ids in one part.
      for (let p = 0; p < 10; p++)
        await ch.client.command({
          query: `INSERT INTO ${table} SELECT lower(hex(cityHash64({seed:String}, number))), '1', 1,
            fromUnixTimestamp64Milli({t0:Int64} + toInt64(number) * 10), 1, 'bench', ''
            FROM numbers({offset:UInt64}, {count:UInt64})`,
          query_params: {
            seed,
            t0: 1_790_000_000_000,
            offset: Math.floor((p * labels) / 10),
            count: Math.floor(((p + 1) * labels) / 10) - Math.floor((p * labels) / 10),
          },
        });
      await ch.client.command({ query: `OPTIMIZE TABLE ${table} FINAL` });
      const [parts] = await (
        await ch.client.query({
          query: `SELECT count() AS parts, sum(rows) AS rows, sum(primary_key_bytes_in_memory) AS primary_index_bytes,
                    sum(marks_bytes) AS marks_bytes FROM system.parts
                  WHERE active AND database = currentDatabase() AND table = {table:String}`,
          query_params: { table },
          format: 'JSONEachRow',
        })
      ).json<Record<string, string>>();
      const ms: number[] = [];
      let rowsRead = 0;
      let matched = 0;
      for (let r = 0; r < repeat; r++) {
        const t0 = performance.now();
        const body = (await (
          await ch.client.query({ query: READ_SQL(table), query_params: { seed, numbers }, format: 'JSON' })
        ).json()) as { data: { matched: string }[]; statistics?: { rows_read: number } };
        ms.push(Math.round((performance.now() - t0) * 10) / 10);
        rowsRead = Number(body.statistics?.rows_read ?? 0);
        matched = Number(body.data[0]?.matched ?? 0);
      }
      const row = {
        granularity: g,
        parts: Number(parts!.parts),
        labels: Number(parts!.rows),
        ids,
        matched,
        rows_read: rowsRead,
        ms_sorted: ms.sort((a, b) => a - b),
        primary_index_bytes: Number(parts!.primary_index_bytes),
        marks_bytes: Number(parts!.marks_bytes),
        load_1min: os.loadavg()[0]!,
      };
      results.push(row);
      process.stderr.write(`[label-granularity] ${JSON.stringify(row)}\n`);
    }
    const report = { machine: machine(), options: { labels, ids, repeat, granularities }, results };
    process.stdout.write(flag('json') ? `${JSON.stringify(report, null, 2)}\n` : '');
  } finally {
    await ch.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
