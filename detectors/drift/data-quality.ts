/**
 * Data quality of one window, from counts only (all computed by SQL next to the data).
 * Drift tests exclude missing and malformed values, so without this report a feature
 * that silently turns 40% null, or a producer that starts sending strings, would look
 * "stable". Quality findings are reported beside drift, never folded into it.
 *
 * Every check is one of three kinds, because they call for different actions:
 *  - **breakage**: the pipeline delivers wrong data — training on it makes a model worse, and
 *    a retrain cannot fix it. The retrain guard keeps broken windows out of training data.
 *    Missing-rate rise, type violations, dead letters, a stuck value (one value far more
 *    frequent than in the reference, or no variance where the reference had spread), a feature
 *    vanishing (every value missing) or appearing (keys the reference never had).
 *  - **shift**: the world moved — values outside the reference's range, categories it never
 *    saw. Reported, fed to drift and decisions, never a block: a retrain on shifted data is
 *    often exactly what is needed (seasonal values outside last season's range are not broken).
 *  - **evidence**: the window is small, so its verdicts are weak. Reported, never a block.
 *
 * Default thresholds (each configurable — a policy's `dataQuality` section, detectors/policy/data-quality-bars.ts —
 * each a rate over the window's rows):
 *  - missing rate rises ≥ 0.05 above the reference's missing rate (5 points: beyond the noise of
 *    a window of a few hundred rows), and by at least 3 binomial standard errors (so a handful
 *    of rows with one missing value is not breakage);
 *  - type violations ≥ 0.01 (1% of values of the wrong type is a producer bug, not noise);
 *  - dead-lettered events ≥ 0.01 of the window (events rejected at ingest);
 *  - stuck value: the most frequent value's share of the non-missing values ≥ 0.2 above the
 *    reference's most frequent value share, at least 3 standard errors, over ≥ 20 values (a
 *    sensor frozen at an in-range reading for 12 minutes of an hour is 20%);
 *    With the window's event order (`stuck_order_aware`): a grown value whose repeats interleave
 *    with other values (runs test, value-runs.ts: left-tail p > 0.01, in a window where one single
 *    stretch would have p ≤ 0.01) at a boundary or the most frequent value of the reference, or in
 *    a feature whose values repeat, while the other values keep a quarter of the reference's spread, is a
 *    ceiling or floor reached more often (shift); repeats in stretches stay stuck;
 *  - zero variance: every one of ≥ 5 values equal where the reference had spread, and (when the
 *    reference's most frequent value share r is known) r^n ≤ 0.001, so it is not chance;
 *  - a feature appearing: keys unknown to the reference in ≥ 5% of rows;
 *  - out-of-reference-range ≥ 0.05 (shift; under no drift about 2/n_ref of values land outside
 *    [min_ref, max_ref]); unseen categories ≥ 0.05 (shift);
 *  - fewer than 100 rows (evidence).
 */
import type { FeatureKind } from './feature-result.ts';
import type { CategoricalProfile, NumericCounts, NumericReferenceProfile } from './profiles.ts';
import { alignCategories } from './categories.ts';
import { runsTest, type RunsTest, type ValueRuns } from './value-runs.ts';

/** Counts for one feature in one window. */
export interface FeatureQualityCounts {
  name: string;
  kind: FeatureKind;
  /** Rows in the window that should carry this feature. */
  rows: number;
  /** Null / NaN / absent values. */
  missing: number;
  /** Values of the wrong type (e.g. a string in a numeric feature). @default 0 */
  type_violations?: number;
  /** Numeric: values below the reference minimum or above its maximum. @default 0 */
  out_of_range?: number;
  /** Categorical: values in categories absent from the reference. @default 0 */
  unseen?: number;
  /** The reference's own missing rate, the baseline for the missing-rate alert. @default 0 */
  reference_missing_rate?: number;
  /**
   * Share of the non-missing values taken by the most frequent one (a lower bound when the
   * counting is approximate), or absent when not measured. @default undefined (no stuck-value check)
   */
  top_value_share?: number | null;
  /**
   * Where the window's read settled, without counting the most frequent value, that no value
   * reaches the stuck bar (the exact screen, window-follow-ups.ts `stuckValueReads`): a bound on
   * its share, below the reference's most frequent share plus the stuck bar, and
   * `top_value_share` is absent. The stuck-value check reads it as not stuck, as it would the
   * counted share. @default undefined (counted, or not a candidate)
   */
  top_value_share_at_most?: number | null;
  /** The most frequent value itself, for the message. @default undefined */
  top_value?: number | string | null;
  /** The reference's most frequent value share. @default undefined (no stuck-value check) */
  reference_top_value_share?: number | null;
  /** Population standard deviation of the window's finite values (numeric). @default undefined */
  std?: number | null;
  /** The reference's standard deviation (numeric). @default undefined (no zero-variance check) */
  reference_std?: number | null;
  /** The reference's most frequent value (numeric). @default undefined */
  reference_top_value?: number | null;
  /** The reference's smallest and largest values (numeric): a boundary such as a top-code. @default undefined */
  reference_min?: number | null;
  reference_max?: number | null;
  /**
   * Share of the window's non-missing values in the reference bin that holds its most frequent
   * value (numeric): a value that holds little of its own bin's mass is one of many values crowding
   * a narrow range, not a single value replacing spread. @default undefined
   */
  top_value_bin_share?: number | null;
  /**
   * The most frequent value's runs in event-time order (value-runs.ts): how its repeats are spread
   * over the window, counted by the window's read for stuck-value candidates. @default undefined (no order evidence)
   */
  top_value_runs?: ValueRuns | null;
  /**
   * Population standard deviation of the window's finite values other than the most frequent one
   * (numeric): whether the rest of the window keeps its spread. @default undefined
   */
  others_std?: number | null;
}

export interface QualityThresholds {
  /** @default 0.05 */
  missing_rate_increase: number;
  /** Binomial standard errors the missing-rate rise must also reach. @default 3 */
  missing_rate_z: number;
  /** @default 0.01 */
  type_violation_rate: number;
  /** @default 0.05 */
  out_of_range_rate: number;
  /** @default 0.05 */
  unseen_rate: number;
  /** @default 0.01 */
  dead_letter_rate: number;
  /** @default 100 */
  min_rows: number;
  /** Rise of the most frequent value's share over the reference's that counts as stuck. @default 0.2 */
  stuck_share_increase: number;
  /** Binomial standard errors that rise must also reach (a handful of values is not a stuck sensor). @default 3 */
  stuck_share_z: number;
  /** Non-missing values a window needs before the stuck-value check applies. @default 20 */
  stuck_min_values: number;
  /** Non-missing values a window needs before zero variance counts. @default 5 */
  zero_variance_min_values: number;
  /** Share of rows carrying feature keys unknown to the reference. @default 0.05 */
  appeared_rate: number;
  /**
   * Tell a stuck value from shift (rule revision 4): a value far more frequent than in the
   * reference is breakage only where it replaces spread. It is shift when the reference already
   * had it with real mass — its most frequent value or a boundary (a top-code such as 52 years),
   * in a feature whose values repeat (reference most frequent share ≥ `stuck_reference_mass`) —
   * and the window keeps at least `stuck_spread_kept` of the reference's standard deviation; or
   * when it holds under half of its own reference bin's share of the window (many values crowd a
   * narrow range: the population moved). Off: every such rise is breakage. @default false
   */
  stuck_shift_aware: boolean;
  /** Reference share of the most frequent value from which a feature's values count as repeating. @default 0.01 */
  stuck_reference_mass: number;
  /** Share of the reference's standard deviation a window must keep for a grown value to be shift. @default 0.5 */
  stuck_spread_kept: number;
  /**
   * Tell a stuck value from a ceiling by the window's event order (the ModelMonitor's
   * `stuck-value-order` marker, `MonitorSettings.stuckValueOrder`): a frozen sensor or a filled-in
   * reading repeats its value in stretches of consecutive events; a ceiling or floor reached more
   * often after a shift is hit between varied readings. A value that a value-aware check would
   * call stuck is shift when its repeats interleave (runs test p > `stuck_runs_p`, in a window
   * where one stretch would have p ≤ `stuck_runs_p`), it is a boundary or the most frequent value
   * of the reference or the feature's values repeat (reference most frequent share ≥
   * `stuck_reference_mass`), and the other values keep `stuck_others_spread` of the reference's
   * standard deviation. Never turns shift into breakage. Off: the order is not read. @default false
   */
  stuck_order_aware: boolean;
  /**
   * Left-tail runs probability (value-runs.ts) at or under which a value's repeats come in
   * stretches (stuck); above it, in a window large enough for one stretch to reach it, they
   * interleave. 0.01: a fill of a tenth of a window of a few hundred events is far below it
   * (p < 1e-20), a value hit at random is below it one time in a hundred. @default 0.01
   */
  stuck_runs_p: number;
  /**
   * Share of the reference's standard deviation the values other than the grown one must keep for
   * interleaved repeats to be a ceiling (with `stuck_order_aware`). Lower than `stuck_spread_kept`
   * because a shift toward a ceiling compresses the values below it (a normal shifted to its clip
   * point keeps 0.6 of its deviation below it, one shifted a deviation past it 0.45), and a
   * reference spanning two regimes has more spread than either; a quarter still tells a sensor
   * that lost its range (the rest collapsed too). @default 0.25
   */
  stuck_others_spread: number;
}

export const DEFAULT_QUALITY_THRESHOLDS: QualityThresholds = {
  missing_rate_increase: 0.05,
  missing_rate_z: 3,
  type_violation_rate: 0.01,
  out_of_range_rate: 0.05,
  unseen_rate: 0.05,
  dead_letter_rate: 0.01,
  min_rows: 100,
  stuck_share_increase: 0.2,
  stuck_share_z: 3,
  stuck_min_values: 20,
  zero_variance_min_values: 5,
  appeared_rate: 0.05,
  stuck_shift_aware: false,
  stuck_reference_mass: 0.01,
  stuck_spread_kept: 0.5,
  stuck_order_aware: false,
  stuck_runs_p: 0.01,
  stuck_others_spread: 0.25,
};

/** What a failing check means for retraining (see the module comment). */
export type QualityCheckKind = 'breakage' | 'shift' | 'evidence';

export type QualityCheckName =
  | 'missing-rate'
  | 'type-violations'
  | 'dead-letters'
  | 'stuck-value'
  | 'frequent-value'
  | 'zero-variance'
  | 'feature-vanished'
  | 'feature-appeared'
  | 'out-of-range'
  | 'unseen-categories'
  | 'few-rows';

const CHECK_KINDS: Record<QualityCheckName, QualityCheckKind> = {
  'missing-rate': 'breakage',
  'type-violations': 'breakage',
  'dead-letters': 'breakage',
  'stuck-value': 'breakage',
  'frequent-value': 'shift',
  'zero-variance': 'breakage',
  'feature-vanished': 'breakage',
  'feature-appeared': 'breakage',
  'out-of-range': 'shift',
  'unseen-categories': 'shift',
  'few-rows': 'evidence',
};

/** One failing check, with the figure that failed it and what it was compared with. */
export interface QualityCheck {
  check: QualityCheckName;
  kind: QualityCheckKind;
  /** The feature, or null for a window-level check. */
  feature: string | null;
  /** The window's figure (a rate or share, or a row count for `few-rows`). */
  value: number;
  /** The reference's figure, when the check compares with one. */
  reference: number | null;
  threshold: number;
  /** The check in words, with its figures, e.g. "x1: value 0 in 100.0% of values (reference at most 0.4%)". */
  detail: string;
  /** A stuck or frequent value's runs test in event order, when the order was read (`stuck_order_aware`). @default absent */
  runs?: RunsTest;
}

export interface FeatureQuality {
  name: string;
  kind: FeatureKind;
  rows: number;
  missing: number;
  missing_rate: number;
  type_violations: number;
  type_violation_rate: number;
  out_of_range: number;
  out_of_range_rate: number;
  unseen: number;
  unseen_rate: number;
  /** Most frequent value's share of the non-missing values, when measured. */
  top_value_share: number | null;
  /**
   * A bound on that share where the window's read settled that no value reaches the stuck bar
   * without counting the value (`FeatureQualityCounts.top_value_share_at_most`); absent otherwise.
   * @default undefined
   */
  top_value_share_at_most?: number;
  /** Failing checks in words (without the feature name). */
  alerts: string[];
}

export interface DataQualityReport {
  rows: number;
  dead_lettered: number;
  /** Dead-lettered / (accepted rows + dead-lettered). */
  dead_letter_rate: number;
  features: FeatureQuality[];
  /** Every failing check in words: window-level ones, then "feature: check" lines. */
  alerts: string[];
  /** Every failing check with its kind and figures. */
  checks: QualityCheck[];
  /** Whether any breakage check failed: a retrain must not train on this window. */
  broken: boolean;
  /** No breakage (shift and small windows are reported, but a window with only those is ok). */
  ok: boolean;
}

const rate = (count: number, rows: number): number => (rows > 0 ? count / rows : 0);
/** A share as a percentage: one decimal, or two significant digits under 1% (a reference share is often tiny). */
const pct = (x: number): string => {
  const p = x * 100;
  return p > 0 && p < 1 ? `${Number(p.toPrecision(2))}%` : `${p.toFixed(1)}%`;
};
const valueText = (v: number | string | null | undefined): string =>
  v === null || v === undefined ? '?' : typeof v === 'number' ? String(Number(v.toPrecision(6))) : `"${v}"`;

function check(
  name: QualityCheckName,
  feature: string | null,
  value: number,
  reference: number | null,
  threshold: number,
  text: string,
): QualityCheck {
  return { check: name, kind: CHECK_KINDS[name], feature, value, reference, threshold, detail: text };
}

/** One-sided binomial z of `count` of `n` against a rate `p0` (floored so an empty baseline is not infinitely surprising). */
function binomialZ(count: number, n: number, p0: number): number {
  if (n <= 0) return 0;
  const p = Math.min(0.99, Math.max(0.01, p0));
  return (count - n * p) / Math.sqrt(n * p * (1 - p));
}

/**
 * Why a value grown far more frequent than in the reference is shift rather than a stuck value,
 * or null when it is a stuck value (see `QualityThresholds.stuck_shift_aware`).
 */
function grownValueIsShift(
  counts: FeatureQualityCounts,
  top: number,
  referenceTop: number,
  thresholds: QualityThresholds,
): string | null {
  const value = counts.top_value;
  const binShare = counts.top_value_bin_share;
  if (binShare != null && binShare > 0 && top < 0.5 * binShare)
    return `${pct(top / binShare)} of the ${pct(binShare)} of values in its reference bin: many values crowd a narrow range, shift`;
  if (typeof value !== 'number' || referenceTop < thresholds.stuck_reference_mass) return null;
  const where =
    value === counts.reference_top_value
      ? "the reference's most frequent value"
      : value === counts.reference_max
        ? "the reference's largest value"
        : value === counts.reference_min
          ? "the reference's smallest value"
          : null;
  if (where === null) return null;
  const std = counts.std;
  const referenceStd = counts.reference_std;
  if (std == null || referenceStd == null || !(referenceStd > 0) || std < thresholds.stuck_spread_kept * referenceStd)
    return null;
  return `${where}, the window keeping its spread (std ${std.toPrecision(3)} vs reference ${referenceStd.toPrecision(3)}): a value the reference had grown frequent, shift`;
}

/** A runs test in words: "in 3 runs where a random order gives 148 (z −12.1, p 2.4e-37)". */
function runsText(test: RunsTest): string {
  const p = test.p < 1e-300 ? '< 1e-300' : Number(test.p.toPrecision(2)).toString();
  return `in ${test.runs} runs where a random order gives ${Number(test.expected.toPrecision(3))} (z ${test.z.toFixed(1)}, p ${p})`;
}

/**
 * Why a value a value-aware check calls stuck is a ceiling or floor reached more often (shift),
 * judged by the window's event order, or null when it stays stuck (see
 * `QualityThresholds.stuck_order_aware`).
 */
function interleavedValueIsShift(
  counts: FeatureQualityCounts,
  test: RunsTest,
  referenceTop: number,
  thresholds: QualityThresholds,
): string | null {
  // A window too small or too lopsided for one stretch to stand out is no evidence of interleaving.
  if (test.minimumP > thresholds.stuck_runs_p || test.p <= thresholds.stuck_runs_p) return null;
  const value = counts.top_value;
  if (typeof value !== 'number') return null;
  const where =
    value === counts.reference_max
      ? "the reference's largest value"
      : value === counts.reference_min
        ? "the reference's smallest value"
        : value === counts.reference_top_value
          ? "the reference's most frequent value"
          : referenceTop >= thresholds.stuck_reference_mass
            ? `a value of a feature whose values repeat (reference most frequent ${pct(referenceTop)})`
            : null;
  if (where === null) return null;
  const othersStd = counts.others_std;
  const referenceStd = counts.reference_std;
  if (
    othersStd == null ||
    referenceStd == null ||
    !(referenceStd > 0) ||
    othersStd < thresholds.stuck_others_spread * referenceStd
  )
    return null;
  return `${where}, its repeats interleaved with other values ${runsText(test)}, the others keeping their spread (std ${othersStd.toPrecision(3)} vs reference ${referenceStd.toPrecision(3)}): a ceiling or floor reached more often, shift`;
}

/** The failing checks of one feature. */
export function featureChecks(
  counts: FeatureQualityCounts,
  thresholds: QualityThresholds = DEFAULT_QUALITY_THRESHOLDS,
): QualityCheck[] {
  const out: QualityCheck[] = [];
  const { name, rows } = counts;
  const baseline = counts.reference_missing_rate ?? 0;
  const missingRate = rate(counts.missing, rows);
  if (rows > 0 && counts.missing === rows && baseline < 0.5)
    out.push(
      check(
        'feature-vanished',
        name,
        1,
        baseline,
        1,
        `all ${rows} values missing (reference ${pct(baseline)} missing): the feature vanished`,
      ),
    );
  else if (
    missingRate - baseline >= thresholds.missing_rate_increase &&
    binomialZ(counts.missing, rows, baseline) >= thresholds.missing_rate_z
  )
    out.push(
      check(
        'missing-rate',
        name,
        missingRate,
        baseline,
        thresholds.missing_rate_increase,
        `missing rate ${missingRate.toFixed(3)} vs reference ${baseline.toFixed(3)}`,
      ),
    );
  const typeRate = rate(counts.type_violations ?? 0, rows);
  if (typeRate >= thresholds.type_violation_rate)
    out.push(
      check(
        'type-violations',
        name,
        typeRate,
        0,
        thresholds.type_violation_rate,
        `type violations ${typeRate.toFixed(3)}`,
      ),
    );
  const present = rows - counts.missing - (counts.type_violations ?? 0);
  const top = counts.top_value_share;
  const referenceTop = counts.reference_top_value_share;
  let stuck = false;
  if (top != null && referenceTop != null && present >= thresholds.stuck_min_values) {
    const rise = top - referenceTop;
    const p0 = Math.max(referenceTop, 1 / present);
    const grew =
      rise >= thresholds.stuck_share_increase && binomialZ(top * present, present, p0) >= thresholds.stuck_share_z;
    const valueShift =
      grew && thresholds.stuck_shift_aware ? grownValueIsShift(counts, top, referenceTop, thresholds) : null;
    // The event order only ever turns a stuck verdict into shift, never the reverse.
    const runs = grew && thresholds.stuck_order_aware && counts.top_value_runs ? runsTest(counts.top_value_runs) : null;
    const orderShift =
      valueShift === null && runs !== null ? interleavedValueIsShift(counts, runs, referenceTop, thresholds) : null;
    const shift = valueShift ?? orderShift;
    const figures = `value ${valueText(counts.top_value)} in ${pct(top)} of ${present} values (reference: most frequent value ${pct(referenceTop)})`;
    const withRuns = (c: QualityCheck): QualityCheck => (runs ? { ...c, runs } : c);
    if (shift !== null)
      out.push(
        withRuns(
          check('frequent-value', name, top, referenceTop, thresholds.stuck_share_increase, `${figures}: ${shift}`),
        ),
      );
    else if (grew) {
      stuck = true;
      const order =
        runs === null
          ? ''
          : runs.minimumP > thresholds.stuck_runs_p
            ? `, ${runsText(runs)}: too few other values for the order to tell (one stretch would have p ${Number(runs.minimumP.toPrecision(2))})`
            : runs.p <= thresholds.stuck_runs_p
              ? `, its repeats in stretches ${runsText(runs)}`
              : `, interleaved ${runsText(runs)} but not at a value the reference had or without the others' spread`;
      out.push(
        withRuns(
          check('stuck-value', name, top, referenceTop, thresholds.stuck_share_increase, `${figures}${order}: stuck`),
        ),
      );
    }
  }
  // All values equal is stuck only when the reference makes it implausible: a binary feature
  // that is 0 in 95% of the reference is all 0 in a window of 30 one time in five.
  const allEqualPlausible =
    referenceTop != null ? referenceTop ** present > 1e-3 : present < thresholds.zero_variance_min_values;
  if (
    !stuck &&
    counts.std != null &&
    counts.reference_std != null &&
    counts.std === 0 &&
    counts.reference_std > 0 &&
    present >= thresholds.zero_variance_min_values &&
    !allEqualPlausible
  )
    out.push(
      check(
        'zero-variance',
        name,
        0,
        counts.reference_std,
        0,
        `all ${present} values equal${counts.top_value != null ? ` (${valueText(counts.top_value)})` : ''}, reference std ${counts.reference_std.toPrecision(3)}: stuck`,
      ),
    );
  const rangeRate = rate(counts.out_of_range ?? 0, rows);
  if (rangeRate >= thresholds.out_of_range_rate)
    out.push(
      check(
        'out-of-range',
        name,
        rangeRate,
        null,
        thresholds.out_of_range_rate,
        `out of reference range ${rangeRate.toFixed(3)}`,
      ),
    );
  const unseenRate = rate(counts.unseen ?? 0, rows);
  if (unseenRate >= thresholds.unseen_rate)
    out.push(
      check(
        'unseen-categories',
        name,
        unseenRate,
        null,
        thresholds.unseen_rate,
        `unseen categories ${unseenRate.toFixed(3)}`,
      ),
    );
  return out;
}

/** Rates and failing checks of one feature. */
export function featureQuality(
  counts: FeatureQualityCounts,
  thresholds: QualityThresholds = DEFAULT_QUALITY_THRESHOLDS,
): FeatureQuality {
  const rows = counts.rows;
  const typeViolations = counts.type_violations ?? 0;
  const outOfRange = counts.out_of_range ?? 0;
  const unseen = counts.unseen ?? 0;
  return {
    name: counts.name,
    kind: counts.kind,
    rows,
    missing: counts.missing,
    missing_rate: rate(counts.missing, rows),
    type_violations: typeViolations,
    type_violation_rate: rate(typeViolations, rows),
    out_of_range: outOfRange,
    out_of_range_rate: rate(outOfRange, rows),
    unseen,
    unseen_rate: rate(unseen, rows),
    top_value_share: counts.top_value_share ?? null,
    ...(counts.top_value_share_at_most != null ? { top_value_share_at_most: counts.top_value_share_at_most } : {}),
    alerts: featureChecks(counts, thresholds).map((c) => c.detail),
  };
}

/** Feature keys the window carried that the reference does not know, and in how many rows. */
export interface AppearedFeatures {
  /** Key occurrences unknown to the reference (a row carrying two unknown keys counts twice). */
  occurrences: number;
  /** The keys, most frequent first, when they were looked up. @default [] */
  names?: { name: string; rows: number }[];
}

/** The data quality report of one window. */
export function dataQualityReport(
  window: {
    rows: number;
    dead_lettered: number;
    features: readonly FeatureQualityCounts[];
    /** Keys unknown to the reference. @default none */
    appeared?: AppearedFeatures | null;
  },
  thresholds: Partial<QualityThresholds> = {},
): DataQualityReport {
  const t = { ...DEFAULT_QUALITY_THRESHOLDS, ...thresholds };
  const deadLetterRate = rate(window.dead_lettered, window.rows + window.dead_lettered);
  const windowChecks: QualityCheck[] = [];
  if (window.rows < t.min_rows)
    windowChecks.push(
      check('few-rows', null, window.rows, null, t.min_rows, `only ${window.rows} rows (< ${t.min_rows})`),
    );
  if (deadLetterRate >= t.dead_letter_rate)
    windowChecks.push(
      check(
        'dead-letters',
        null,
        deadLetterRate,
        0,
        t.dead_letter_rate,
        `dead-letter rate ${deadLetterRate.toFixed(3)}`,
      ),
    );
  const appeared = window.appeared;
  const appearedRate = rate(appeared?.occurrences ?? 0, window.rows);
  if (appeared && appearedRate >= t.appeared_rate) {
    const names = (appeared.names ?? []).map((n) => `${n.name} (${n.rows} rows)`).join(', ');
    windowChecks.push(
      check(
        'feature-appeared',
        null,
        appearedRate,
        0,
        t.appeared_rate,
        `features unknown to the reference in ${pct(appearedRate)} of rows${names ? `: ${names}` : ''}`,
      ),
    );
  }
  const featureCheckLists = window.features.map((f) => featureChecks(f, t));
  const features = window.features.map((f, i) => {
    const q = featureQuality(f, t);
    return { ...q, alerts: (featureCheckLists[i] ?? []).map((c) => c.detail) };
  });
  const checks = [
    ...windowChecks,
    ...featureCheckLists.flat().map((c) => ({ ...c, detail: `${c.feature}: ${c.detail}` })),
  ];
  const broken = checks.some((c) => c.kind === 'breakage');
  return {
    rows: window.rows,
    dead_lettered: window.dead_lettered,
    dead_letter_rate: deadLetterRate,
    features,
    alerts: checks.map((c) => c.detail),
    checks,
    broken,
    ok: !broken,
  };
}

/**
 * Whether the window passed the checks as they stood before breakage and shift were told apart
 * (rule revisions 1 and 2): every rate alert failed it, out-of-range, unseen categories and
 * fewer than `min_rows` rows included. Kept so replayed monitors decide as they did.
 */
export function legacyQualityOk(
  window: { rows: number; dead_lettered: number; features: readonly FeatureQualityCounts[] },
  thresholds: Partial<QualityThresholds> = {},
): boolean {
  const t = { ...DEFAULT_QUALITY_THRESHOLDS, ...thresholds };
  if (window.rows < t.min_rows) return false;
  if (rate(window.dead_lettered, window.rows + window.dead_lettered) >= t.dead_letter_rate) return false;
  for (const f of window.features) {
    const baseline = f.reference_missing_rate ?? 0;
    if (f.rows > 0 && f.missing === f.rows) return false;
    if (rate(f.missing, f.rows) - baseline >= t.missing_rate_increase) return false;
    if (rate(f.type_violations ?? 0, f.rows) >= t.type_violation_rate) return false;
    if (rate(f.out_of_range ?? 0, f.rows) >= t.out_of_range_rate) return false;
    if (rate(f.unseen ?? 0, f.rows) >= t.unseen_rate) return false;
  }
  return true;
}

/** The breakage checks of a report, in words (what a blocked retrain names). */
export function breakageDetails(report: Pick<DataQualityReport, 'checks'>): string[] {
  return report.checks.filter((c) => c.kind === 'breakage').map((c) => c.detail);
}

/**
 * Out-of-range count from window counts over edges made by referenceBinEdges: its first
 * bin is (−∞, min_ref) and its last is (max_ref, +∞), so their counts are exactly the
 * values outside the reference range.
 */
export function outOfRangeFromCounts(reference: NumericReferenceProfile, current: NumericCounts): number {
  if (reference.cuts.length === 0) return 0;
  return (current.counts[0] ?? 0) + (current.counts[current.counts.length - 1] ?? 0);
}

/** Unseen-category count of a categorical window against its reference. */
export function unseenFromProfiles(reference: CategoricalProfile, current: CategoricalProfile): number {
  return alignCategories(reference.counts, current.counts).unseenCount;
}

/** The most frequent category and its share of the non-missing values, or null when there are none. */
export function topCategory(profile: CategoricalProfile): { value: string; share: number } | null {
  let total = 0;
  let best: string | null = null;
  let bestCount = -1;
  for (const [label, count] of Object.entries(profile.counts)) {
    total += count;
    if (count > bestCount) {
      best = label;
      bestCount = count;
    }
  }
  return best === null || total <= 0 ? null : { value: best, share: bestCount / total };
}

/**
 * Numeric features whose window might hold a stuck value: one of the reference's bins gained at
 * least `minRise` of the window's values. A stuck value lands in one bin, so this finds every
 * candidate from the counts alone; the exact most-frequent-value share is then counted next to
 * the data for these features only (a frozen sensor is rare, an exact count per feature and
 * window is not free). `minRise` defaults to half the stuck threshold: a bin of a quantile
 * reference holds ~1/bins of it, so a value whose share rose by the threshold lifts its bin by
 * at least that much less the bin's own reference share.
 */
export function stuckValueCandidates(
  reference: Record<string, NumericReferenceProfile | CategoricalProfile>,
  window: Record<string, NumericCounts | CategoricalProfile>,
  minRise = DEFAULT_QUALITY_THRESHOLDS.stuck_share_increase / 2,
): string[] {
  const out: string[] = [];
  for (const [name, profile] of Object.entries(reference)) {
    if (profile.kind !== 'numeric') continue;
    const current = window[name] as NumericCounts | undefined;
    if (!current || 'kind' in current) continue;
    const n = sumOf(current.counts);
    const nRef = sumOf(profile.counts);
    if (n <= 0 || nRef <= 0) continue;
    let rise = 0;
    current.counts.forEach((c, b) => {
      rise = Math.max(rise, c / n - (profile.counts[b] ?? 0) / nRef);
    });
    if (rise >= minRise) out.push(name);
  }
  return out;
}

function sumOf(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}
