/**
 * Gradient-boosted regression trees with squared loss on histogram bins: the learner of direct
 * loss estimation (dle.ts). Dependency-free on purpose, and built on the same principles as
 * LightGBM (the learner NannyML's DLE uses), with LightGBM's documented defaults as its own:
 * 100 rounds at learning rate 0.1 from the targets' mean, trees grown leaf-wise (best-first: the
 * leaf whose split gains most is split next) to 31 leaves with no depth limit, leaves of at least
 * 20 rows, no L2 penalty, up to 255 bins per feature (histogram-bins.ts), missing values sent to
 * whichever side gains more, and categorical features split on their categories (tree-split.ts)
 * rather than on the order of their codes. Every row trains every tree: no bagging, no feature
 * sampling, no early stopping — so a fit is deterministic. Squared loss has a hessian of 1 per
 * row, so LightGBM's minimum hessian per leaf (10⁻³) is implied by the minimum row count.
 *
 * Differences from LightGBM that are known, not hidden: bins come from every training row (not
 * a 200,000-row sample) and do not give zero a bin of its own; ties between equally good splits
 * are broken by feature and bin order; and floating-point sums differ in their last digits. So the
 * trees agree with LightGBM's where the best split is clear and may part where two are nearly
 * equal — the unit tests say how close the predictions come.
 *
 * `growth: 'depth-wise'` grows every leaf of a level before the next (with `maxDepth`), as
 * XGBoost's default does; it is kept for comparison.
 */
import { binCount, binLookup, categoricalBins, numericBins, type FeatureBins } from './histogram-bins.ts';
import { bestSplit, type Histogram, type Split } from './tree-split.ts';

export interface BoostedTreesOptions {
  /** Boosting rounds (LightGBM's num_iterations). @default 100 */
  maxTrees: number;
  /** Shrinkage of each tree's values. @default 0.1 */
  learningRate: number;
  /** Which leaf is split next: the one that gains most, or the shallowest. @default 'leaf-wise' */
  growth: 'leaf-wise' | 'depth-wise';
  /** Leaves per tree at most. @default 31 */
  numLeaves: number;
  /** Depth of a leaf at most; 0 for no limit. @default 0 */
  maxDepth: number;
  /** Training rows in a leaf at least (LightGBM's min_data_in_leaf). @default 20 */
  minLeafRows: number;
  /** L2 penalty on leaf values (LightGBM's lambda_l2). @default 0 */
  lambda: number;
  /** Bins per feature at most, the missing values' bin included (LightGBM's max_bin). @default 255 */
  maxBins: number;
  /** Rows in a numeric bin at least. @default 3 */
  minDataInBin: number;
  /** Indices of the features that hold category codes (non-negative integers). @default [] */
  categoricalFeatures: readonly number[];
  /** Categorical features with at most this many categories split one category against the rest. @default 4 */
  maxCatToOnehot: number;
  /** Categories on the listed side of a split at most. @default 32 */
  maxCatThreshold: number;
  /** Smoothing of a category's mean residual when categories are ordered; rarer ones are not listed. @default 10 */
  catSmooth: number;
  /** Extra L2 penalty for splits over ordered categories. @default 10 */
  catL2: number;
  /** Rows added between two candidate category splits at least, and rows on the unlisted side. @default 100 */
  minDataPerGroup: number;
}

export const BOOSTED_TREES_DEFAULTS: Readonly<BoostedTreesOptions> = Object.freeze({
  maxTrees: 100,
  learningRate: 0.1,
  growth: 'leaf-wise',
  numLeaves: 31,
  maxDepth: 0,
  minLeafRows: 20,
  lambda: 0,
  maxBins: 255,
  minDataInBin: 3,
  categoricalFeatures: [],
  maxCatToOnehot: 4,
  maxCatThreshold: 32,
  catSmooth: 10,
  catL2: 10,
  minDataPerGroup: 100,
});

/**
 * A tree as parallel arrays; feature −1 marks a leaf. A numeric node sends x left when
 * x ≤ threshold, and NaN where `missingLeft` says; a categorical node sends the codes it lists
 * left and every other value (unseen, missing) right.
 */
export interface RegressionTree {
  feature: number[];
  threshold: number[];
  missingLeft: boolean[];
  categories: (number[] | null)[];
  left: number[];
  right: number[];
  value: number[];
  /** Training rows that reached the node. */
  rows: number[];
}

export interface BoostedTrees {
  kind: 'boosted-trees';
  features: number;
  categoricalFeatures: number[];
  base: number;
  learningRate: number;
  trees: RegressionTree[];
}

export function predictTree(tree: RegressionTree, row: readonly number[]): number {
  let node = 0;
  for (;;) {
    const f = tree.feature[node]!;
    if (f < 0) return tree.value[node]!;
    const x = row[f]!;
    const listed = tree.categories[node];
    const left = listed ? listed.includes(x) : Number.isNaN(x) ? tree.missingLeft[node]! : x <= tree.threshold[node]!;
    node = left ? tree.left[node]! : tree.right[node]!;
  }
}

export function predictBoostedTrees(model: BoostedTrees, row: readonly number[]): number {
  if (row.length !== model.features)
    throw new RangeError(`a row has ${row.length} features; the model was fitted on ${model.features}`);
  let y = model.base;
  for (const tree of model.trees) y += model.learningRate * predictTree(tree, row);
  return y;
}

interface Leaf {
  node: number;
  /** The leaf's rows are order[start, end). */
  start: number;
  end: number;
  depth: number;
  histogram: Histogram;
  split: Split | null;
  /** The features worth trying in the leaf's children. */
  splittable: Uint8Array;
}

function checkInputs(rows: readonly (readonly number[])[], targets: readonly number[], o: BoostedTreesOptions): number {
  const n = rows.length;
  if (n !== targets.length) throw new RangeError(`fitBoostedTrees: ${n} rows but ${targets.length} targets`);
  if (n < 2 * o.minLeafRows) throw new RangeError(`fitBoostedTrees needs at least ${2 * o.minLeafRows} rows, got ${n}`);
  const d = rows[0]!.length;
  rows.forEach((r, i) => {
    if (r.length !== d) throw new RangeError(`row ${i} has ${r.length} features, not ${d}`);
  });
  targets.forEach((y, i) => {
    if (!Number.isFinite(y)) throw new RangeError(`target ${i} is ${String(y)}: targets must be finite numbers`);
  });
  for (const f of o.categoricalFeatures) {
    if (!Number.isInteger(f) || f < 0 || f >= d)
      throw new RangeError(`categoricalFeatures: ${f} is not a feature index (rows have ${d} features)`);
    rows.forEach((r, i) => {
      const x = r[f]!;
      if (!Number.isNaN(x) && !Number.isInteger(x))
        throw new RangeError(
          `row ${i}: feature ${f} is categorical but holds ${x}; give categories as integer codes (NaN or negative for missing)`,
        );
    });
  }
  if (o.numLeaves < 2) throw new RangeError(`numLeaves is ${o.numLeaves}; a tree needs at least 2 leaves`);
  return d;
}

/** Fit on rows (NaN allowed) and targets. */
export function fitBoostedTrees(
  rows: readonly (readonly number[])[],
  targets: readonly number[],
  options: Partial<BoostedTreesOptions> = {},
): BoostedTrees {
  const o: BoostedTreesOptions = { ...BOOSTED_TREES_DEFAULTS, ...options };
  const d = checkInputs(rows, targets, o);
  const n = rows.length;
  const categorical = new Set(o.categoricalFeatures);

  const features: FeatureBins[] = [];
  const offsets: number[] = [];
  let totalBins = 0;
  for (let f = 0; f < d; f++) {
    const column = Float64Array.from(rows, (r) => r[f]!);
    const bins = categorical.has(f)
      ? categoricalBins(column, o.maxBins)
      : numericBins(column, o.maxBins, o.minDataInBin);
    features.push(bins);
    offsets.push(totalBins);
    totalBins += binCount(bins);
  }
  // Row-major bin indices, offset into the leaf histogram: one pass over a row fills every feature.
  const binned = new Uint32Array(n * d);
  for (let f = 0; f < d; f++) {
    const lookup = binLookup(features[f]!);
    for (let i = 0; i < n; i++) binned[i * d + f] = offsets[f]! + lookup(rows[i]![f]!);
  }

  const base = targets.reduce((s, y) => s + y, 0) / n;
  const prediction = new Float64Array(n).fill(base);
  const residual = new Float64Array(n);
  const order = new Int32Array(n);
  const spare = new Int32Array(n);
  const rules = o;
  const trees: RegressionTree[] = [];

  const histogramOf = (start: number, end: number): Histogram => {
    const sum = new Float64Array(totalBins);
    const count = new Float64Array(totalBins);
    for (let i = start; i < end; i++) {
      const row = order[i]!;
      const r = residual[row]!;
      const at = row * d;
      for (let f = 0; f < d; f++) {
        const k = binned[at + f]!;
        sum[k]! += r;
        count[k]! += 1;
      }
    }
    return { sum, count };
  };
  const totalOf = (h: Histogram, start: number, end: number) => {
    // Every row falls in exactly one bin of feature 0, so its bins hold the leaf's totals.
    let sum = 0;
    for (let k = 0; k < binCount(features[0]!); k++) sum += h.sum[k]!;
    return { sum, count: end - start };
  };
  const canSplit = (depth: number) => o.maxDepth <= 0 || depth < o.maxDepth;
  const everyFeature = new Uint8Array(d).fill(1);

  for (let round = 0; round < o.maxTrees; round++) {
    for (let i = 0; i < n; i++) {
      residual[i] = targets[i]! - prediction[i]!;
      order[i] = i;
    }
    const tree: RegressionTree = {
      feature: [],
      threshold: [],
      missingLeft: [],
      categories: [],
      left: [],
      right: [],
      value: [],
      rows: [],
    };
    const addNode = (value: number, count: number) => {
      tree.feature.push(-1);
      tree.threshold.push(0);
      tree.missingLeft.push(false);
      tree.categories.push(null);
      tree.left.push(-1);
      tree.right.push(-1);
      tree.value.push(value);
      tree.rows.push(count);
      return tree.feature.length - 1;
    };
    const rootHistogram = histogramOf(0, n);
    const rootTotal = totalOf(rootHistogram, 0, n);
    const root = canSplit(0) ? bestSplit(rootHistogram, features, offsets, rootTotal, rules, everyFeature) : null;
    const leaves: Leaf[] = [
      {
        node: addNode(rootTotal.sum / (n + o.lambda), n),
        start: 0,
        end: n,
        depth: 0,
        histogram: rootHistogram,
        split: root?.best ?? null,
        splittable: root?.splittable ?? everyFeature,
      },
    ];
    while (leaves.length < o.numLeaves) {
      let pick = -1;
      leaves.forEach((leaf, i) => {
        if (!leaf.split) return;
        if (pick < 0) pick = i;
        else if (
          o.growth === 'leaf-wise' ? leaf.split.gain > leaves[pick]!.split!.gain : leaf.depth < leaves[pick]!.depth
        )
          pick = i;
      });
      if (pick < 0) break;
      const parent = leaves[pick]!;
      const split = parent.split!;
      const f = split.feature;
      const first = offsets[f]!;
      const goesLeft = new Uint8Array(binCount(features[f]!));
      if (split.leftBins) for (const k of split.leftBins) goesLeft[k] = 1;
      else {
        goesLeft[0] = split.missingLeft ? 1 : 0;
        for (let k = 1; k <= split.bin; k++) goesLeft[k] = 1;
      }
      // Stable partition of the parent's rows: left ones first, then right ones.
      let l = parent.start;
      let r = 0;
      for (let i = parent.start; i < parent.end; i++) {
        const row = order[i]!;
        if (goesLeft[binned[row * d + f]! - first]) order[l++] = row;
        else spare[r++] = row;
      }
      order.set(spare.subarray(0, r), l);
      const mid = l;
      // Histogram of the smaller side; the larger's is the parent's minus it.
      const leftSmaller = mid - parent.start <= parent.end - mid;
      const small = leftSmaller ? histogramOf(parent.start, mid) : histogramOf(mid, parent.end);
      const large = parent.histogram;
      for (let k = 0; k < totalBins; k++) {
        large.sum[k]! -= small.sum[k]!;
        large.count[k]! -= small.count[k]!;
      }
      const [leftHistogram, rightHistogram] = leftSmaller ? [small, large] : [large, small];
      const node = parent.node;
      tree.feature[node] = f;
      const bins = features[f]!;
      if (bins.kind === 'categorical') tree.categories[node] = split.leftBins!.map((k) => bins.categories[k - 1]!);
      else {
        tree.threshold[node] = bins.upperBounds[split.bin - 1]!;
        tree.missingLeft[node] = split.missingLeft;
      }
      const depth = parent.depth + 1;
      const child = (side: Split['left'], start: number, end: number, histogram: Histogram): Leaf => {
        const found = canSplit(depth) ? bestSplit(histogram, features, offsets, side, rules, parent.splittable) : null;
        return {
          node: addNode(side.sum / (side.count + split.lambda), side.count),
          start,
          end,
          depth,
          histogram,
          split: found?.best ?? null,
          splittable: found?.splittable ?? parent.splittable,
        };
      };
      const leftLeaf = child(split.left, parent.start, mid, leftHistogram);
      const rightLeaf = child(split.right, mid, parent.end, rightHistogram);
      tree.left[node] = leftLeaf.node;
      tree.right[node] = rightLeaf.node;
      leaves.splice(pick, 1, leftLeaf, rightLeaf);
    }
    for (const leaf of leaves) {
      const step = o.learningRate * tree.value[leaf.node]!;
      for (let i = leaf.start; i < leaf.end; i++) prediction[order[i]!]! += step;
    }
    trees.push(tree);
  }
  return {
    kind: 'boosted-trees',
    features: d,
    categoricalFeatures: [...o.categoricalFeatures],
    base,
    learningRate: o.learningRate,
    trees,
  };
}
