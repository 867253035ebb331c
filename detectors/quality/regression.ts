/**
 * Regression quality: RMSE, MAE, R² (= sklearn root_mean_squared_error, mean_absolute_error,
 * r2_score) with percentile-bootstrap intervals. R² is null when the truth is constant
 * (sklearn's force_finite would report 1.0 or 0.0 there, which is not a measurement).
 */
import { Random } from '../random.ts';
import {
  DEFAULT_BOOTSTRAP_REPLICATES,
  DEFAULT_BOOTSTRAP_SEED,
  DEFAULT_CONFIDENCE_LEVEL,
  DEFAULT_MIN_BOOTSTRAP_SAMPLE,
  percentileInterval,
} from './intervals.ts';
import { assertSameLength } from './types.ts';
import type { MetricEstimate } from './types.ts';

export interface RegressionSums {
  n: number;
  sumTruth: number;
  sumSquaredTruth: number;
  sumSquaredError: number;
  sumAbsoluteError: number;
}

/** R² from sums: 1 − SSE/SST with SST = Σy² − (Σy)²/n. Usable on SQL aggregates too. */
export function regressionFromSums(s: RegressionSums): { rmse: number | null; mae: number | null; r2: number | null } {
  if (s.n === 0) return { rmse: null, mae: null, r2: null };
  const totalSumOfSquares = s.sumSquaredTruth - (s.sumTruth * s.sumTruth) / s.n;
  const relativeSpread = Math.abs(totalSumOfSquares) / Math.max(1e-300, s.sumSquaredTruth);
  return {
    rmse: Math.sqrt(s.sumSquaredError / s.n),
    mae: s.sumAbsoluteError / s.n,
    r2: relativeSpread < 1e-12 ? null : 1 - s.sumSquaredError / totalSumOfSquares,
  };
}

function exactR2(truth: readonly number[], predicted: readonly number[], indices: ArrayLike<number>): number | null {
  const n = indices.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += truth[indices[i] as number] as number;
  mean /= n;
  let sst = 0;
  let sse = 0;
  for (let i = 0; i < n; i++) {
    const index = indices[i] as number;
    const y = truth[index] as number;
    const e = y - (predicted[index] as number);
    sst += (y - mean) * (y - mean);
    sse += e * e;
  }
  return sst === 0 ? null : 1 - sse / sst;
}

export interface RegressionOptions {
  /** @default 0.95 */
  level: number;
  /** @default 1000 */
  bootstrapReplicates: number;
  /** @default 20240611 */
  seed: number;
  /** @default 20 */
  minBootstrapSample: number;
}

export interface RegressionQuality {
  n: number;
  rmse: MetricEstimate;
  mae: MetricEstimate;
  r2: MetricEstimate;
}

export function regressionQuality(
  truth: readonly number[],
  predicted: readonly number[],
  options: Partial<RegressionOptions> = {},
): RegressionQuality {
  assertSameLength(truth, predicted, 'regressionQuality');
  const { level, bootstrapReplicates, seed, minBootstrapSample } = {
    level: DEFAULT_CONFIDENCE_LEVEL,
    bootstrapReplicates: DEFAULT_BOOTSTRAP_REPLICATES,
    seed: DEFAULT_BOOTSTRAP_SEED,
    minBootstrapSample: DEFAULT_MIN_BOOTSTRAP_SAMPLE,
    ...options,
  };
  const n = truth.length;
  const all = Array.from(truth.keys());
  const pointOf = (indices: ArrayLike<number>) => {
    let sse = 0;
    let sae = 0;
    for (let i = 0; i < indices.length; i++) {
      const index = indices[i] as number;
      const e = (truth[index] as number) - (predicted[index] as number);
      sse += e * e;
      sae += Math.abs(e);
    }
    return { rmse: Math.sqrt(sse / indices.length), mae: sae / indices.length, r2: exactR2(truth, predicted, indices) };
  };
  if (n === 0) {
    const empty: MetricEstimate = { value: null, n: 0, interval: null, note: 'no events' };
    return { n, rmse: empty, mae: empty, r2: empty };
  }
  const point = pointOf(all);
  const r2Note = point.r2 === null ? 'constant truth: R² undefined' : undefined;
  if (n < minBootstrapSample) {
    const note = `n = ${n} < ${minBootstrapSample}: too small for a bootstrap interval`;
    return {
      n,
      rmse: { value: point.rmse, n, interval: null, note },
      mae: { value: point.mae, n, interval: null, note },
      r2: { value: point.r2, n, interval: null, note: r2Note ?? note },
    };
  }
  const random = new Random(seed);
  const sample = new Uint32Array(n);
  const rmse: number[] = [];
  const mae: number[] = [];
  const r2: (number | null)[] = [];
  for (let b = 0; b < bootstrapReplicates; b++) {
    for (let i = 0; i < n; i++) sample[i] = Math.floor(random.next() * n);
    const replicate = pointOf(sample);
    rmse.push(replicate.rmse);
    mae.push(replicate.mae);
    r2.push(replicate.r2);
  }
  const r2Interval = point.r2 === null ? { interval: null, note: r2Note } : percentileInterval(r2, level);
  return {
    n,
    rmse: { value: point.rmse, n, ...percentileInterval(rmse, level) },
    mae: { value: point.mae, n, ...percentileInterval(mae, level) },
    r2: { value: point.r2, n, interval: r2Interval.interval, ...(r2Interval.note ? { note: r2Interval.note } : {}) },
  };
}
