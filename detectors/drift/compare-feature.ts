/**
 * Entry points comparing one column between a reference and a current window.
 *
 *  - compareFeature(reference, current, options): raw arrays (tests, small data, replay).
 *  - compareBinnedFeature(reference, current, options): compact profiles, the production
 *    path — the window's counts come from SQL over the reference's fixed edges, so the
 *    cost is O(bins + categories), independent of the number of rows.
 *
 * Both return a FeatureDriftResult whose verdict uses the raw p-value as the adjusted one
 * (BH over a single test is the identity); driftReport re-adjusts across features.
 *
 * Numeric metrics: KS (raw or binned), Wasserstein-1 (+ normalized by σ_ref), PSI, JS, Hellinger.
 * Categorical metrics: chi-square homogeneity, PSI, JS, Hellinger, L∞.
 */
import { total } from './bins.ts';
import { DEFAULT_BIN_COUNT, countIntoBins, referenceBinEdges } from './bins.ts';
import { alignCategories } from './categories.ts';
import type { ChiSquareOptions } from './chi-square.ts';
import { chiSquareHomogeneity } from './chi-square.ts';
import type { ColumnCounts, ColumnRole, FeatureDriftResult, FeatureKind } from './feature-result.ts';
import { resultBeforeTests } from './feature-result.ts';
import { hellingerDistance } from './hellinger.ts';
import { jensenShannonDistance } from './jensen-shannon.ts';
import { ksFromBinnedCounts } from './ks-binned.ts';
import type { KsOptions } from './ks-two-sample.ts';
import { ksTwoSample } from './ks-two-sample.ts';
import { linfDistance } from './linf.ts';
import type { CategoricalColumn, NumericColumn } from './missing-values.ts';
import { splitFinite } from './missing-values.ts';
import type { CategoricalProfile, NumericCounts, NumericReferenceProfile } from './profiles.ts';
import { categoricalProfile } from './profiles.ts';
import { DEFAULT_PSI_EPSILON, populationStabilityIndex } from './psi.ts';
import type { VerdictOptions } from './verdict.ts';
import { applyVerdict } from './verdict.ts';
import {
  normalizeWasserstein,
  standardDeviation,
  wassersteinDistance,
  wassersteinFromBinnedCounts,
} from './wasserstein.ts';

export interface CompareOptions extends VerdictOptions {
  /** Column name in the result. @default 'feature' */
  name?: string;
  /** Column kind; inferred for raw arrays (all non-missing values numbers ⇒ numeric). @default inferred */
  kind?: FeatureKind;
  /** Feature or model prediction; the statistics are the same. @default 'feature' */
  role?: ColumnRole;
  /** Reference-quantile bins for PSI/JS/Hellinger on raw numeric arrays. @default 20 */
  bins?: number;
  /** Share substituted for empty bins in PSI. @default 1e-4 */
  psiEpsilon?: number;
  /** KS p-value method for raw arrays. @default { method: 'auto', exactMaxN: 10000 } */
  ks?: KsOptions;
  /** Chi-square options. @default { yates: false } */
  chi2?: ChiSquareOptions;
}

function baseResult(options: CompareOptions, kind: FeatureKind, counts: ColumnCounts): FeatureDriftResult {
  return resultBeforeTests({ name: options.name ?? 'feature', kind, role: options.role ?? 'feature' }, counts);
}

/** Finalise: the lone-feature verdict uses the raw p-value as the adjusted one. */
function finish(result: FeatureDriftResult, options: CompareOptions): FeatureDriftResult {
  return applyVerdict(result, result.pvalue, options);
}

/** Infer numeric vs categorical from the non-missing values of both columns. */
export function inferKind(...columns: ArrayLike<unknown>[]): FeatureKind {
  for (const column of columns) {
    for (let i = 0; i < column.length; i++) {
      const v = column[i];
      if (v !== null && v !== undefined && typeof v !== 'number') return 'categorical';
    }
  }
  return 'numeric';
}

/** Compare two raw numeric columns. */
function compareNumeric(reference: NumericColumn, current: NumericColumn, options: CompareOptions): FeatureDriftResult {
  const ref = splitFinite(reference);
  const cur = splitFinite(current);
  const result = baseResult(options, 'numeric', {
    nRef: ref.values.length,
    nCur: cur.values.length,
    missRef: ref.missing,
    missCur: cur.missing,
  });
  if (!result.tested) return finish(result, options);
  const ks = ksTwoSample(ref.values, cur.values, options.ks);
  const distance = wassersteinDistance(ref.values, cur.values);
  const referenceScale = standardDeviation(ref.values);
  const pooled =
    referenceScale > 0 ? referenceScale : standardDeviation(Float64Array.from([...ref.values, ...cur.values]));
  const cuts = referenceBinEdges(ref.values, options.bins ?? DEFAULT_BIN_COUNT);
  const refCounts = countIntoBins(ref.values, cuts);
  const curCounts = countIntoBins(cur.values, cuts);
  return finish(
    {
      ...result,
      test: 'ks',
      pvalue: ks.pvalue,
      ks: { statistic: ks.statistic, pvalue: ks.pvalue },
      wasserstein: { distance, normalized: normalizeWasserstein(distance, referenceScale, pooled) },
      psi: populationStabilityIndex(refCounts, curCounts, options.psiEpsilon ?? DEFAULT_PSI_EPSILON),
      jensen_shannon: jensenShannonDistance(refCounts, curCounts),
      hellinger: hellingerDistance(refCounts, curCounts),
    },
    options,
  );
}

/** Compare two categorical profiles (shared by the raw and the push-down paths). */
function compareCategorical(
  reference: CategoricalProfile,
  current: CategoricalProfile,
  options: CompareOptions,
): FeatureDriftResult {
  const aligned = alignCategories(reference.counts, current.counts);
  const result = baseResult(options, 'categorical', {
    nRef: total(aligned.reference),
    nCur: total(aligned.current),
    missRef: reference.missing,
    missCur: current.missing,
  });
  const unseen = { unseen_categories: aligned.unseen, unseen_count: aligned.unseenCount };
  if (!result.tested) return finish({ ...result, ...unseen }, options);
  const chi2 = chiSquareHomogeneity(aligned.reference, aligned.current, options.chi2);
  return finish(
    {
      ...result,
      test: 'chi2',
      pvalue: chi2.pvalue,
      chi2,
      psi: populationStabilityIndex(aligned.reference, aligned.current, options.psiEpsilon ?? DEFAULT_PSI_EPSILON),
      jensen_shannon: jensenShannonDistance(aligned.reference, aligned.current),
      hellinger: hellingerDistance(aligned.reference, aligned.current),
      linf: linfDistance(aligned.reference, aligned.current),
      ...unseen,
    },
    options,
  );
}

/**
 * Compare one column given as raw arrays. Missing values (null, undefined, NaN, ±Infinity
 * for numeric) are excluded from the tests and reported as missing_reference/current.
 */
export function compareFeature(
  reference: NumericColumn | CategoricalColumn,
  current: NumericColumn | CategoricalColumn,
  options: CompareOptions = {},
): FeatureDriftResult {
  const kind = options.kind ?? inferKind(reference, current);
  if (kind === 'numeric') return compareNumeric(reference as NumericColumn, current as NumericColumn, options);
  return compareCategorical(
    categoricalProfile(reference as CategoricalColumn),
    categoricalProfile(current as CategoricalColumn),
    options,
  );
}

/** σ of the union of two groups from their sizes, means and population σs; NaN when unknown. */
function pooledScale(reference: NumericReferenceProfile, nRef: number, current: NumericCounts, nCur: number): number {
  if (current.mean === undefined || current.std === undefined) return Number.NaN;
  const n = nRef + nCur;
  const mean = (nRef * reference.mean + nCur * current.mean) / n;
  const variance =
    (nRef * (reference.std ** 2 + (reference.mean - mean) ** 2) +
      nCur * (current.std ** 2 + (current.mean - mean) ** 2)) /
    n;
  return Math.sqrt(Math.max(0, variance));
}

/** Compare a numeric reference profile with window counts over the same cuts. */
function compareBinnedNumeric(
  reference: NumericReferenceProfile,
  current: NumericCounts,
  options: CompareOptions,
): FeatureDriftResult {
  if (current.counts.length !== reference.cuts.length + 1) {
    throw new RangeError(
      `window counts have ${current.counts.length} bins; the reference cuts define ${reference.cuts.length + 1}`,
    );
  }
  const nRef = total(reference.counts);
  const nCur = total(current.counts);
  const result = baseResult({ ...options, kind: 'numeric' }, 'numeric', {
    nRef,
    nCur,
    missRef: reference.missing,
    missCur: current.missing,
  });
  if (!result.tested) return finish(result, options);
  const ks = ksFromBinnedCounts(reference.counts, current.counts);
  const range = {
    min: Math.min(reference.min, current.min ?? reference.min),
    max: Math.max(reference.max, current.max ?? reference.max),
  };
  const distance = wassersteinFromBinnedCounts(reference.cuts, reference.counts, current.counts, range);
  return finish(
    {
      ...result,
      test: 'ks_binned',
      pvalue: ks.pvalue,
      ks: { statistic: ks.statistic, pvalue: ks.pvalue },
      wasserstein: {
        distance,
        normalized: normalizeWasserstein(distance, reference.std, pooledScale(reference, nRef, current, nCur)),
      },
      psi: populationStabilityIndex(reference.counts, current.counts, options.psiEpsilon ?? DEFAULT_PSI_EPSILON),
      jensen_shannon: jensenShannonDistance(reference.counts, current.counts),
      hellinger: hellingerDistance(reference.counts, current.counts),
    },
    options,
  );
}

/**
 * Compare one column from compact profiles (production path).
 * Numeric: `reference` is a NumericReferenceProfile (cuts + counts + moments); `current`
 * holds counts over the SAME cuts (+ optional min/max/mean/std).
 * Categorical: both are CategoricalProfile (label → count, + missing).
 */
export function compareBinnedFeature(
  reference: NumericReferenceProfile | CategoricalProfile,
  current: NumericCounts | CategoricalProfile,
  options: CompareOptions = {},
): FeatureDriftResult {
  if (reference.kind === 'numeric') {
    if ('kind' in current && current.kind === 'categorical')
      throw new TypeError('numeric reference compared with categorical window counts');
    return compareBinnedNumeric(reference, current as NumericCounts, options);
  }
  if (!('kind' in current) || current.kind !== 'categorical')
    throw new TypeError('categorical reference needs categorical window counts');
  return compareCategorical(reference, current, options);
}

/**
 * Prediction drift (label-free): the model's output column is compared with exactly the
 * same statistics as an input feature — numeric scores/probabilities as numeric,
 * predicted classes as categorical. This helper only fixes role and kind so reports
 * can tell the two apart.
 */
export function driftOfColumn(
  kind: FeatureKind,
  reference: NumericColumn | CategoricalColumn,
  current: NumericColumn | CategoricalColumn,
  options: Omit<CompareOptions, 'kind'> = {},
): FeatureDriftResult {
  return compareFeature(reference, current, { name: 'prediction', role: 'prediction', ...options, kind });
}
