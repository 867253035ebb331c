/**
 * Segment query benchmark: what counting a window per segment costs beside counting it whole.
 * A 10M-row window × 20 numeric + 5 categorical features in embedded ClickHouse, counted into a
 * 1M-row reference's bins by the window count query, once ungrouped (no segment keys: the query
 * every monitor runs) and once with one segment key of 20 kept segments plus `__other__`
 * (`GROUPING SETS ((), (s0))`: the whole window and every segment in one read of the rows).
 * Target: the segmented query ≤ 2× the ungrouped one.
 *
 *   npx tsx bench/segments.ts [--rows 10000000] [--reference-rows 1000000] [--top-k 20] [--repeat 3] [--json] [--dir D]
 *   npm run bench -- segments --rows 200000 --reference-rows 100000 --repeat 1      (a smoke run)
 *
 * Both queries run in one fresh child process, alternating (ungrouped, segmented, ungrouped, …),
 * so both see the same caches and the same neighbours; each run records wall seconds, the
 * process's CPU seconds and the 1-minute load average.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OTHER_CATEGORY } from '../detectors/drift/categories.ts';
import { buildReference } from '../operations/build-reference.ts';
import { planSegments } from '../operations/segment-counts.ts';
import { openClickHouse, queryRows, type ClickHouse } from '../platform/clickhouse/client.ts';
import { applyMigrations } from '../platform/clickhouse/migrations.ts';
import { latestReference } from '../platform/clickhouse/reference-repository.ts';
import { countWindowSegments } from '../platform/clickhouse/window-repository.ts';
import { loadConfig } from '../platform/config.ts';
import { argReader, machine } from './lib/cli.ts';

const NUMERIC = 20;
const CATEGORICAL = 5;
/** Values of the segment key (metadata `region`), Zipf-like volumes: 20 kept, the rest `__other__`. */
const SEGMENT_VALUES = 30;
const MODEL = 'bench-segments';
const REF_START = Date.UTC(2025, 0, 1);
const WINDOW_START = REF_START + 40 * 86_400_000;

const root = path.resolve(import.meta.dirname, '..');
let { flag, option } = argReader([]);
const log = (line: string): void => void process.stderr.write(`[segments-bench] ${line}\n`);

async function open(dir: string): Promise<ClickHouse> {
  return openClickHouse(loadConfig({ env: {}, overrides: { dataDir: dir, logLevel: 'warn' } }));
}

/**
 * Seeded events generated inside ClickHouse (as bench/drift.ts does): numeric f_j ~ N(j, (j+1)²),
 * categorical c_j uniform over 3 + 4j labels, a score, and metadata `region` r0…r29 with volume
 * ∝ 1/(rank + 1). The window shifts f0 by 0.5 σ in r3 only.
 */
async function generate(ch: ClickHouse, start: number, rows: number, seed: number, shifted: boolean): Promise<void> {
  const chunk = 1_000_000;
  for (let offset = 0; offset < rows; offset += chunk) {
    const n = Math.min(chunk, rows - offset);
    await ch.client.command({
      query: `INSERT INTO scoring_events (event_id, model_id, model_version, ts, num_features, cat_features, missing_features, prediction_score, prediction_class, metadata, contract_version, source, source_ref)
        SELECT event_id, model, 'v1', t, mapFromArrays(
            arrayMap(j -> concat('f', toString(j)), range(${NUMERIC})),
            arrayMap(j -> j + (j + 1) * (if({shifted:UInt8} AND j = 0 AND region = 'r3', 0.5, 0)
              + sqrt(-2 * log((cityHash64({seed:UInt32}, number, j, 1) % 1000000 + 1) / 1000001))
              * cos(2 * pi() * (cityHash64({seed:UInt32}, number, j, 2) % 1000000) / 1000000)), range(${NUMERIC}))),
          mapFromArrays(
            arrayMap(j -> concat('c', toString(j)), range(${CATEGORICAL})),
            arrayMap(j -> concat('k', toString(cityHash64({seed:UInt32}, number, j, 3) % (3 + 4 * j))), range(${CATEGORICAL}))),
          [], (cityHash64({seed:UInt32}, number, 4) % 1000000) / 1000000, if(cityHash64({seed:UInt32}, number, 5) % 3 = 0, 'pos', 'neg'),
          map('region', region), 1, 'bench', ''
        FROM (
          SELECT number, concat(toString({seed:UInt32}), '-', toString(number)) AS event_id, {model:String} AS model,
            fromUnixTimestamp64Milli(toInt64({start:Int64} + number)) AS t,
            concat('r', toString(least(${SEGMENT_VALUES - 1}, toUInt32(floor(exp(log(${SEGMENT_VALUES + 1}) * (cityHash64({seed:UInt32}, number, 6) % 1000000) / 1000000)) - 1)))) AS region
          FROM numbers({offset:UInt64}, {n:UInt64})
        )`,
      query_params: { seed, model: MODEL, start, shifted: shifted ? 1 : 0, offset, n },
    });
    log(`  inserted ${(offset + n).toLocaleString('en-US')} / ${rows.toLocaleString('en-US')} rows`);
  }
}

async function countRows(ch: ClickHouse, start: number, rows: number): Promise<number> {
  const r = await queryRows<{ n: number }>(
    ch.client,
    'SELECT count() AS n FROM scoring_events WHERE model_id = {model:String} AND ts >= fromUnixTimestamp64Milli({s:Int64}) AND ts < fromUnixTimestamp64Milli({e:Int64})',
    { model: MODEL, s: start, e: start + rows },
  );
  return Number(r[0]?.n ?? 0);
}

interface Run {
  seconds: number;
  cpu_seconds: number;
  load1: number;
}

/** In a fresh process: the plan (top K of the reference, its segments counted), then both queries alternating. */
async function measure(dir: string, rows: number, topK: number, repeat: number): Promise<Record<string, unknown>> {
  const ch = await open(dir);
  const reference = await latestReference(ch.client, { modelId: MODEL });
  if (!reference) throw new Error('no reference: run without --child first');
  const tp = performance.now();
  const plan = await planSegments(ch.client, reference, { keys: [{ metadata: 'region' }], topK });
  const planSeconds = (performance.now() - tp) / 1000;
  const columns = { ...reference, otherCategory: OTHER_CATEGORY };
  const window = { modelId: MODEL, start: WINDOW_START, end: WINDOW_START + rows };
  const timed = async (segments: typeof plan.toCount): Promise<{ run: Run; segments: number; rows: number }> => {
    const load1 = os.loadavg()[0] ?? Number.NaN;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = await countWindowSegments(ch.client, columns, window, segments);
    const cpu = process.cpuUsage(c0);
    return {
      run: { seconds: (performance.now() - t0) / 1000, cpu_seconds: (cpu.user + cpu.system) / 1e6, load1 },
      segments: out.segments.length,
      rows: out.whole.rows,
    };
  };
  const plain: Run[] = [];
  const grouped: Run[] = [];
  let segments = 0;
  let counted = 0;
  for (let i = 0; i < repeat; i++) {
    const a = await timed([]);
    plain.push(a.run);
    const b = await timed(plan.toCount);
    grouped.push(b.run);
    segments = b.segments;
    counted = b.rows;
  }
  await ch.close();
  const best = (runs: Run[], key: 'seconds' | 'cpu_seconds') => Math.min(...runs.map((r) => r[key]));
  return {
    window_rows: counted,
    segments,
    plan_seconds: planSeconds,
    ungrouped: { best_seconds: best(plain, 'seconds'), best_cpu_seconds: best(plain, 'cpu_seconds'), runs: plain },
    segmented: {
      best_seconds: best(grouped, 'seconds'),
      best_cpu_seconds: best(grouped, 'cpu_seconds'),
      runs: grouped,
    },
    ratio_wall: best(grouped, 'seconds') / best(plain, 'seconds'),
    ratio_cpu: best(grouped, 'cpu_seconds') / best(plain, 'cpu_seconds'),
  };
}

/** Entry point (also for bench/run.ts): `argv` are the options after the benchmark's name. */
export async function main(argv: readonly string[]): Promise<void> {
  ({ flag, option } = argReader(argv));
  if (flag('help') || argv.includes('-h')) {
    process.stdout.write(`usage: npx tsx bench/segments.ts [options]   (or: npm run bench -- segments [options])
  --rows N              current-window rows (default 10000000)
  --reference-rows N    reference window rows (default 1000000)
  --top-k K             segments kept (default 20; 30 values, the rest pool into __other__)
  --repeat N            runs of each query, alternating, in one fresh process (default 3)
  --json                print the result as JSON
  --dir D               data directory of the embedded ClickHouse (default .halflife/bench-segments; data is kept between runs)
Times the window count query with no segment keys and with one key (GROUPING SETS), 20 numeric + 5
categorical features, and reports best-of-N wall and CPU seconds and their ratio (target ≤ 2×).
`);
    return;
  }
  const dir = option('dir', path.join(root, '.halflife', 'bench-segments'));
  const rows = Number(option('rows', '10000000'));
  const referenceRows = Number(option('reference-rows', '1000000'));
  const topK = Number(option('top-k', '20'));
  const repeat = Number(option('repeat', '3'));
  if (option('child', '') === 'measure')
    return void process.stdout.write(`${JSON.stringify(await measure(dir, rows, topK, repeat))}\n`);

  mkdirSync(dir, { recursive: true });
  const ch = await open(dir);
  await applyMigrations(ch.client);
  const t0 = performance.now();
  let fresh = false;
  if ((await countRows(ch, REF_START, referenceRows)) !== referenceRows) {
    log(`generating the reference window: ${referenceRows.toLocaleString('en-US')} rows`);
    await generate(ch, REF_START, referenceRows, 1, false);
    fresh = true;
  }
  if ((await countRows(ch, WINDOW_START, rows)) !== rows) {
    log(`generating the window: ${rows.toLocaleString('en-US')} rows`);
    await generate(ch, WINDOW_START, rows, 1000 + rows, true);
    fresh = true;
  }
  if (fresh) await ch.client.command({ query: 'OPTIMIZE TABLE scoring_events FINAL' });
  log(`data ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await buildReference(ch.client, { modelId: MODEL, start: REF_START, end: REF_START + referenceRows });
  await ch.close();

  log('measuring in a fresh process');
  const out = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), ...argv, '--child', 'measure'],
    { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (out.status !== 0) throw new Error(`measurement failed (${out.status})`);
  const measured = JSON.parse(out.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown> & {
    ungrouped: { best_seconds: number; best_cpu_seconds: number };
    segmented: { best_seconds: number; best_cpu_seconds: number };
    ratio_wall: number;
    ratio_cpu: number;
    segments: number;
    plan_seconds: number;
  };
  const result = {
    machine: machine(),
    command: `npx tsx bench/segments.ts ${argv.join(' ')}`.trim(),
    features: { numeric: NUMERIC, categorical: CATEGORICAL },
    reference_rows: referenceRows,
    top_k: topK,
    ...measured,
    target: '≤ 2×',
  };
  if (flag('json')) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else
    process.stdout.write(
      [
        `machine: ${result.machine.nproc} cores, ${result.machine.memory}, ${result.machine.cpu}; ${result.machine.date}; load ${os.loadavg()[0]?.toFixed(2)}`,
        `window ${rows.toLocaleString('en-US')} rows × ${NUMERIC + CATEGORICAL} features; ${measured.segments} segments (top ${topK} + __other__), planned in ${measured.plan_seconds.toFixed(2)} s`,
        `ungrouped: best ${measured.ungrouped.best_seconds.toFixed(2)} s (CPU ${measured.ungrouped.best_cpu_seconds.toFixed(2)} s)`,
        `segmented: best ${measured.segmented.best_seconds.toFixed(2)} s (CPU ${measured.segmented.best_cpu_seconds.toFixed(2)} s)`,
        `ratio: ${measured.ratio_wall.toFixed(2)}× wall, ${measured.ratio_cpu.toFixed(2)}× CPU (target ≤ 2×)`,
      ].join('\n') + '\n',
    );
}

// Run when executed directly (bench/run.ts imports main instead; the measurement re-runs this file).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  await main(process.argv.slice(2));
