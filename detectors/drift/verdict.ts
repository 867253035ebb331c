/**
 * Drift verdicts: per feature, then for the dataset.
 *
 * Feature: drifted ⇔ (some effect size ≥ its threshold) AND (BH-adjusted p < alpha).
 * The effect-size gate stops "significant but negligible" shifts — 0.02 σ on 200k rows
 * has p ≈ 1e-40 but is not drift. The p-value gate stops noise — three rows that happen
 * to differ have large effect sizes but are not significant.
 *
 * Dataset: drifted ⇔ (drifted features / tested features ≥ datasetDriftShare, default 0.5)
 * OR any feature listed in `criticalFeatures` drifted. Untested features (all missing)
 * neither count as drifted nor towards the denominator; data quality reports them.
 */
import type { FeatureDriftResult } from './feature-result.ts';
import { benjaminiHochberg } from './multiple-testing.ts';
import type { CategoricalThresholds, DriftThresholds, NumericThresholds } from './thresholds.ts';
import { DEFAULT_ALPHA, DEFAULT_DATASET_DRIFT_SHARE, resolveThresholds } from './thresholds.ts';

export interface VerdictOptions {
  /** FDR level for BH-adjusted p-values. @default 0.05 */
  alpha?: number;
  /** Effect-size thresholds (partial values merge over the defaults). @default DEFAULT_THRESHOLDS */
  thresholds?: { numeric?: Partial<NumericThresholds>; categorical?: Partial<CategoricalThresholds> };
  /** Share of tested features that must drift for dataset drift. @default 0.5 */
  datasetDriftShare?: number;
  /** Features whose drift alone makes the dataset drift. @default [] */
  criticalFeatures?: readonly string[];
}

const format = (x: number): string => (Math.abs(x) >= 0.01 || x === 0 ? x.toFixed(3) : x.toExponential(2));

function check(reasons: string[], metric: string, value: number | undefined, threshold: number): void {
  if (value !== undefined && Number.isFinite(value) && value >= threshold)
    reasons.push(`${metric} ${format(value)} ≥ ${threshold}`);
}

/** Which effect-size thresholds a result reaches (empty list ⇒ negligible change). */
export function effectSizeReasons(result: FeatureDriftResult, thresholds: DriftThresholds): string[] {
  const reasons: string[] = [];
  if (result.kind === 'numeric') {
    const t = thresholds.numeric;
    check(reasons, 'wasserstein_normalized', result.wasserstein?.normalized, t.wasserstein_normalized);
    check(reasons, 'psi', result.psi, t.psi);
    check(reasons, 'jensen_shannon', result.jensen_shannon, t.jensen_shannon);
  } else {
    const t = thresholds.categorical;
    check(reasons, 'jensen_shannon', result.jensen_shannon, t.jensen_shannon);
    check(reasons, 'psi', result.psi, t.psi);
    check(reasons, 'linf', result.linf, t.linf);
  }
  return reasons;
}

/** Set effect-size fields and the drifted flag given an adjusted p-value. Returns a new object. */
export function applyVerdict(
  result: FeatureDriftResult,
  pvalueAdjusted: number | null,
  options: VerdictOptions = {},
): FeatureDriftResult {
  const alpha = options.alpha ?? DEFAULT_ALPHA;
  const reasons = result.tested ? effectSizeReasons(result, resolveThresholds(options.thresholds)) : [];
  const significant = pvalueAdjusted !== null && pvalueAdjusted < alpha;
  return {
    ...result,
    reasons,
    effect_size_exceeded: reasons.length > 0,
    pvalue_adjusted: pvalueAdjusted,
    drifted: result.tested && reasons.length > 0 && significant,
  };
}

/** Dataset-level summary of a set of feature verdicts. */
export interface DatasetVerdict {
  dataset_drift: boolean;
  n_features: number;
  n_tested: number;
  n_drifted: number;
  share_drifted: number;
  drifted_features: string[];
  critical_drifted: string[];
  untested_features: string[];
}

/**
 * BH-adjust the p-values across `results`, apply the feature verdicts, then the dataset rule.
 */
export function decideDrift(
  results: readonly FeatureDriftResult[],
  options: VerdictOptions = {},
): { features: FeatureDriftResult[]; dataset: DatasetVerdict } {
  const adjusted = benjaminiHochberg(results.map((r) => (r.tested && r.pvalue !== null ? r.pvalue : Number.NaN)));
  const features = results.map((r, i) => {
    const p = adjusted[i];
    return applyVerdict(r, p === undefined || Number.isNaN(p) ? null : p, options);
  });
  const tested = features.filter((f) => f.tested);
  const drifted = tested.filter((f) => f.drifted).map((f) => f.name);
  const critical = new Set(options.criticalFeatures ?? []);
  const criticalDrifted = drifted.filter((name) => critical.has(name));
  const share = tested.length > 0 ? drifted.length / tested.length : 0;
  const threshold = options.datasetDriftShare ?? DEFAULT_DATASET_DRIFT_SHARE;
  return {
    features,
    dataset: {
      dataset_drift: (tested.length > 0 && share >= threshold) || criticalDrifted.length > 0,
      n_features: features.length,
      n_tested: tested.length,
      n_drifted: drifted.length,
      share_drifted: share,
      drifted_features: drifted,
      critical_drifted: criticalDrifted,
      untested_features: features.filter((f) => !f.tested).map((f) => f.name),
    },
  };
}
