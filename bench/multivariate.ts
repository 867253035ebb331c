/**
 * Multivariate drift benchmark: halflife's domain classifier and PCA reconstruction error against
 * NannyML's DomainClassifierCalculator and DataReconstructionDriftCalculator on the same rows.
 *
 *   npx tsx bench/multivariate.ts [--rows 1000000] [--chunks 10] [--sample-rows 1000] [--no-peers] [--json] [--write-md]
 *   npm run bench -- multivariate --rows 100000        (a quick run)
 *
 * The data: `--rows` events of five numeric features in an embedded ClickHouse, generated in SQL
 * (seeded): f0, f1 ~ N(0, 1) with correlation 0.8, f2..f4 ~ N(0, 1) alone. The first half is the
 * reference; the second half's first two chunks are like it, and from the third chunk on the
 * correlation of f0 and f1 is −0.8 — the marginals never change, so no per-feature test can see it.
 * Both tools judge every chunk (NannyML's fit also scores the reference's own chunks).
 *
 * halflife runs its monitor path: each chunk is a window, a hash sample of `--sample-rows` rows is
 * read from it (and once from the reference) in SQL, and the tests run on the samples. NannyML reads
 * the same rows from a Parquet export into pandas and runs on all of them (LightGBM with 5-fold CV
 * per chunk; PCA on the reference). Imports, data generation and file reading are outside both timers.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { multivariateDrift, type MultivariateTestResult } from '../detectors/drift/multivariate/report.ts';
import type { SampledRows } from '../detectors/drift/multivariate/sample.ts';
import { DEFAULT_MULTIVARIATE_SETTINGS, type MultivariateTest } from '../detectors/drift/multivariate/settings.ts';
import { openClickHouse, type ClickHouse } from '../platform/clickhouse/client.ts';
import { applyMigrations } from '../platform/clickhouse/migrations.ts';
import { sampleWindowRows } from '../platform/clickhouse/row-sample-repository.ts';
import { loadConfig } from '../platform/config.ts';
import { benchVenvPython } from './lib/bench-venv.ts';
import { argReader, machine } from './lib/cli.ts';
import { replaceSection } from './lib/markdown-section.ts';

const MODEL = 'bench-multivariate';
const START = Date.UTC(2025, 0, 1);
const FEATURES = ['f0', 'f1', 'f2', 'f3', 'f4'];
/** The level of each of the two tests compared: the policy default split over them (Bonferroni). */
const TESTS: MultivariateTest[] = ['domain-classifier', 'pca-reconstruction'];

const root = path.resolve(import.meta.dirname, '..');
const log = (line: string): void => void process.stderr.write(`[multivariate-bench] ${line}\n`);

/** Row i has ts = START + i ms; chunks of `chunkRows`; the correlation flips from chunk `flipFrom` on. */
async function generate(ch: ClickHouse, rows: number, chunkRows: number, flipFrom: number): Promise<void> {
  const batch = 1_000_000;
  const normal = (k: number) =>
    `sqrt(-2 * log((cityHash64(7, number, ${k}, 1) % 1000000 + 1) / 1000001)) * cos(2 * pi() * (cityHash64(7, number, ${k}, 2) % 1000000) / 1000000)`;
  for (let offset = 0; offset < rows; offset += batch) {
    const n = Math.min(batch, rows - offset);
    await ch.client.command({
      query: `INSERT INTO scoring_events (event_id, model_id, model_version, ts, num_features, cat_features, missing_features, contract_version, source, source_ref)
        SELECT concat('mv-', toString(number)), {model:String}, 'v1', fromUnixTimestamp64Milli(toInt64({start:Int64} + number)),
          map('f0', z0, 'f1', rho * z0 + sqrt(1 - rho * rho) * z1, 'f2', ${normal(2)}, 'f3', ${normal(3)}, 'f4', ${normal(4)}),
          map(), [], 1, 'bench', ''
        FROM (SELECT number, ${normal(0)} AS z0, ${normal(1)} AS z1,
                if(intDiv(number, {chunk:UInt64}) >= {flip:UInt64}, -0.8, 0.8) AS rho
              FROM numbers({offset:UInt64}, {n:UInt64}))`,
      query_params: { model: MODEL, start: START, chunk: chunkRows, flip: flipFrom, offset, n },
    });
    log(`  generated ${(offset + n).toLocaleString('en-US')} / ${rows.toLocaleString('en-US')} rows`);
  }
}

async function exportParquet(ch: ClickHouse, file: string): Promise<void> {
  await ch.client.command({
    query: `INSERT INTO FUNCTION file({file:String}, 'Parquet')
      SELECT ${FEATURES.map((f) => `num_features['${f}'] AS ${f}`).join(', ')}, toUnixTimestamp64Milli(ts) AS ts
      FROM scoring_events WHERE model_id = {model:String} ORDER BY ts`,
    query_params: { file, model: MODEL },
  });
}

interface HalflifeChunk {
  chunk: number;
  sample_seconds: number;
  tests: Record<string, { seconds: number; result: MultivariateTestResult | null }>;
}

async function runHalflife(ch: ClickHouse, rows: number, chunkRows: number, referenceRows: number, sampleRows: number) {
  const columns = { numeric: FEATURES, categorical: [] };
  const events = (start: number, end: number) => ({ modelId: MODEL, start, end, final: false });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const reference = await sampleWindowRows(ch.client, events(START, START + referenceRows), columns, sampleRows);
  const referenceSeconds = (performance.now() - t0) / 1000;
  const chunks: HalflifeChunk[] = [];
  for (let k = 0; k * chunkRows < rows; k++) {
    const s0 = performance.now();
    const window: SampledRows = await sampleWindowRows(
      ch.client,
      events(START + k * chunkRows, START + Math.min(rows, (k + 1) * chunkRows)),
      columns,
      sampleRows,
    );
    const sampleSeconds = (performance.now() - s0) / 1000;
    const tests: HalflifeChunk['tests'] = {};
    for (const test of TESTS) {
      const r0 = performance.now();
      // Each test alone at its share of the default level, as when both run in one report.
      const report = multivariateDrift(reference, window, {
        tests: [test],
        alpha: DEFAULT_MULTIVARIATE_SETTINGS.alpha / TESTS.length,
      });
      tests[test] = { seconds: (performance.now() - r0) / 1000, result: report?.tests[0] ?? null };
    }
    chunks.push({ chunk: k, sample_seconds: sampleSeconds, tests });
  }
  const cpu = process.cpuUsage(c0);
  return {
    seconds: (performance.now() - t0) / 1000,
    cpu_seconds: (cpu.user + cpu.system) / 1e6,
    reference_sample_seconds: referenceSeconds,
    sample_rows: sampleRows,
    chunks,
  };
}

interface PeerChunk {
  period: string;
  start_index: number;
  value: number;
  lower: number | null;
  upper: number | null;
  alert: boolean;
}
interface PeerCalculator {
  fit_seconds: number;
  calculate_seconds: number;
  chunks: PeerChunk[];
}

function runPeer(file: string, referenceRows: number, chunkRows: number, threads: number) {
  const python = benchVenvPython(log);
  const load1Start = os.loadavg()[0];
  const out = spawnSync(
    python,
    [
      path.join(root, 'bench', 'peers', 'nannyml_multivariate.py'),
      '--data',
      file,
      '--reference-rows',
      String(referenceRows),
      '--chunk-size',
      String(chunkRows),
      '--threads',
      String(threads),
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (out.status !== 0) throw new Error(`NannyML peer failed: ${out.stderr}`);
  const lines = out.stdout.trim().split('\n');
  const result = JSON.parse(lines[lines.length - 1] as string) as {
    import_seconds: number;
    nannyml: string;
    reconstruction: PeerCalculator;
    domain_classifier: PeerCalculator;
  };
  return { ...result, load1_start: load1Start, load1_end: os.loadavg()[0] };
}

const f3 = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : x.toFixed(3));

function markdown(result: Awaited<ReturnType<typeof measure>>): string {
  const m = result.machine;
  const h = result.halflife;
  const p = result.nannyml;
  const lines = [
    `Machine: ${m.nproc} cores, ${m.memory}, ${m.cpu}; node ${m.node}; ${m.date}; 1-minute load ${f3(result.load1_start)} at the start. Command: \`${result.command}\`.`,
    '',
    `${result.rows.toLocaleString('en-US')} rows, five numeric features; the first ${result.reference_rows.toLocaleString('en-US')} are the reference; chunks of ${result.chunk_rows.toLocaleString('en-US')} rows; the correlation of f0 and f1 flips from 0.8 to −0.8 in chunks ≥ ${result.flip_from} (marginals unchanged). halflife samples ${h.sample_rows.toLocaleString('en-US')} rows per side by a hash of the event id; NannyML ${p ? p.nannyml : ''} uses every row.`,
    '',
    '| chunk | period | changed | halflife classifier AUC (p) | NannyML classifier AUC | halflife PCA error [band] | NannyML PCA error [band] |',
    '|---|---|---|---|---|---|---|',
  ];
  h.chunks.forEach((c, k) => {
    const dc = c.tests['domain-classifier']?.result;
    const pca = c.tests['pca-reconstruction']?.result;
    const peerDc = p?.domain_classifier.chunks[k];
    const peerPca = p?.reconstruction.chunks[k];
    const verdict = (drifted: boolean | undefined) => (drifted ? ' **drift**' : '');
    lines.push(
      `| ${k} | ${k * result.chunk_rows < result.reference_rows ? 'reference' : 'analysis'} | ${k >= result.flip_from ? 'yes' : 'no'} | ${f3(dc?.statistic.value)} (${dc ? dc.pvalue.toExponential(1) : '—'})${verdict(dc?.drifted)} | ${f3(peerDc?.value)}${verdict(peerDc?.alert)} | ${f3(pca?.statistic.value)} [${f3(pca?.details.band_lower)}, ${f3(pca?.details.band_upper)}]${verdict(pca?.drifted)} | ${f3(peerPca?.value)} [${f3(peerPca?.lower)}, ${f3(peerPca?.upper)}]${verdict(peerPca?.alert)} |`,
    );
  });
  const sum = (test: string) => h.chunks.reduce((s, c) => s + (c.tests[test]?.seconds ?? 0), 0);
  const sampling = h.reference_sample_seconds + h.chunks.reduce((s, c) => s + c.sample_seconds, 0);
  lines.push(
    '',
    '| seconds (wall) | domain classifier | PCA reconstruction |',
    '|---|---|---|',
    `| halflife: samples read in SQL (shared by both tests) | ${sampling.toFixed(2)} | (same) |`,
    `| halflife: tests on the samples, all chunks | ${sum('domain-classifier').toFixed(2)} | ${sum('pca-reconstruction').toFixed(2)} |`,
    ...(p
      ? [
          `| NannyML: fit (scores the reference's chunks too) | ${p.domain_classifier.fit_seconds.toFixed(2)} | ${p.reconstruction.fit_seconds.toFixed(2)} |`,
          `| NannyML: calculate (the analysis chunks) | ${p.domain_classifier.calculate_seconds.toFixed(2)} | ${p.reconstruction.calculate_seconds.toFixed(2)} |`,
        ]
      : []),
    '',
    `halflife total ${h.seconds.toFixed(2)} s wall, ${h.cpu_seconds.toFixed(2)} s CPU (both tests, every chunk, sampling included)${p ? `; NannyML imports ${p.import_seconds.toFixed(2)} s (outside its timers); load ${f3(p.load1_start)} → ${f3(p.load1_end)} over its run` : ''}.`,
  );
  return lines.join('\n');
}

async function measure(argv: readonly string[]) {
  const { flag, option } = argReader(argv);
  const rows = Number(option('rows', '1000000'));
  const chunkCount = Number(option('chunks', '10'));
  const sampleRows = Number(option('sample-rows', String(DEFAULT_MULTIVARIATE_SETTINGS.sampleRows)));
  if (!(rows >= 1000 && chunkCount >= 4 && rows % chunkCount === 0 && sampleRows >= 20))
    throw new Error('--rows ≥ 1000 divisible by --chunks (≥ 4), --sample-rows ≥ 20');
  const chunkRows = rows / chunkCount;
  const referenceChunks = Math.floor(chunkCount / 2);
  const referenceRows = referenceChunks * chunkRows;
  const flipFrom = referenceChunks + 2;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'halflife-bench-multivariate-'));
  const load1Start = os.loadavg()[0] ?? Number.NaN;
  try {
    const ch = await openClickHouse(loadConfig({ env: {}, overrides: { dataDir: dir, logLevel: 'warn' } }));
    await applyMigrations(ch.client);
    log(`generating ${rows.toLocaleString('en-US')} rows`);
    await generate(ch, rows, chunkRows, flipFrom);
    const parquet = path.join(dir, 'rows.parquet');
    const withPeers = !flag('no-peers');
    if (withPeers) await exportParquet(ch, parquet);
    log(`halflife: ${chunkCount} chunks, ${sampleRows} sampled rows per side`);
    const halflife = await runHalflife(ch, rows, chunkRows, referenceRows, sampleRows);
    await ch.close();
    log(`  ${halflife.seconds.toFixed(2)} s`);
    let nannyml: ReturnType<typeof runPeer> | null = null;
    if (withPeers) {
      if (!existsSync(parquet)) throw new Error(`no Parquet export at ${parquet}`);
      log('NannyML: DataReconstructionDriftCalculator and DomainClassifierCalculator');
      nannyml = runPeer(parquet, referenceRows, chunkRows, Number(option('peer-threads', '0')));
      log(
        `  classifier ${(nannyml.domain_classifier.fit_seconds + nannyml.domain_classifier.calculate_seconds).toFixed(2)} s, reconstruction ${(nannyml.reconstruction.fit_seconds + nannyml.reconstruction.calculate_seconds).toFixed(2)} s`,
      );
    }
    return {
      peer_threads: Number(option('peer-threads', '0')),
      machine: machine(),
      command:
        `npx tsx bench/multivariate.ts ${argv.filter((a) => a !== '--write-md' && a !== '--json').join(' ')}`.trim(),
      load1_start: load1Start,
      rows,
      chunk_rows: chunkRows,
      reference_rows: referenceRows,
      flip_from: flipFrom,
      halflife,
      nannyml,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Entry point (also for bench/run.ts): `argv` are the options after the benchmark's name. */
export async function main(argv: readonly string[]): Promise<void> {
  const { flag } = argReader(argv);
  if (flag('help') || argv.includes('-h')) {
    process.stdout.write(`usage: npx tsx bench/multivariate.ts [options]   (or: npm run bench -- multivariate [options])
  --rows N          rows in all (default 1000000): the first half is the reference
  --chunks N        chunks the rows are cut into, NannyML's chunk_size = rows / chunks (default 10)
  --sample-rows N   rows halflife samples per side, by a hash of the event id (default ${DEFAULT_MULTIVARIATE_SETTINGS.sampleRows}, the policy default)
  --no-peers        skip NannyML (and the Parquet export)
  --peer-threads N  LightGBM threads of NannyML's classifier (default 0: NannyML's default, every core;
                    on a loaded machine 1 stops its OpenMP threads spinning against the other load)
  --json            print the result as JSON
  --write-md        replace the generated "multivariate" section of BENCHMARKS.md
The correlation of f0 and f1 flips from 0.8 to −0.8 from the third analysis chunk on; the marginals
never change. halflife's timer covers its SQL samples and both tests over every chunk; NannyML's
covers fit and calculate of each calculator (its imports and the Parquet read are outside).
`);
    return;
  }
  const result = await measure(argv);
  if (flag('json')) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else process.stdout.write(`${markdown(result)}\n`);
  if (flag('write-md')) {
    const file = path.join(root, 'BENCHMARKS.md');
    writeFileSync(file, replaceSection(readFileSync(file, 'utf8'), 'multivariate', markdown(result)));
    log('wrote the multivariate section of BENCHMARKS.md');
  }
}

// Run when executed directly (bench/run.ts imports main instead).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  await main(process.argv.slice(2));
