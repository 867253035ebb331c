/**
 * Paired tests of challenger against champion on per-event loss, for models that are not binary
 * classifiers: multiclass log loss, regression squared or absolute error. Each event's loss
 * difference d = champion's − challenger's (positive: the challenger did better) is what is
 * tested, so the two models' shared hard events cancel.
 *
 * - Paired t (= scipy.stats.ttest_rel): mean d with its t interval and a two-sided p-value, and a
 *   one-sided p-value against a margin (H₀: mean d ≤ −margin, i.e. the challenger is worse by
 *   more than the margin) for non-inferiority. From three sums, so a query can aggregate events.
 * - Wilcoxon signed-rank (= scipy.stats.wilcoxon(method='approx', zero_method='wilcox',
 *   correction=False)): normal approximation with the tie correction. Squared errors are heavy-
 *   tailed; a rank test is not moved by a handful of huge errors the way a mean is.
 */
import { studentTCdf, studentTQuantile } from '../decay/stats.ts';
import { normalCdf } from '../quality/distributions.ts';
import { DEFAULT_CONFIDENCE_LEVEL } from '../quality/intervals.ts';
import { multiclassLogLossContribution } from '../quality/multiclass-log-loss.ts';

export type PairedLoss = 'logLoss' | 'squaredError' | 'absoluteError';

/** What a query aggregates over paired events: Σd and Σd² of d = champion loss − challenger loss. */
export interface PairedLossSums {
  n: number;
  sumDifference: number;
  sumSquaredDifference: number;
}

export interface PairedLossTest {
  n: number;
  /** Mean of champion − challenger loss: positive means the challenger is better. */
  improvement: number;
  lower: number;
  upper: number;
  level: number;
  /** t statistic of the mean difference, degrees of freedom n − 1. */
  statistic: number;
  /** Two-sided p-value of "no difference". */
  pValue: number;
  /** One-sided p-value of "the challenger is worse by more than `margin`". */
  nonInferiorityPValue: number;
  margin: number;
}

/** Per-event losses of one model's outputs. */
export function perEventLosses(
  loss: PairedLoss,
  truth: readonly number[],
  outputs: readonly number[] | readonly (readonly number[])[],
): number[] {
  if (truth.length !== outputs.length)
    throw new RangeError(`perEventLosses: ${truth.length} true values but ${outputs.length} model outputs`);
  return truth.map((y, i) => {
    const output = outputs[i];
    if (loss === 'logLoss') {
      if (!Array.isArray(output))
        throw new RangeError(`event ${i}: log loss needs a class-probability vector, got ${String(output)}`);
      return multiclassLogLossContribution(output as readonly number[], y);
    }
    if (typeof output !== 'number' || !Number.isFinite(output))
      throw new RangeError(`event ${i}: ${loss} needs a numeric prediction, got ${JSON.stringify(output)}`);
    const e = y - output;
    return loss === 'squaredError' ? e * e : Math.abs(e);
  });
}

export function pairedLossSums(champion: readonly number[], challenger: readonly number[]): PairedLossSums {
  if (champion.length !== challenger.length)
    throw new RangeError(
      `paired losses: ${champion.length} champion events but ${challenger.length} challenger events`,
    );
  let sumDifference = 0;
  let sumSquaredDifference = 0;
  champion.forEach((a, i) => {
    const d = a - (challenger[i] as number);
    sumDifference += d;
    sumSquaredDifference += d * d;
  });
  return { n: champion.length, sumDifference, sumSquaredDifference };
}

/** Paired t test and interval from sums; null with fewer than 2 events. */
export function pairedLossTest(
  sums: PairedLossSums,
  options: { level?: number; margin?: number } = {},
): PairedLossTest | null {
  const level = options.level ?? DEFAULT_CONFIDENCE_LEVEL;
  const margin = options.margin ?? 0;
  const { n } = sums;
  if (!(n >= 2)) return null;
  const mean = sums.sumDifference / n;
  const variance = Math.max(0, (sums.sumSquaredDifference - n * mean * mean) / (n - 1));
  const se = Math.sqrt(variance / n);
  const dof = n - 1;
  const half = studentTQuantile(1 - (1 - level) / 2, dof) * se;
  if (se === 0) {
    const sign = Math.sign(mean);
    return {
      n,
      improvement: mean,
      lower: mean,
      upper: mean,
      level,
      statistic: sign * Number.POSITIVE_INFINITY || Number.NaN,
      pValue: mean === 0 ? 1 : 0,
      nonInferiorityPValue: mean > -margin ? 0 : 1,
      margin,
    };
  }
  const statistic = mean / se;
  return {
    n,
    improvement: mean,
    lower: mean - half,
    upper: mean + half,
    level,
    statistic,
    pValue: Math.min(1, 2 * studentTCdf(-Math.abs(statistic), dof)),
    nonInferiorityPValue: 1 - studentTCdf((mean + margin) / se, dof),
    margin,
  };
}

export interface SignedRankTest {
  /** Events with a non-zero difference (zeros are dropped, scipy's zero_method='wilcox'). */
  n: number;
  /** Sum of the ranks of the negative differences (the challenger worse), as scipy reports it for two-sided. */
  statistic: number;
  /** Normal z of the positive ranks' sum: positive means the challenger tends to do better. */
  z: number;
  pValue: number;
}

/** Wilcoxon signed-rank test of d = champion − challenger loss (normal approximation, tie-corrected). */
export function pairedSignedRankTest(
  champion: readonly number[],
  challenger: readonly number[],
): SignedRankTest | null {
  if (champion.length !== challenger.length)
    throw new RangeError(
      `paired losses: ${champion.length} champion events but ${challenger.length} challenger events`,
    );
  const d = champion.map((a, i) => a - (challenger[i] as number)).filter((x) => x !== 0);
  const n = d.length;
  if (n === 0) return null;
  const order = d.map((_, i) => i).sort((a, b) => Math.abs(d[a] as number) - Math.abs(d[b] as number));
  const ranks = new Float64Array(n);
  let tieTerm = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && Math.abs(d[order[j + 1] as number] as number) === Math.abs(d[order[i] as number] as number))
      j++;
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) ranks[order[k] as number] = rank;
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  let positive = 0;
  let negative = 0;
  d.forEach((x, i) => (x > 0 ? (positive += ranks[i] as number) : (negative += ranks[i] as number)));
  const mean = (n * (n + 1)) / 4;
  const sd = Math.sqrt((n * (n + 1) * (2 * n + 1)) / 24 - tieTerm / 48);
  const z = sd > 0 ? (positive - mean) / sd : 0;
  return { n, statistic: Math.min(positive, negative), z, pValue: Math.min(1, 2 * normalCdf(-Math.abs(z))) };
}
