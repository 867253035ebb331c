/**
 * Drift report benchmark: windows of 1M and 10M rows × 20 numeric + 5 categorical
 * features in embedded ClickHouse, counted into a 1M-row reference's bins by the SQL
 * push-down; beside it, on the same 1M rows, halflife's in-process raw-array path (exact KS),
 * per-column scipy (ks_2samp + chi2_contingency) and Evidently's DataDriftPreset.
 *
 *   npx tsx bench/drift.ts [--rows 1000000,10000000] [--reference-rows 1000000] [--repeat 3] [--no-peers] [--json] [--dir D]
 *   npm run bench -- drift --rows 100000 --reference-rows 100000      (a quick run)
 *
 * Each measurement runs in a fresh child process so its peak RSS (VmHWM, which includes the
 * embedded ClickHouse engine's memory) belongs to that measurement alone.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareFeature } from '../detectors/drift/compare-feature.ts';
import { driftReport } from '../detectors/drift/report.ts';
import { buildReference } from '../operations/build-reference.ts';
import { followUpBarsOf, qualityThresholdsOf } from '../detectors/policy/data-quality-bars.ts';
import { driftForWindow, type DriftForWindowOptions } from '../operations/window-drift.ts';
import { openClickHouse, type ClickHouse } from '../platform/clickhouse/client.ts';
import { applyMigrations } from '../platform/clickhouse/migrations.ts';
import { latestReference } from '../platform/clickhouse/reference-repository.ts';
import { loadConfig } from '../platform/config.ts';
import { argReader, machine } from './lib/cli.ts';
import { benchVenvPython } from './lib/bench-venv.ts';
import { BENCH_CATEGORICAL, BENCH_NUMERIC, countRows, generateEvents } from './lib/synthetic-events.ts';

const NUMERIC = BENCH_NUMERIC;
const CATEGORICAL = BENCH_CATEGORICAL;
const MODEL = 'bench-drift';
const REF_START = Date.UTC(2025, 0, 1);
/** Windows are one per size, spaced far apart; row i of a window has ts = start + i ms. */
const windowStart = (rows: number): number =>
  REF_START + 30 * 86_400_000 + Math.round(Math.log10(rows) * 10) * 86_400_000;

const root = path.resolve(import.meta.dirname, '..');
let { flag, option } = argReader([]);
const log = (line: string): void => void process.stderr.write(`[drift-bench] ${line}\n`);

function peakRssMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 1048576;
}

async function open(dir: string): Promise<ClickHouse> {
  return openClickHouse(loadConfig({ env: {}, overrides: { dataDir: dir, logLevel: 'warn' } }));
}

/** Column-oriented JSON: the engine has it; the client's format type does not list it. */
const COLUMNS_FORMAT = 'JSONColumns' as unknown as 'JSONEachRow';

const columnSql = (): string =>
  [
    ...Array.from({ length: NUMERIC }, (_, j) => `num_features['f${j}'] AS f${j}`),
    ...Array.from({ length: CATEGORICAL }, (_, j) => `cat_features['c${j}'] AS c${j}`),
  ].join(', ');

// ------------------------------------------------------------------------------------------
// child measurements

async function measurePushdown(dir: string, rows: number): Promise<Record<string, unknown>> {
  const ch = await open(dir);
  const reference = await latestReference(ch.client, { modelId: MODEL });
  if (!reference) throw new Error('no reference');
  const start = windowStart(rows);
  const runs: { seconds: number; cpu_seconds: number; load1: number }[] = [];
  let report;
  for (let i = 0; i < Number(option('repeat', '3')); i++) {
    // The machine may be shared: the 1-minute load average and this process's CPU time go
    // beside every wall time (CPU seconds move much less with other work than wall time).
    const load1 = os.loadavg()[0] ?? Number.NaN;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = await driftForWindow(ch.client, {
      modelId: MODEL,
      start,
      end: start + rows,
      reference,
      ...stuckBars(),
    });
    const cpu = process.cpuUsage(c0);
    runs.push({ seconds: (performance.now() - t0) / 1000, cpu_seconds: (cpu.user + cpu.system) / 1e6, load1 });
    report = out;
  }
  await ch.close();
  return {
    rows: report?.counts.rows,
    seconds_first: runs[0]?.seconds,
    seconds_best: Math.min(...runs.map((r) => r.seconds)),
    runs,
    peak_rss_mib: peakRssMiB(),
    drifted: report?.report.drifted_features,
    dataset_drift: report?.report.dataset_drift,
    // How the window read settled each stuck-value candidate: its counted share, or the bound its screen gave.
    stuck_candidates: Object.fromEntries(
      (report?.counts.quality ?? [])
        .filter((q) => q.top_value_share != null || q.top_value_share_at_most != null)
        .map((q) => [q.name, { share: q.top_value_share ?? null, share_at_most: q.top_value_share_at_most ?? null }]),
    ),
  };
}

/** A policy's stuck bar (`--stuck-share-increase`) as the window read's follow-up bars and check thresholds. */
function stuckBars(): Pick<DriftForWindowOptions, 'followUps' | 'qualityThresholds'> {
  const bar = option('stuck-share-increase', '');
  if (bar === '') return {};
  const policy = { stuckShareIncrease: Number(bar) };
  return { followUps: followUpBarsOf(policy), qualityThresholds: qualityThresholdsOf(policy) };
}

/** The reference build (`buildReference` in SQL) over the reference window, `--repeat` times in this fresh process. */
async function measureReferenceBuild(dir: string, referenceRows: number): Promise<Record<string, unknown>> {
  const ch = await open(dir);
  const runs: { seconds: number; cpu_seconds: number; load1: number }[] = [];
  for (let i = 0; i < Number(option('repeat', '3')); i++) {
    const load1 = os.loadavg()[0] ?? Number.NaN;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await buildReference(ch.client, { modelId: MODEL, start: REF_START, end: REF_START + referenceRows });
    const cpu = process.cpuUsage(c0);
    runs.push({ seconds: (performance.now() - t0) / 1000, cpu_seconds: (cpu.user + cpu.system) / 1e6, load1 });
  }
  await ch.close();
  return {
    reference_rows: referenceRows,
    seconds_first: runs[0]?.seconds,
    seconds_best: Math.min(...runs.map((r) => r.seconds)),
    runs,
  };
}

async function measureRaw(dir: string, rows: number, referenceRows: number): Promise<Record<string, unknown>> {
  const ch = await open(dir);
  const load = async (start: number, n: number) =>
    (
      await ch.client.query({
        query: `SELECT ${columnSql()} FROM scoring_events WHERE model_id = {model:String} AND ts >= fromUnixTimestamp64Milli({s:Int64}) AND ts < fromUnixTimestamp64Milli({e:Int64})`,
        query_params: { model: MODEL, s: start, e: start + n },
        format: COLUMNS_FORMAT,
      })
    )
      .text()
      .then((t) => JSON.parse(t) as Record<string, (number | string)[]>);
  const ref = await load(REF_START, referenceRows);
  const cur = await load(windowStart(rows), rows);
  await ch.close();
  const loadedRss = process.memoryUsage().rss / 1048576;
  const t0 = performance.now();
  const names = Object.keys(ref);
  const results = names.map((name) =>
    compareFeature(ref[name] as number[] | string[], cur[name] as number[] | string[], {
      name,
      kind: name.startsWith('f') ? 'numeric' : 'categorical',
    }),
  );
  const report = driftReport(results);
  return {
    rows,
    seconds: (performance.now() - t0) / 1000,
    rss_after_load_mib: loadedRss,
    peak_rss_mib: peakRssMiB(),
    drifted: report.drifted_features,
  };
}

// ------------------------------------------------------------------------------------------
// orchestration

/** `1.23 s (cpu 2.01 s, load 0.4)` per run of a push-down measurement. */
const runText = (r: Record<string, unknown>): string =>
  ((r.runs as { seconds: number; cpu_seconds: number; load1: number }[] | undefined) ?? [])
    .map((x) => `${x.seconds.toFixed(2)} s (cpu ${x.cpu_seconds.toFixed(2)} s, load ${x.load1.toFixed(2)})`)
    .join(', ');

function child(mode: string, extra: string[]): Record<string, unknown> {
  const out = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, 'drift.ts'), '--child', mode, ...extra],
    { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (out.status !== 0) throw new Error(`child ${mode} failed (${out.status})`);
  return JSON.parse(out.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
}

function peer(python: string, tool: string, refFile: string, curFile: string): Record<string, unknown> {
  log(`peer: ${tool} on ${path.basename(refFile)} vs ${path.basename(curFile)}`);
  const load1 = os.loadavg()[0];
  const out = execFileSync(
    python,
    [
      path.join(import.meta.dirname, 'peers', 'drift_peers.py'),
      '--tool',
      tool,
      '--reference',
      refFile,
      '--current',
      curFile,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 },
  );
  return {
    ...(JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<string, unknown>),
    load1_start: load1,
    load1_end: os.loadavg()[0],
  };
}

/** Entry point (also for bench/run.ts): `argv` are the options after the benchmark's name. */
export async function main(argv: readonly string[]): Promise<void> {
  ({ flag, option } = argReader(argv));
  if (flag('help') || argv.includes('-h')) {
    process.stdout.write(`usage: npx tsx bench/drift.ts [options]   (or: npm run bench -- drift [options])
  --rows N[,N…]         current-window sizes (default 1000000,10000000)
  --reference-rows N    reference window size (default 1000000)
  --repeat N            push-down runs per size, each size in a fresh process (default 3)
  --no-peers            skip the Python peers (scipy, Evidently) and their Parquet export
  --json                print the result as JSON
  --dir D               data directory of the embedded ClickHouse (default .halflife/bench-drift; data is kept between runs)
  --stuck-share-increase X   the policy's stuck bar for the push-down (default 0.2): 0.15 sends f5 (its spread
                        doubled) through the stuck-value screen's ranks instead of settling it by its bins
Each push-down run records wall seconds, CPU seconds and the 1-minute load average. The reference build
is timed in its own fresh process too; ratios to the peers are given for the window alone and for
reference build + window (the peers compute their reference statistics inside every run). The peers'
imports are outside their timers (as halflife's imports are outside its own).
`);
    return;
  }
  const mode = option('child', '');
  const dir = option('dir', path.join(root, '.halflife', 'bench-drift'));
  if (mode === 'pushdown')
    return void process.stdout.write(`${JSON.stringify(await measurePushdown(dir, Number(option('rows', '0'))))}\n`);
  if (mode === 'reference')
    return void process.stdout.write(
      `${JSON.stringify(await measureReferenceBuild(dir, Number(option('reference-rows', '0'))))}\n`,
    );
  if (mode === 'raw')
    return void process.stdout.write(
      `${JSON.stringify(await measureRaw(dir, Number(option('rows', '0')), Number(option('reference-rows', '0'))))}\n`,
    );

  const sizes = option('rows', '1000000,10000000').split(',').map(Number);
  const referenceRows = Number(option('reference-rows', '1000000'));
  const peerRows = Math.min(...sizes);
  mkdirSync(dir, { recursive: true });

  // 1. Data and reference (kept between runs in --dir; regenerated when missing).
  const ch = await open(dir);
  await applyMigrations(ch.client);
  const t0 = performance.now();
  if ((await countRows(ch, MODEL, REF_START, referenceRows)) !== referenceRows) {
    log(`generating the reference window: ${referenceRows.toLocaleString('en-US')} rows`);
    await generateEvents(ch, { model: MODEL, start: REF_START, rows: referenceRows, seed: 1, log });
  }
  for (const rows of sizes) {
    if ((await countRows(ch, MODEL, windowStart(rows), rows)) !== rows) {
      log(`generating a current window: ${rows.toLocaleString('en-US')} rows`);
      await generateEvents(ch, { model: MODEL, start: windowStart(rows), rows, seed: 1000 + rows, drift: true, log });
    }
  }
  await ch.client.command({ query: 'OPTIMIZE TABLE scoring_events FINAL' });
  log(`data ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const tb = performance.now();
  const reference = await buildReference(ch.client, {
    modelId: MODEL,
    start: REF_START,
    end: REF_START + referenceRows,
  });
  const buildSeconds = (performance.now() - tb) / 1000;
  log(
    `reference built in SQL in ${buildSeconds.toFixed(2)} s (${reference.referenceId}, ${JSON.stringify(reference).length} bytes)`,
  );

  // Parquet for the Python peers: the same rows, one file per window.
  const peerDir = mkdtempSync(path.join(os.tmpdir(), 'halflife-drift-bench-'));
  const refFile = path.join(peerDir, 'reference.parquet');
  const curFile = path.join(peerDir, 'current.parquet');
  const withPeers = !flag('no-peers');
  if (withPeers) {
    for (const [file, start, rows] of [
      [refFile, REF_START, referenceRows],
      [curFile, windowStart(peerRows), peerRows],
    ] as const) {
      await ch.client.command({
        query: `INSERT INTO FUNCTION file({file:String}, 'Parquet') SELECT ${columnSql()} FROM scoring_events
          WHERE model_id = {model:String} AND ts >= fromUnixTimestamp64Milli({s:Int64}) AND ts < fromUnixTimestamp64Milli({e:Int64}) ORDER BY ts`,
        query_params: { file, model: MODEL, s: start, e: start + rows },
      });
    }
    log(`exported ${peerRows.toLocaleString('en-US')}-row windows to Parquet for the peers`);
  }
  await ch.close();

  // 2. Measurements, each in its own process.
  const pushdown: Record<string, unknown>[] = [];
  for (const rows of sizes) {
    log(`push-down drift report over ${rows.toLocaleString('en-US')} rows (3 runs, fresh process)`);
    const bar = option('stuck-share-increase', '');
    const r = child('pushdown', [
      ...['--dir', dir, '--rows', String(rows), '--repeat', option('repeat', '3')],
      ...(bar === '' ? [] : ['--stuck-share-increase', bar]),
    ]);
    log(
      `  first ${Number(r.seconds_first).toFixed(2)} s, best ${Number(r.seconds_best).toFixed(2)} s, peak RSS ${Number(r.peak_rss_mib).toFixed(0)} MiB; runs ${runText(r)}; stuck-value candidates ${JSON.stringify(r.stuck_candidates ?? {})}`,
    );
    pushdown.push(r);
  }
  log(`reference build over ${referenceRows.toLocaleString('en-US')} rows (fresh process)`);
  const referenceBuild = child('reference', [
    '--dir',
    dir,
    '--reference-rows',
    String(referenceRows),
    '--repeat',
    option('repeat', '3'),
  ]);
  log(
    `  first ${Number(referenceBuild.seconds_first).toFixed(2)} s, best ${Number(referenceBuild.seconds_best).toFixed(2)} s; runs ${runText(referenceBuild)}`,
  );
  log(`in-process raw arrays (exact KS) over ${peerRows.toLocaleString('en-US')} rows`);
  const rawLoad = os.loadavg()[0];
  const raw: Record<string, unknown> = {
    ...child('raw', ['--dir', dir, '--rows', String(peerRows), '--reference-rows', String(referenceRows)]),
    load1_start: rawLoad,
  };
  log(`  ${Number(raw.seconds).toFixed(2)} s`);
  const peers: Record<string, Record<string, unknown>> = {};
  if (withPeers) {
    const python = benchVenvPython(log);
    peers.scipy = peer(python, 'scipy', refFile, curFile);
    log(`  scipy ${Number(peers.scipy.seconds).toFixed(2)} s`);
    peers.evidently = peer(python, 'evidently', refFile, curFile);
    log(`  evidently ${Number(peers.evidently.seconds).toFixed(2)} s`);
  }
  rmSync(peerDir, { recursive: true, force: true });

  const atPeerRows = pushdown[sizes.indexOf(peerRows)];
  const halflifeSeconds = Number(atPeerRows?.seconds_best);
  // Evidently builds its reference statistics inside every run; halflife builds its reference once
  // per model version and stores it. Both ratios: the window alone, and reference build + window.
  const withReferenceSeconds = halflifeSeconds + Number(referenceBuild.seconds_best);
  const result = {
    machine: machine(),
    command: `npx tsx bench/drift.ts ${argv.join(' ')}`.trim(),
    features: { numeric: NUMERIC, categorical: CATEGORICAL },
    reference_rows: referenceRows,
    reference_build_seconds: buildSeconds,
    reference_build: referenceBuild,
    pushdown: pushdown.map((p, i): Record<string, unknown> => ({ window_rows: sizes[i], ...p })),
    raw_in_process: raw,
    peers,
    ratio_vs_evidently: peers.evidently ? Number(peers.evidently.seconds) / halflifeSeconds : null,
    ratio_vs_evidently_with_reference_build: peers.evidently
      ? Number(peers.evidently.seconds) / withReferenceSeconds
      : null,
    ratio_vs_scipy: peers.scipy ? Number(peers.scipy.seconds) / halflifeSeconds : null,
    ratio_vs_scipy_with_reference_build: peers.scipy ? Number(peers.scipy.seconds) / withReferenceSeconds : null,
  };
  if (flag('json')) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    const lines = [
      `machine: ${result.machine.nproc} cores, ${result.machine.memory}, ${result.machine.cpu}; ${result.machine.date}`,
      `reference: ${referenceRows.toLocaleString('en-US')} rows, built in SQL in ${buildSeconds.toFixed(2)} s (after data generation); in a fresh process best ${Number(referenceBuild.seconds_best).toFixed(2)} s, first ${Number(referenceBuild.seconds_first).toFixed(2)} s`,
      ...result.pushdown.map(
        (p) =>
          `push-down ${Number(p.window_rows).toLocaleString('en-US')} rows: best ${Number(p.seconds_best).toFixed(2)} s (first ${Number(p.seconds_first).toFixed(2)} s), peak RSS ${Number(p.peak_rss_mib).toFixed(0)} MiB; runs ${runText(p)}`,
      ),
      `in-process raw arrays ${peerRows.toLocaleString('en-US')} rows: ${Number(raw.seconds).toFixed(2)} s, peak RSS ${Number(raw.peak_rss_mib).toFixed(0)} MiB`,
      ...Object.entries(peers).map(
        ([k, v]) =>
          `${k} ${peerRows.toLocaleString('en-US')} rows: ${Number(v.seconds).toFixed(2)} s (imports ${Number(v.import_seconds).toFixed(2)} s, outside the timer), peak RSS ${Number(v.peak_rss_mib).toFixed(0)} MiB (load ${Number(v.load1_start).toFixed(2)} → ${Number(v.load1_end).toFixed(2)})`,
      ),
      result.ratio_vs_evidently
        ? `halflife push-down is ${result.ratio_vs_evidently.toFixed(1)}× faster than Evidently (${result.ratio_vs_evidently_with_reference_build?.toFixed(1)}× counting halflife's reference build), ${result.ratio_vs_scipy?.toFixed(1)}× faster than per-column scipy (${result.ratio_vs_scipy_with_reference_build?.toFixed(1)}× with the build)`
        : '',
    ];
    process.stdout.write(`${lines.filter(Boolean).join('\n')}\n`);
  }
}

// Run when executed directly (bench/run.ts imports main instead; measurements re-run this file).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  await main(process.argv.slice(2));
