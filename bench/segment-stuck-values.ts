/**
 * What a segment's own stuck-value baseline costs (issue #12): the two queries the per-segment
 * stuck-value check added, timed and counted by the engine's own statistics (rows and bytes read).
 *
 * - **The window's top-value query** (window-batch-repository.ts `batchedTopValueShares`, run by a
 *   tick when its counts point at a stuck value): `--features` numeric features of the whole window
 *   without segments (the unsegmented text, what a tick ran before segments had baselines), and
 *   the same features of the whole window and of each of S kept segments (the segmented text: each
 *   event once per grouping). Every kept segment asks for every feature — the most a tick can ask;
 *   a tick asks only for the segments whose counts point at a stuck value.
 * - **The reference's baseline query** (reference-repository.ts `referenceTopValuesBySegment`, run
 *   once per reference and policy by operations/segment-counts.ts `planSegments`): every numeric
 *   feature's most frequent value in the whole reference (S = 0: `referenceTopValues`, what a
 *   reference counted before) and, grouped, in each of S kept segments and `__other__`.
 *
 * Data: one reference and one window of the largest `--rows` (bench/lib/synthetic-events.ts: 20
 * numeric + 5 categorical features, metadata `region` of 30 values with Zipf-like volumes, the
 * key's kept values its top S in the reference, as planSegments keeps them). A smaller row count
 * reads a prefix of the same rows (event i is at start + i ms), so every case reads the same data.
 * Each row count's cases run once untimed, then round-robin `--repeat` times: wall ms p50/p95 (the
 * client's, queue included), the engine's own elapsed ms, rows and bytes read, the 1-minute load.
 *
 *   npm run bench -- segment-stuck-values [--rows 1000,10000,100000] [--segments 1,5,20]
 *     [--features 3] [--repeat 20] [--json] [--dir D]
 */
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openClickHouse, type ClickHouse } from '../platform/clickhouse/client.ts';
import { applyMigrations } from '../platform/clickhouse/migrations.ts';
import { readStatisticsClient, type QueryReadStatistics } from '../platform/clickhouse/read-statistics.ts';
import { referenceTopValuesBySegment } from '../platform/clickhouse/reference-repository.ts';
import { MISSING_SEGMENT, OTHER_SEGMENT, type SegmentsToCount } from '../platform/clickhouse/segment-grouping.ts';
import { batchedTopValueShares, type WindowTopValues } from '../platform/clickhouse/window-batch-repository.ts';
import { segmentTopValues } from '../platform/clickhouse/window-repository.ts';
import { loadConfig } from '../platform/config.ts';
import { argReader, machine } from './lib/cli.ts';
import { BENCH_NUMERIC, countRows, generateEvents } from './lib/synthetic-events.ts';

const MODEL = 'bench-segment-stuck-values';
const REF_START = Date.UTC(2025, 0, 1);
const WINDOW_START = REF_START + 40 * 86_400_000;
/** Values of the segment key, as in bench/segments.ts. */
const REGIONS = 30;
const KEY = { metadata: 'region' } as const;
const NUMERIC = Array.from({ length: BENCH_NUMERIC }, (_, j) => `f${j}`);

const root = path.resolve(import.meta.dirname, '..');
const log = (line: string): void => void process.stderr.write(`[segment-stuck-values] ${line}\n`);

const USAGE = `usage: npm run bench -- segment-stuck-values [options]   (or: npx tsx bench/segment-stuck-values.ts)
  --rows LIST       window and reference rows, comma-separated (default 1000,10000,100000)
  --segments LIST   kept segments of the key, comma-separated (default 1,5,20; 30 values, the rest __other__)
  --features F      numeric features the window's top-value query asks, per segment too (default 3)
  --repeat N        timed runs of each case, round-robin, after one untimed run (default 20)
  --json            print the result as JSON (default: a Markdown table)
  --dir D           data directory of the embedded ClickHouse (default .halflife/bench-segment-stuck-values; kept)
Times the window's top-value query without segments and with S segments' candidates, and the
reference's baseline query by segment count (S = 0: the whole reference only): wall ms p50/p95,
the engine's elapsed ms, rows and bytes read.
`;

/** One timed run of one case. */
interface Run {
  ms: number;
  engineMs: number;
  rowsRead: number;
  bytesRead: number;
  load1: number;
}

/** One case's runs, summarised. */
interface CaseResult {
  query: 'window top values' | 'reference baseline';
  rows: number;
  segments: number;
  /** Share of the read's events in the segments asked for (the window query; null for the reference's, which groups them all). */
  askedShare: number | null;
  p50Ms: number;
  p95Ms: number;
  engineP50Ms: number;
  /** Least and most over the runs: rows read are deterministic, so the two are equal unless a merge ran between runs. */
  rowsRead: [number, number];
  bytesRead: [number, number];
  loadMin: number;
  loadMax: number;
}

/** Nearest-rank percentile of `values` (q in (0, 1]). */
function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

/** `a` when both ends agree, else `a–b`. */
const range = ([a, b]: readonly [number, number]): string =>
  a === b ? a.toLocaleString('en-US') : `${a.toLocaleString('en-US')}–${b.toLocaleString('en-US')}`;

const list = (text: string): number[] => text.split(',').map((s) => Number(s.trim()));

function summary(
  query: CaseResult['query'],
  rows: number,
  segments: number,
  askedShare: number | null,
  runs: readonly Run[],
): CaseResult {
  return {
    query,
    rows,
    segments,
    askedShare,
    p50Ms: percentile(
      runs.map((r) => r.ms),
      0.5,
    ),
    p95Ms: percentile(
      runs.map((r) => r.ms),
      0.95,
    ),
    engineP50Ms: percentile(
      runs.map((r) => r.engineMs),
      0.5,
    ),
    rowsRead: [Math.min(...runs.map((r) => r.rowsRead)), Math.max(...runs.map((r) => r.rowsRead))],
    bytesRead: [Math.min(...runs.map((r) => r.bytesRead)), Math.max(...runs.map((r) => r.bytesRead))],
    loadMin: Math.min(...runs.map((r) => r.load1)),
    loadMax: Math.max(...runs.map((r) => r.load1)),
  };
}

/** The reference and the window, `rows` each, generated once per data directory. */
async function ensureData(ch: ClickHouse, rows: number): Promise<void> {
  let fresh = false;
  for (const [label, start, seed, regionShift] of [
    ['reference', REF_START, 1, false],
    ['window', WINDOW_START, 2, true],
  ] as const) {
    if ((await countRows(ch, MODEL, start, rows)) === rows) continue;
    log(`generating the ${label}: ${rows.toLocaleString('en-US')} rows`);
    await generateEvents(ch, { model: MODEL, start, rows, seed, regions: REGIONS, regionShift, log });
    fresh = true;
  }
  // One part per partition, as a long-settled table reads (FINAL then merges nothing).
  if (fresh) await ch.client.command({ query: 'OPTIMIZE TABLE scoring_events FINAL' });
}

/** Every feature asked for has a most frequent value (the data has finite values everywhere). */
function checkAnswered(out: WindowTopValues, features: readonly string[], segments: number): void {
  const missing = features.filter((f) => out.whole[f] == null);
  if (missing.length > 0) throw new Error(`window top values: no answer for ${missing.join(', ')}`);
  if (out.segments.length !== segments)
    throw new Error(`window top values: ${out.segments.length} segments answered, ${segments} asked`);
  for (const s of out.segments)
    if (features.some((f) => s.topValues[f] == null))
      throw new Error(`window top values: segment ${s.value} unanswered`);
}

/** Entry point (also for bench/run.ts): `argv` are the options after the benchmark's name. */
export async function main(argv: readonly string[]): Promise<void> {
  const { flag, option } = argReader(argv);
  if (flag('help') || argv.includes('-h')) return void process.stdout.write(USAGE);
  const rowCounts = list(option('rows', '1000,10000,100000'));
  const segmentCounts = list(option('segments', '1,5,20'));
  const featureCount = Number(option('features', '3'));
  const repeat = Number(option('repeat', '20'));
  const bad = [
    ...rowCounts.filter((n) => !(Number.isInteger(n) && n > 0)).map((n) => `--rows ${n}: a positive integer`),
    ...segmentCounts
      .filter((n) => !(Number.isInteger(n) && n > 0 && n < REGIONS))
      .map((n) => `--segments ${n}: an integer from 1 to ${REGIONS - 1} (the key has ${REGIONS} values)`),
    ...(Number.isInteger(featureCount) && featureCount > 0 && featureCount <= NUMERIC.length
      ? []
      : [`--features ${featureCount}: an integer from 1 to ${NUMERIC.length}`]),
    ...(Number.isInteger(repeat) && repeat > 0 ? [] : [`--repeat ${repeat}: a positive integer`]),
  ];
  if (bad.length > 0) throw new Error(`${bad.join('; ')}\n${USAGE}`);
  const dir = option('dir', path.join(root, '.halflife', 'bench-segment-stuck-values'));
  mkdirSync(dir, { recursive: true });
  const ch = await openClickHouse(loadConfig({ env: {}, overrides: { dataDir: dir, logLevel: 'warn' } }));
  const results: CaseResult[] = [];
  try {
    await applyMigrations(ch.client);
    const t0 = performance.now();
    await ensureData(ch, Math.max(...rowCounts));
    log(`data ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const stats = readStatisticsClient(ch.client);
    const features = NUMERIC.slice(0, featureCount);
    for (const rows of rowCounts) {
      const reference = { modelId: MODEL, start: REF_START, end: REF_START + rows };
      const window = { modelId: MODEL, start: WINDOW_START, end: WINDOW_START + rows };
      // The key's kept values: its top S in the reference, as planSegments keeps them.
      const ranked = (await segmentTopValues(ch.client, reference, KEY, REGIONS)).filter(
        (t) => t.value !== OTHER_SEGMENT && t.value !== MISSING_SEGMENT,
      );
      const windowVolumes = new Map(
        (await segmentTopValues(ch.client, window, KEY, REGIONS)).map((t) => [t.value, t.events]),
      );
      const plans = segmentCounts.map((s): SegmentsToCount => ({
        key: KEY,
        values: ranked.slice(0, s).map((t) => t.value),
      }));
      const askedShare = (plan: SegmentsToCount) =>
        plan.values.reduce((sum, v) => sum + (windowVolumes.get(v) ?? 0), 0) / rows;

      const timed = async (call: () => Promise<unknown>): Promise<Run> => {
        stats.take();
        const load1 = os.loadavg()[0] ?? Number.NaN;
        const start = performance.now();
        await call();
        const ms = performance.now() - start;
        const queries: QueryReadStatistics[] = stats.take();
        return {
          ms,
          load1,
          engineMs: queries.reduce((sum, q) => sum + q.elapsedMs, 0),
          rowsRead: queries.reduce((sum, q) => sum + q.rowsRead, 0),
          bytesRead: queries.reduce((sum, q) => sum + q.bytesRead, 0),
        };
      };
      const windowQuery = async (plan: SegmentsToCount | null) => {
        const [out] = await batchedTopValueShares(stats.client, [
          {
            ...window,
            features,
            ...(plan
              ? { segments: [plan], segmentFeatures: plan.values.map((value) => ({ key: 0, value, features })) }
              : {}),
          },
        ]);
        checkAnswered(out!, features, plan?.values.length ?? 0);
        return out!;
      };
      const referenceQuery = async (plan: SegmentsToCount | null) => {
        const out = await referenceTopValuesBySegment(stats.client, reference, NUMERIC, plan ? [plan] : []);
        // Each kept segment and __other__ (30 values, fewer kept) have events.
        if (out.segments.length !== (plan ? plan.values.length + 1 : 0))
          throw new Error(`reference baseline: ${out.segments.length} segments for ${plan?.values.length ?? 0} kept`);
        return out;
      };
      const cases: {
        query: CaseResult['query'];
        segments: number;
        share: number | null;
        run: () => Promise<unknown>;
      }[] = [
        { query: 'window top values', segments: 0, share: null, run: () => windowQuery(null) },
        ...plans.map((plan) => ({
          query: 'window top values' as const,
          segments: plan.values.length,
          share: askedShare(plan),
          run: () => windowQuery(plan),
        })),
        { query: 'reference baseline', segments: 0, share: null, run: () => referenceQuery(null) },
        ...plans.map((plan) => ({
          query: 'reference baseline' as const,
          segments: plan.values.length,
          share: null,
          run: () => referenceQuery(plan),
        })),
      ];
      // The same data on both sides: the whole window's answer must not depend on the segments asked.
      const wholeAnswers = new Set<string>();
      for (const plan of [null, ...plans]) wholeAnswers.add(JSON.stringify((await windowQuery(plan)).whole));
      if (wholeAnswers.size !== 1) throw new Error(`${rows} rows: the whole window's top values differ with segments`);
      log(`${rows.toLocaleString('en-US')} rows: ${cases.length} cases × ${repeat} runs`);
      for (const c of cases) await c.run();
      const runs = cases.map((): Run[] => []);
      for (let r = 0; r < repeat; r++) for (const [i, c] of cases.entries()) runs[i]!.push(await timed(c.run));
      cases.forEach((c, i) => results.push(summary(c.query, rows, c.segments, c.share, runs[i]!)));
    }
  } finally {
    await ch.close();
  }
  const report = {
    machine: machine(),
    command: `npm run bench -- segment-stuck-values ${argv.join(' ')}`.trim(),
    loadAtEnd: os.loadavg().map((l) => Number(l.toFixed(2))),
    features: { windowQuery: featureCount, referenceQuery: NUMERIC.length },
    repeat,
    results,
  };
  if (flag('json')) return void process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  const m = report.machine;
  const base = new Map(
    results.filter((r) => r.segments === 0).map((r) => [`${r.query}\u0000${r.rows}`, r.p50Ms] as const),
  );
  const lines = [
    `machine: ${m.nproc} cores, ${m.memory}, ${m.cpu}, Node ${m.node}; ${m.date}; 1-minute load at the end ${report.loadAtEnd[0]}`,
    '',
    '| query | rows | segments | events in asked segments | p50 ms | p95 ms | engine p50 ms | p50 vs none | rows read | bytes read | 1-min load |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...results
      .map((r) =>
        [
          r.query,
          r.rows.toLocaleString('en-US'),
          r.segments,
          r.askedShare === null ? '–' : `${(100 * r.askedShare).toFixed(0)}%`,
          r.p50Ms.toFixed(1),
          r.p95Ms.toFixed(1),
          r.engineP50Ms.toFixed(1),
          `${(r.p50Ms / base.get(`${r.query}\u0000${r.rows}`)!).toFixed(2)}×`,
          range(r.rowsRead),
          range(r.bytesRead),
          `${r.loadMin.toFixed(1)}–${r.loadMax.toFixed(1)}`,
        ].join(' | '),
      )
      .map((row) => `| ${row} |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

// Run when executed directly (bench/run.ts imports main instead).
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename))
  await main(process.argv.slice(2));
