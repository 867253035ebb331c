/**
 * The cuts of `referenceBinEdges` from order statistics computed elsewhere (next to the data, in
 * SQL), so a reference built from a window in storage has the same edges, bit for bit, as one
 * built from the values in process.
 *
 * numpy-'linear' quantiles interpolate between two neighbouring order statistics. The plan says
 * which order statistics to fetch, each at a quantile level that selects exactly that element
 * (level (i + 0.5)/n: an engine returning element floor(level · n) of the sorted values picks
 * element i without rounding doubt); the interpolation then uses the same arithmetic as
 * `quantileSorted`. Interpolating in the engine (e.g. ClickHouse's `quantilesExactInclusive`,
 * h = level·(n−1)+1) would agree only within rounding.
 */
import { assertValidCuts, nextUp } from './bins.ts';

/** One interior cut: between order statistics `lower` and `upper` (0-based), at `fraction` of the way. */
export interface CutPosition {
  lower: number;
  upper: number;
  fraction: number;
}

export interface QuantilePlan {
  /** The 0-based order statistics needed, ascending. */
  indices: number[];
  /** Per index, the quantile level that selects exactly that element of n sorted values. */
  levels: number[];
  /** The nBins − 1 interior cuts, in order. */
  positions: CutPosition[];
}

/** Which order statistics of `n` finite values the interior cuts of `nBins` reference-quantile bins need. */
export function quantilePlan(n: number, nBins: number): QuantilePlan {
  const positions: CutPosition[] = [];
  const wanted = new Set<number>();
  for (let k = 1; k < nBins; k++) {
    const position = (k / nBins) * (n - 1);
    const lower = Math.floor(position);
    const upper = Math.min(lower + 1, n - 1);
    positions.push({ lower, upper, fraction: position - lower });
    wanted.add(lower);
    wanted.add(upper);
  }
  const indices = [...wanted].sort((a, b) => a - b);
  return { indices, levels: indices.map((i) => (i + 0.5) / n), positions };
}

/**
 * The cuts `referenceBinEdges` would give: [min, interior quantiles…, nextUp(max)], duplicates
 * dropped. `values[j]` is the order statistic `plan.indices[j]`; `min` and `max` are those of
 * the finite values. Throws RangeError when the result breaks the edge contract.
 */
export function cutsFromOrderStatistics(
  plan: QuantilePlan,
  values: readonly number[],
  min: number,
  max: number,
): number[] {
  const at = new Map(plan.indices.map((orderIndex, j) => [orderIndex, values[j] ?? Number.NaN]));
  const candidates = [min];
  for (const pos of plan.positions) {
    const lo = at.get(pos.lower) ?? Number.NaN;
    const hi = at.get(pos.upper) ?? Number.NaN;
    candidates.push(lo + pos.fraction * (hi - lo));
  }
  candidates.push(nextUp(max));
  const cuts: number[] = [];
  for (const v of candidates)
    if (cuts.length === 0 || v > (cuts[cuts.length - 1] ?? Number.NEGATIVE_INFINITY)) cuts.push(v);
  assertValidCuts(cuts);
  return cuts;
}
