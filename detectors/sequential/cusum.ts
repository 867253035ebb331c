/**
 * Two-sided tabular CUSUM (Page 1954; Montgomery's tabular form) on standardized observations.
 *
 * The reference mean and standard deviation are estimated from the first `warmup` observations
 * (Welford), then each observation is standardized, z = (x − μ̂)/σ̂, and
 *   S⁺ ← max(0, S⁺ + z − k),  S⁻ ← max(0, S⁻ − z − k),  drift when S⁺ > h or S⁻ > h.
 * k and h are in reference standard deviations, so one default works on any scale.
 *
 * Why the default h is not the textbook 5: with k = 0.5, h = 5 the two-sided in-control ARL is
 * ≈ 469 observations (about 21 false alarms per 10,000 armed observations; ≈ 10 per 10,000 measured
 * on seeded N(0, 1) streams once the 500-observation re-warm-up after each alarm is counted). The default h is
 * calibrated by Siegmund's approximation to ARL0 = 10,000 (h ≈ 8.05, see cusum-calibration.ts).
 * Estimating μ and σ from a finite warm-up shortens the real ARL; the default warm-up of 500
 * keeps the measured rate near 1 false alarm per 10,000 (measured on seeded N(0,1) and
 * Bernoulli(0.3) streams in test/unit/detectors/sequential.test.ts); a 1-σ shift is detected after
 * about 17 observations on average (Siegmund 16.4, measured 16.6). Skewed inputs (rare-event 0/1 streams) alarm more often than the
 * normal-theory calibration says: aggregate them into rates per batch first.
 */
import { cusumThresholdForArl } from './cusum-calibration.ts';
import { assertFinite } from './types.ts';
import type { SequentialUpdate, SerializedDetector } from './types.ts';

/** h for k = 0.5 and two-sided ARL0 = 10,000 by Siegmund's approximation. */
export const CUSUM_DEFAULT_H = cusumThresholdForArl(10_000, 0.5);

export interface CusumOptions {
  /** Observations used to estimate the reference mean and standard deviation. @default 500 */
  warmup: number;
  /** Allowance (slack) per observation, in reference standard deviations. @default 0.5 */
  k: number;
  /** Decision threshold in reference standard deviations. @default CUSUM_DEFAULT_H (≈ 8.05, ARL0 10,000) */
  h: number;
  /** After a detection, estimate a new reference from the next `warmup` observations. @default true */
  rewarmAfterDrift: boolean;
  /** The warm-up continues until its standard deviation exceeds this (a constant warm-up has no scale). @default 1e-9 */
  minStandardDeviation: number;
}

export const CUSUM_DEFAULTS: Readonly<CusumOptions> = Object.freeze({
  warmup: 500,
  k: 0.5,
  h: CUSUM_DEFAULT_H,
  rewarmAfterDrift: true,
  minStandardDeviation: 1e-9,
});

export interface CusumUpdate extends SequentialUpdate {
  /** True while the reference is still being estimated (no detection possible). */
  warmingUp: boolean;
  /** Upper cumulative sum S⁺ (standard deviations). */
  upper: number;
  /** Lower cumulative sum S⁻ (standard deviations). */
  lower: number;
  /** Which side crossed h on this observation, if any. */
  direction: 'up' | 'down' | null;
}

export interface CusumState {
  observations: number;
  warmupCount: number;
  warmupMean: number;
  warmupM2: number;
  /** `null` until the warm-up is complete. */
  referenceMean: number | null;
  referenceStandardDeviation: number | null;
  upper: number;
  lower: number;
  driftDetected: boolean;
}

export type SerializedCusum = SerializedDetector<'cusum', CusumOptions, CusumState>;

export class Cusum {
  readonly options: Readonly<CusumOptions>;
  private observations = 0;
  private warmupCount = 0;
  private warmupMean = 0;
  private warmupM2 = 0;
  private referenceMean: number | null = null;
  private referenceStandardDeviation: number | null = null;
  private upper = 0;
  private lower = 0;
  private driftDetected = false;

  constructor(options: Partial<CusumOptions> = {}) {
    const merged = { ...CUSUM_DEFAULTS, ...options };
    if (!(Number.isInteger(merged.warmup) && merged.warmup >= 2))
      throw new RangeError('Cusum.warmup must be an integer >= 2');
    if (!(merged.k >= 0)) throw new RangeError('Cusum.k must be >= 0');
    if (!(merged.h > 0)) throw new RangeError('Cusum.h must be > 0');
    this.options = Object.freeze(merged);
  }

  /** Reference (mean, standard deviation) once warmed up, else null. */
  get reference(): { mean: number; standardDeviation: number } | null {
    if (this.referenceMean === null || this.referenceStandardDeviation === null) return null;
    return { mean: this.referenceMean, standardDeviation: this.referenceStandardDeviation };
  }

  update(x: number): CusumUpdate {
    assertFinite(x, 'Cusum');
    if (this.driftDetected) {
      this.driftDetected = false;
      this.upper = 0;
      this.lower = 0;
      if (this.options.rewarmAfterDrift) this.startWarmup();
    }
    this.observations += 1;
    if (this.referenceMean === null || this.referenceStandardDeviation === null) {
      this.warmupCount += 1;
      const d = x - this.warmupMean;
      this.warmupMean += d / this.warmupCount;
      this.warmupM2 += d * (x - this.warmupMean);
      const standardDeviation = Math.sqrt(this.warmupM2 / (this.warmupCount - 1));
      // A constant warm-up (e.g. no errors yet in a 0/1 error stream) has no scale: keep warming up
      // rather than arm with σ ≈ 0, which would alarm on the first non-constant value.
      if (this.warmupCount >= this.options.warmup && standardDeviation > this.options.minStandardDeviation) {
        this.referenceMean = this.warmupMean;
        this.referenceStandardDeviation = standardDeviation;
      }
      return { drift: false, observations: this.observations, warmingUp: true, upper: 0, lower: 0, direction: null };
    }
    const z = (x - this.referenceMean) / this.referenceStandardDeviation;
    const { k, h } = this.options;
    this.upper = Math.max(0, this.upper + z - k);
    this.lower = Math.max(0, this.lower - z - k);
    const direction = this.upper > h ? 'up' : this.lower > h ? 'down' : null;
    this.driftDetected = direction !== null;
    return {
      drift: this.driftDetected,
      observations: this.observations,
      warmingUp: false,
      upper: this.upper,
      lower: this.lower,
      direction,
    };
  }

  private startWarmup(): void {
    this.warmupCount = 0;
    this.warmupMean = 0;
    this.warmupM2 = 0;
    this.referenceMean = null;
    this.referenceStandardDeviation = null;
  }

  serialize(): SerializedCusum {
    return {
      kind: 'cusum',
      version: 1,
      options: { ...this.options },
      state: {
        observations: this.observations,
        warmupCount: this.warmupCount,
        warmupMean: this.warmupMean,
        warmupM2: this.warmupM2,
        referenceMean: this.referenceMean,
        referenceStandardDeviation: this.referenceStandardDeviation,
        upper: this.upper,
        lower: this.lower,
        driftDetected: this.driftDetected,
      },
    };
  }

  static restore(snapshot: SerializedCusum): Cusum {
    if (snapshot.kind !== 'cusum' || snapshot.version !== 1) {
      throw new TypeError(`Not a version-1 cusum snapshot: ${snapshot.kind} v${String(snapshot.version)}`);
    }
    const detector = new Cusum(snapshot.options);
    Object.assign(detector, {
      observations: snapshot.state.observations,
      warmupCount: snapshot.state.warmupCount,
      warmupMean: snapshot.state.warmupMean,
      warmupM2: snapshot.state.warmupM2,
      referenceMean: snapshot.state.referenceMean,
      referenceStandardDeviation: snapshot.state.referenceStandardDeviation,
      upper: snapshot.state.upper,
      lower: snapshot.state.lower,
      driftDetected: snapshot.state.driftDetected,
    });
    return detector;
  }
}
