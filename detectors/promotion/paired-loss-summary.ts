/**
 * A stored multiclass or regression shadow evaluation as the API shows it: each side's mean
 * per-event loss and the mean of d = champion's − challenger's loss (positive: the challenger did
 * better) with its normal interval, from the aggregates a query returns (n, means, sd of d).
 */
import { twoSidedZ } from '../quality/distributions.ts';

export interface PairedLossAggregates {
  n: number;
  championLoss: number;
  candidateLoss: number;
  differenceMean: number;
  /** Sample standard deviation of d; null for fewer than two events. */
  differenceSd: number | null;
}

export interface PairedLossSummary {
  n: number;
  level: number;
  champion: number;
  candidate: number;
  difference: { value: number; lower: number | null; upper: number | null };
}

export function pairedLossSummary(a: PairedLossAggregates, level = 0.95): PairedLossSummary {
  const half = a.differenceSd === null || a.n < 2 ? null : (twoSidedZ(level) * a.differenceSd) / Math.sqrt(a.n);
  return {
    n: a.n,
    level,
    champion: a.championLoss,
    candidate: a.candidateLoss,
    difference: {
      value: a.differenceMean,
      lower: half === null ? null : a.differenceMean - half,
      upper: half === null ? null : a.differenceMean + half,
    },
  };
}
