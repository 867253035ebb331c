import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  fitBoostedTrees,
  predictBoostedTrees,
  predictTree,
  type BoostedTrees,
  type RegressionTree,
} from '../../../detectors/quality/boosted-trees.ts';
import { binLookup, categoricalBins, numericBins } from '../../../detectors/quality/histogram-bins.ts';
import { Random } from '../../../detectors/random.ts';

interface Case {
  name: string;
  categoricalFeatures: number[];
  rows: (number | null)[][];
  targets: number[];
  testRows: (number | null)[][];
  lightgbm: number[];
  firstTreeLeafRows: number[];
}

const fixture = JSON.parse(
  readFileSync(
    path.join(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/boosted-trees/boosted_trees.json'),
    'utf8',
  ),
) as { lightgbm: string; cases: Case[] };

const withNaN = (rows: (number | null)[][]) => rows.map((r) => r.map((v) => (v === null ? Number.NaN : v)));
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: readonly number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));

function leafRows(tree: RegressionTree): number[] {
  return tree.feature.flatMap((f, node) => (f < 0 ? [tree.rows[node]!] : [])).sort((a, b) => a - b);
}

function depthOf(tree: RegressionTree, node = 0): number {
  if (tree.feature[node]! < 0) return 0;
  return 1 + Math.max(depthOf(tree, tree.left[node]!), depthOf(tree, tree.right[node]!));
}

describe(`boosted trees against LightGBM ${fixture.lightgbm} with the same settings`, () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      const model = fitBoostedTrees(withNaN(c.rows), c.targets, { categoricalFeatures: c.categoricalFeatures });
      // The same partition of the training rows by the first tree…
      expect(leafRows(model.trees[0]!)).toEqual(c.firstTreeLeafRows);
      // …and the same predictions after 100 trees. Both learners apply the same split rules to the
      // same bins in double precision, so they differ only in the order of summation and in
      // LightGBM's rounding of what it stores: a gap above 10⁻⁶ of the target's spread would mean a
      // rule differs (a tree split elsewhere moves predictions by a good share of it).
      const scale = sd(c.targets);
      withNaN(c.testRows).forEach((row, i) => {
        expect(Math.abs(predictBoostedTrees(model, row) - c.lightgbm[i]!)).toBeLessThan(1e-6 * scale);
      });
    });
  }
});

/** A target with a step, an interaction, a category effect and noise. */
function data(n: number, seed: number) {
  const random = new Random(seed);
  const rows: number[][] = [];
  const targets: number[] = [];
  const effect = [0, 1.5, -1, 0.5, 2, -2, 0.25];
  for (let i = 0; i < n; i++) {
    const a = random.uniform(-1, 1);
    const b = random.uniform(-1, 1);
    const category = random.integer(0, 6);
    rows.push([a, b, category]);
    targets.push((a > 0.2 ? 3 : 0) + (a > 0 && b > 0 ? 2 : 0) + effect[category]! + random.normal(0, 0.3));
  }
  return { rows, targets };
}

function predictWith(model: BoostedTrees, trees: number, row: readonly number[]): number {
  return model.trees.slice(0, trees).reduce((y, tree) => y + model.learningRate * predictTree(tree, row), model.base);
}

describe('boosted trees: properties that hold for any data', () => {
  const { rows, targets } = data(3000, 41);
  const model = fitBoostedTrees(rows, targets, { categoricalFeatures: [2] });

  it('grows trees of at most 31 leaves, each of at least 20 training rows, that partition every row', () => {
    expect(model.trees).toHaveLength(100);
    for (const tree of model.trees) {
      const leaves = leafRows(tree);
      expect(leaves.length).toBeLessThanOrEqual(31);
      expect(Math.min(...leaves)).toBeGreaterThanOrEqual(20);
      expect(leaves.reduce((a, b) => a + b, 0)).toBe(3000);
      tree.feature.forEach((f, node) => {
        if (f >= 0) expect(tree.rows[tree.left[node]!]! + tree.rows[tree.right[node]!]!).toBe(tree.rows[node]);
      });
    }
    // Leaf-wise growth reaches the leaf budget on data with this much structure.
    expect(leafRows(model.trees[0]!)).toHaveLength(31);
  });

  it("keeps the training predictions' mean at the targets' mean, and never raises the training error", () => {
    // Squared loss without an L2 penalty (categorical splits add one): each leaf moves by a share
    // of its mean residual, which sums to 0 over the rows.
    const numeric = fitBoostedTrees(rows, targets);
    expect(mean(rows.map((r) => predictBoostedTrees(numeric, r)))).toBeCloseTo(mean(targets), 9);
    let previous = Number.POSITIVE_INFINITY;
    for (const trees of [0, 1, 2, 5, 10, 25, 50, 100]) {
      const error = mean(rows.map((r, i) => (predictWith(model, trees, r) - targets[i]!) ** 2));
      expect(error).toBeLessThanOrEqual(previous);
      previous = error;
    }
    expect(previous).toBeLessThan(0.3 ** 2 * 1.3);
  });

  it('splits a categorical feature on its categories, whatever codes name them', () => {
    const rename = [4, 0, 6, 2, 1, 5, 3];
    const renamed = fitBoostedTrees(
      rows.map(([a, b, c]) => [a!, b!, rename[c!]!]),
      targets,
      { categoricalFeatures: [2] },
    );
    for (const [a, b, c] of rows.slice(0, 200))
      expect(predictBoostedTrees(renamed, [a!, b!, rename[c!]!])).toBeCloseTo(
        predictBoostedTrees(model, [a!, b!, c!]),
        9,
      );
    const listed = model.trees.flatMap((t) => t.categories.filter((c): c is number[] => c !== null));
    expect(listed.length).toBeGreaterThan(0);
  });

  it('sends unseen and missing categories to the unlisted side, and a missing number where training put it', () => {
    for (const tree of model.trees)
      tree.feature.forEach((f, node) => {
        if (f !== 2) return;
        const listed = tree.categories[node]!;
        expect(listed.length).toBeGreaterThan(0);
        expect(listed).not.toContain(99);
      });
    const unseen = predictBoostedTrees(model, [0.5, 0.5, 99]);
    const missing = predictBoostedTrees(model, [0.5, 0.5, Number.NaN]);
    expect(unseen).toBe(missing);
    // Rows whose `a` is missing carry +4 in training: the trees must learn where NaN goes.
    const random = new Random(42);
    const withMissing = rows.map((r) => (random.next() < 0.15 ? [Number.NaN, r[1]!, r[2]!] : r));
    const shifted = targets.map((y, i) => (Number.isNaN(withMissing[i]![0]!) ? 4 : y));
    const m = fitBoostedTrees(withMissing, shifted, { categoricalFeatures: [2] });
    expect(predictBoostedTrees(m, [Number.NaN, 0.5, 0])).toBeCloseTo(4, 0);
  });

  it('grows depth-wise when asked, to the depth asked', () => {
    const shallow = fitBoostedTrees(rows, targets, { growth: 'depth-wise', maxDepth: 2, maxTrees: 20 });
    for (const tree of shallow.trees) {
      expect(depthOf(tree)).toBeLessThanOrEqual(2);
      expect(leafRows(tree).length).toBeLessThanOrEqual(4);
    }
    expect(depthOf(shallow.trees[0]!)).toBe(2);
  });

  it('refuses what it cannot learn from, saying what to fix', () => {
    expect(() => fitBoostedTrees([[0.5, 1]], [1])).toThrow(/needs at least 40 rows, got 1/);
    expect(() => fitBoostedTrees(rows, targets, { categoricalFeatures: [3] })).toThrow(
      /categoricalFeatures: 3 is not a feature index \(rows have 3 features\)/,
    );
    expect(() => fitBoostedTrees(rows, targets, { categoricalFeatures: [0] })).toThrow(
      /row 0: feature 0 is categorical but holds .*; give categories as integer codes/,
    );
    expect(() => predictBoostedTrees(model, [1, 2])).toThrow(/a row has 2 features; the model was fitted on 3/);
  });
});

describe('histogram bins', () => {
  it('give 0 and every spike a bin of their own, and cut the rest into bins of similar size', () => {
    const random = new Random(51);
    const values = Array.from({ length: 5000 }, (_, i) =>
      i % 5 === 0 ? 0 : i % 7 === 0 ? 2.5 : i % 11 === 0 ? Number.NaN : random.normal(0, 2),
    );
    const bins = numericBins(values, 255, 3);
    if (bins.kind !== 'numeric') throw new Error('numeric bins expected');
    // At most 254 bins for values (one is the missing values'), the last open-ended.
    expect(bins.upperBounds.length).toBeLessThanOrEqual(254);
    expect(bins.upperBounds.length).toBeGreaterThan(240);
    expect(bins.upperBounds.at(-1)).toBe(Number.POSITIVE_INFINITY);
    const lookup = binLookup(bins);
    expect(lookup(Number.NaN)).toBe(0);
    const zero = lookup(0);
    expect(lookup(-1e-9)).toBe(zero - 1);
    expect(lookup(1e-9)).toBe(zero + 1);
    for (const v of values) {
      if (lookup(v) === zero) expect(v).toBe(0);
      if (lookup(v) === lookup(2.5)) expect(v).toBe(2.5);
    }
    const sizes = new Map<number, number>();
    for (const v of values)
      if (!Number.isNaN(v) && v !== 0 && v !== 2.5) sizes.set(lookup(v), (sizes.get(lookup(v)) ?? 0) + 1);
    const counts = [...sizes.values()];
    expect(Math.max(...counts)).toBeLessThan(3 * mean(counts));
  });

  it('give each of few distinct values a bin, merging neighbours below the minimum rows', () => {
    const values = [1, 1, 1, 2, 3, 3, 3, 3, 5, 5, 5];
    const bins = numericBins(values, 255, 3);
    expect(bins).toEqual({ kind: 'numeric', upperBounds: [1e-35, 1.5, 4, Number.POSITIVE_INFINITY] });
  });

  it('give categories bins by frequency, leaving the rarest 1% of rows without one', () => {
    const values = [...Array(600).fill(3), ...Array(395).fill(0), ...Array(4).fill(7), 9, -1, Number.NaN];
    const bins = categoricalBins(values, 255);
    expect(bins).toEqual({ kind: 'categorical', categories: [3, 0] });
    expect(binLookup(bins)(7)).toBe(0);
    expect(binLookup(bins)(0)).toBe(2);
  });
});
