// Verdicts: effect size AND BH-adjusted significance per feature, then the dataset rule.
import { describe, expect, it } from 'vitest';
import type { FeatureDriftResult } from '../../../detectors/drift/index.ts';
import {
  DEFAULT_THRESHOLDS,
  compareBinnedFeature,
  compareFeature,
  driftOfColumn,
  driftReport,
  numericReferenceProfile,
  numericWindowCounts,
} from '../../../detectors/drift/index.ts';
import { normalSample, seededRandom } from '../../fixtures/drift/seeded-random.ts';

/** A tested numeric result with the given p-value and normalized Wasserstein. */
function numericResult(name: string, pvalue: number, normalized: number): FeatureDriftResult {
  return {
    name,
    kind: 'numeric',
    role: 'feature',
    n_reference: 1000,
    n_current: 1000,
    missing_reference: 0,
    missing_current: 0,
    tested: true,
    drifted: false,
    effect_size_exceeded: false,
    reasons: [],
    test: 'ks',
    pvalue,
    pvalue_adjusted: null,
    ks: { statistic: 0.1, pvalue },
    wasserstein: { distance: normalized, normalized },
    psi: 0,
    jensen_shannon: 0,
    hellinger: 0,
  };
}

describe('significant but negligible is not drift', () => {
  it('0.02 σ shift on 200k rows: p-value tiny, every effect size far below threshold, not drifted', () => {
    const random = seededRandom(2024);
    const reference = normalSample(random, 200_000);
    const current = normalSample(random, 200_000, 0.02);
    const raw = compareFeature(reference, current, { name: 'x' });
    expect(raw.ks?.pvalue).toBeLessThan(1e-6);
    expect(raw.wasserstein?.normalized).toBeLessThan(0.05);
    expect(raw.psi).toBeLessThan(0.01);
    expect(raw.jensen_shannon).toBeLessThan(0.05);
    expect(raw.effect_size_exceeded).toBe(false);
    expect(raw.drifted).toBe(false);

    const profile = numericReferenceProfile(reference);
    const binned = compareBinnedFeature(profile, numericWindowCounts(current, profile.cuts), { name: 'x' });
    expect(binned.pvalue).toBeLessThan(1e-6);
    expect(binned.drifted).toBe(false);
    // Same data in a report of one feature: still not drift at the dataset level.
    expect(driftReport([raw]).dataset_drift).toBe(false);
  });

  it('a 0.5 σ shift on 1,000 rows is drift, and the reason names the metric', () => {
    const random = seededRandom(5);
    const r = compareFeature(normalSample(random, 1000), normalSample(random, 1000, 0.5), { name: 'x' });
    expect(r.drifted).toBe(true);
    expect(r.reasons.some((reason) => reason.startsWith('wasserstein_normalized'))).toBe(true);
  });

  it('a spread change with the same mean is caught by shape metrics', () => {
    const random = seededRandom(6);
    const r = compareFeature(normalSample(random, 3000), normalSample(random, 3000, 0, 2), { name: 'x' });
    expect(r.drifted).toBe(true);
    expect(r.reasons.length).toBeGreaterThanOrEqual(2);
  });

  it('a large effect on three rows is not significant, so not drift', () => {
    const r = compareFeature([0, 1, 2], [5, 6, 7]);
    expect(r.effect_size_exceeded).toBe(true);
    expect(r.ks?.pvalue).toBeCloseTo(0.1, 12); // 2 / C(6, 3)
    expect(r.drifted).toBe(false);
  });

  it('categorical: a 10-point swing is drift; a significant 3-point swing is not', () => {
    const column = (a: number, b: number, c: number): string[] => [
      ...new Array(a).fill('a'),
      ...new Array(b).fill('b'),
      ...new Array(c).fill('c'),
    ];
    const reference = column(2500, 1500, 1000);
    const swing = compareFeature(reference, column(2000, 2000, 1000), { name: 'plan' });
    expect(swing.linf).toBeCloseTo(0.1, 12);
    expect(swing.drifted).toBe(true);
    const small = compareFeature(reference, column(2350, 1650, 1000), { name: 'plan' });
    expect(small.chi2?.pvalue).toBeLessThan(0.01);
    expect(small.linf).toBeCloseTo(0.03, 12);
    expect(small.drifted).toBe(false);
  });
});

describe('Benjamini–Hochberg across features', () => {
  it('one small p-value among 20 is not enough once adjusted', () => {
    const features = [
      numericResult('f0', 0.01, 0.5),
      ...Array.from({ length: 19 }, (_, i) => numericResult(`f${i + 1}`, 0.9, 0.5)),
    ];
    const report = driftReport(features);
    // adjusted = min over ranks ≥ 1 of 20/rank·p: 0.01·20 = 0.2 for f0.
    expect(report.features[0]?.pvalue_adjusted).toBeCloseTo(0.2, 12);
    expect(report.features[0]?.drifted).toBe(false);
    // Alone, the same feature is drift (BH over one test is the identity).
    expect(driftReport([numericResult('f0', 0.01, 0.5)]).features[0]?.drifted).toBe(true);
  });

  it('many moderately small p-values survive together', () => {
    const report = driftReport(Array.from({ length: 20 }, (_, i) => numericResult(`f${i}`, 0.04, 0.5)));
    expect(report.features.every((f) => f.pvalue_adjusted === 0.04 && f.drifted)).toBe(true);
    expect(report.dataset_drift).toBe(true);
  });

  it('untested features are excluded from m and from the dataset share', () => {
    const untested: FeatureDriftResult = { ...numericResult('empty', 0, 0), tested: false, pvalue: null, test: null };
    const report = driftReport([numericResult('a', 0.01, 0.5), numericResult('b', 0.9, 0.01), untested]);
    expect(report.features[0]?.pvalue_adjusted).toBeCloseTo(0.02, 12);
    expect(report.features[2]?.pvalue_adjusted).toBeNull();
    expect(report.n_tested).toBe(2);
    expect(report.untested_features).toEqual(['empty']);
    expect(report.share_drifted).toBe(0.5);
  });
});

describe('dataset verdict', () => {
  const drifted = (name: string) => numericResult(name, 1e-6, 0.5);
  const stable = (name: string) => numericResult(name, 0.5, 0.01);

  it('drifts when at least half of the tested features drift', () => {
    expect(driftReport([drifted('a'), drifted('b'), stable('c'), stable('d')]).dataset_drift).toBe(true);
    const below = driftReport([drifted('a'), stable('b'), stable('c'), stable('d')]);
    expect(below.dataset_drift).toBe(false);
    expect(below.share_drifted).toBe(0.25);
    expect(below.drifted_features).toEqual(['a']);
  });

  it('a critical feature alone makes the dataset drift', () => {
    const report = driftReport([drifted('income'), stable('b'), stable('c'), stable('d')], {
      criticalFeatures: ['income'],
    });
    expect(report.dataset_drift).toBe(true);
    expect(report.critical_drifted).toEqual(['income']);
  });

  it('thresholds and the share are configurable; Infinity disables a metric', () => {
    const f = numericResult('a', 1e-6, 0.15);
    expect(driftReport([f]).features[0]?.drifted).toBe(true);
    expect(
      driftReport([f], { thresholds: { numeric: { wasserstein_normalized: Infinity } } }).features[0]?.drifted,
    ).toBe(false);
    expect(driftReport([f, stable('b'), stable('c')], { datasetDriftShare: 0.3 }).dataset_drift).toBe(true);
    expect(driftReport([f]).thresholds).toEqual(DEFAULT_THRESHOLDS);
  });

  it('an empty report is not drift; duplicate names are rejected', () => {
    expect(driftReport([]).dataset_drift).toBe(false);
    expect(() => driftReport([stable('a'), stable('a')])).toThrow(RangeError);
  });

  it('the report is plain JSON in the published snake_case shape', () => {
    const random = seededRandom(1);
    const report = driftReport([
      compareFeature(normalSample(random, 300), normalSample(random, 300, 1), { name: 'num' }),
      compareFeature(['a', 'b', 'a'], ['a', 'c', 'c'], { name: 'cat' }),
    ]);
    const parsed = JSON.parse(JSON.stringify(report)) as Record<string, unknown>;
    expect(parsed).toEqual(report);
    expect(Object.keys(report.features[0] ?? {})).toEqual(
      expect.arrayContaining([
        'name',
        'kind',
        'n_reference',
        'n_current',
        'drifted',
        'pvalue_adjusted',
        'ks',
        'wasserstein',
        'psi',
        'jensen_shannon',
        'hellinger',
      ]),
    );
    expect(Object.keys(report.features[1] ?? {})).toEqual(
      expect.arrayContaining(['chi2', 'linf', 'psi', 'jensen_shannon', 'unseen_categories']),
    );
    expect(report.multiple_testing).toBe('benjamini-hochberg');
  });
});

describe('prediction drift uses the same statistics', () => {
  it('numeric scores and predicted classes', () => {
    const random = seededRandom(77);
    const scores = driftOfColumn(
      'numeric',
      normalSample(random, 2000, 0.3, 0.1),
      normalSample(random, 2000, 0.45, 0.1),
    );
    expect(scores.role).toBe('prediction');
    expect(scores.name).toBe('prediction');
    expect(scores.drifted).toBe(true);
    const same = compareFeature(normalSample(seededRandom(1), 50), normalSample(seededRandom(2), 50));
    const asPrediction = driftOfColumn('numeric', normalSample(seededRandom(1), 50), normalSample(seededRandom(2), 50));
    expect(asPrediction.ks).toEqual(same.ks);
    const classes = driftOfColumn('categorical', ['yes', 'no', 'no', 'no'], ['yes', 'yes', 'yes', 'no'], {
      name: 'predicted_label',
    });
    expect(classes.kind).toBe('categorical');
    expect(classes.name).toBe('predicted_label');
    expect(classes.chi2?.dof).toBe(1);
  });
});
