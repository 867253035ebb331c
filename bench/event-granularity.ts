/**
 * What `scoring_events`' index granularity costs and buys for a monitor tick: one batch of windows
 * read as the window batcher reads them (`readWindowsBatched`, late labels included), against
 * copies of the events at several granularities holding the same fleet-shaped history merged as a
 * long-running table converges (OPTIMIZE FINAL). A window is one model's minute (--models ×
 * --rate events/s: 300 rows at the fleet's 5/s), so an 8,192-row granule holds ~27 model-minutes.
 * Each copy is swapped in under the table's name for its reads (EXCHANGE TABLES) and out again,
 * copies in turn, the order rotating each round so none always reads a warmer cache. Reported per
 * granularity: rows the engine read and ms per query of the batch (median of --repeat rounds),
 * the marks' bytes, and the ms of a 2,000-event insert (median of --posts, copies alternating).
 *
 *   npm run bench -- event-granularity [--models 1000] [--rate 5] [--minutes 12] [--windows 32]
 *                                      [--granularities 8192,1024,256] [--repeat 5] [--posts 20]
 *                                      [--ids random|by-model] [--json]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readWindowsBatched, type WindowReadRequest } from '../activities/window-read.ts';
import { buildReference } from '../operations/build-reference.ts';
import { countRowsRead, type BatchQueryTimings } from '../platform/clickhouse/batch-windows.ts';
import { openClickHouse, type ClickHouse } from '../platform/clickhouse/client.ts';
import { applyMigrations } from '../platform/clickhouse/migrations.ts';
import { loadConfig } from '../platform/config.ts';
import { argReader, machine } from './lib/cli.ts';

const HELP = `usage: npm run bench -- event-granularity [options]
  --models N            models (default 1000)
  --rate R              events per second per model (default 5)
  --minutes M           minutes of history, merged (default 12)
  --windows W           windows of one batch, models spread over the fleet (default 32)
  --granularities A,B   index_granularity of each copy of scoring_events (default 8192,1024,256)
  --repeat R            rounds of the batch read (default 5)
  --posts P             2,000-event inserts into each copy (default 20)
  --ids random|by-model event ids sorted at random, as UUIDs (default), or by model as the fleet benchmark's
  --json                print the result as JSON (progress goes to stderr)
`;

const SCORE_BINS = 10;
const LABEL_DELAY_MS = 30_000;
const POST_ROWS = 2000;

/**
 * Fleet rows from `numbers`: event i is model i % models in second i / (models × rate), with an id
 * that sorts at random (a hash, as producers' UUIDs do) or by model (`<model>-<i>`, as the fleet
 * benchmark's load generator makes them, which flatters a look-up by id), three numeric features,
 * a region, a score and a label 30 s later.
 */
const eventsSql = (table: string) => `
INSERT INTO ${table} (event_id, model_id, model_version, ts, num_features, cat_features, missing_features,
  prediction_score, metadata, contract_version, source, source_ref)
SELECT if({byModel:Bool}, concat({prefix:String}, 'fleet-', leftPad(toString(number % {models:UInt64}), 4, '0'), '-', toString(number)), concat({prefix:String}, lower(hex(cityHash64(number))))), if({model:String} = '', concat('fleet-', leftPad(toString(number % {models:UInt64}), 4, '0')), {model:String}),
  'v1', fromUnixTimestamp64Milli({t0:Int64} + toInt64(intDiv(number, {perSecond:UInt64})) * 1000 + toInt64(cityHash64(number, 1) % 1000)),
  map('f1', f1, 'f2', f2, 'f3', (cityHash64(number, 4) % 10000) / 1000), map('region', ['north', 'south', 'east', 'west'][1 + cityHash64(number, 5) % 4]),
  [], 1 / (1 + exp(f1 + f2 - 9)), map(), 1, 'bench', ''
FROM (SELECT number, (cityHash64(number, 2) % 10000) / 1000 AS f1, (cityHash64(number, 3) % 10000) / 1000 AS f2
      FROM numbers({offset:UInt64}, {count:UInt64}))`;

const labelsSql = `
INSERT INTO labels (event_id, label, label_numeric, label_ts, contract_version, source, source_ref)
SELECT event_id, toString(y), y, ts + toIntervalMillisecond({delay:Int64}), 1, 'bench', ''
FROM (SELECT event_id, ts, toFloat64(num_features['f1'] + num_features['f2'] <= 9) AS y FROM scoring_events
      WHERE ts >= fromUnixTimestamp64Milli({from:Int64}) AND ts < fromUnixTimestamp64Milli({to:Int64}))`;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2;
};
const round1 = (x: number): number => Math.round(x * 10) / 10;

/** Where two results differ (numbers within a relative 1e-9 count as equal), or null. */
function firstDifference(a: unknown, b: unknown, at: string): string | null {
  if (typeof a === 'number' && typeof b === 'number')
    return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b)) ? null : `${at}: ${a} vs ${b}`;
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null)
    return a === b ? null : `${at}: ${String(a)} vs ${String(b)}`;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`);
    if (d) return d;
  }
  return null;
}

export async function main(argv: readonly string[]): Promise<void> {
  const { flag, option } = argReader(argv);
  if (flag('help')) {
    process.stdout.write(HELP);
    return;
  }
  const models = Number(option('models', '1000'));
  const rate = Number(option('rate', '5'));
  const minutes = Number(option('minutes', '12'));
  const windows = Number(option('windows', '32'));
  const repeat = Number(option('repeat', '5'));
  const posts = Number(option('posts', '20'));
  const granularities = option('granularities', '8192,1024,256').split(',').map(Number);
  const ids = option('ids', 'random');
  if (ids !== 'random' && ids !== 'by-model') throw new Error(`--ids must be random or by-model, got ${ids}`);
  const byModel = ids === 'by-model';
  for (const [name, v] of Object.entries({ models, rate, minutes, windows, repeat, posts }))
    if (!(Number.isInteger(v) && v > 0)) throw new Error(`--${name} must be a positive integer, got ${v}`);
  if (minutes < 3) throw new Error(`--minutes must be at least 3 (a window and its two earlier ones), got ${minutes}`);
  if (windows > models) throw new Error(`--windows (${windows}) cannot exceed --models (${models})`);
  for (const g of granularities)
    if (!(Number.isInteger(g) && g >= 64 && g <= 65_536))
      throw new Error(`--granularities must be integers in 64..65536, got ${g}`);
  const log = (line: string) => process.stderr.write(`[event-granularity] ${line}\n`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'halflife-event-granularity-'));
  const ch: ClickHouse = await openClickHouse(loadConfig({ env: {}, overrides: { dataDir: dir, logLevel: 'warn' } }));
  const command = (query: string, query_params: Record<string, unknown> = {}) =>
    ch.client.command({ query, query_params });
  // Whole minutes ending an hour ago: inside the monthly partition of a real history.
  const t0 = Math.floor(Date.now() / 60_000) * 60_000 - (minutes + 60) * 60_000;
  const perSecond = models * rate;
  try {
    await applyMigrations(ch.client);
    // The reference the windows are compared with: 2,000 events of one model an hour before.
    await command(eventsSql('scoring_events'), {
      prefix: 'ref-',
      model: 'fleet-reference',
      byModel,
      models: 1,
      t0: t0 - 3_600_000,
      perSecond: 1000,
      offset: 0,
      count: 2000,
    });
    const reference = await buildReference(ch.client, {
      modelId: 'fleet-reference',
      start: t0 - 3_600_000,
      end: t0 - 3_600_000 + 2000,
    });
    for (let m = 0; m < minutes; m++) {
      await command(eventsSql('scoring_events'), {
        prefix: 'e-',
        model: '',
        byModel,
        models,
        t0,
        perSecond,
        offset: m * 60 * perSecond,
        count: 60 * perSecond,
      });
      log(`stored minute ${m + 1}/${minutes} (${(m + 1) * 60 * perSecond} events)`);
    }
    await command(labelsSql, { delay: LABEL_DELAY_MS, from: t0, to: t0 + minutes * 60_000 });
    await command('OPTIMIZE TABLE labels FINAL');
    const copies = granularities.map((g) => `scoring_events_g${g}`);
    for (const [i, g] of granularities.entries()) {
      await command(`CREATE TABLE ${copies[i]} AS scoring_events
        ENGINE = ReplacingMergeTree(ingested_at) PARTITION BY toYYYYMM(ts) ORDER BY (model_id, toStartOfMinute(ts), event_id)
        SETTINGS deduplicate_merge_projection_mode = 'rebuild', index_granularity = ${g}`);
      await command(`INSERT INTO ${copies[i]} SELECT * FROM scoring_events`);
      await command(`OPTIMIZE TABLE ${copies[i]} FINAL`);
      log(`copy at granularity ${g} built and merged`);
    }
    const end = t0 + minutes * 60_000;
    const requests: WindowReadRequest[] = Array.from({ length: windows }, (_, k) => {
      const modelId = `fleet-${String(Math.floor((k * models) / windows)).padStart(4, '0')}`;
      return {
        modelId,
        start: end - 60_000,
        end,
        reference: { ...reference, modelId },
        labelsArrivedBy: end,
        lateLabels: {
          windows: [
            { start: end - 3 * 60_000, end: end - 2 * 60_000 },
            { start: end - 2 * 60_000, end: end - 60_000 },
          ],
          arrived: { start: end - 60_000, end },
        },
      };
    });
    const reads = granularities.map(() => ({
      totalMs: [] as number[],
      ms: {} as Record<string, number[]>,
      rows: {} as BatchQueryTimings,
    }));
    let expected: unknown;
    for (let r = 0; r < repeat; r++)
      for (let j = 0; j < granularities.length; j++) {
        const i = (j + r) % granularities.length;
        await command(`EXCHANGE TABLES scoring_events AND ${copies[i]}`);
        try {
          const timings: BatchQueryTimings = {};
          const rows: BatchQueryTimings = {};
          countRowsRead(timings, rows);
          const s = performance.now();
          const result = await readWindowsBatched(ch.client, requests, SCORE_BINS, timings);
          reads[i]!.totalMs.push(performance.now() - s);
          for (const [q, v] of Object.entries(timings)) (reads[i]!.ms[q] ??= []).push(v as number);
          reads[i]!.rows = rows;
          // Every copy holds the same events: the windows read must be the same (sums of floats
          // to their last bits aside: the engine adds them in the order it reads them).
          if (expected === undefined) expected = result;
          else {
            const difference = firstDifference(expected, result, '');
            if (difference) throw new Error(`granularity ${granularities[i]} read different windows: ${difference}`);
          }
        } finally {
          await command(`EXCHANGE TABLES scoring_events AND ${copies[i]}`);
        }
      }
    // Inserts of one post each, copies alternating, merges stopped so every post is its own part.
    const insertMs = granularities.map(() => [] as number[]);
    for (const table of copies) await command(`SYSTEM STOP MERGES ${table}`);
    for (let p = 0; p < posts; p++)
      for (const [i, table] of copies.entries()) {
        const s = performance.now();
        await command(eventsSql(table), {
          prefix: `post${p}-`,
          model: '',
          byModel,
          models,
          t0: end,
          perSecond,
          offset: p * POST_ROWS,
          count: POST_ROWS,
        });
        insertMs[i]!.push(performance.now() - s);
      }
    const results = [];
    for (const [i, g] of granularities.entries()) {
      const [parts] = await (
        await ch.client.query({
          query: `SELECT sum(marks) AS marks, sum(marks_bytes) AS marks_bytes, sum(rows) AS rows FROM system.parts
                  WHERE active AND database = currentDatabase() AND table = {table:String}`,
          query_params: { table: copies[i] },
          format: 'JSONEachRow',
        })
      ).json<Record<string, string>>();
      const row = {
        granularity: g,
        rows: Number(parts!.rows) - posts * POST_ROWS,
        marks: Number(parts!.marks),
        marks_bytes: Number(parts!.marks_bytes),
        batch_ms_median: round1(median(reads[i]!.totalMs)),
        query_ms_median: Object.fromEntries(Object.entries(reads[i]!.ms).map(([q, v]) => [q, round1(median(v))])),
        rows_read: reads[i]!.rows,
        insert_ms_median: round1(median(insertMs[i]!)),
        load_1min: os.loadavg()[0]!,
      };
      results.push(row);
      log(JSON.stringify(row));
    }
    const report = {
      machine: machine(),
      options: { models, rate, minutes, windows, repeat, posts, granularities, ids },
      results,
    };
    process.stdout.write(flag('json') ? `${JSON.stringify(report, null, 2)}\n` : '');
  } finally {
    await ch.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
