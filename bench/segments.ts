/**
 * Segment query benchmark: what counting a window per segment costs beside counting it whole.
 * A 10M-row window × 20 numeric + 5 categorical features in embedded ClickHouse (bench/lib/
 * synthetic-events.ts, the drift benchmark's rows with a metadata `region`), counted into a
 * 1M-row reference's bins by the window count query, once ungrouped (no segment keys: the query
 * every monitor runs) and once with one segment key of 20 kept segments plus `__other__`
 * (`GROUPING SETS ((), (s0))`: the whole window and every segment in one read of the rows).
 * Target: the segmented query ≤ 2× the ungrouped one.
 *
 * Beside the count query, the whole window read a segmented tick makes (activities/window-read.ts
 * `readWindowAlone`: counts, versions, score histogram, labelled groups and the label-free
 * estimation groups, with 10% of events labelled and an estimator fitted on the reference's
 * labels), with and without the segment key: what a segment costs a tick, not only its counts.
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
import { readWindowAlone } from '../activities/window-read.ts';
import { OTHER_CATEGORY } from '../detectors/drift/categories.ts';
import { estimationGrouping } from '../detectors/quality/cbpe-groups.ts';
import { fitCbpe } from '../detectors/quality/cbpe.ts';
import { DEFAULT_SCORE_HISTOGRAM_BINS } from '../detectors/quality/score-histogram.ts';
import { buildReference } from '../operations/build-reference.ts';
import { planSegments } from '../operations/segment-counts.ts';
import { openClickHouse, type ClickHouse } from '../platform/clickhouse/client.ts';
import type { EstimationQuery } from '../platform/clickhouse/estimation-repository.ts';
import { applyMigrations } from '../platform/clickhouse/migrations.ts';
import { latestReference } from '../platform/clickhouse/reference-repository.ts';
import { countWindowSegments, labelledScoreSample } from '../platform/clickhouse/window-repository.ts';
import { loadConfig } from '../platform/config.ts';
import { argReader, machine } from './lib/cli.ts';
import {
  BENCH_CATEGORICAL,
  BENCH_NUMERIC,
  countLabels,
  countRows,
  generateEvents,
  generateLabels,
} from './lib/synthetic-events.ts';

const NUMERIC = BENCH_NUMERIC;
const CATEGORICAL = BENCH_CATEGORICAL;
/** Share of events labelled (an hour after the event), in the reference and the window. */
const LABELLED_SHARE = 0.1;
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
  // The label-free estimator as a monitor fits it on the reference (labelled sample, own threshold 0.5).
  const sample = await labelledScoreSample(ch.client, MODEL, { start: reference.start, end: reference.end }, 50_000);
  const cbpe = fitCbpe(
    sample.map((x) => x.label),
    sample.map((x) => x.score),
  );
  const estimation: EstimationQuery = { ...estimationGrouping(cbpe), referenceRange: cbpe.referenceScoreRange };
  const read = async (segments: typeof plan.toCount): Promise<Run> => {
    const load1 = os.loadavg()[0] ?? Number.NaN;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await readWindowAlone(
      ch.client,
      { ...window, reference, labelsArrivedBy: window.end + 3_600_000, segments, estimation },
      DEFAULT_SCORE_HISTOGRAM_BINS,
    );
    const cpu = process.cpuUsage(c0);
    return { seconds: (performance.now() - t0) / 1000, cpu_seconds: (cpu.user + cpu.system) / 1e6, load1 };
  };
  const plain: Run[] = [];
  const grouped: Run[] = [];
  const plainRead: Run[] = [];
  const groupedRead: Run[] = [];
  let segments = 0;
  let counted = 0;
  for (let i = 0; i < repeat; i++) {
    const a = await timed([]);
    plain.push(a.run);
    const b = await timed(plan.toCount);
    grouped.push(b.run);
    segments = b.segments;
    counted = b.rows;
    if (!flag('count-only')) {
      plainRead.push(await read([]));
      groupedRead.push(await read(plan.toCount));
    }
  }
  await ch.close();
  const best = (runs: Run[], key: 'seconds' | 'cpu_seconds') => Math.min(...runs.map((r) => r[key]));
  const side = (runs: Run[]) => ({
    best_seconds: best(runs, 'seconds'),
    best_cpu_seconds: best(runs, 'cpu_seconds'),
    runs,
  });
  return {
    window_rows: counted,
    segments,
    plan_seconds: planSeconds,
    estimation_steps: estimation.steps.length,
    ungrouped: side(plain),
    segmented: side(grouped),
    ratio_wall: best(grouped, 'seconds') / best(plain, 'seconds'),
    ratio_cpu: best(grouped, 'cpu_seconds') / best(plain, 'cpu_seconds'),
    ...(plainRead.length > 0
      ? {
          read: {
            ungrouped: side(plainRead),
            segmented: side(groupedRead),
            ratio_wall: best(groupedRead, 'seconds') / best(plainRead, 'seconds'),
            ratio_cpu: best(groupedRead, 'cpu_seconds') / best(plainRead, 'cpu_seconds'),
          },
        }
      : {}),
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
  --count-only          time the count query only (not the whole window read)
  --json                print the result as JSON
  --dir D               data directory of the embedded ClickHouse (default .halflife/bench-segments; data is kept between runs)
Times the window count query with no segment keys and with one key (GROUPING SETS), 20 numeric + 5
categorical features, and reports best-of-N wall and CPU seconds and their ratio (target ≤ 2×); then
the whole window read of a tick (counts, labelled groups, estimation groups; 10% of events labelled)
with and without the key.
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
  const generated = async (label: string, start: number, n: number, seed: number, shifted: boolean) => {
    if ((await countRows(ch, MODEL, start, n)) !== n) {
      log(`generating the ${label}: ${n.toLocaleString('en-US')} rows`);
      await generateEvents(ch, {
        model: MODEL,
        start,
        rows: n,
        seed,
        regions: SEGMENT_VALUES,
        regionShift: shifted,
        log,
      });
      fresh = true;
    }
    // A data directory from before labels were generated gets its labels now.
    if ((await countLabels(ch, MODEL, start, n)) === 0) {
      log(`labelling ${100 * LABELLED_SHARE}% of the ${label}`);
      await generateLabels(ch, { model: MODEL, start, rows: n, share: LABELLED_SHARE, delayMs: 3_600_000 });
      fresh = true;
    }
  };
  await generated('reference window', REF_START, referenceRows, 1, false);
  await generated('window', WINDOW_START, rows, 1000 + rows, true);
  if (fresh) {
    await ch.client.command({ query: 'OPTIMIZE TABLE scoring_events FINAL' });
    await ch.client.command({ query: 'OPTIMIZE TABLE labels FINAL' });
  }
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
    estimation_steps: number;
    read?: {
      ungrouped: { best_seconds: number; best_cpu_seconds: number };
      segmented: { best_seconds: number; best_cpu_seconds: number };
      ratio_wall: number;
      ratio_cpu: number;
    };
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
        ...(measured.read
          ? [
              `whole window read (counts, labels, estimation at ${measured.estimation_steps} step bounds):`,
              `  ungrouped: best ${measured.read.ungrouped.best_seconds.toFixed(2)} s (CPU ${measured.read.ungrouped.best_cpu_seconds.toFixed(2)} s)`,
              `  segmented: best ${measured.read.segmented.best_seconds.toFixed(2)} s (CPU ${measured.read.segmented.best_cpu_seconds.toFixed(2)} s)`,
              `  ratio: ${measured.read.ratio_wall.toFixed(2)}× wall, ${measured.read.ratio_cpu.toFixed(2)}× CPU`,
            ]
          : []),
      ].join('\n') + '\n',
    );
}

// Run when executed directly (bench/run.ts imports main instead; the measurement re-runs this file).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  await main(process.argv.slice(2));
