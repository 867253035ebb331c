import { z } from 'zod';
import {
  DEFAULT_MULTIVARIATE_SETTINGS,
  MULTIVARIATE_TESTS,
  type MultivariateDriftSettings,
} from '../detectors/drift/multivariate/settings.ts';

/**
 * The `multivariate` section of a retrain policy (platform/policy-file.ts): whether the
 * multivariate drift tests run on each window, which, on how many sampled rows, and at what level.
 * Its output is a {@link MultivariateDriftSettings} (asserted below), what the tests consume.
 */

const d = DEFAULT_MULTIVARIATE_SETTINGS;

const number = (what: string) =>
  z.number({ error: (iss) => (iss.input === undefined ? `required: ${what}` : `expected a number: ${what}`) });
const wholeAtLeast = (what: string, min: number) =>
  number(what)
    .int({ error: `must be a whole number: ${what}` })
    .min(min, { error: `must be at least ${min}: ${what}` });
const openUnit = (what: string) =>
  number(what)
    .gt(0, { error: `must be between 0 and 1 (exclusive): ${what}` })
    .lt(1, { error: `must be between 0 and 1 (exclusive): ${what}` });

export const multivariatePolicySchema = z
  .object({
    enabled: z.boolean({ error: 'expected true or false' }).default(d.enabled),
    tests: z
      .array(
        z.enum(MULTIVARIATE_TESTS, { error: `expected one of ${MULTIVARIATE_TESTS.map((t) => `"${t}"`).join(', ')}` }),
      )
      .min(1, { error: 'name at least one test, or set enabled: false' })
      .default([...d.tests]),
    sampleRows: wholeAtLeast('rows sampled from the window and from the reference, each', 20)
      .max(20_000, { error: 'must be at most 20000: rows sampled per side (each test is at least linear in them)' })
      .default(d.sampleRows),
    alpha: openUnit('family-wise level across the multivariate tests').default(d.alpha),
    minAuc: number('cross-validated ROC AUC the domain classifier must reach')
      .min(0.5, { error: 'must be between 0.5 and 1: an AUC of 0.5 is chance' })
      .max(1, { error: 'must be between 0.5 and 1: an AUC of 0.5 is chance' })
      .default(d.minAuc),
    explainedVariance: openUnit('explained variance the kept PCA components exceed').default(d.explainedVariance),
    mmdRows: wholeAtLeast('rows per side the MMD test uses', 10)
      .max(5_000, { error: 'must be at most 5000: the MMD kernel matrix holds (2 × mmdRows)² values' })
      .default(d.mmdRows),
    permutations: wholeAtLeast('label permutations of the MMD p-value', 19).default(d.permutations),
    bootstrapResamples: wholeAtLeast('bootstrap resamples of the PCA band', 100).default(d.bootstrapResamples),
  })
  .strict()
  .describe(
    'Multivariate drift tests on a sample of each window and its reference (domain classifier, PCA reconstruction error, MMD): any test that drifts makes the window drift as a dataset. Omit to leave them off.',
  );

type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesTypes: Exactly<z.output<typeof multivariatePolicySchema>, MultivariateDriftSettings> = true;
void schemaMatchesTypes;
