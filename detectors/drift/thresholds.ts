/**
 * Default effect-size thresholds and significance level for drift verdicts.
 *
 * Why effect sizes first: with enough rows every feature is "significant" (evidently#50,
 * alibi#646). A p-value answers "is there any difference?", an effect size answers "is
 * the difference big enough to matter?". A feature is drifted only when BOTH hold.
 *
 * Numeric (any one metric at or above its threshold passes the effect-size gate):
 *  - normalized Wasserstein ≥ 0.1: mass moved by a tenth of a reference standard
 *    deviation on average (a pure location shift of 0.1 σ). It is the most sensitive of
 *    the three to location shifts and is in the feature's own units before normalizing.
 *  - PSI ≥ 0.2: the credit-scoring convention for "significant shift" (0.1–0.2 "moderate").
 *    Catches shape changes (e.g. a mode appearing in a tail) that move little mass far.
 *  - Jensen–Shannon distance (base 2) ≥ 0.1: the bounded, symmetric shape metric; for a
 *    normal location shift it corresponds to about 0.25 σ, for a spread change to σ ×≈1.4.
 * Categorical:
 *  - Jensen–Shannon distance ≥ 0.1 (as Evidently's default, but with base-2 logs);
 *  - PSI ≥ 0.2 (same convention as above, over categories);
 *  - L∞ ≥ 0.1: some category's share moved by 10 percentage points — readable by operators
 *    and catches one big category swing that JS dilutes when there are many categories.
 * A threshold of Infinity disables that metric.
 */

/** Effect-size thresholds for numeric features. */
export interface NumericThresholds {
  /** @default 0.1 */
  wasserstein_normalized: number;
  /** @default 0.2 */
  psi: number;
  /** @default 0.1 */
  jensen_shannon: number;
}

/** Effect-size thresholds for categorical features. */
export interface CategoricalThresholds {
  /** @default 0.1 */
  jensen_shannon: number;
  /** @default 0.2 */
  psi: number;
  /** @default 0.1 */
  linf: number;
}

export interface DriftThresholds {
  numeric: NumericThresholds;
  categorical: CategoricalThresholds;
}

export const DEFAULT_THRESHOLDS: DriftThresholds = {
  numeric: { wasserstein_normalized: 0.1, psi: 0.2, jensen_shannon: 0.1 },
  categorical: { jensen_shannon: 0.1, psi: 0.2, linf: 0.1 },
};

/** Significance level for BH-adjusted p-values (false discovery rate). @default 0.05 */
export const DEFAULT_ALPHA = 0.05;

/** Share of tested features that must drift for the dataset to drift. @default 0.5 */
export const DEFAULT_DATASET_DRIFT_SHARE = 0.5;

/** Merge partial thresholds over the defaults. */
export function resolveThresholds(partial?: {
  numeric?: Partial<NumericThresholds>;
  categorical?: Partial<CategoricalThresholds>;
}): DriftThresholds {
  return {
    numeric: { ...DEFAULT_THRESHOLDS.numeric, ...partial?.numeric },
    categorical: { ...DEFAULT_THRESHOLDS.categorical, ...partial?.categorical },
  };
}
