/**
 * The single-pass query that counts a window into fixed bins and categories: every feature and
 * prediction column at once, reading each row once and returning one row of arrays
 * (features × bins), so its reader costs O(features × bins + categories), never O(rows).
 *
 * How a window is counted, and why this shape (measured, see BENCHMARKS.md "Drift report"):
 * the window is filtered in PREWHERE, before FINAL de-duplicates (event-window.ts); each
 * feature is read with `arrayElementOrNull(num_features, name)` (a by-key look-up is cheap:
 * reading map values positionally was not faster), and binned without a lambda
 * (`binKey`: spelled-out comparisons over per-cut parameters, or `roundDown` for many cuts),
 * then counted with `countResample(0, bins, 1)`. ARRAY JOIN over the map with the cuts
 * looked up per row was ~10× slower, and `arrayCount(c -> c <= x, cuts)` (the previous form)
 * took ~3× the CPU for the binning, both because a lambda materialises the cut array per row.
 *
 * Every value travels as a query parameter. What is spliced into SQL text are parameter
 * placeholders named by position (`{n3:String}`), and integers derived from validated
 * inputs (bin counts), which aggregate-function parameters require as literals.
 */
import type { CategoricalProfile, NumericCounts } from '../../detectors/drift/profiles.ts';
import type { CountedWindow, ReferenceProfiles } from '../../detectors/drift/window-comparison.ts';
import { countsFromMap, floatArrayParam, num } from './sql-values.ts';

/**
 * What one count query counts, in order: numeric columns into their profile's `cuts`,
 * categorical ones by label. The cuts must keep the edge contract (finite, strictly increasing:
 * detectors/drift/bins.ts `assertValidCuts`); the caller checks them, since a broken cut would
 * count into wrong bins without an error.
 */
export interface ColumnsToCount extends Pick<
  ReferenceProfiles,
  'features' | 'prediction' | 'predictionClass' | 'predictionValue' | 'cappedCategorical'
> {
  /** The label counted for a value of a capped feature outside its profile's labels. */
  otherCategory: string;
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

/** Inner columns of one numeric value: `v` (NaN when absent) and `ok` (finite). Short aliases: they recur ~12 times per column in the query text. */
const numericInner = (v: string, ok: string, raw: string): string[] => [
  `ifNull(${raw}, nan) AS ${v}`,
  `isFinite(${v}) AS ${ok}`,
];

/**
 * Feature keys carried by the window's rows, both maps together (the lengths of the maps: no
 * key is looked at). Every occurrence is a known feature in its own map, a known feature in
 * the other map (a type violation) or a key the reference does not know, so the unknown ones
 * are what is left once the known are subtracted (window-comparison.ts `appearedOccurrences`);
 * their names are looked up only when there are some (window-repository.ts `unknownFeatureKeys`).
 */
const keyOccurrenceColumns = {
  inner: ['length(num_features) + length(cat_features) AS key_n'],
  select: ['sum(key_n) AS key_occurrences'],
};

/** The query's pieces: outer aggregates over inner per-row columns, its parameters, and the reader of its one row. */
export interface CountQuery {
  select: string[];
  inner: string[];
  params: Record<string, unknown>;
  read: (row: Record<string, unknown>) => CountedWindow;
}

/** Plan the single-pass count query for `columns`: every feature and prediction column at once. */
export function countQuery(columns: ColumnsToCount): CountQuery {
  const select: string[] = ['count() AS rows', ...keyOccurrenceColumns.select];
  const inner: string[] = [...keyOccurrenceColumns.inner];
  const params: Record<string, unknown> = {};
  const readers: ((row: Record<string, unknown>, rows: number, out: CountedWindow) => void)[] = [];
  const linear = linearBinning();
  let i = 0;
  for (const [name, profile] of Object.entries(columns.features)) {
    const k = i++;
    params[`n${k}`] = name;
    if (profile.kind === 'numeric') {
      inner.push(...numericInner(`x${k}`, `o${k}`, `arrayElementOrNull(num_features, {n${k}:String})`));
      const key = binKey(`x${k}`, `o${k}`, profile.cuts, `c${k}`, params, linear(profile.cuts));
      select.push(...numericColumns(`f${k}`, `x${k}`, `o${k}`, key, profile.cuts.length + 1));
      inner.push(`mapContains(cat_features, {n${k}:String}) AS t${k}`);
      select.push(`countIf(t${k}) AS f${k}_type`);
      readers.push((row, rows, out) => {
        out.features[name] = readNumeric(row, `f${k}`, rows);
        out.typeViolations[name] = num(row[`f${k}_type`]);
      });
    } else {
      const capped = columns.cappedCategorical.includes(name);
      let label = `arrayElementOrNull(cat_features, {n${k}:String})`;
      if (capped) {
        params[`v${k}`] = Object.keys(profile.counts).filter((l) => l !== columns.otherCategory);
        label = `if(l${k}_raw IS NULL, NULL, if(has({v${k}:Array(String)}, assumeNotNull(l${k}_raw)), l${k}_raw, {other:String}))`;
        params.other = columns.otherCategory;
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
        out.features[name] = counts;
        out.typeViolations[name] = num(row[`f${k}_type`]);
      });
    }
  }
  const numericPredictions = [
    ['score', columns.prediction],
    ['value', columns.predictionValue],
  ] as const;
  for (const [key, profile] of numericPredictions) {
    if (!profile) continue;
    inner.push(...numericInner(`p_${key}_x`, `p_${key}_o`, `prediction_${key}`));
    const bin = binKey(`p_${key}_x`, `p_${key}_o`, profile.cuts, `p_${key}`, params, linear(profile.cuts));
    select.push(...numericColumns(`p_${key}`, `p_${key}_x`, `p_${key}_o`, bin, profile.cuts.length + 1));
    readers.push((row, rows, out) => {
      const counts = readNumeric(row, `p_${key}`, rows);
      if (key === 'score') out.prediction = counts;
      else out.predictionValue = counts;
    });
  }
  if (columns.predictionClass) {
    inner.push('prediction_class AS p_class_l');
    select.push(
      'sumMapIf(map(assumeNotNull(p_class_l), toUInt64(1)), p_class_l IS NOT NULL) AS p_class_labels',
      'count(p_class_l) AS p_class_n',
    );
    readers.push((row, rows, out) => {
      out.predictionClass = {
        kind: 'categorical',
        counts: countsFromMap(row.p_class_labels),
        missing: rows - num(row.p_class_n),
      };
    });
  }
  return {
    select,
    inner,
    params,
    read: (row) => {
      const rows = num(row.rows ?? 0);
      const out: CountedWindow = {
        rows,
        ...(row.key_occurrences === undefined ? {} : { keyOccurrences: num(row.key_occurrences) }),
        features: {},
        prediction: null,
        predictionClass: null,
        predictionValue: null,
        typeViolations: {},
      };
      for (const r of readers) r(row, rows, out);
      return out;
    },
  };
}
