/**
 * What a policy sets about the multivariate drift tests (policy key `multivariate`; validated in
 * platform/multivariate-policy-schema.ts). Plain types, importable from workflow code.
 */

/** The multivariate tests: a classifier telling window from reference, PCA reconstruction error, kernel MMD. */
export type MultivariateTest = 'domain-classifier' | 'pca-reconstruction' | 'mmd';

export const MULTIVARIATE_TESTS: readonly MultivariateTest[] = ['domain-classifier', 'pca-reconstruction', 'mmd'];

export interface MultivariateDriftSettings {
  /** Run the multivariate tests on every window (a sample query and a few hundred ms of CPU per window). @default false */
  enabled: boolean;
  /** Which tests run. @default ["domain-classifier", "pca-reconstruction", "mmd"] */
  tests: MultivariateTest[];
  /** Rows sampled from the window and from the reference, each, chosen by a hash of the event id. @default 1000 */
  sampleRows: number;
  /** Family-wise level across the tests that run (Bonferroni: each test at alpha / tests). @default 0.01 */
  alpha: number;
  /** Cross-validated ROC AUC the domain classifier must also reach (significant but negligible is not drift). @default 0.55 */
  minAuc: number;
  /** Explained variance the PCA's kept components must exceed (NannyML's default). @default 0.65 */
  explainedVariance: number;
  /** Rows per side the MMD test uses (its kernel matrix holds (2 × mmdRows)² values). @default 500 */
  mmdRows: number;
  /** Label permutations of the MMD p-value (at least tests / alpha, or it can never be significant). @default 500 */
  permutations: number;
  /** Bootstrap resamples of the PCA band. @default 2000 */
  bootstrapResamples: number;
}

export const DEFAULT_MULTIVARIATE_SETTINGS: MultivariateDriftSettings = {
  enabled: false,
  tests: [...MULTIVARIATE_TESTS],
  sampleRows: 1000,
  alpha: 0.01,
  minAuc: 0.55,
  explainedVariance: 0.65,
  mmdRows: 500,
  permutations: 500,
  bootstrapResamples: 2000,
};
