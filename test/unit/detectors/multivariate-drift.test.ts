import { describe, expect, it } from 'vitest';
import { compareFeature } from '../../../detectors/drift/compare-feature.ts';
import {
  domainClassifierDrift,
  fitPca,
  matrixFromRows,
  pcaReconstructionDrift,
  reconstructionErrors,
  multivariateDrift,
  withMultivariate,
  type SampledRows,
} from '../../../detectors/drift/multivariate/index.ts';
import { driftReport } from '../../../detectors/drift/report.ts';
import { Random } from '../../../detectors/random.ts';

/** n rows of (x1, x2) with correlation rho, both N(0, 1), and an independent x3 ~ N(0, 1). */
function correlatedRows(n: number, rho: number, seed: number): SampledRows {
  const random = new Random(seed);
  const x1: number[] = [];
  const x2: number[] = [];
  const x3: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = random.normal();
    const b = random.normal();
    x1.push(a);
    x2.push(rho * a + Math.sqrt(1 - rho * rho) * b);
    x3.push(random.normal());
  }
  return { rows: n, numeric: { x1, x2, x3 }, categorical: {} };
}

describe('a correlation change with the same marginals (0.8 → −0.8)', () => {
  const reference = correlatedRows(1000, 0.8, 11);
  const window = correlatedRows(1000, -0.8, 12);

  it('is missed by every univariate test in detectors/drift', () => {
    const results = ['x1', 'x2', 'x3'].map((name) =>
      compareFeature(reference.numeric[name] as number[], window.numeric[name] as number[], { name, kind: 'numeric' }),
    );
    const report = driftReport(results);
    expect(report.dataset_drift).toBe(false);
    for (const feature of report.features) {
      expect(feature.drifted).toBe(false);
      expect(feature.pvalue).toBeGreaterThan(0.05);
      expect(feature.effect_size_exceeded).toBe(false);
    }
  });

  it('is caught by each multivariate test, and the classifier names x1 and x2', () => {
    const report = multivariateDrift(reference, window)!;
    expect(report.dataset_drift).toBe(true);
    expect(report.drifted_tests.sort()).toEqual(['domain-classifier', 'mmd', 'pca-reconstruction']);
    for (const test of report.tests) {
      expect(test.drifted).toBe(true);
      expect(test.pvalue).toBeLessThan(test.level);
    }
    const classifier = report.tests.find((t) => t.test === 'domain-classifier')!;
    expect(classifier.statistic.value).toBeGreaterThan(0.8);
    expect(
      classifier.driving_features
        .slice(0, 2)
        .map((d) => d.feature)
        .sort(),
    ).toEqual(['x1', 'x2']);
    const pca = report.tests.find((t) => t.test === 'pca-reconstruction')!;
    expect(
      pca.driving_features
        .slice(0, 2)
        .map((d) => d.feature)
        .sort(),
    ).toEqual(['x1', 'x2']);
  });

  it('turns a quiet per-feature report into dataset drift', () => {
    const univariate = driftReport(
      ['x1', 'x2', 'x3'].map((name) =>
        compareFeature(reference.numeric[name] as number[], window.numeric[name] as number[], {
          name,
          kind: 'numeric',
        }),
      ),
    );
    const combined = withMultivariate(univariate, multivariateDrift(reference, window));
    expect(univariate.dataset_drift).toBe(false);
    expect(combined.dataset_drift).toBe(true);
    expect(combined.multivariate?.drifted_tests.length).toBe(3);
    expect(withMultivariate(univariate, null)).toBe(univariate);
  });
});

describe('no change', () => {
  it('no multivariate test drifts', () => {
    const report = multivariateDrift(correlatedRows(1000, 0.8, 21), correlatedRows(1000, 0.8, 22))!;
    expect(report.dataset_drift).toBe(false);
    for (const test of report.tests) expect(test.drifted).toBe(false);
  });

  it('the classifier test rejects no more often than its level (40 windows of 200 rows, level 0.1)', () => {
    let rejections = 0;
    for (let seed = 0; seed < 40; seed++) {
      const r = domainClassifierDrift(correlatedRows(200, 0.5, 1000 + seed), correlatedRows(200, 0.5, 2000 + seed))!;
      if (r.pvalue < 0.1) rejections += 1;
    }
    // Binomial(40, 0.1): P(X > 9) < 0.01; the pooled-fold test is conservative besides.
    expect(rejections).toBeLessThanOrEqual(9);
  });
});

describe('the PCA band under no change', () => {
  it('holds its level on small samples (the reference errors are cross-fitted, not in-sample)', () => {
    const level = 0.05;
    let rejections = 0;
    let inSampleBelow = 0;
    for (let seed = 0; seed < 30; seed++) {
      const a = correlatedRows(300, 0.8, 3000 + seed);
      const b = correlatedRows(300, 0.8, 4000 + seed);
      const names = ['x1', 'x2', 'x3'];
      const m = (side: SampledRows) =>
        matrixFromRows(side.numeric.x1!.map((_, i) => names.map((n) => side.numeric[n]![i]!)));
      const r = pcaReconstructionDrift(m(a), m(b), names, { level })!;
      if (r.error < r.band.lower || r.error > r.band.upper) rejections += 1;
      // In-sample errors of the same reference are smaller: the reason for cross-fitting.
      const model = fitPca(m(a));
      const inSample = reconstructionErrors(model, m(a)).reduce((s, e) => s + e, 0) / 300;
      if (inSample < r.band.referenceMean) inSampleBelow += 1;
    }
    // Binomial(30, 0.05): P(X > 5) < 0.01.
    expect(rejections).toBeLessThanOrEqual(5);
    expect(inSampleBelow).toBe(30);
  });
});

describe('categorical features and vectors', () => {
  /** A label a|b and a value whose mean depends on the label; `flip` swaps which label is high. */
  function interaction(n: number, flip: boolean, seed: number): SampledRows {
    const random = new Random(seed);
    const label: string[] = [];
    const value: number[] = [];
    for (let i = 0; i < n; i++) {
      const a = random.bernoulli(0.5);
      label.push(a ? 'a' : 'b');
      value.push(random.normal((a !== flip ? 1 : -1) * 1.5, 1));
    }
    return { rows: n, numeric: { value }, categorical: { label } };
  }

  it('the classifier sees a label × value interaction that leaves both marginals alone', () => {
    const r = domainClassifierDrift(interaction(600, false, 1), interaction(600, true, 2))!;
    expect(r.auc).toBeGreaterThan(0.8);
    expect(r.pvalue).toBeLessThan(1e-6);
    expect(r.importance.map((i) => i.feature).sort()).toEqual(['label', 'value']);
  });

  it('MMD runs on a vector feature on its own and finds a shift of its vectors', () => {
    const vectors = (n: number, shift: number, seed: number): SampledRows => {
      const random = new Random(seed);
      const rows: number[][] = [];
      for (let i = 0; i < n; i++) rows.push(Array.from({ length: 8 }, (_, k) => random.normal(k === 0 ? shift : 0)));
      return { rows: n, numeric: {}, categorical: {}, vectors: { embedding: rows } };
    };
    const drifted = multivariateDrift(vectors(300, 0, 1), vectors(300, 0.6, 2), { tests: ['mmd'] })!;
    expect(drifted.tests).toHaveLength(1);
    expect(drifted.tests[0]!.features).toEqual(['embedding']);
    expect(drifted.tests[0]!.drifted).toBe(true);
    const quiet = multivariateDrift(vectors(300, 0, 3), vectors(300, 0, 4), { tests: ['mmd'] })!;
    expect(quiet.tests[0]!.drifted).toBe(false);
  });

  it('the classifier reads a vector feature coordinate by coordinate (no products), beside the numeric ones', () => {
    const side = (n: number, shift: number, seed: number): SampledRows => {
      const random = new Random(seed);
      const embedding: (number[] | null)[] = [];
      const x: number[] = [];
      for (let i = 0; i < n; i++) {
        embedding.push(i % 50 === 0 ? null : Array.from({ length: 16 }, (_, k) => random.normal(k < 4 ? shift : 0)));
        x.push(random.normal());
      }
      return { rows: n, numeric: { x }, categorical: {}, vectors: { embedding } };
    };
    const drifted = domainClassifierDrift(side(500, 0, 1), side(500, 0.4, 2))!;
    // x and x² are the only expanded terms: 1 + 16 base columns, 1 square.
    expect(drifted.columns).toBe(17);
    expect(drifted.terms).toBe(18);
    expect(drifted.auc).toBeGreaterThan(0.65);
    expect(drifted.pvalue).toBeLessThan(1e-6);
    expect(drifted.importance[0]!.feature).toBe('embedding');
    const quiet = domainClassifierDrift(side(500, 0, 3), side(500, 0, 4))!;
    expect(quiet.pvalue).toBeGreaterThan(0.01);
  });

  it('nothing to compare: no report', () => {
    const empty: SampledRows = { rows: 0, numeric: {}, categorical: {} };
    expect(multivariateDrift(empty, empty)).toBeNull();
  });
});
