import type { Command } from 'commander';
import { DEFAULT_BIN_COUNT } from '../../detectors/drift/bins.ts';
import { DEFAULT_MULTIVARIATE_SETTINGS } from '../../detectors/drift/multivariate/settings.ts';
import { driftOfFiles, type DriftOutput } from '../../operations/drift-of-files.ts';
import type { SegmentReport } from '../../detectors/segments/evaluate-segments.ts';
import { ValidationError } from '../../platform/errors.ts';
import { commaList } from '../option-values.ts';
import { emit, table } from '../output.ts';
import { loadPolicyOption } from '../policy-option.ts';

interface DriftOptions {
  reference: string;
  current: string;
  json?: boolean;
  categorical?: string;
  columns?: string;
  bins: string;
  engine?: string;
  segment?: string;
  topK: string;
  minSegmentRows: string;
  multivariate?: boolean;
  sampleRows: string;
  policy?: string;
}

export function registerDriftCommand(program: Command): void {
  program
    .command('drift')
    .description(
      'drift report between two CSV or Parquet files: per column KS/Wasserstein/PSI/JS/Hellinger (numeric) or chi-square/PSI/JS/L∞ (categorical), BH-adjusted, with a dataset verdict',
    )
    .requiredOption('--reference <file>', 'reference CSV (header line, then rows) or Parquet (*.parquet)')
    .requiredOption('--current <file>', 'current CSV or Parquet with the same columns')
    .option(
      '--json',
      'print {"features": [...], "dataset_drift": bool, "data_quality": {...} (clickhouse engine), "segments": {...} (with --segment), "multivariate": {...} (with --multivariate)}',
    )
    .option(
      '--categorical <names>',
      'comma-separated columns to compare as categories (default: numeric when most cells are numbers)',
    )
    .option('--columns <names>', 'comma-separated columns to compare (default: all; both files must have them)')
    .option('--bins <n>', 'reference-quantile bins for PSI/JS/Hellinger', String(DEFAULT_BIN_COUNT))
    .option(
      '--engine <engine>',
      'memory: exact KS on raw values; clickhouse: counts into fixed bins in a throwaway embedded ClickHouse (binned KS), with the data-quality checks (default: memory, clickhouse with --segment or --policy)',
    )
    .option(
      '--segment <names>',
      'comma-separated columns whose values split the rows into segments: each segment compared with its own rows in the reference, BH across segments × columns',
    )
    .option(
      '--top-k <n>',
      'segments kept per --segment column, largest in the reference first (the rest: __other__)',
      '10',
    )
    .option('--min-segment-rows <n>', 'rows a segment needs in each file to be judged', '100')
    .option(
      '--multivariate',
      'also run the multivariate tests (domain classifier, PCA reconstruction error, MMD) on a sample of each file; any that drifts makes the dataset drift',
    )
    .option(
      '--sample-rows <n>',
      'rows of each file the multivariate tests sample',
      String(DEFAULT_MULTIVARIATE_SETTINGS.sampleRows),
    )
    .option(
      '--policy <file>',
      "retrain policy YAML (see examples/policies) whose dataQuality bars and evidence.minWindowRows judge the file's and each segment's data quality, at the newest rule revision (default: none, the detector's defaults)",
    )
    .addHelpText(
      'after',
      '\nEmpty cells are missing (in numeric columns also NA, N/A, NaN, null, None). Text in a numeric\ncolumn is an error naming file, line and column (exit 3); --categorical makes the column categorical.\nParquet files are read by the embedded ClickHouse; NULL is missing, and "line" in a message is the\nrow number + 1 (as if a header line came first). Drifted = an effect size over its threshold AND\nBH-adjusted p < 0.05.',
    )
    .action(async (opts: DriftOptions) => {
      const bins = Number(opts.bins);
      if (!Number.isInteger(bins) || bins < 1 || bins > 1000)
        throw new ValidationError(`--bins must be an integer in 1..1000, got ${opts.bins}`);
      const segments = commaList(opts.segment) ?? [];
      const engine = opts.engine ?? (segments.length > 0 || opts.policy !== undefined ? 'clickhouse' : 'memory');
      if (engine !== 'memory' && engine !== 'clickhouse')
        throw new ValidationError(`--engine must be memory or clickhouse, got ${engine}`);
      if (opts.policy !== undefined && engine !== 'clickhouse')
        throw new ValidationError(
          '--policy judges data quality, which is checked in ClickHouse: use it with --engine clickhouse',
        );
      const policy = opts.policy === undefined ? null : loadPolicyOption(opts.policy).policy;
      const topK = Number(opts.topK);
      if (!Number.isInteger(topK) || topK < 1 || topK > 100)
        throw new ValidationError(`--top-k must be an integer in 1..100, got ${opts.topK}`);
      const minSegmentRows = Number(opts.minSegmentRows);
      if (!Number.isInteger(minSegmentRows) || minSegmentRows < 1)
        throw new ValidationError(`--min-segment-rows must be a whole number ≥ 1, got ${opts.minSegmentRows}`);
      const sampleRows = Number(opts.sampleRows);
      if (!Number.isInteger(sampleRows) || sampleRows < 20 || sampleRows > 20_000)
        throw new ValidationError(`--sample-rows must be an integer in 20..20000, got ${opts.sampleRows}`);
      const drift = await driftOfFiles({
        reference: opts.reference,
        current: opts.current,
        categorical: commaList(opts.categorical) ?? [],
        columns: commaList(opts.columns),
        bins,
        engine,
        segments,
        topK,
        minSegmentRows,
        multivariate: opts.multivariate ? { sampleRows } : null,
        policy,
        onProgress: (file, rows) => process.stderr.write(`reading ${file}: ${rows.toLocaleString('en-US')} rows\n`),
      });
      if (drift.rows >= 250_000)
        process.stderr.write(`compared ${drift.columns} columns in ${drift.compareSeconds.toFixed(1)} s\n`);
      emit(!!opts.json, drift.output, () => render(drift.output));
    });
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
  const multivariate = output.multivariate;
  const drivers = (d: { feature: string; share: number }[]) =>
    d.map((x) => `${x.feature} ${(x.share * 100).toFixed(0)}%`).join(', ');
  return [
    table(
      ['column', 'kind', 'n_ref', 'n_cur', 'test', 'statistic', 'p_adj', 'wass_norm', 'psi', 'js', 'linf', 'verdict'],
      rows,
    ),
    ...(multivariate
      ? [
          '',
          table(
            ['multivariate test', 'statistic', 'value', 'p', 'level', 'verdict', 'driven by'],
            multivariate.tests.map((t) => [
              t.test,
              t.statistic.name,
              fmt(t.statistic.value),
              fmt(t.pvalue),
              fmt(t.level),
              t.drifted ? 'DRIFT' : 'ok',
              drivers(t.driving_features),
            ]),
          ),
        ]
      : multivariate === null
        ? ['', 'multivariate tests: nothing to compare (fewer than two shared columns or too few rows)']
        : []),
    '',
    `dataset drift: ${output.dataset_drift ? 'YES' : 'no'} (${drifted} of ${tested} tested columns drifted${
      multivariate ? `; multivariate tests drifted: ${multivariate.drifted_tests.join(', ') || 'none'}` : ''
    })`,
    ...(output.data_quality ? ['', renderDataQuality(output.data_quality)] : []),
    ...(output.segments ? ['', renderSegments(output.segments)] : []),
  ].join('\n');
}

function renderDataQuality(quality: NonNullable<DriftOutput['data_quality']>): string {
  if (quality.broken) return `data quality: BROKEN (${quality.breakage.join('; ')})`;
  return `data quality: ok${quality.alerts.length > 0 ? ` (${quality.alerts.join('; ')})` : ''}`;
}

function renderSegments(report: SegmentReport): string {
  const rows = report.segments.map((s) => [
    s.segment,
    s.referenceEvents,
    s.events,
    s.judged ? (s.drift?.drifted.length ? 'DRIFT' : 'ok') : 'not judged',
    s.drift?.drifted.join(', ') || (s.note ?? ''),
    s.dataQuality?.broken ? s.dataQuality.breakage.join('; ') : '',
  ]);
  return [
    table(['segment', 'n_ref', 'n_cur', 'verdict', 'drifted columns', 'broken'], rows),
    '',
    `segments drifted: ${report.drifted.length > 0 ? report.drifted.join(', ') : 'none'} (Benjamini–Hochberg over ${report.multipleTesting.tests} segment × column tests)`,
  ].join('\n');
}
