/**
 * Drift between two files (CSV or Parquet), column by column, with a dataset verdict: what
 * `halflife drift` prints. Two engines: `memory` compares the raw arrays in this process (exact
 * KS, raw Wasserstein); `clickhouse` loads both files into a throwaway embedded ClickHouse and runs
 * the production path (reference built in SQL, the current file counted into its bins).
 */
import { DEFAULT_BIN_COUNT } from '../detectors/drift/bins.ts';
import { breakageDetails, type QualityThresholds } from '../detectors/drift/data-quality.ts';
import type { FollowUpBars } from '../detectors/drift/window-follow-ups.ts';
import { compareFeature } from '../detectors/drift/compare-feature.ts';
import { resultBeforeTests, type FeatureDriftResult, type FeatureKind } from '../detectors/drift/feature-result.ts';
import { driftReport } from '../detectors/drift/report.ts';
import { multivariateDrift, type MultivariateDriftReport } from '../detectors/drift/multivariate/report.ts';
import type { SampledRows } from '../detectors/drift/multivariate/sample.ts';
import {
  DEFAULT_MULTIVARIATE_SETTINGS,
  type MultivariateDriftSettings,
} from '../detectors/drift/multivariate/settings.ts';
import { windowQualityThresholds } from '../detectors/monitor/quality-thresholds.ts';
import { DEFAULT_MONITOR_SETTINGS } from '../detectors/monitor/types.ts';
import { followUpBarsOf, qualityThresholdsOf } from '../detectors/policy/data-quality-bars.ts';
import { resolveEvidence } from '../detectors/policy/evidence.ts';
import type { RetrainPolicy } from '../detectors/policy/types.ts';
import { Random } from '../detectors/random.ts';
import type { ClickHouse } from '../platform/clickhouse/client.ts';
import { insertFileEvents, type FileEventRow } from '../platform/clickhouse/file-drift-repository.ts';
import { applyMigrations } from '../platform/clickhouse/migrations.ts';
import { ValidationError } from '../platform/errors.ts';
import {
  categoricalColumn,
  detectKinds,
  detectVectorColumns,
  numericColumn,
  readCsv,
  selectColumns,
  vectorColumn,
  type RawTable,
} from '../platform/tabular.ts';
import { evaluateSegments, type SegmentReport } from '../detectors/segments/evaluate-segments.ts';
import { DEFAULT_SEGMENT_MIN_EVENTS, DEFAULT_SEGMENT_TOP_K, pairSegments } from '../detectors/segments/types.ts';
import { buildReference } from './build-reference.ts';
import { planSegments, windowSegmentCounts } from './segment-counts.ts';
import { isParquet, readParquet } from './parquet-table.ts';
import { openThrowawayClickHouse } from './throwaway-clickhouse.ts';
import { multivariateWindowDrift } from './multivariate-window.ts';
import { driftForWindow } from './window-drift.ts';

export type DriftEngine = 'memory' | 'clickhouse';

/** The report: `{"features": [...], "dataset_drift": bool}`, what `halflife drift --json` prints (with `segments` when asked for). */
export interface DriftOutput {
  features: FeatureDriftResult[];
  /** True when the per-column rule or (when run) a multivariate test says so. */
  dataset_drift: boolean;
  /** Per segment of the `segment` columns, BH across segments × features. @default absent */
  segments?: SegmentReport;
  /**
   * The current file's data quality against the reference (the clickhouse engine: the monitor's
   * window checks): whether it is broken, its breakage, and every alert (shift and evidence too). @default absent (memory engine)
   */
  data_quality?: { broken: boolean; breakage: string[]; alerts: string[] };
  /** The multivariate tests on a sample of each file, when asked for. @default absent */
  multivariate?: MultivariateDriftReport | null;
}

export interface FileDriftOptions {
  reference: string;
  current: string;
  /** Columns compared as categories whatever their cells. @default [] (numeric when most cells are numbers) */
  categorical?: string[];
  /** Columns to compare; both files must have them. @default every column */
  columns?: string[];
  /** Reference-quantile bins for PSI/JS/Hellinger. @default DEFAULT_BIN_COUNT */
  bins?: number;
  /** @default 'memory' */
  engine?: DriftEngine;
  /** Called every 250 000 rows read. @default none */
  onProgress?: (file: string, rows: number) => void;
  /** Columns whose values split the rows into segments (compared as categories); needs the clickhouse engine. @default [] */
  segments?: string[];
  /** Segments kept per segment column, the largest in the reference first; the rest pool into `__other__`. @default DEFAULT_SEGMENT_TOP_K */
  topK?: number;
  /** Rows a segment needs in each file to be judged. @default DEFAULT_SEGMENT_MIN_EVENTS */
  minSegmentRows?: number;
  /**
   * Also run the multivariate tests on a sample of each file (`enabled` is implied; the rest
   * defaults as in a policy). @default null (not run)
   */
  multivariate?: Partial<MultivariateDriftSettings> | null;
  /**
   * The retrain policy whose `dataQuality` bars and `evidence.minWindowRows` judge data quality,
   * at the newest rule revision, as a monitor started with it would. @default null (the detector's defaults at the newest revision)
   */
  policy?: RetrainPolicy | null;
}

/** How a file's (and its segments') data quality is judged: the thresholds and the follow-up bars. */
interface QualityJudgement {
  thresholds: Partial<QualityThresholds>;
  followUps: FollowUpBars;
}

export interface FileDrift {
  output: DriftOutput;
  /** Data rows of both files. */
  rows: number;
  /** Columns compared. */
  columns: number;
  /** Time the comparison took (reading excluded). */
  compareSeconds: number;
}

export async function driftOfFiles(options: FileDriftOptions): Promise<FileDrift> {
  const engineName = options.engine ?? 'memory';
  const bins = options.bins ?? DEFAULT_BIN_COUNT;
  // One throwaway embedded ClickHouse (chDB allows one data directory per process), opened
  // only when Parquet is read or the clickhouse engine counts.
  const needed = engineName === 'clickhouse' || isParquet(options.reference) || isParquet(options.current);
  const engine = needed ? await openThrowawayClickHouse('halflife-drift-') : undefined;
  try {
    const progress = options.onProgress ? { onProgress: options.onProgress } : {};
    const read = (file: string): Promise<RawTable> =>
      isParquet(file) && engine ? readParquet(engine.ch, file, progress) : readCsv(file, progress);
    const reference = await read(options.reference);
    const current = await read(options.current);
    const segments = options.segments ?? [];
    if (segments.length > 0 && engineName !== 'clickhouse')
      throw new ValidationError('--segment counts segments in ClickHouse: use it with --engine clickhouse');
    for (const name of segments)
      for (const table of [reference, current])
        if (!table.columns.includes(name))
          throw new ValidationError(`${table.file}: --segment names column "${name}", which the file does not have`);
    const forced = [...new Set([...(options.categorical ?? []), ...segments])];
    for (const name of forced) {
      if (!reference.columns.includes(name))
        throw new ValidationError(
          `${reference.file}: --categorical names column "${name}", which the file does not have`,
        );
    }
    const chosen = selectColumns(reference, current, options.columns);
    // Vector columns (JSON arrays of numbers) are read by the multivariate tests only: a
    // per-column test of an embedding's text would compare strings.
    const vectors = detectVectorColumns([reference, current], chosen);
    const selected = chosen.filter((n) => !vectors.has(n));
    // A segment column is read whether or not it is compared.
    const columns = [...selected, ...segments.filter((n) => !selected.includes(n))];
    const kinds = detectKinds([reference, current], columns, { categorical: forced });
    const t0 = performance.now();
    const multivariate = options.multivariate ? { ...options.multivariate, enabled: true } : null;
    const output =
      engineName === 'clickhouse' && engine
        ? await compareInClickHouse(
            engine.ch,
            reference,
            current,
            columns,
            kinds,
            bins,
            {
              keys: segments,
              topK: options.topK ?? DEFAULT_SEGMENT_TOP_K,
              minEvents: options.minSegmentRows ?? DEFAULT_SEGMENT_MIN_EVENTS,
              compared: selected,
            },
            multivariate,
            [...vectors.keys()],
            qualityJudgement(options.policy ?? null, selected.length),
          )
        : compareInMemory(reference, current, columns, kinds, bins, multivariate, [...vectors.keys()]);
    return {
      output,
      rows: reference.lines.length + current.lines.length,
      columns: selected.length,
      compareSeconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await engine?.close();
  }
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
  multivariate: Partial<MultivariateDriftSettings> | null,
  vectors: readonly string[],
): DriftOutput {
  const results = columns.map((name) => {
    const kind = kinds.get(name) ?? 'categorical';
    const [ref, cur] = columnsOf(reference, current, name, kind);
    return compareFeature(ref, cur, { name, kind, bins });
  });
  const report = driftReport(results);
  if (!multivariate) return { features: report.features, dataset_drift: report.dataset_drift };
  const sampleRows = multivariate.sampleRows ?? DEFAULT_MULTIVARIATE_SETTINGS.sampleRows;
  const tests = multivariateDrift(
    sampleOf(reference, columns, kinds, sampleRows, vectors),
    sampleOf(current, columns, kinds, sampleRows, vectors),
    multivariate,
  );
  return {
    features: report.features,
    dataset_drift: report.dataset_drift || !!tests?.dataset_drift,
    multivariate: tests,
  };
}

/** Up to `limit` rows of a file, chosen by a seeded shuffle of its row numbers (the same file gives the same sample). */
function sampleOf(
  table: RawTable,
  columns: string[],
  kinds: Map<string, FeatureKind>,
  limit: number,
  vectors: readonly string[],
): SampledRows {
  const n = table.lines.length;
  const order = Array.from({ length: n }, (_, i) => i);
  const random = new Random(1);
  const take = Math.min(limit, n);
  for (let i = 0; i < take; i++) {
    const j = i + Math.floor(random.next() * (n - i));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const rows = order.slice(0, take);
  const sample: SampledRows = { rows: take, numeric: {}, categorical: {} };
  for (const name of columns) {
    if (kinds.get(name) === 'numeric') {
      const column = numericColumn(table, name);
      sample.numeric[name] = rows.map((r) => column[r] ?? null);
    } else {
      const column = categoricalColumn(table, name);
      sample.categorical[name] = rows.map((r) => column[r] ?? null);
    }
  }
  if (vectors.length > 0) {
    sample.vectors = {};
    for (const name of vectors) {
      const column = vectorColumn(table, name);
      sample.vectors[name] = rows.map((r) => column[r] ?? null);
    }
  }
  return sample;
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
  segmentOptions: { keys: string[]; topK: number; minEvents: number; compared: string[] },
  multivariate: Partial<MultivariateDriftSettings> | null,
  vectors: readonly string[],
  quality: QualityJudgement,
): Promise<DriftOutput> {
  const compared = segmentOptions.compared;
  await applyMigrations(ch.client);
  const modelId = 'halflife-drift-cli';
  const referenceStart = Date.UTC(2000, 0, 1);
  const currentStart = referenceStart + 10 * 365 * 86_400_000;
  const data = columns.map((name) => ({
    name,
    kind: kinds.get(name) ?? 'categorical',
    columns: columnsOf(reference, current, name, kinds.get(name) ?? 'categorical'),
  }));
  const vectorData = vectors.map((name) => ({
    name,
    columns: [vectorColumn(reference, name), vectorColumn(current, name)],
  }));
  for (const [side, file, start] of [
    [0, reference, referenceStart],
    [1, current, currentStart],
  ] as const) {
    const rows = file.lines.length;
    const batch = 50_000;
    for (let from = 0; from < rows; from += batch) {
      const values: FileEventRow[] = [];
      for (let r = from; r < Math.min(rows, from + batch); r++) {
        const num: Record<string, number> = {};
        const cat: Record<string, string> = {};
        for (const d of data) {
          const v = d.columns[side][r];
          if (typeof v === 'number' && Number.isFinite(v)) num[d.name] = v;
          else if (typeof v === 'string') cat[d.name] = v;
        }
        const vec: Record<string, number[]> = {};
        for (const d of vectorData) {
          const v = d.columns[side]?.[r];
          if (v) vec[d.name] = v;
        }
        values.push({
          event_id: `${side}-${r}`,
          model_id: modelId,
          model_version: 'file',
          ts: start + r,
          num_features: num,
          cat_features: cat,
          ...(vectorData.length > 0 ? { vec_features: vec } : {}),
          missing_features: [],
          contract_version: 1,
          source: 'file',
          source_ref: file.file,
        });
      }
      await insertFileEvents(ch.client, values);
    }
  }
  const stored = await buildReference(ch.client, {
    modelId,
    start: referenceStart,
    end: referenceStart + reference.lines.length,
    nBins: bins,
    final: false,
  });
  const segmentPolicy = {
    keys: segmentOptions.keys.map((feature) => ({ feature })),
    topK: segmentOptions.topK,
    minEvents: segmentOptions.minEvents,
  };
  const plan = segmentPolicy.keys.length > 0 ? await planSegments(ch.client, stored, segmentPolicy) : null;
  const {
    report,
    quality: dataQuality,
    counts,
  } = await driftForWindow(ch.client, {
    modelId,
    start: currentStart,
    end: currentStart + current.lines.length,
    reference: stored,
    final: false,
    ...(plan
      ? {
          segments: plan.toCount,
          segmentStuckValues: { reference: plan.reference, minEvents: segmentPolicy.minEvents },
        }
      : {}),
    followUps: quality.followUps,
    qualityThresholds: quality.thresholds,
  });
  // Columns with no values at all in the reference have no profile; report them untested, in file order.
  const byName = new Map(report.features.map((f) => [f.name, f]));
  const features = compared.map((name) => byName.get(name) ?? untested(name, kinds.get(name) ?? 'categorical'));
  const segments = plan
    ? evaluateSegments(
        stored,
        pairSegments(
          plan.reference,
          windowSegmentCounts(
            plan.toCount,
            counts.segments ?? [],
            [],
            1,
            undefined,
            undefined,
            undefined,
            counts.segmentTopValues,
          ),
        ),
        segmentPolicy,
        { qualityThresholds: quality.thresholds },
      )
    : null;
  // The monitor's path: a hash sample of each side read in SQL.
  const tests = multivariate
    ? await multivariateWindowDrift(ch.client, {
        reference: stored,
        window: { modelId, start: currentStart, end: currentStart + current.lines.length },
        settings: multivariate,
        final: false,
        vectors,
      })
    : undefined;
  return {
    features,
    dataset_drift: report.dataset_drift || !!tests?.dataset_drift,
    data_quality: {
      broken: dataQuality.broken,
      breakage: breakageDetails(dataQuality),
      alerts: dataQuality.alerts,
    },
    ...(segments ? { segments } : {}),
    ...(multivariate ? { multivariate: tests ?? null } : {}),
  };
}

/** The thresholds a monitor started with `policy` judges a window at (the newest rule revision). */
function qualityJudgement(policy: RetrainPolicy | null, featureCount: number): QualityJudgement {
  const evidence = resolveEvidence(policy?.evidence, featureCount);
  return {
    thresholds: windowQualityThresholds(
      DEFAULT_MONITOR_SETTINGS,
      qualityThresholdsOf(policy?.dataQuality),
      evidence.minWindowRows,
    ),
    followUps: followUpBarsOf(policy?.dataQuality),
  };
}

function untested(name: string, kind: FeatureKind): FeatureDriftResult {
  return resultBeforeTests({ name, kind, role: 'feature' }, { nRef: 0, nCur: 0, missRef: 0, missCur: 0 });
}
