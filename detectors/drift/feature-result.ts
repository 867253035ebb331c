/**
 * The per-feature drift result: part of the drift report's published JSON contract, hence snake_case.
 * Statistics that could not be computed are absent rather than NaN, and p-values that do
 * not exist are null, so the object serialises to JSON without loss.
 */
import type { ChiSquareResult } from './chi-square.ts';

export type FeatureKind = 'numeric' | 'categorical';

/** Which column of the model the result describes. The same statistics apply to both. */
export type ColumnRole = 'feature' | 'prediction';

/** The hypothesis test whose p-value backs the verdict. */
export type DriftTest = 'ks' | 'ks_binned' | 'chi2';

export interface FeatureDriftResult {
  name: string;
  kind: FeatureKind;
  role: ColumnRole;
  /** Non-missing values compared, reference side. */
  n_reference: number;
  /** Non-missing values compared, current side. */
  n_current: number;
  missing_reference: number;
  missing_current: number;
  /** False when either side had no non-missing values: nothing was tested. */
  tested: boolean;
  /** Effect size gate AND adjusted p-value < alpha. */
  drifted: boolean;
  /** Did at least one effect size reach its threshold? */
  effect_size_exceeded: boolean;
  /** Which thresholds were reached, e.g. "wasserstein_normalized 0.31 ≥ 0.1". */
  reasons: string[];
  /** Test used for the p-value. */
  test: DriftTest | null;
  /** Raw p-value of `test`. */
  pvalue: number | null;
  /** BH-adjusted p-value across the report's features (equals `pvalue` for a lone feature). */
  pvalue_adjusted: number | null;
  ks?: { statistic: number; pvalue: number };
  wasserstein?: { distance: number; normalized: number };
  psi?: number;
  jensen_shannon?: number;
  hellinger?: number;
  chi2?: ChiSquareResult;
  linf?: number;
  /** Categorical only: current-window labels absent from the reference (pooled as `__unseen__`). */
  unseen_categories?: string[];
  /** Categorical only: current rows in unseen categories. */
  unseen_count?: number;
}

/** Non-missing values and missing ones on each side of a comparison. */
export interface ColumnCounts {
  nRef: number;
  nCur: number;
  missRef: number;
  missCur: number;
}

/**
 * A column's result before any test ran: its counts, no verdict. `tested` says whether both sides
 * had values to compare; a column left untested stays like this.
 */
export function resultBeforeTests(
  column: { name: string; kind: FeatureKind; role: ColumnRole },
  counts: ColumnCounts,
): FeatureDriftResult {
  return {
    name: column.name,
    kind: column.kind,
    role: column.role,
    n_reference: counts.nRef,
    n_current: counts.nCur,
    missing_reference: counts.missRef,
    missing_current: counts.missCur,
    tested: counts.nRef > 0 && counts.nCur > 0,
    drifted: false,
    effect_size_exceeded: false,
    reasons: [],
    test: null,
    pvalue: null,
    pvalue_adjusted: null,
  };
}
