/**
 * The best split of one leaf from its histograms (boosted-trees.ts grows the trees): per feature,
 * per bin, the sum of the residuals and the row count of the leaf's rows. Squared loss, so every
 * row's hessian is 1 and a side's score is G²/(N + λ) — the second-order gain of gradient
 * boosting; a split's gain is what its two sides' scores add over the leaf's own.
 *
 * Numeric features split at a bin edge; the missing rows (bin 0) are tried on both sides and go
 * where the gain is larger (a leaf without missing rows sends them to its larger side). A
 * categorical feature with at most `maxCatToOnehot` categories splits one category against the
 * rest; one with more sorts its categories by their smoothed mean residual G/(N + catSmooth) and
 * takes a prefix of that order from either end (Fisher's ordering: for squared loss the best
 * binary partition of categories is contiguous in it), at most `maxCatThreshold` categories on the
 * listed side, ignoring categories with fewer than `catSmooth` rows, moving at least
 * `minDataPerGroup` rows between candidates and scoring the sides with `lambda + catL2`. Those are
 * LightGBM's documented categorical rules; missing, unseen and unlisted categories go right.
 */
import { binCount, type FeatureBins } from './histogram-bins.ts';

export interface SplitRules {
  minLeafRows: number;
  lambda: number;
  maxCatToOnehot: number;
  maxCatThreshold: number;
  catSmooth: number;
  catL2: number;
  minDataPerGroup: number;
}

/** Per-bin residual sums and row counts of one leaf, features laid end to end at `offsets`. */
export interface Histogram {
  sum: Float64Array;
  count: Float64Array;
}

export interface Split {
  feature: number;
  /** The sides' scores over the leaf's. */
  gain: number;
  /** Numeric: bins 1..bin go left. */
  bin: number;
  missingLeft: boolean;
  /** Categorical: the bins that go left; null for a numeric split. */
  leftBins: number[] | null;
  /** The L2 penalty the two sides' values are shrunk with. */
  lambda: number;
  left: { sum: number; count: number };
  right: { sum: number; count: number };
}

const score = (g: number, n: number, lambda: number) => (g * g) / (n + lambda);

/**
 * A gain below this share of the sides' scores is rounding, not an improvement (the gain is never
 * more than the sides' scores, since the leaf's own score is never negative).
 */
const NO_GAIN = 1e-10;
const improves = (gain: number, sides: number) => gain > NO_GAIN * sides;

function numericSplit(
  h: Histogram,
  offset: number,
  bins: number,
  total: { sum: number; count: number },
  parent: number,
  rules: SplitRules,
): Omit<Split, 'feature'> | null {
  const missingSum = h.sum[offset]!;
  const missingCount = h.count[offset]!;
  let best: Omit<Split, 'feature'> | null = null;
  for (const missingLeft of missingCount > 0 ? [true, false] : [true]) {
    let leftSum = missingLeft ? missingSum : 0;
    let leftCount = missingLeft ? missingCount : 0;
    // With the missing on the right, "every value left" is a split too (values against missing).
    const lastBin = missingLeft ? bins - 2 : bins - 1;
    for (let k = 1; k <= lastBin; k++) {
      const c = h.count[offset + k]!;
      if (c === 0) continue;
      leftSum += h.sum[offset + k]!;
      leftCount += c;
      if (leftCount < rules.minLeafRows) continue;
      const rightCount = total.count - leftCount;
      if (rightCount < rules.minLeafRows) break;
      const rightSum = total.sum - leftSum;
      const sides = score(leftSum, leftCount, rules.lambda) + score(rightSum, rightCount, rules.lambda);
      const gain = sides - parent;
      if (improves(gain, sides) && (best === null || gain > best.gain))
        best = {
          gain,
          bin: k,
          missingLeft: missingCount > 0 ? missingLeft : leftCount >= rightCount,
          leftBins: null,
          lambda: rules.lambda,
          left: { sum: leftSum, count: leftCount },
          right: { sum: rightSum, count: rightCount },
        };
    }
  }
  // Bins empty in this leaf between the two sides change no training row. The split sits at the
  // right end of that gap (an unseen value in it goes left) unless the leaf's missing rows go
  // right, then at its left end: where LightGBM puts it.
  if (best && (best.missingLeft || missingCount === 0))
    while (best.bin + 1 < bins - 1 && h.count[offset + best.bin + 1] === 0) best.bin += 1;
  return best;
}

function categoricalSplit(
  h: Histogram,
  offset: number,
  bins: number,
  total: { sum: number; count: number },
  parent: number,
  rules: SplitRules,
): Omit<Split, 'feature'> | null {
  let best: Omit<Split, 'feature'> | null = null;
  const consider = (leftBins: number[], leftSum: number, leftCount: number, lambda: number) => {
    const rightSum = total.sum - leftSum;
    const rightCount = total.count - leftCount;
    const sides = score(leftSum, leftCount, lambda) + score(rightSum, rightCount, lambda);
    const gain = sides - parent;
    if (improves(gain, sides) && (best === null || gain > best.gain))
      best = {
        gain,
        bin: -1,
        missingLeft: false,
        leftBins: [...leftBins],
        lambda,
        left: { sum: leftSum, count: leftCount },
        right: { sum: rightSum, count: rightCount },
      };
  };
  const categories = bins - 1;
  if (categories <= rules.maxCatToOnehot) {
    for (let k = 1; k < bins; k++) {
      const c = h.count[offset + k]!;
      if (c < rules.minLeafRows || total.count - c < rules.minLeafRows) continue;
      consider([k], h.sum[offset + k]!, c, rules.lambda);
    }
    return best;
  }
  const used: number[] = [];
  for (let k = 1; k < bins; k++) if (h.count[offset + k]! >= rules.catSmooth) used.push(k);
  // Largest smoothed mean residual first (smallest mean gradient, the order LightGBM scans first).
  const smoothed = (k: number) => h.sum[offset + k]! / (h.count[offset + k]! + rules.catSmooth);
  used.sort((a, b) => smoothed(b) - smoothed(a) || a - b);
  const lambda = rules.lambda + rules.catL2;
  const most = Math.min(rules.maxCatThreshold, Math.floor((used.length + 1) / 2));
  for (const order of [used, [...used].reverse()]) {
    let leftSum = 0;
    let leftCount = 0;
    let group = 0;
    const listed: number[] = [];
    for (let i = 0; i < most; i++) {
      const k = order[i]!;
      listed.push(k);
      leftSum += h.sum[offset + k]!;
      leftCount += h.count[offset + k]!;
      group += h.count[offset + k]!;
      if (leftCount < rules.minLeafRows) continue;
      const rightCount = total.count - leftCount;
      if (rightCount < rules.minLeafRows || rightCount < rules.minDataPerGroup) break;
      if (group < rules.minDataPerGroup) continue;
      group = 0;
      consider(listed, leftSum, leftCount, lambda);
    }
  }
  return best;
}

/** A leaf's best split, and which features offered any improving split at all. */
export interface LeafSplits {
  best: Split | null;
  /** 1 for a feature with an admissible split that improves on the leaf. */
  splittable: Uint8Array;
}

/**
 * The leaf's best split over the features `tried` marks. A feature that offers no improving
 * split in a leaf is not tried again below it: LightGBM does the same, and with the minimum rows
 * per leaf and the categorical penalty such a feature rarely wins in a smaller leaf.
 */
export function bestSplit(
  h: Histogram,
  features: readonly FeatureBins[],
  offsets: readonly number[],
  total: { sum: number; count: number },
  rules: SplitRules,
  tried: Uint8Array,
): LeafSplits {
  const splittable = new Uint8Array(features.length);
  if (total.count < 2 * rules.minLeafRows) return { best: null, splittable };
  const parent = score(total.sum, total.count, rules.lambda);
  let best: Split | null = null;
  features.forEach((bins, feature) => {
    if (!tried[feature]) return;
    const find = bins.kind === 'numeric' ? numericSplit : categoricalSplit;
    const split = find(h, offsets[feature]!, binCount(bins), total, parent, rules);
    if (!split) return;
    splittable[feature] = 1;
    if (best === null || split.gain > best.gain) best = { ...split, feature };
  });
  return { best, splittable };
}
