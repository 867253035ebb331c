import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { compareFeature } from '../../detectors/drift/compare-feature.ts';
import type { FeatureDriftResult, FeatureKind } from '../../detectors/drift/feature-result.ts';
import { driftReport } from '../../detectors/drift/report.ts';
import { DEFAULT_BIN_COUNT } from '../../detectors/drift/bins.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { buildReference, driftForWindow } from '../../platform/clickhouse/statistics-repository.ts';
import { loadConfig } from '../../platform/config.ts';
import { ValidationError } from '../../platform/errors.ts';
import {
  categoricalColumn,
  detectKinds,
  numericColumn,
  readCsv,
  selectColumns,
  type RawTable,
  type ReadOptions,
} from '../../platform/tabular.ts';
import { emit, table } from '../output.ts';

interface DriftOptions {
  reference: string;
  current: string;
  json?: boolean;
  categorical?: string;
  columns?: string;
  bins: string;
  engine: string;
}

/** What `--json` prints: issue 3's contract, `{"features": [...], "dataset_drift": bool}`. */
export interface DriftOutput {
  features: FeatureDriftResult[];
  dataset_drift: boolean;
}

const list = (value: string | undefined): string[] | undefined =>
  value === undefined
    ? undefined
    : value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);

export function registerDriftCommand(program: Command): void {
  program
    .command('drift')
    .description(
      'drift report between two CSV or Parquet files: per column KS/Wasserstein/PSI/JS/Hellinger (numeric) or chi-square/PSI/JS/L∞ (categorical), BH-adjusted, with a dataset verdict',
    )
    .requiredOption('--reference <file>', 'reference CSV (header line, then rows) or Parquet (*.parquet)')
    .requiredOption('--current <file>', 'current CSV or Parquet with the same columns')
    .option('--json', 'print {"features": [...], "dataset_drift": bool}')
    .option(
      '--categorical <names>',
      'comma-separated columns to compare as categories (default: numeric when most cells are numbers)',
    )
    .option('--columns <names>', 'comma-separated columns to compare (default: all; both files must have them)')
    .option('--bins <n>', 'reference-quantile bins for PSI/JS/Hellinger', String(DEFAULT_BIN_COUNT))
    .option(
      '--engine <engine>',
      'memory: exact KS on raw values; clickhouse: counts into fixed bins in a throwaway embedded ClickHouse (binned KS)',
      'memory',
    )
    .addHelpText(
      'after',
      '\nEmpty cells are missing (in numeric columns also NA, N/A, NaN, null, None). Text in a numeric\ncolumn is an error naming file, line and column (exit 3); --categorical makes the column categorical.\nParquet files are read by the embedded ClickHouse; NULL is missing, and "line" in a message is the\nrow number + 1 (as if a header line came first). Drifted = an effect size over its threshold AND\nBH-adjusted p < 0.05.',
    )
    .action(async (opts: DriftOptions) => {
      const bins = Number(opts.bins);
      if (!Number.isInteger(bins) || bins < 1 || bins > 1000)
        throw new ValidationError(`--bins must be an integer in 1..1000, got ${opts.bins}`);
      if (opts.engine !== 'memory' && opts.engine !== 'clickhouse')
        throw new ValidationError(`--engine must be memory or clickhouse, got ${opts.engine}`);
      const progress = (file: string, rows: number) =>
        process.stderr.write(`reading ${file}: ${rows.toLocaleString('en-US')} rows\n`);
      // One throwaway embedded ClickHouse (chDB allows one data directory per process), opened
      // only when Parquet is read or the clickhouse engine counts.
      const needed = opts.engine === 'clickhouse' || isParquet(opts.reference) || isParquet(opts.current);
      const engine = needed ? await openThrowaway() : undefined;
      try {
        const read = (file: string): Promise<RawTable> =>
          isParquet(file) && engine
            ? readParquet(engine.ch, file, { onProgress: progress })
            : readCsv(file, { onProgress: progress });
        const reference = await read(opts.reference);
        const current = await read(opts.current);
        const forced = list(opts.categorical) ?? [];
        for (const name of forced) {
          if (!reference.columns.includes(name))
            throw new ValidationError(
              `${reference.file}: --categorical names column "${name}", which the file does not have`,
            );
        }
        const columns = selectColumns(reference, current, list(opts.columns));
        const kinds = detectKinds([reference, current], columns, { categorical: forced });
        const t0 = performance.now();
        const output =
          opts.engine === 'clickhouse' && engine
            ? await compareInClickHouse(engine.ch, reference, current, columns, kinds, bins)
            : compareInMemory(reference, current, columns, kinds, bins);
        if (reference.lines.length + current.lines.length >= 250_000) {
          process.stderr.write(
            `compared ${columns.length} columns in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
          );
        }
        emit(!!opts.json, output, () => render(output));
      } finally {
        await engine?.close();
      }
    });
}

const isParquet = (file: string): boolean => /\.parquet$/i.test(file);

async function openThrowaway(): Promise<{ ch: ClickHouse; close: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'halflife-drift-'));
  const ch = await openClickHouse(loadConfig({ env: {}, overrides: { dataDir: dir, logLevel: 'warn' } }));
  return {
    ch,
    close: async () => {
      await ch.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A Parquet file as the table a CSV gives: every cell as text, so kinds, missing markers and
 * messages work exactly as for CSV. Numbers keep their shortest round-trip text (so parse back
 * to the same double), NaN/±Inf their names, NULL becomes an empty (missing) cell; nested
 * values become their JSON text (categorical).
 */
async function readParquet(ch: ClickHouse, file: string, options: ReadOptions = {}): Promise<RawTable> {
  if (!existsSync(file)) throw new ValidationError(`${file}: file not found`);
  if (!statSync(file).isFile()) throw new ValidationError(`${file}: not a regular file`);
  let rows: unknown[][];
  try {
    const result = await ch.client.query({
      query: 'SELECT * FROM file({file:String}, Parquet)',
      query_params: { file: path.resolve(file) },
      format: 'JSONCompactEachRowWithNames',
      clickhouse_settings: { output_format_json_quote_denormals: 1, output_format_json_quote_64bit_integers: 1 },
    });
    rows = await result.json<unknown[]>();
  } catch (err) {
    throw new ValidationError(`${file}: not a readable Parquet file (${(err as Error).message.split('\n')[0]})`);
  }
  const columns = ((rows[0] ?? []) as unknown[]).map(String);
  if (columns.length === 0) throw new ValidationError(`${file}: the Parquet file has no columns`);
  const cells: string[][] = columns.map(() => []);
  const lines: number[] = [];
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r] ?? [];
    for (let c = 0; c < columns.length; c++) cells[c]!.push(cellText(row[c]));
    lines.push(r + 1);
    if (options.onProgress && lines.length % (options.progressEvery ?? 250_000) === 0)
      options.onProgress(file, lines.length);
  }
  if (lines.length === 0) throw new ValidationError(`${file}: no data rows`);
  return { file, columns, cells, lines };
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

function columnsOf(
  reference: RawTable,
  current: RawTable,
  name: string,
  kind: FeatureKind,
): [(number | null)[] | (string | null)[], (number | null)[] | (string | null)[]] {
  return kind === 'numeric'
    ? [numericColumn(reference, name), numericColumn(current, name)]
    : [categoricalColumn(reference, name), categoricalColumn(current, name)];
}

/** Raw arrays in this process: exact KS, raw Wasserstein. */
function compareInMemory(
  reference: RawTable,
  current: RawTable,
  columns: string[],
  kinds: Map<string, FeatureKind>,
  bins: number,
): DriftOutput {
  const results = columns.map((name) => {
    const kind = kinds.get(name) ?? 'categorical';
    const [ref, cur] = columnsOf(reference, current, name, kind);
    return compareFeature(ref, cur, { name, kind, bins });
  });
  const report = driftReport(results);
  return { features: report.features, dataset_drift: report.dataset_drift };
}

/**
 * The production path on files: rows go into a throwaway embedded ClickHouse as scoring
 * events, the reference is built in SQL and the current file counted into its bins.
 */
async function compareInClickHouse(
  ch: ClickHouse,
  reference: RawTable,
  current: RawTable,
  columns: string[],
  kinds: Map<string, FeatureKind>,
  bins: number,
): Promise<DriftOutput> {
  await applyMigrations(ch.client);
  const modelId = 'halflife-drift-cli';
  const referenceStart = Date.UTC(2000, 0, 1);
  const currentStart = referenceStart + 10 * 365 * 86_400_000;
  const data = columns.map((name) => ({
    name,
    kind: kinds.get(name) ?? 'categorical',
    columns: columnsOf(reference, current, name, kinds.get(name) ?? 'categorical'),
  }));
  for (const [side, file, start] of [
    [0, reference, referenceStart],
    [1, current, currentStart],
  ] as const) {
    const rows = file.lines.length;
    const batch = 50_000;
    for (let from = 0; from < rows; from += batch) {
      const values = [];
      for (let r = from; r < Math.min(rows, from + batch); r++) {
        const num: Record<string, number> = {};
        const cat: Record<string, string> = {};
        for (const d of data) {
          const v = d.columns[side][r];
          if (typeof v === 'number' && Number.isFinite(v)) num[d.name] = v;
          else if (typeof v === 'string') cat[d.name] = v;
        }
        values.push({
          event_id: `${side}-${r}`,
          model_id: modelId,
          model_version: 'file',
          ts: start + r,
          num_features: num,
          cat_features: cat,
          missing_features: [],
          contract_version: 1,
          source: 'file',
          source_ref: file.file,
        });
      }
      await ch.client.insert({ table: 'scoring_events', values, format: 'JSONEachRow' });
    }
  }
  const stored = await buildReference(ch.client, {
    modelId,
    start: referenceStart,
    end: referenceStart + reference.lines.length,
    nBins: bins,
    final: false,
  });
  const { report } = await driftForWindow(ch.client, {
    modelId,
    start: currentStart,
    end: currentStart + current.lines.length,
    reference: stored,
    final: false,
  });
  // Columns with no values at all in the reference have no profile; report them untested, in file order.
  const byName = new Map(report.features.map((f) => [f.name, f]));
  const features = columns.map((name) => byName.get(name) ?? untested(name, kinds.get(name) ?? 'categorical'));
  return { features, dataset_drift: report.dataset_drift };
}

function untested(name: string, kind: FeatureKind): FeatureDriftResult {
  return {
    name,
    kind,
    role: 'feature',
    n_reference: 0,
    n_current: 0,
    missing_reference: 0,
    missing_current: 0,
    tested: false,
    drifted: false,
    effect_size_exceeded: false,
    reasons: [],
    test: null,
    pvalue: null,
    pvalue_adjusted: null,
  };
}

const fmt = (x: number | null | undefined): string => {
  if (x === null || x === undefined || Number.isNaN(x)) return '';
  if (x === 0) return '0';
  return Math.abs(x) >= 0.001 && Math.abs(x) < 1e6 ? x.toFixed(3) : x.toExponential(2);
};

function render(output: DriftOutput): string {
  const rows = output.features.map((f) => [
    f.name,
    f.kind,
    f.n_reference,
    f.n_current,
    f.test ?? '',
    f.ks ? fmt(f.ks.statistic) : f.chi2 ? fmt(f.chi2.statistic) : '',
    fmt(f.pvalue_adjusted),
    fmt(f.wasserstein?.normalized),
    fmt(f.psi),
    fmt(f.jensen_shannon),
    fmt(f.linf),
    f.drifted ? 'DRIFT' : f.tested ? 'ok' : 'untested',
  ]);
  const drifted = output.features.filter((f) => f.drifted).length;
  const tested = output.features.filter((f) => f.tested).length;
  return [
    table(
      ['column', 'kind', 'n_ref', 'n_cur', 'test', 'statistic', 'p_adj', 'wass_norm', 'psi', 'js', 'linf', 'verdict'],
      rows,
    ),
    '',
    `dataset drift: ${output.dataset_drift ? 'YES' : 'no'} (${drifted} of ${tested} tested columns drifted)`,
  ].join('\n');
}
