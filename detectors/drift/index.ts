/**
 * Drift statistics for halflife: pure functions, no I/O.
 * Start with compareFeature / compareBinnedFeature and driftReport; the individual
 * statistics are exported for the SQL push-down side and for tests.
 */
export * from './bins.ts';
export * from './categories.ts';
export * from './chi-square.ts';
export * from './compare-feature.ts';
export * from './data-quality.ts';
export type * from './feature-result.ts';
export * from './hellinger.ts';
export * from './jensen-shannon.ts';
export * from './kolmogorov-distribution.ts';
export * from './ks-binned.ts';
export * from './ks-two-sample.ts';
export * from './linf.ts';
export * from './missing-values.ts';
export * from './multiple-testing.ts';
export * from './profiles.ts';
export * from './psi.ts';
export * from './reference-cuts.ts';
export * from './report.ts';
export * from './special-functions.ts';
export * from './thresholds.ts';
export * from './verdict.ts';
export * from './wasserstein.ts';
export * from './window-comparison.ts';
