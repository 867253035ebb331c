/**
 * Gradient-boosted regression trees with squared loss on binned features: the learner of direct
 * loss estimation (dle.ts). Small and dependency-free on purpose: a few hundred shallow trees on
 * tens of thousands of reference rows fit in seconds, capture interactions between features and
 * the prediction (which a ridge on expanded features would need to be told about), and the model
 * is plain JSON.
 *
 * Each feature is cut at up to `maxBins − 1` quantiles of its reference values; a missing value
 * (NaN) sorts below every cut, so it always goes left. Trees grow level by level to `maxDepth`
 * with the second-order gain G²/(H + λ) (H is the row count for squared loss) and leaves of at
 * least `minLeafRows`. Every `holdoutEvery`-th row is held out: its loss is reported (the caller's
 * measure of how well the trees generalise) and, when `patience` > 0, boosting stops once it has
 * not improved for that many trees, keeping the best round. Early stopping is off by default: on
 * noisy targets such as a model's per-event error the held-out loss flattens long before the
 * shrunken trees have converged, and stopping there biases every prediction towards the mean.
 */

export interface BoostedTreesOptions {
  /** @default 100 */
  maxTrees: number;
  /** @default 0.1 */
  learningRate: number;
  /** @default 5 */
  maxDepth: number;
  /** @default 20 */
  minLeafRows: number;
  /** L2 penalty on leaf values. @default 1 */
  lambda: number;
  /** @default 64 */
  maxBins: number;
  /** Every `holdoutEvery`-th row is held out for early stopping. @default 5 */
  holdoutEvery: number;
  /** Stop after this many trees without a held-out improvement; 0 never stops early. @default 0 */
  patience: number;
}

export const BOOSTED_TREES_DEFAULTS: Readonly<BoostedTreesOptions> = Object.freeze({
  maxTrees: 100,
  learningRate: 0.1,
  maxDepth: 5,
  minLeafRows: 20,
  lambda: 1,
  maxBins: 64,
  holdoutEvery: 5,
  patience: 0,
});

/** A tree as parallel arrays; feature −1 marks a leaf. Left when x ≤ threshold or x is NaN. */
export interface RegressionTree {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  value: number[];
}

export interface BoostedTrees {
  kind: 'boosted-trees';
  features: number;
  base: number;
  learningRate: number;
  trees: RegressionTree[];
  /** Mean squared error on the held-out rows at the kept round, and those rows' count. */
  holdout: { rows: number; meanSquaredError: number };
}

function cutPoints(column: Float64Array, maxBins: number): number[] {
  const values = Array.from(column)
    .filter((v) => !Number.isNaN(v))
    .sort((a, b) => a - b);
  const cuts: number[] = [];
  for (let b = 1; b < maxBins && values.length > 0; b++) {
    const v = values[Math.min(values.length - 1, Math.floor((b * values.length) / maxBins))] as number;
    // A cut at v sends v left; skip cuts that would leave nothing to the right or repeat.
    if (v < (values[values.length - 1] as number) && (cuts.length === 0 || v > (cuts[cuts.length - 1] as number)))
      cuts.push(v);
  }
  return cuts;
}

/** Bin index: 0 for NaN, else 1 + the number of cuts below the value. */
function binOf(cuts: readonly number[], x: number): number {
  if (Number.isNaN(x)) return 0;
  let lo = 0;
  let hi = cuts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((cuts[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo + 1;
}

export function predictTree(tree: RegressionTree, row: readonly number[]): number {
  let node = 0;
  for (;;) {
    const f = tree.feature[node] as number;
    if (f < 0) return tree.value[node] as number;
    const x = row[f] as number;
    node =
      Number.isNaN(x) || x <= (tree.threshold[node] as number)
        ? (tree.left[node] as number)
        : (tree.right[node] as number);
  }
}

export function predictBoostedTrees(model: BoostedTrees, row: readonly number[]): number {
  if (row.length !== model.features)
    throw new RangeError(`a row has ${row.length} features; the model was fitted on ${model.features}`);
  let y = model.base;
  for (const tree of model.trees) y += model.learningRate * predictTree(tree, row);
  return y;
}

/** Fit on rows (NaN allowed) and targets. */
export function fitBoostedTrees(
  rows: readonly (readonly number[])[],
  targets: readonly number[],
  options: Partial<BoostedTreesOptions> = {},
): BoostedTrees {
  const o = { ...BOOSTED_TREES_DEFAULTS, ...options };
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

  const train: number[] = [];
  const holdout: number[] = [];
  for (let i = 0; i < n; i++)
    (o.holdoutEvery > 1 && i % o.holdoutEvery === o.holdoutEvery - 1 ? holdout : train).push(i);
  const cuts: number[][] = [];
  const bins: Uint8Array[] | Uint16Array[] = [];
  for (let f = 0; f < d; f++) {
    const column = Float64Array.from(train, (i) => rows[i]![f] as number);
    const c = cutPoints(column, o.maxBins);
    cuts.push(c);
    const b = new Uint16Array(n);
    for (let i = 0; i < n; i++) b[i] = binOf(c, rows[i]![f] as number);
    (bins as Uint16Array[]).push(b);
  }
  const base = train.reduce((s, i) => s + (targets[i] as number), 0) / train.length;
  const prediction = new Float64Array(n).fill(base);
  const trees: RegressionTree[] = [];
  const holdoutLoss = () => {
    if (holdout.length === 0) return 0;
    let s = 0;
    for (const i of holdout) s += ((targets[i] as number) - (prediction[i] as number)) ** 2;
    return s / holdout.length;
  };
  let best = { loss: holdoutLoss(), trees: 0 };
  const maxBin = o.maxBins + 1;
  const sumG = new Float64Array(maxBin);
  const count = new Float64Array(maxBin);

  for (let round = 0; round < o.maxTrees; round++) {
    const residual = new Float64Array(n);
    for (const i of train) residual[i] = (targets[i] as number) - (prediction[i] as number);
    const tree: RegressionTree = { feature: [], threshold: [], left: [], right: [], value: [] };
    const leafOf = (members: number[]) => {
      let s = 0;
      for (const i of members) s += residual[i] as number;
      return s / (members.length + o.lambda);
    };
    const addNode = (members: number[]) => {
      tree.feature.push(-1);
      tree.threshold.push(0);
      tree.left.push(-1);
      tree.right.push(-1);
      tree.value.push(leafOf(members));
      return tree.feature.length - 1;
    };
    let level: { node: number; members: number[] }[] = [{ node: addNode(train), members: train }];
    for (let depth = 0; depth < o.maxDepth && level.length > 0; depth++) {
      const next: { node: number; members: number[] }[] = [];
      for (const { node, members } of level) {
        if (members.length < 2 * o.minLeafRows) continue;
        let total = 0;
        for (const i of members) total += residual[i] as number;
        const parentScore = (total * total) / (members.length + o.lambda);
        let bestSplit = { gain: 1e-12, feature: -1, bin: -1 };
        for (let f = 0; f < d; f++) {
          const b = bins[f] as Uint16Array;
          const top = (cuts[f] as number[]).length + 1;
          sumG.fill(0, 0, top + 1);
          count.fill(0, 0, top + 1);
          for (const i of members) {
            const k = b[i] as number;
            sumG[k]! += residual[i] as number;
            count[k]! += 1;
          }
          let leftG = 0;
          let leftN = 0;
          for (let k = 0; k < top; k++) {
            leftG += sumG[k] as number;
            leftN += count[k] as number;
            const rightN = members.length - leftN;
            if (leftN < o.minLeafRows) continue;
            if (rightN < o.minLeafRows) break;
            const rightG = total - leftG;
            const gain = (leftG * leftG) / (leftN + o.lambda) + (rightG * rightG) / (rightN + o.lambda) - parentScore;
            if (gain > bestSplit.gain) bestSplit = { gain, feature: f, bin: k };
          }
        }
        if (bestSplit.feature < 0) continue;
        const b = bins[bestSplit.feature] as Uint16Array;
        const leftMembers: number[] = [];
        const rightMembers: number[] = [];
        for (const i of members) ((b[i] as number) <= bestSplit.bin ? leftMembers : rightMembers).push(i);
        // Bin k ≤ s holds NaN (bin 0) and values ≤ cuts[s − 1]; the tree compares raw values.
        const c = cuts[bestSplit.feature] as number[];
        tree.feature[node] = bestSplit.feature;
        tree.threshold[node] = bestSplit.bin === 0 ? -Infinity : (c[bestSplit.bin - 1] as number);
        const l = addNode(leftMembers);
        const r = addNode(rightMembers);
        tree.left[node] = l;
        tree.right[node] = r;
        next.push({ node: l, members: leftMembers }, { node: r, members: rightMembers });
      }
      level = next;
    }
    trees.push(tree);
    for (let i = 0; i < n; i++) prediction[i]! += o.learningRate * predictTree(tree, rows[i] as number[]);
    const loss = holdoutLoss();
    if (loss < best.loss) best = { loss, trees: trees.length };
    else if (o.patience > 0 && holdout.length > 0 && trees.length - best.trees >= o.patience) break;
  }
  const kept = o.patience > 0 && holdout.length > 0 ? best.trees : trees.length;
  const keptLoss = kept === trees.length ? holdoutLoss() : best.loss;
  return {
    kind: 'boosted-trees',
    features: d,
    base,
    learningRate: o.learningRate,
    trees: trees.slice(0, kept),
    holdout: { rows: holdout.length, meanSquaredError: holdout.length > 0 ? keptLoss : Number.NaN },
  };
}
