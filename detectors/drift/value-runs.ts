/**
 * How a repeated value is spread over a window's event order: the Wald–Wolfowitz runs test on
 * the indicator "value == v", against the order being exchangeable (every arrangement of the
 * window's values equally likely).
 *
 * Why this tells a stuck value from a ceiling: a frozen sensor or a filled-in reading occupies a
 * stretch of consecutive events, so its repeats come in a few long runs — far fewer runs than a
 * random order gives. A ceiling or floor the population reaches more often after a shift (a
 * sensor's maximum, a clipped or top-coded value) is hit by events in between varied readings,
 * so its repeats interleave with other values and the run count stays near what a random order
 * gives. The statistic needs only three counts (runs, repeats, other values), which the window's
 * read computes next to the data (platform/clickhouse: window functions over the events in time
 * order), so it costs O(1) in the workflow history.
 *
 * The left-tail probability P(R ≤ r) is exact (the runs distribution under exchangeability, by
 * log-binomials) when the smaller count is at most {@link EXACT_RUNS_LIMIT}, and the normal
 * approximation with a continuity correction beyond (then both counts exceed it and the normal
 * is close). `minimumP` = P(R = 2) = 2 / C(n, n₁) is the probability of the most clustered
 * arrangement: when even one single stretch would not be unusual, the order cannot tell, and
 * the window is weak evidence either way.
 *
 * Checked against statsmodels' `Runs` (z) and an exact enumeration in Python
 * (test/fixtures/drift/generate_value_runs.py).
 */
import { logBinomial } from './special-functions.ts';
import { normalCdf } from '../quality/distributions.ts';

/** The counts a window's read supplies for its most frequent value, in event-time order. */
export interface ValueRuns {
  /** Maximal stretches of consecutive events that are all the value or all other values. */
  runs: number;
  /** Finite values equal to the value. */
  matches: number;
  /** Finite values different from it. */
  others: number;
}

export interface RunsTest {
  runs: number;
  /** Runs a random order gives on average: 1 + 2 n₁ n₂ / n. */
  expected: number;
  /** (runs − expected) / sd, without continuity correction (statsmodels `Runs.runs_test(correction=False)`). */
  z: number;
  /** P(R ≤ runs) under exchangeability: small when the repeats come in stretches. */
  p: number;
  /** P(R = 2): the left-tail probability of one single stretch, the most the order can show. */
  minimumP: number;
}

/** Smaller count up to which the left tail is summed exactly (O(that count) log-binomials). */
export const EXACT_RUNS_LIMIT = 1000;

/** The runs test of a value's indicator, or null when the window has no other value (or none equal). */
export function runsTest({ runs, matches, others }: ValueRuns): RunsTest | null {
  const n1 = matches;
  const n2 = others;
  if (!(n1 >= 1 && n2 >= 1) || !Number.isInteger(runs) || runs < 2) return null;
  const n = n1 + n2;
  const product = n1 * n2;
  const expected = 1 + (2 * product) / n;
  const variance = (2 * product * (2 * product - n)) / (n * n * (n - 1));
  const sd = Math.sqrt(variance);
  const z = sd > 0 ? (runs - expected) / sd : 0;
  const logTotal = logBinomial(n, n1);
  const minimumP = Math.min(1, Math.exp(Math.LN2 - logTotal));
  let p: number;
  if (Math.min(n1, n2) <= EXACT_RUNS_LIMIT) p = exactLeftTail(runs, n1, n2, logTotal);
  else p = sd > 0 ? normalCdf((runs + 0.5 - expected) / sd) : 1;
  return { runs, expected, z, p: Math.min(1, p), minimumP };
}

/** P(R ≤ r) summed over the exact runs distribution (terms relative to C(n, n₁), in logs). */
function exactLeftTail(r: number, n1: number, n2: number, logTotal: number): number {
  let sum = 0;
  const maxRuns = 2 * Math.min(n1, n2) + (n1 === n2 ? 0 : 1);
  for (let runs = 2; runs <= Math.min(r, maxRuns); runs++) sum += Math.exp(logRunsProbability(runs, n1, n2) - logTotal);
  return sum;
}

/** log of the number of arrangements with exactly `runs` runs (times C(n, n₁) = P(R = runs)). */
function logRunsProbability(runs: number, n1: number, n2: number): number {
  const k = Math.floor(runs / 2);
  if (runs % 2 === 0) return Math.LN2 + logBinomial(n1 - 1, k - 1) + logBinomial(n2 - 1, k - 1);
  return logSumExp(
    logBinomial(n1 - 1, k) + logBinomial(n2 - 1, k - 1),
    logBinomial(n1 - 1, k - 1) + logBinomial(n2 - 1, k),
  );
}

function logSumExp(a: number, b: number): number {
  const m = Math.max(a, b);
  if (m === Number.NEGATIVE_INFINITY) return m;
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

/**
 * The runs of "value == v" over the finite values of `values` in their order (the backtest's
 * in-process twin of the window read's SQL). Non-finite values are skipped, as the read skips them.
 */
export function valueRuns(values: ArrayLike<number>, value: number): ValueRuns {
  let runs = 0;
  let matches = 0;
  let others = 0;
  let previous: boolean | null = null;
  for (let i = 0; i < values.length; i++) {
    const x = values[i] as number;
    if (!Number.isFinite(x)) continue;
    const equal = x === value;
    if (equal) matches += 1;
    else others += 1;
    if (equal !== previous) runs += 1;
    previous = equal;
  }
  return { runs, matches, others };
}
