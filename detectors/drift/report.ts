/**
 * The window-level drift report: all feature results, BH-adjusted across features,
 * with the dataset verdict. A published JSON contract (snake_case, JSON-safe): `halflife drift --json` prints it.
 */
import type { FeatureDriftResult } from './feature-result.ts';
import type { MultivariateDriftReport } from './multivariate/report.ts';
import type { DatasetVerdict, VerdictOptions } from './verdict.ts';
import { decideDrift } from './verdict.ts';
import type { DriftThresholds } from './thresholds.ts';
import { DEFAULT_ALPHA, DEFAULT_DATASET_DRIFT_SHARE, resolveThresholds } from './thresholds.ts';

export interface DriftReport extends DatasetVerdict {
  features: FeatureDriftResult[];
  alpha: number;
  dataset_drift_share: number;
  thresholds: DriftThresholds;
  multiple_testing: 'benjamini-hochberg';
  /** The multivariate tests, when they ran: `dataset_drift` is also true when one of them drifted. @default absent */
  multivariate?: MultivariateDriftReport;
}

/** Adjust, decide and summarise a set of per-feature results (from compareFeature / compareBinnedFeature). */
export function driftReport(features: readonly FeatureDriftResult[], options: VerdictOptions = {}): DriftReport {
  const names = new Set<string>();
  for (const f of features) {
    if (names.has(f.name)) throw new RangeError(`duplicate feature name in drift report: ${f.name}`);
    names.add(f.name);
  }
  const decided = decideDrift(features, options);
  return {
    features: decided.features,
    ...decided.dataset,
    alpha: options.alpha ?? DEFAULT_ALPHA,
    dataset_drift_share: options.datasetDriftShare ?? DEFAULT_DATASET_DRIFT_SHARE,
    thresholds: resolveThresholds(options.thresholds),
    multiple_testing: 'benjamini-hochberg',
  };
}
