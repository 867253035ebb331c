/**
 * The multivariate drift of a window: each enabled test on the sampled rows of the window and
 * its reference, a verdict per test at a Bonferroni share of the policy's level, and the dataset
 * verdict (any test drifted). A published JSON contract (snake_case, JSON-safe): recorded with
 * every decision under `statistics.drift.multivariate` and printed by `halflife drift`.
 */
import { DEFAULT_DOMAIN_CLASSIFIER, domainClassifierDrift } from './domain-classifier.ts';
import { mmdTest } from './mmd.ts';
import { pcaReconstructionDrift } from './pca-reconstruction.ts';
import {
  columnScaling,
  numericMatrices,
  sharedVectors,
  sharedNumeric,
  standardise,
  vectorMatrices,
  type Matrix,
  type SampledRows,
} from './sample.ts';
import { DEFAULT_MULTIVARIATE_SETTINGS, type MultivariateDriftSettings, type MultivariateTest } from './settings.ts';

export interface MultivariateTestResult {
  test: MultivariateTest;
  /** The features it read (for MMD on a vector feature: that feature). */
  features: string[];
  statistic: { name: 'roc_auc' | 'reconstruction_error' | 'mmd2'; value: number };
  pvalue: number;
  /** The level this test is judged at (the policy's alpha over the tests run). */
  level: number;
  drifted: boolean;
  /** Why it drifted or not, with the figures. */
  reason: string;
  /** Features by their share of what drives the statistic, largest first (at most 5); empty for MMD. */
  driving_features: { feature: string; share: number }[];
  reference_rows: number;
  window_rows: number;
  /** Test-specific figures: folds and terms; the band and kept components; the kernel bandwidth. */
  details: Record<string, number | null>;
}

export interface MultivariateDriftReport {
  dataset_drift: boolean;
  drifted_tests: MultivariateTest[];
  alpha: number;
  tests: MultivariateTestResult[];
  /** Rows each side's sample held. */
  sample: { reference: number; window: number };
}

const DRIVERS = 5;

const fmt = (x: number): string => (x === 0 || Math.abs(x) >= 0.001 ? x.toFixed(3) : x.toExponential(2));

/** Numeric features standardised by the reference (missing: the reference's mean), first `rows` of each side. */
function standardisedNumeric(
  reference: SampledRows,
  window: SampledRows,
  names: readonly string[],
): { reference: Matrix; window: Matrix } {
  const raw = numericMatrices(reference, window, names);
  const scaling = columnScaling(raw.reference);
  return { reference: standardise(raw.reference, scaling), window: standardise(raw.window, scaling) };
}

function head(m: Matrix, rows: number): Matrix {
  const n = Math.min(rows, m.rows);
  return { rows: n, cols: m.cols, data: m.data.slice(0, n * m.cols) };
}

/** Run the settings' tests; null when no test could run (no shared feature, or too few rows). */
export function multivariateDrift(
  reference: SampledRows,
  window: SampledRows,
  partial: Partial<MultivariateDriftSettings> = {},
): MultivariateDriftReport | null {
  const settings = { ...DEFAULT_MULTIVARIATE_SETTINGS, ...partial };
  const numeric = sharedNumeric(reference, window);
  const vectors = sharedVectors(reference, window);
  const planned: MultivariateTest[] = [];
  for (const test of settings.tests) {
    if (test === 'pca-reconstruction' && numeric.length < 2) continue;
    if (test === 'mmd') {
      if (numeric.length > 0) planned.push(test);
      for (let v = 0; v < vectors.length; v++) planned.push(test);
      continue;
    }
    planned.push(test);
  }
  if (planned.length === 0) return null;
  const level = settings.alpha / planned.length;
  const results: MultivariateTestResult[] = [];
  const rows = { reference: reference.rows, window: window.rows };

  if (settings.tests.includes('domain-classifier')) {
    const r = domainClassifierDrift(reference, window, { seed: DEFAULT_DOMAIN_CLASSIFIER.seed });
    if (r) {
      const significant = r.pvalue < level;
      const large = r.auc >= settings.minAuc;
      results.push({
        test: 'domain-classifier',
        features: [...new Set(r.importance.map((i) => i.feature))].sort(),
        statistic: { name: 'roc_auc', value: r.auc },
        pvalue: r.pvalue,
        level,
        drifted: significant && large,
        reason: `cross-validated AUC ${fmt(r.auc)} ${large ? '≥' : '<'} ${settings.minAuc}, p ${fmt(r.pvalue)} ${significant ? '<' : '≥'} ${fmt(level)}`,
        driving_features: r.importance.slice(0, DRIVERS),
        reference_rows: r.referenceRows,
        window_rows: r.windowRows,
        details: { folds: r.folds, columns: r.columns, terms: r.terms },
      });
    }
  }
  if (settings.tests.includes('pca-reconstruction') && numeric.length >= 2) {
    const raw = numericMatrices(reference, window, numeric);
    const r = pcaReconstructionDrift(raw.reference, raw.window, numeric, {
      explainedVariance: settings.explainedVariance,
      level,
      resamples: settings.bootstrapResamples,
    });
    if (r) {
      const outside = r.error > r.band.upper || r.error < r.band.lower;
      results.push({
        test: 'pca-reconstruction',
        features: [...numeric],
        statistic: { name: 'reconstruction_error', value: r.error },
        pvalue: r.pvalue,
        level,
        drifted: outside,
        reason: `reconstruction error ${fmt(r.error)} ${outside ? 'outside' : 'inside'} the reference's band [${fmt(r.band.lower)}, ${fmt(r.band.upper)}] (${r.kept} of ${r.features} components)`,
        driving_features: outside ? r.importance.filter((i) => i.share > 0).slice(0, DRIVERS) : [],
        reference_rows: r.referenceRows,
        window_rows: r.windowRows,
        details: {
          components: r.kept,
          explained_variance: r.explainedVariance,
          reference_error: r.band.referenceMean,
          band_lower: r.band.lower,
          band_upper: r.band.upper,
        },
      });
    }
  }
  if (settings.tests.includes('mmd')) {
    const inputs: { features: string[]; reference: Matrix; window: Matrix }[] = [];
    if (numeric.length > 0) inputs.push({ features: [...numeric], ...standardisedNumeric(reference, window, numeric) });
    for (const name of vectors) inputs.push({ features: [name], ...vectorMatrices(reference, window, name) });
    for (const input of inputs) {
      const r = mmdTest(head(input.reference, settings.mmdRows), head(input.window, settings.mmdRows), {
        permutations: settings.permutations,
      });
      if (!r) continue;
      const significant = r.pvalue < level;
      results.push({
        test: 'mmd',
        features: input.features,
        statistic: { name: 'mmd2', value: r.mmd2 },
        pvalue: r.pvalue,
        level,
        drifted: significant,
        reason: `MMD² ${fmt(r.mmd2)}, permutation p ${fmt(r.pvalue)} ${significant ? '<' : '≥'} ${fmt(level)} (${r.permutations} permutations)`,
        driving_features: [],
        reference_rows: r.referenceRows,
        window_rows: r.windowRows,
        details: { bandwidth: r.bandwidth, permutations: r.permutations },
      });
    }
  }
  if (results.length === 0) return null;
  const drifted = [...new Set(results.filter((r) => r.drifted).map((r) => r.test))];
  return {
    dataset_drift: drifted.length > 0,
    drifted_tests: drifted,
    alpha: settings.alpha,
    tests: results,
    sample: rows,
  };
}
