/**
 * Drift statistics pushed down to ClickHouse (issue 3, item 7).
 *
 * A reference is built once from a window of `scoring_events`: per numeric feature its cuts
 * (numpy-'linear' reference quantiles, exactly as detectors/drift/bins.ts `referenceBinEdges`
 * computes them), counts and moments; per categorical feature its label counts; the same for
 * the prediction columns. It is stored in the `references` table. Every later window is
 * counted into the reference's cuts by ONE aggregate query that reads each row once and
 * returns one row of arrays (features × bins), so the TypeScript side costs
 * O(features × bins + categories), never O(rows).
 *
 * How a window is counted, and why this shape (measured, see BENCHMARKS.md "Drift report"):
 * the window is filtered in PREWHERE, before FINAL de-duplicates (see `windowSource`); each
 * feature is read with `arrayElementOrNull(num_features, name)` (a by-key look-up is cheap:
 * reading map values positionally was not faster), and binned without a lambda
 * (`binKey`: spelled-out comparisons over per-cut parameters, or `roundDown` for many cuts),
 * then counted with `countResample(0, bins, 1)`. ARRAY JOIN over the map with the cuts
 * looked up per row was ~10× slower, and `arrayCount(c -> c <= x, cuts)` (the previous form)
 * took ~3× the CPU for the binning, both because a lambda materialises the cut array per row.
 *
 * Every value travels as a query parameter. What is spliced into SQL text are parameter
 * placeholders named by position (`{n3:String}`), and integers derived from validated
 * inputs (bin counts, quantile levels computed from row counts), which aggregate-function
 * parameters require as literals.
 */
import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import type { CompareOptions } from '../../detectors/drift/compare-feature.ts';
import { compareBinnedFeature } from '../../detectors/drift/compare-feature.ts';
import type { FeatureQualityCounts, DataQualityReport, QualityThresholds } from '../../detectors/drift/data-quality.ts';
import { dataQualityReport, outOfRangeFromCounts, unseenFromProfiles } from '../../detectors/drift/data-quality.ts';
import type { FeatureDriftResult } from '../../detectors/drift/feature-result.ts';
import { DEFAULT_BIN_COUNT, assertValidCuts, nextUp } from '../../detectors/drift/bins.ts';
import type { CategoricalProfile, NumericCounts, NumericReferenceProfile } from '../../detectors/drift/profiles.ts';
import type { DriftReport } from '../../detectors/drift/report.ts';
import { driftReport } from '../../detectors/drift/report.ts';
import type { VerdictOptions } from '../../detectors/drift/verdict.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { queryRows } from './client.ts';

/** Default cap on the labels a categorical reference keeps; the rest pool into {@link OTHER_CATEGORY}. */
export const DEFAULT_MAX_CATEGORIES = 1000;

/** Label that stands for every category beyond a capped reference vocabulary (both sides). */
export const OTHER_CATEGORY = '__other__';

/** A time bound: epoch milliseconds or a Date. Windows are half-open, [start, end). */
export type TimeBound = number | Date;

/** Profiles of the model's output columns, keyed internally and in the stored JSON. */
interface PredictionProfiles {
  score?: NumericReferenceProfile;
  class?: CategoricalProfile;
  value?: NumericReferenceProfile;
}
interface PredictionCounts {
  score?: NumericCounts;
  class?: CategoricalProfile;
  value?: NumericCounts;
}

/** A stored reference: what every later window is compared with. JSON-safe (a Temporal payload). */
export interface StoredReference {
  referenceId: string;
  modelId: string;
  /** The version filter used to build it; '' = all versions of the model. */
  modelVersion: string;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms, inclusive. */
  start: number;
  /** Epoch ms, exclusive. */
  end: number;
  rowCount: number;
  nBins: number;
  maxCategories: number;
  /** Per feature name: numeric (cuts + counts + moments) or categorical (label counts). */
  features: Record<string, NumericReferenceProfile | CategoricalProfile>;
  /** `prediction_score` (probability / score); null when the reference window had none. */
  prediction: NumericReferenceProfile | null;
  /** `prediction_class` (predicted label); null when absent. */
  predictionClass: CategoricalProfile | null;
  /** `prediction_value` (regression output); null when absent. */
  predictionValue: NumericReferenceProfile | null;
  /** Categorical features whose vocabulary was capped at `maxCategories` (rest pooled as `__other__`). */
  cappedCategorical: string[];
}

export interface BuildReferenceOptions {
  modelId: string;
  /** Only events of this model version. @default all versions */
  modelVersion?: string;
  start: TimeBound;
  end: TimeBound;
  /** Reference-quantile bins per numeric feature. @default 20 */
  nBins?: number;
  /** Labels kept per categorical feature (most frequent first). @default 1000 */
  maxCategories?: number;
  /** Only these features. @default every feature seen in the window */
  features?: readonly string[];
  /** Read `scoring_events FINAL` (exact after duplicate events). @default true */
  final?: boolean;
  /** Override the id. @default derived from the inputs, so a retried build is idempotent */
  referenceId?: string;
}

export interface WindowCountsOptions {
  modelId: string;
  /** Only events of this model version. @default all versions */
  modelVersion?: string;
  start: TimeBound;
  end: TimeBound;
  reference: StoredReference;
  /** Read `scoring_events FINAL`. @default true */
  final?: boolean;
}

/** One window counted into a reference's bins. O(features × bins); JSON-safe. */
export interface WindowCounts {
  referenceId: string;
  modelId: string;
  start: number;
  end: number;
  /** Events in the window. */
  rows: number;
  /** Dead letters of this model received in the window. */
  deadLettered: number;
  /** Same keys as the reference's features. */
  features: Record<string, NumericCounts | CategoricalProfile>;
  /** Counts of `prediction_score` over the reference's score bins; null when the reference has no score profile. */
  prediction: NumericCounts | null;
  predictionClass: CategoricalProfile | null;
  predictionValue: NumericCounts | null;
  /** Data-quality inputs, one per feature (then per prediction column), for `dataQualityReport`. */
  quality: FeatureQualityCounts[];
  /** Wall time of the SQL side. */
  queryMs: number;
}

export interface DriftForWindowOptions extends WindowCountsOptions {
  /** Verdict options (alpha, thresholds, dataset share, critical features). @default library defaults */
  verdict?: VerdictOptions;
  /** Per-feature comparison options (PSI epsilon, chi-square). @default library defaults */
  compare?: Pick<CompareOptions, 'psiEpsilon' | 'chi2'>;
  /** Data-quality alert thresholds. @default DEFAULT_QUALITY_THRESHOLDS */
  qualityThresholds?: Partial<QualityThresholds>;
}

export interface WindowDrift {
  report: DriftReport;
  quality: DataQualityReport;
  counts: WindowCounts;
}

/** Report names of the prediction columns (role 'prediction'). */
export const PREDICTION_NAMES = {
  score: 'prediction_score',
  class: 'prediction_class',
  value: 'prediction_value',
} as const;

// ---------------------------------------------------------------------------------------
// helpers

const toMs = (t: TimeBound): number => (t instanceof Date ? t.getTime() : t);

function windowParams(
  modelId: string,
  start: TimeBound,
  end: TimeBound,
  modelVersion?: string,
): Record<string, unknown> {
  const s = toMs(start);
  const e = toMs(end);
  if (!Number.isSafeInteger(s) || !Number.isSafeInteger(e))
    throw new ValidationError(`window bounds must be whole epoch milliseconds, got ${s} .. ${e}`);
  if (!(e > s))
    throw new ValidationError(
      `window end (${new Date(e).toISOString()}) must be after its start (${new Date(s).toISOString()})`,
    );
  return { model: modelId, version: modelVersion ?? '', start: s, end: e };
}

/** The filter of a window; `version = ''` means all versions. */
const WINDOW_FILTER = `model_id = {model:String}
  AND ({version:String} = '' OR model_version = {version:String})
  AND ts >= fromUnixTimestamp64Milli({start:Int64}) AND ts < fromUnixTimestamp64Milli({end:Int64})`;

/**
 * `FROM … PREWHERE <window>` of every window query, and the SETTINGS that go with it.
 *
 * With FINAL, ClickHouse does not move a WHERE on a non-key column (ts) into PREWHERE, so it
 * read and de-duplicated every row of the partitions (all feature maps) before filtering the
 * window; and since `ts` is not in the sorting key it also merged across partitions, which
 * defers partition pruning. Both are needless here: a duplicate row is the same event
 * redelivered (ingest keys it by (model_id, event_id) and drops ids it has already stored),
 * so all copies of an event carry the same ts, hence lie in the same window and the same
 * monthly partition. Filtering first (PREWHERE, applied before FINAL) and de-duplicating per
 * partition therefore gives exactly the rows of FINAL-then-filter, reading only the window's
 * maps (see BENCHMARKS.md "Drift report": 1M of 11M rows in a partition, 3.6 → 2.2 CPU s).
 */
const windowSource = (final: boolean | undefined): string =>
  `${final === false ? 'scoring_events' : 'scoring_events FINAL'}\n  PREWHERE ${WINDOW_FILTER}`;
const windowSettings = (final: boolean | undefined): string =>
  final === false ? '' : '\nSETTINGS do_not_merge_across_partitions_select_final = 1';

/**
 * An Array(Float64) parameter as text: the chDB binder refuses integer-valued numbers
 * beyond 2^53 (e.g. a cut at 1e20), and String(x) is the shortest round-trip decimal,
 * which ClickHouse parses back to the same double (and '-Infinity' to −∞).
 */
const floatArrayParam = (values: readonly number[]): string => `[${values.map((v) => String(v)).join(',')}]`;

const num = (v: unknown): number => (v === null || v === undefined ? Number.NaN : Number(v));

function countsFromMap(value: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = Number(v);
  return out;
}

/**
 * Cuts a window query may spell out as comparisons (`multiIf`); features with more cuts, or
 * beyond the budget, use the compact `roundDown` form. Spelled-out comparisons are the fastest
 * at ~20 cuts but grow the query (≈10 AST nodes and ≈30 bytes per cut, and a server refuses
 * more than `max_ast_elements`, 50,000, or `max_query_size`, 256 KiB, by default: without the
 * budget a 300-feature model failed); `roundDown` searches the cuts in O(log n) and wins from
 * ~64 cuts (measured, BENCHMARKS.md "Drift report").
 */
export const LINEAR_BIN_MAX_CUTS = 32;
export const LINEAR_BIN_BUDGET = 1024;

/**
 * Which numeric columns of one query get the spelled-out form: called once per column in
 * query order, true while the column has ≤ `maxCuts` cuts and they fit in what is left of
 * `budget`.
 */
export function linearBinning(
  maxCuts = LINEAR_BIN_MAX_CUTS,
  budget = LINEAR_BIN_BUDGET,
): (cuts: readonly number[]) => boolean {
  let left = budget;
  return (cuts) => {
    if (cuts.length > maxCuts || cuts.length > left) return false;
    left -= cuts.length;
    return true;
  };
}

/**
 * The bin of a finite value `v` among strictly increasing `cuts`: the number of cuts ≤ v, in
 * 0..cuts.length (what `arrayCount(c -> c <= v, cuts)` computes, without a lambda per row:
 * that form spent ~70% of the window query's CPU materialising the cuts for every row).
 * Rows where `ok` is false get key `cuts.length + 1`, outside `countResample`'s range.
 */
function binKey(
  v: string,
  ok: string,
  cuts: readonly number[],
  param: string,
  params: Record<string, unknown>,
  linear: boolean,
): string {
  const outside = cuts.length + 1;
  if (linear) {
    if (cuts.length === 0) return `if(${ok}, 0, ${outside})`;
    const arms = cuts.map((c, j) => {
      params[`${param}_${j}`] = String(c);
      return `${v} < {${param}_${j}:Float64}, ${j}`;
    });
    return `multiIf(NOT ${ok}, ${outside}, ${arms.join(', ')}, ${cuts.length})`;
  }
  // With −∞ in front of the cuts, roundDown returns the greatest element ≤ v (bit for bit an
  // element of the array) and transform maps it to its 0-based position: the bin.
  params[param] = floatArrayParam([Number.NEGATIVE_INFINITY, ...cuts]);
  const arr = `{${param}:Array(Float64)}`;
  return `if(${ok}, transform(roundDown(${v}, ${arr}), ${arr}, range(${outside}), 0), ${outside})`;
}

/**
 * Columns of one numeric value: binned counts and moments of its finite values. `v` is a
 * non-Nullable Float64 (NaN where the value is absent) and `ok` says it is finite, so the
 * bin key and the -If aggregates stay on plain columns.
 */
function numericColumns(alias: string, v: string, ok: string, key: string, bins: number): string[] {
  return [
    `countResample(0, ${bins}, 1)(${key}) AS ${alias}_counts`,
    `countIf(${ok}) AS ${alias}_n`,
    `minIf(${v}, ${ok}) AS ${alias}_min`,
    `maxIf(${v}, ${ok}) AS ${alias}_max`,
    `avgIf(${v}, ${ok}) AS ${alias}_mean`,
    `stddevPopIf(${v}, ${ok}) AS ${alias}_std`,
  ];
}

function readNumeric(row: Record<string, unknown>, alias: string, rows: number): NumericCounts {
  const counts = ((row[`${alias}_counts`] as unknown[] | undefined) ?? []).map(Number);
  const n = num(row[`${alias}_n`]);
  const out: NumericCounts = { counts, missing: rows - n };
  if (n > 0) {
    out.min = num(row[`${alias}_min`]);
    out.max = num(row[`${alias}_max`]);
    out.mean = num(row[`${alias}_mean`]);
    out.std = num(row[`${alias}_std`]);
  }
  return out;
}

/** A finite-or-NULL Float64 expression (NaN and ±Inf are missing, like the in-process side). */
const finiteOrNull = (raw: string): string => `if(isFinite(${raw}), ${raw}, NULL)`;

/** Inner columns of one numeric value: `v` (NaN when absent) and `ok` (finite). Short aliases: they recur ~12 times per column in the query text. */
const numericInner = (v: string, ok: string, raw: string): string[] => [
  `ifNull(${raw}, nan) AS ${v}`,
  `isFinite(${v}) AS ${ok}`,
];

interface Counted {
  features: WindowCounts['features'];
  prediction: PredictionCounts;
  quality: FeatureQualityCounts[];
}

interface Plan {
  select: string[];
  inner: string[];
  params: Record<string, unknown>;
  read: (row: Record<string, unknown>, rows: number) => Counted;
}

const predictionsOf = (
  reference: Pick<StoredReference, 'prediction' | 'predictionClass' | 'predictionValue'>,
): PredictionProfiles => ({
  ...(reference.prediction ? { score: reference.prediction } : {}),
  ...(reference.predictionClass ? { class: reference.predictionClass } : {}),
  ...(reference.predictionValue ? { value: reference.predictionValue } : {}),
});

/** The single-pass window query for a reference: every feature and prediction column at once. */
function planWindow(reference: Shape): Plan {
  const select: string[] = ['count() AS rows'];
  const inner: string[] = [];
  const params: Record<string, unknown> = {};
  const readers: ((row: Record<string, unknown>, rows: number, out: Counted) => void)[] = [];
  const linear = linearBinning();
  let i = 0;
  for (const [name, profile] of Object.entries(reference.features)) {
    const k = i++;
    params[`n${k}`] = name;
    if (profile.kind === 'numeric') {
      assertValidCuts(profile.cuts);
      inner.push(...numericInner(`x${k}`, `o${k}`, `arrayElementOrNull(num_features, {n${k}:String})`));
      const key = binKey(`x${k}`, `o${k}`, profile.cuts, `c${k}`, params, linear(profile.cuts));
      select.push(...numericColumns(`f${k}`, `x${k}`, `o${k}`, key, profile.cuts.length + 1));
      inner.push(`mapContains(cat_features, {n${k}:String}) AS t${k}`);
      select.push(`countIf(t${k}) AS f${k}_type`);
      readers.push((row, rows, out) => {
        const counts = readNumeric(row, `f${k}`, rows);
        const typeViolations = num(row[`f${k}_type`]);
        out.features[name] = counts;
        out.quality.push({
          name,
          kind: 'numeric',
          rows,
          missing: Math.max(0, counts.missing - typeViolations),
          type_violations: typeViolations,
          out_of_range: outOfRangeFromCounts(profile, counts),
          reference_missing_rate: referenceMissingRate(profile.missing, reference.rowCount),
        });
      });
    } else {
      const capped = reference.cappedCategorical.includes(name);
      let label = `arrayElementOrNull(cat_features, {n${k}:String})`;
      if (capped) {
        params[`v${k}`] = Object.keys(profile.counts).filter((l) => l !== OTHER_CATEGORY);
        label = `if(l${k}_raw IS NULL, NULL, if(has({v${k}:Array(String)}, assumeNotNull(l${k}_raw)), l${k}_raw, {other:String}))`;
        params.other = OTHER_CATEGORY;
        inner.push(`arrayElementOrNull(cat_features, {n${k}:String}) AS l${k}_raw`);
      }
      inner.push(`${label} AS l${k}`);
      select.push(`sumMapIf(map(assumeNotNull(l${k}), toUInt64(1)), l${k} IS NOT NULL) AS f${k}_labels`);
      select.push(`count(l${k}) AS f${k}_n`);
      inner.push(`mapContains(num_features, {n${k}:String}) AS t${k}`);
      select.push(`countIf(t${k}) AS f${k}_type`);
      readers.push((row, rows, out) => {
        const counts: CategoricalProfile = {
          kind: 'categorical',
          counts: countsFromMap(row[`f${k}_labels`]),
          missing: rows - num(row[`f${k}_n`]),
        };
        const typeViolations = num(row[`f${k}_type`]);
        out.features[name] = counts;
        out.quality.push({
          name,
          kind: 'categorical',
          rows,
          missing: Math.max(0, counts.missing - typeViolations),
          type_violations: typeViolations,
          unseen: unseenFromProfiles(profile, counts),
          reference_missing_rate: referenceMissingRate(profile.missing, reference.rowCount),
        });
      });
    }
  }
  const p = predictionsOf(reference);
  for (const key of ['score', 'value'] as const) {
    const profile = p[key];
    if (!profile) continue;
    assertValidCuts(profile.cuts);
    inner.push(...numericInner(`p_${key}_x`, `p_${key}_o`, `prediction_${key}`));
    const bin = binKey(`p_${key}_x`, `p_${key}_o`, profile.cuts, `p_${key}`, params, linear(profile.cuts));
    select.push(...numericColumns(`p_${key}`, `p_${key}_x`, `p_${key}_o`, bin, profile.cuts.length + 1));
    readers.push((row, rows, out) => {
      const counts = readNumeric(row, `p_${key}`, rows);
      out.prediction[key] = counts;
      out.quality.push({
        name: PREDICTION_NAMES[key],
        kind: 'numeric',
        rows,
        missing: counts.missing,
        out_of_range: outOfRangeFromCounts(profile, counts),
        reference_missing_rate: referenceMissingRate(profile.missing, reference.rowCount),
      });
    });
  }
  const classProfile = p.class;
  if (classProfile) {
    inner.push('prediction_class AS p_class_l');
    select.push(
      'sumMapIf(map(assumeNotNull(p_class_l), toUInt64(1)), p_class_l IS NOT NULL) AS p_class_labels',
      'count(p_class_l) AS p_class_n',
    );
    readers.push((row, rows, out) => {
      const counts: CategoricalProfile = {
        kind: 'categorical',
        counts: countsFromMap(row.p_class_labels),
        missing: rows - num(row.p_class_n),
      };
      out.prediction.class = counts;
      out.quality.push({
        name: PREDICTION_NAMES.class,
        kind: 'categorical',
        rows,
        missing: counts.missing,
        unseen: unseenFromProfiles(classProfile, counts),
        reference_missing_rate: referenceMissingRate(classProfile.missing, reference.rowCount),
      });
    });
  }
  return {
    select,
    inner,
    params,
    read: (row, rows) => {
      const out: Counted = { features: {}, prediction: {}, quality: [] };
      for (const r of readers) r(row, rows, out);
      return out;
    },
  };
}

const referenceMissingRate = (missing: number, rows: number): number => (rows > 0 ? missing / rows : 0);

/** Run the single-pass window query (no dead letters). */
async function countWindow(
  client: ClickHouseClient,
  reference: Shape,
  window: { modelId: string; modelVersion?: string; start: TimeBound; end: TimeBound; final?: boolean },
): Promise<{ rows: number } & Counted> {
  const plan = planWindow(reference);
  const innerColumns = plan.inner.length > 0 ? plan.inner.join(',\n    ') : '1 AS one';
  const sql = `SELECT\n  ${plan.select.join(',\n  ')}\nFROM (\n  SELECT\n    ${innerColumns}\n  FROM ${windowSource(window.final)}\n)${windowSettings(window.final)}`;
  const params = { ...plan.params, ...windowParams(window.modelId, window.start, window.end, window.modelVersion) };
  const [row] = await queryRows<Record<string, unknown>>(client, sql, params);
  const rows = num(row?.rows ?? 0);
  return { rows, ...plan.read(row ?? {}, rows) };
}

/**
 * Exact order statistics for numpy-'linear' quantiles: for each level k/nBins the two
 * neighbouring order statistics are fetched with `quantilesExact` at levels (i + 0.5)/n
 * (ClickHouse returns element floor(level · n) of the sorted values, so this picks element i
 * without rounding doubt), then interpolated here with the same arithmetic as
 * `quantileSorted`, so the cuts equal `referenceBinEdges` bit for bit — not merely within
 * rounding, as `quantilesExactInclusive` (h = level·(n−1)+1) would be.
 */
function quantilePlan(
  n: number,
  nBins: number,
): { indices: number[]; levels: string[]; positions: { lower: number; upper: number; fraction: number }[] } {
  const positions: { lower: number; upper: number; fraction: number }[] = [];
  const wanted = new Set<number>();
  for (let k = 1; k < nBins; k++) {
    const position = (k / nBins) * (n - 1);
    const lower = Math.floor(position);
    const upper = Math.min(lower + 1, n - 1);
    positions.push({ lower, upper, fraction: position - lower });
    wanted.add(lower);
    wanted.add(upper);
  }
  const indices = [...wanted].sort((a, b) => a - b);
  return { indices, levels: indices.map((i) => String((i + 0.5) / n)), positions };
}

/** Deterministic id of a reference build, so a retried activity writes the same row. */
export function referenceIdFor(inputs: {
  modelId: string;
  modelVersion: string;
  start: number;
  end: number;
  nBins: number;
  maxCategories: number;
  features?: readonly string[];
}): string {
  const key = JSON.stringify([
    inputs.modelId,
    inputs.modelVersion,
    inputs.start,
    inputs.end,
    inputs.nBins,
    inputs.maxCategories,
    inputs.features ? [...inputs.features].sort() : null,
  ]);
  return `ref_${createHash('sha256').update(key).digest('hex').slice(0, 20)}`;
}

function toReferenceProfile(counts: NumericCounts, cuts: number[]): NumericReferenceProfile {
  return {
    kind: 'numeric',
    cuts,
    counts: counts.counts,
    missing: counts.missing,
    min: counts.min ?? 0,
    max: counts.max ?? 0,
    mean: counts.mean ?? 0,
    std: counts.std ?? 0,
  };
}

/** Keep the `max` most frequent labels (ties by label), pooling the rest as `__other__`. */
function capCategories(profile: CategoricalProfile, max: number): { profile: CategoricalProfile; capped: boolean } {
  const entries = Object.entries(profile.counts);
  if (entries.length <= max) return { profile, capped: false };
  entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const counts: Record<string, number> = {};
  let other = 0;
  entries.forEach(([label, n], index) => {
    if (index < max - 1 && label !== OTHER_CATEGORY) counts[label] = n;
    else other += n;
  });
  counts[OTHER_CATEGORY] = other;
  return { profile: { ...profile, counts }, capped: true };
}

// ---------------------------------------------------------------------------------------
// public API

/**
 * Build a reference from the events of `modelId` in [start, end), entirely in SQL, store it
 * in `references` and return it. Four aggregate queries, none returning rows:
 *  1. which features exist and in which map (numeric vs categorical by majority);
 *  2. the window query with empty cuts: finite count, min and max per numeric column, label
 *     counts per categorical column;
 *  3. the exact order statistics behind each numeric column's quantile cuts
 *     (`quantilesExact`: memory O(values) per numeric column, once per reference);
 *  4. the window query over the new cuts: the reference's own counts and moments, computed by
 *     exactly the SQL that will count every later window.
 * Then one insert. Throws ValidationError on bad options and NotFoundError when the window
 * holds no events.
 */
export async function buildReference(
  client: ClickHouseClient,
  options: BuildReferenceOptions,
): Promise<StoredReference> {
  const nBins = options.nBins ?? DEFAULT_BIN_COUNT;
  const maxCategories = options.maxCategories ?? DEFAULT_MAX_CATEGORIES;
  if (!Number.isInteger(nBins) || nBins < 1 || nBins > 1000)
    throw new ValidationError(`nBins must be an integer in 1..1000, got ${nBins}`);
  if (!Number.isInteger(maxCategories) || maxCategories < 2)
    throw new ValidationError(`maxCategories must be an integer ≥ 2, got ${maxCategories}`);
  const params = windowParams(options.modelId, options.start, options.end, options.modelVersion);
  const start = params.start as number;
  const end = params.end as number;
  const window = { modelId: options.modelId, modelVersion: options.modelVersion, start, end, final: options.final };

  // 1. Discovery: per key, the rows holding it in each map; which prediction columns exist.
  const [discovery] = await queryRows<Record<string, unknown>>(
    client,
    `SELECT count() AS rows,
       sumMap(mapFromArrays(mapKeys(num_features), arrayMap(v -> toUInt64(1), mapValues(num_features)))) AS num_present,
       sumMap(mapFromArrays(mapKeys(cat_features), arrayMap(v -> toUInt64(1), mapValues(cat_features)))) AS cat_present,
       count(prediction_score) AS score_n, count(prediction_class) AS class_n, count(prediction_value) AS value_n
     FROM ${windowSource(options.final)}${windowSettings(options.final)}`,
    params,
  );
  const rowCount = num(discovery?.rows ?? 0);
  if (!(rowCount > 0)) {
    throw new NotFoundError(
      `no scoring events for model ${options.modelId} between ${new Date(start).toISOString()} and ${new Date(end).toISOString()}: nothing to build a reference from`,
    );
  }
  const numPresent = countsFromMap(discovery?.num_present);
  const catPresent = countsFromMap(discovery?.cat_present);
  const wanted = options.features ? new Set(options.features) : undefined;
  const names = [...new Set([...Object.keys(numPresent), ...Object.keys(catPresent)])]
    .filter((n) => !wanted || wanted.has(n))
    .sort();
  if (wanted) {
    const absent = [...wanted].filter((n) => !names.includes(n));
    if (absent.length > 0)
      throw new ValidationError(`features not present in the reference window: ${absent.join(', ')}`);
  }
  // A key seen in both maps (a producer sending strings sometimes) takes the majority kind;
  // the minority then shows up as type violations.
  const isNumeric = (n: string): boolean => (numPresent[n] ?? 0) >= (catPresent[n] ?? 0);

  // 2. A first pass with empty cuts (every finite value in bin 0) gives each numeric
  // column's finite count, min and max, and every categorical column's label counts.
  const emptyNumeric = (cuts: number[] = []): NumericReferenceProfile => ({
    kind: 'numeric',
    cuts,
    counts: [0],
    missing: 0,
    min: 0,
    max: 0,
    mean: 0,
    std: 0,
  });
  const emptyCategorical = (): CategoricalProfile => ({ kind: 'categorical', counts: {}, missing: 0 });
  const skeleton: Shape = {
    features: Object.fromEntries(names.map((n) => [n, isNumeric(n) ? emptyNumeric() : emptyCategorical()])),
    prediction: num(discovery?.score_n) > 0 ? emptyNumeric() : null,
    predictionClass: num(discovery?.class_n) > 0 ? emptyCategorical() : null,
    predictionValue: num(discovery?.value_n) > 0 ? emptyNumeric() : null,
    cappedCategorical: [],
    rowCount,
  };
  const first = await countWindow(client, skeleton, window);

  // 3. Cuts from exact order statistics (see quantilePlan).
  const columns: { id: string; expr: string; counts: NumericCounts }[] = [];
  const nameParams: Record<string, unknown> = {};
  names.forEach((n, i) => {
    const c = first.features[n];
    if (isNumeric(n) && c && !('kind' in c)) {
      nameParams[`n${i}`] = n;
      columns.push({ id: `n:${n}`, expr: `arrayElementOrNull(num_features, {n${i}:String})`, counts: c });
    }
  });
  for (const key of ['score', 'value'] as const) {
    const c = first.prediction[key];
    if (c) columns.push({ id: `p:${key}`, expr: `prediction_${key}`, counts: c });
  }
  const cutsById = await referenceCuts(client, columns, nBins, window, { ...params, ...nameParams });

  // 4. The reference's own counts and moments over its cuts: the query every window runs.
  const withCuts: Shape = {
    ...skeleton,
    features: Object.fromEntries(
      names.map((n) => [n, isNumeric(n) ? emptyNumeric(cutsById.get(`n:${n}`) ?? []) : emptyCategorical()]),
    ),
    prediction: skeleton.prediction ? emptyNumeric(cutsById.get('p:score') ?? []) : null,
    predictionValue: skeleton.predictionValue ? emptyNumeric(cutsById.get('p:value') ?? []) : null,
    predictionClass: null,
  };
  const second = await countWindow(client, withCuts, window);

  const features: StoredReference['features'] = {};
  const cappedCategorical: string[] = [];
  for (const n of names) {
    const c = isNumeric(n) ? second.features[n] : first.features[n];
    if (!c) continue;
    if ('kind' in c) {
      const capped = capCategories(c, maxCategories);
      features[n] = capped.profile;
      if (capped.capped) cappedCategorical.push(n);
    } else {
      features[n] = toReferenceProfile(c, cutsById.get(`n:${n}`) ?? []);
    }
  }
  const modelVersion = options.modelVersion ?? '';
  const reference: StoredReference = {
    referenceId:
      options.referenceId ??
      referenceIdFor({
        modelId: options.modelId,
        modelVersion,
        start,
        end,
        nBins,
        maxCategories,
        features: options.features,
      }),
    modelId: options.modelId,
    modelVersion,
    createdAt: Date.now(),
    start,
    end,
    rowCount,
    nBins,
    maxCategories,
    features,
    prediction: second.prediction.score
      ? toReferenceProfile(second.prediction.score, cutsById.get('p:score') ?? [])
      : null,
    // Predicted classes are few by nature; never capped.
    predictionClass: first.prediction.class ?? null,
    predictionValue: second.prediction.value
      ? toReferenceProfile(second.prediction.value, cutsById.get('p:value') ?? [])
      : null,
    cappedCategorical,
  };

  // 5. Store (a few KB of JSON).
  await client.insert({
    table: 'references',
    values: [
      {
        model_id: reference.modelId,
        model_version: reference.modelVersion,
        reference_id: reference.referenceId,
        created_at: reference.createdAt,
        window_start: start,
        window_end: end,
        row_count: rowCount,
        n_bins: nBins,
        profiles: JSON.stringify({
          features: reference.features,
          prediction: predictionsOf(reference),
          capped_categorical: cappedCategorical,
          max_categories: maxCategories,
        } satisfies StoredProfiles),
      },
    ],
    format: 'JSONEachRow',
  });
  return reference;
}

/** What `planWindow` needs of a reference. */
type Shape = Pick<
  StoredReference,
  'features' | 'prediction' | 'predictionClass' | 'predictionValue' | 'cappedCategorical' | 'rowCount'
>;

/** The `profiles` JSON column. */
interface StoredProfiles {
  features: StoredReference['features'];
  prediction: PredictionProfiles;
  capped_categorical: string[];
  max_categories: number;
}

/** Cuts per column id, reproducing `referenceBinEdges` from SQL order statistics. */
async function referenceCuts(
  client: ClickHouseClient,
  columns: { id: string; expr: string; counts: NumericCounts }[],
  nBins: number,
  window: { final?: boolean },
  params: Record<string, unknown>,
): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  const planned = columns
    .map((c) => ({ ...c, n: c.counts.counts[0] ?? 0 }))
    .filter((c) => c.n > 0)
    .map((c) => ({ ...c, plan: quantilePlan(c.n, nBins) }));
  const queried = planned.filter((c) => c.plan.levels.length > 0);
  let row: Record<string, unknown> | undefined;
  if (queried.length > 0) {
    const select = queried.map(
      (c, i) => `quantilesExact(${c.plan.levels.join(', ')})(${finiteOrNull(c.expr)}) AS q${i}`,
    );
    [row] = await queryRows<Record<string, unknown>>(
      client,
      `SELECT ${select.join(',\n  ')} FROM ${windowSource(window.final)}${windowSettings(window.final)}`,
      params,
    );
  }
  for (const c of planned) {
    const index = queried.indexOf(c);
    const values = index >= 0 ? ((row?.[`q${index}`] as unknown[] | undefined) ?? []).map(Number) : [];
    const at = new Map(c.plan.indices.map((orderIndex, j) => [orderIndex, values[j] ?? Number.NaN]));
    const min = c.counts.min ?? 0;
    const max = c.counts.max ?? 0;
    const candidates = [min];
    for (const pos of c.plan.positions) {
      const lo = at.get(pos.lower) ?? Number.NaN;
      const hi = at.get(pos.upper) ?? Number.NaN;
      candidates.push(lo + pos.fraction * (hi - lo));
    }
    candidates.push(nextUp(max));
    const cuts: number[] = [];
    for (const v of candidates)
      if (cuts.length === 0 || v > (cuts[cuts.length - 1] ?? Number.NEGATIVE_INFINITY)) cuts.push(v);
    assertValidCuts(cuts);
    out.set(c.id, cuts);
  }
  return out;
}

interface ReferenceRow {
  model_id: string;
  model_version: string;
  reference_id: string;
  created_at_ms: string | number;
  start_ms: string | number;
  end_ms: string | number;
  row_count: string | number;
  n_bins: string | number;
  profiles: string;
}

function fromRow(row: ReferenceRow): StoredReference {
  const stored = JSON.parse(row.profiles) as StoredProfiles;
  return {
    referenceId: row.reference_id,
    modelId: row.model_id,
    modelVersion: row.model_version,
    createdAt: Number(row.created_at_ms),
    start: Number(row.start_ms),
    end: Number(row.end_ms),
    rowCount: Number(row.row_count),
    nBins: Number(row.n_bins),
    maxCategories: stored.max_categories,
    features: stored.features,
    prediction: stored.prediction.score ?? null,
    predictionClass: stored.prediction.class ?? null,
    predictionValue: stored.prediction.value ?? null,
    cappedCategorical: stored.capped_categorical,
  };
}

const REFERENCE_COLUMNS = `model_id, model_version, reference_id, toUnixTimestamp64Milli(created_at) AS created_at_ms,
  toUnixTimestamp64Milli(window_start) AS start_ms, toUnixTimestamp64Milli(window_end) AS end_ms, row_count, n_bins, profiles`;

/** A stored reference by id. Throws NotFoundError when there is none. */
export async function loadReference(client: ClickHouseClient, referenceId: string): Promise<StoredReference> {
  const rows = await queryRows<ReferenceRow>(
    client,
    `SELECT ${REFERENCE_COLUMNS} FROM references FINAL WHERE reference_id = {id:String} ORDER BY created_at DESC LIMIT 1`,
    { id: referenceId },
  );
  if (!rows[0]) throw new NotFoundError(`reference ${referenceId} not found`);
  return fromRow(rows[0]);
}

/** The newest reference of a model (optionally of one version), or null when it has none. */
export async function latestReference(
  client: ClickHouseClient,
  options: { modelId: string; modelVersion?: string },
): Promise<StoredReference | null> {
  const rows = await queryRows<ReferenceRow>(
    client,
    `SELECT ${REFERENCE_COLUMNS} FROM references FINAL
     WHERE model_id = {model:String} AND ({version:String} = '' OR model_version = {version:String})
     ORDER BY created_at DESC, reference_id DESC LIMIT 1`,
    { model: options.modelId, version: options.modelVersion ?? '' },
  );
  return rows[0] ? fromRow(rows[0]) : null;
}

/**
 * Count one window into a reference's bins: every feature and prediction column in ONE
 * aggregate query (one read of each row), plus one tiny query on `dead_letters`
 * (by `received_at`, the only time a rejected record has).
 */
export async function windowCounts(client: ClickHouseClient, options: WindowCountsOptions): Promise<WindowCounts> {
  const t0 = performance.now();
  const params = windowParams(options.modelId, options.start, options.end, options.modelVersion);
  const counted = await countWindow(client, options.reference, options);
  const [dead] = await queryRows<{ n: string | number }>(
    client,
    `SELECT count() AS n FROM dead_letters FINAL
     WHERE model_id = {model:String} AND received_at >= fromUnixTimestamp64Milli({start:Int64}) AND received_at < fromUnixTimestamp64Milli({end:Int64})`,
    params,
  );
  return {
    referenceId: options.reference.referenceId,
    modelId: options.modelId,
    start: params.start as number,
    end: params.end as number,
    rows: counted.rows,
    deadLettered: num(dead?.n ?? 0),
    features: counted.features,
    prediction: counted.prediction.score ?? null,
    predictionClass: counted.prediction.class ?? null,
    predictionValue: counted.prediction.value ?? null,
    quality: counted.quality,
    queryMs: performance.now() - t0,
  };
}

/** Per-column results of a counted window against its reference (pure, O(features × bins)). */
export function compareWindow(
  reference: StoredReference,
  counts: WindowCounts,
  options: Pick<CompareOptions, 'psiEpsilon' | 'chi2'> = {},
): FeatureDriftResult[] {
  const results: FeatureDriftResult[] = [];
  for (const [name, profile] of Object.entries(reference.features)) {
    const current = counts.features[name];
    if (current) results.push(compareBinnedFeature(profile, current, { ...options, name }));
  }
  const pairs: [
    keyof typeof PREDICTION_NAMES,
    NumericReferenceProfile | CategoricalProfile | null,
    NumericCounts | CategoricalProfile | null,
  ][] = [
    ['score', reference.prediction, counts.prediction],
    ['class', reference.predictionClass, counts.predictionClass],
    ['value', reference.predictionValue, counts.predictionValue],
  ];
  for (const [key, profile, current] of pairs) {
    if (profile && current)
      results.push(
        compareBinnedFeature(profile, current, { ...options, name: PREDICTION_NAMES[key], role: 'prediction' }),
      );
  }
  return results;
}

/**
 * The drift report of one window: windowCounts → compareBinnedFeature per column →
 * driftReport (BH across columns), plus the data-quality report from the same counts.
 */
export async function driftForWindow(client: ClickHouseClient, options: DriftForWindowOptions): Promise<WindowDrift> {
  const counts = await windowCounts(client, options);
  const report = driftReport(compareWindow(options.reference, counts, options.compare), options.verdict);
  const quality = dataQualityReport(
    { rows: counts.rows, dead_lettered: counts.deadLettered, features: counts.quality },
    options.qualityThresholds,
  );
  return { report, quality, counts };
}
