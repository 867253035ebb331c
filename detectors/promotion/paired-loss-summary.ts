/**
 * A stored multiclass or regression shadow evaluation as the API shows it: each side's mean
 * per-event loss and the mean of d = champion's − challenger's loss (positive: the challenger did
 * better) with its normal interval, from the aggregates a query returns (n, means, sd of d); and
 * the running mean of d with its paired t interval over the pairs, from running sums.
 */
import { twoSidedZ } from '../quality/distributions.ts';
import { pairedLossTest } from './paired-loss.ts';

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

/** The running sums of d over an evaluation's first `n` pairs. */
export interface PairedLossCheckpoint {
  n: number;
  sumDifference: number;
  sumSquaredDifference: number;
}

/** The mean of d over the first `n` pairs with its paired t interval (null below two pairs). */
export interface RunningImprovement {
  n: number;
  mean: number;
  lower: number | null;
  upper: number | null;
}

/**
 * How the mean improvement and its paired t interval (the test the verdict reports beside its
 * bootstrap) settled as pairs accumulated, one point per checkpoint, in the checkpoints' order.
 */
export function runningImprovement(checkpoints: readonly PairedLossCheckpoint[], level = 0.95): RunningImprovement[] {
  return checkpoints.map((c) => {
    if (!(Number.isInteger(c.n) && c.n >= 1))
      throw new RangeError(`runningImprovement: a checkpoint needs a pair count of at least 1, got ${c.n}`);
    const test = pairedLossTest(c, { level });
    return {
      n: c.n,
      mean: c.sumDifference / c.n,
      lower: test ? test.lower : null,
      upper: test ? test.upper : null,
    };
  });
}
