import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  baseColumns,
  designMatrix,
  fitLogistic,
  fitPca,
  mannWhitneyGreater,
  matrixFromRows,
  mmdTest,
  outOfFoldScores,
  quadraticTerms,
  reconstructionErrors,
  stackRows,
  type SampledRows,
} from '../../../detectors/drift/multivariate/index.ts';
import { rocAuc } from '../../../detectors/quality/roc-auc.ts';

interface DomainCase {
  name: string;
  reference: number[][];
  window: number[][];
  folds: number[];
  oof: number[];
  auc: number;
  mannwhitney_u: number;
  mannwhitney_p: number;
  /** Columns that enter products and squares (the first ones); the rest, a vector's coordinates, are linear. */
  interacting: number;
  coefficients: number[];
  intercept: number;
}
interface PcaCase {
  name: string;
  target: number;
  reference: number[][];
  window: number[][];
  components: number;
  explained_variance_ratio: number[];
  reference_errors: number[];
  window_errors: number[];
}
interface MmdCase {
  name: string;
  reference: number[][];
  window: number[][];
  bandwidth: number;
  mmd2: number;
  permutations: number;
  pvalue: number;
}

const fixture = JSON.parse(
  readFileSync(
    path.join(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/multivariate/multivariate.json'),
    'utf8',
  ),
) as { domain_classifier: DomainCase[]; pca: PcaCase[]; mmd: MmdCase[] };

describe('domain classifier against scikit-learn (test/fixtures/multivariate/generate_multivariate.py)', () => {
  for (const c of fixture.domain_classifier) {
    const x = stackRows(matrixFromRows(c.reference), matrixFromRows(c.window));
    const labels = new Uint8Array(x.rows).fill(1, c.reference.length);
    const terms = quadraticTerms(
      c.reference[0]!.map(() => true),
      100,
      c.reference[0]!.map((_, j) => j < c.interacting),
    );

    it(`${c.name}: the same out-of-fold probabilities, AUC and Mann–Whitney test`, () => {
      const scores = outOfFoldScores(x, labels, Int32Array.from(c.folds), terms);
      scores.forEach((s, i) => expect(s).toBeCloseTo(c.oof[i]!, 6));
      expect(rocAuc(Array.from(labels), Array.from(scores))).toBeCloseTo(c.auc, 9);
      // The test itself, on scikit-learn's own scores: U and p exactly as scipy.
      const test = mannWhitneyGreater(labels, c.oof)!;
      expect(test.u).toBeCloseTo(c.mannwhitney_u, 6);
      expect(test.pvalue / c.mannwhitney_p).toBeCloseTo(1, 8);
    });

    it(`${c.name}: the same coefficients when fitted on every row`, () => {
      const all = Array.from({ length: x.rows }, (_, i) => i);
      const model = fitLogistic(designMatrix(x, terms, all), labels);
      expect(model.converged).toBe(true);
      expect(model.coefficients.length).toBe(c.coefficients.length);
      model.coefficients.forEach((w, j) => expect(w).toBeCloseTo(c.coefficients[j]!, 5));
      expect(model.intercept).toBeCloseTo(c.intercept, 5);
    });
  }
});

describe('a vector feature in the domain classifier', () => {
  const c = fixture.domain_classifier.find((d) => d.interacting < d.reference[0]!.length)!;
  it('baseColumns lays a vector out as the linear columns the scikit-learn case was fitted on', () => {
    const side = (rows: number[][]): SampledRows => ({
      rows: rows.length,
      numeric: Object.fromEntries(Array.from({ length: c.interacting }, (_, j) => [`x${j}`, rows.map((r) => r[j]!)])),
      categorical: {},
      vectors: { embedding: rows.map((r) => r.slice(c.interacting)) },
    });
    const base = baseColumns(side(c.reference), side(c.window));
    expect(base.columns.map((col) => col.interacts)).toEqual(c.reference[0]!.map((_, j) => j < c.interacting));
    expect(base.columns.slice(c.interacting).every((col) => col.feature === 'embedding')).toBe(true);
    expect(Array.from(stackRows(base.reference, base.window).data)).toEqual(
      Array.from(stackRows(matrixFromRows(c.reference), matrixFromRows(c.window)).data),
    );
  });
});

describe('PCA reconstruction error against scikit-learn StandardScaler + PCA', () => {
  for (const c of fixture.pca) {
    it(`${c.name}: the same components kept, variance ratios and errors per row`, () => {
      const model = fitPca(matrixFromRows(c.reference), c.target);
      expect(model.kept).toBe(c.components);
      model.explainedVarianceRatio.forEach((r, k) => expect(r).toBeCloseTo(c.explained_variance_ratio[k]!, 10));
      reconstructionErrors(model, matrixFromRows(c.reference)).forEach((e, i) =>
        expect(e).toBeCloseTo(c.reference_errors[i]!, 9),
      );
      reconstructionErrors(model, matrixFromRows(c.window)).forEach((e, i) =>
        expect(e).toBeCloseTo(c.window_errors[i]!, 9),
      );
    });
  }
});

describe('MMD against a direct NumPy implementation', () => {
  for (const c of fixture.mmd) {
    it(`${c.name}: the same bandwidth and MMD², and a permutation p-value within sampling error`, () => {
      const result = mmdTest(matrixFromRows(c.reference), matrixFromRows(c.window), {
        permutations: c.permutations,
      })!;
      expect(result.bandwidth).toBeCloseTo(c.bandwidth, 12);
      expect(result.mmd2).toBeCloseTo(c.mmd2, 12);
      // Two independent permutation estimates of one p-value (2000 each): 4 standard errors apart at most.
      const se = Math.sqrt((2 * Math.max(c.pvalue * (1 - c.pvalue), 1e-3)) / c.permutations);
      expect(Math.abs(result.pvalue - c.pvalue)).toBeLessThan(4 * se);
    });
  }
});
