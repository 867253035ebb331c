/**
 * Exact binomial and multinomial draws from the seeded generator, so a bootstrap whose per-event
 * values take only a few distinct values (a paired accuracy difference is −1, 0 or 1) can draw
 * each resample's counts of those values — O(values) per resample — instead of n events.
 * Resampling n events with replacement is exactly a multinomial draw of the counts.
 *
 * Small means (n·min(p, 1 − p) < 10): inversion, walking the probability mass function up from
 * 0 (about n·p + 1 steps). Larger means: BTRS, Hörmann's transformed rejection with squeeze
 * ("The generation of binomial random variates", J. Statist. Comput. Simul. 46, 1993), exact, a
 * few uniforms per draw whatever n is. Both use p ≤ 0.5 and reflect k → n − k otherwise.
 * Checked against scipy.stats.binom by distribution tests (test/unit/detectors/binomial.test.ts).
 */
import { logGamma } from '../drift/special-functions.ts';
import type { Random } from '../random.ts';

/** Below this mean (of the reflected p ≤ 0.5) inversion is used; BTRS needs n·p ≥ 10. */
const INVERSION_BELOW_MEAN = 10;

/** A Binomial(n, p) variate: the number of successes in n independent trials of probability p. */
export function binomial(random: Random, n: number, p: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`binomial: n must be a non-negative integer, got ${n}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`binomial: p must be in [0, 1], got ${p}`);
  if (n === 0 || p === 0) return 0;
  if (p === 1) return n;
  if (p > 0.5) return n - binomial(random, n, 1 - p);
  return n * p < INVERSION_BELOW_MEAN ? binomialInversion(random, n, p) : binomialBtrs(random, n, p);
}

/** Inversion by sequential search from k = 0 (p ≤ 0.5, small n·p). */
function binomialInversion(random: Random, n: number, p: number): number {
  const q = 1 - p;
  const ratio = p / q;
  // P(X = 0) = qⁿ; with n·p < 10 and p ≤ 0.5 this is ≥ e^-20, far from underflow.
  const pmf0 = Math.exp(n * Math.log1p(-p));
  for (;;) {
    let pmf = pmf0;
    let u = random.next();
    let k = 0;
    // Rounding can leave u a hair above the whole mass: then draw again rather than run past n.
    while (u >= pmf && k < n) {
      u -= pmf;
      // P(k + 1) = P(k) · (n − k)/(k + 1) · p/q
      pmf *= ((n - k) / (k + 1)) * ratio;
      k++;
    }
    if (u < pmf) return k;
  }
}

/** BTRS (p ≤ 0.5, n·p ≥ 10). */
function binomialBtrs(random: Random, n: number, p: number): number {
  const q = 1 - p;
  const spq = Math.sqrt(n * p * q);
  const b = 1.15 + 2.53 * spq;
  const a = -0.0873 + 0.0248 * b + 0.01 * p;
  const c = n * p + 0.5;
  const vr = 0.92 - 4.2 / b;
  const alpha = (2.83 + 5.1 / b) * spq;
  const lpq = Math.log(p / q);
  const m = Math.floor((n + 1) * p);
  const h = logGamma(m + 1) + logGamma(n - m + 1);
  for (;;) {
    const u = random.next() - 0.5;
    let v = random.next();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + c);
    if (k < 0 || k > n) continue;
    // The squeeze: accepted without evaluating the mass function.
    if (us >= 0.07 && v <= vr) return k;
    v = Math.log((v * alpha) / (a / (us * us) + b));
    if (v <= h - logGamma(k + 1) - logGamma(n - k + 1) + (k - m) * lpq) return k;
  }
}

/**
 * Multinomial(n, probabilities) counts by conditional binomials: the count of value j is
 * Binomial(remaining trials, p_j / remaining probability). `probabilities` must sum to 1 (within
 * rounding); the last value takes the remaining trials.
 */
export function multinomialCounts(random: Random, n: number, probabilities: readonly number[]): Int32Array {
  const k = probabilities.length;
  const counts = new Int32Array(k);
  let remainingTrials = n;
  let remainingProbability = 1;
  for (let j = 0; j < k - 1 && remainingTrials > 0; j++) {
    const pj = probabilities[j] as number;
    const conditional = remainingProbability > 0 ? Math.min(1, Math.max(0, pj / remainingProbability)) : 0;
    const draw = binomial(random, remainingTrials, conditional);
    counts[j] = draw;
    remainingTrials -= draw;
    remainingProbability -= pj;
  }
  if (k > 0) counts[k - 1] = (counts[k - 1] as number) + remainingTrials;
  return counts;
}
