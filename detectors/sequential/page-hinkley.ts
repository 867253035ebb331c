/**
 * Page–Hinkley test for a change in the mean, one observation at a time.
 *
 * Matches River 0.23.0 `river.drift.PageHinkley` step for step (same options, same defaults, same
 * floating-point order), so detections agree index for index on the same stream; see
 * test/unit/detectors/sequential.test.ts. Quirks kept on purpose for that parity:
 * - the running decrease maximum starts at -1 (not -Infinity);
 * - after a detection the *next* update first wipes all state (mean included) and starts over;
 * - `threshold` and `delta` are in the units of the input: the test is not scale invariant
 *   (on a stream with standard deviation 20 the defaults alarm every `minInstances` points).
 *   Standardize the input, or use {@link Cusum}, whose k and h are in standard deviations.
 * False alarms with the defaults: about 6 per 10,000 observations of a stationary N(0, 1) stream
 * (seeded measurement in the unit tests) — the forgetting factor lets the statistic wander.
 * Intentional difference from River: non-finite input throws instead of poisoning the state.
 */
import { assertFinite } from './types.ts';
import type { SequentialUpdate, SerializedDetector } from './types.ts';

export type PageHinkleyMode = 'up' | 'down' | 'both';

export interface PageHinkleyOptions {
  /** Observations before the test may signal. @default 30 */
  minInstances: number;
  /** Magnitude of change tolerated without accumulating evidence, in input units. @default 0.005 */
  delta: number;
  /** Detection threshold (lambda) on the accumulated deviation, in input units. @default 50 */
  threshold: number;
  /** Forgetting factor applied to the cumulative sums each step. @default 0.9999 */
  alpha: number;
  /** Which direction of mean change to detect. @default 'both' */
  mode: PageHinkleyMode;
}

export const PAGE_HINKLEY_DEFAULTS: Readonly<PageHinkleyOptions> = Object.freeze({
  minInstances: 30,
  delta: 0.005,
  threshold: 50,
  alpha: 1 - 0.0001,
  mode: 'both',
});

export interface PageHinkleyUpdate extends SequentialUpdate {
  /** Running mean since the last reset. */
  mean: number;
  /** Evidence for an increase (compared with `threshold`); 0 before `minInstances`. */
  increaseStatistic: number;
  /** Evidence for a decrease (compared with `threshold`); 0 before `minInstances`. */
  decreaseStatistic: number;
}

export interface PageHinkleyState {
  observations: number;
  mean: number;
  sumIncrease: number;
  sumDecrease: number;
  /** `null` stands for +Infinity (JSON has no Infinity). */
  minIncrease: number | null;
  maxDecrease: number;
  driftDetected: boolean;
}

export type SerializedPageHinkley = SerializedDetector<'page-hinkley', PageHinkleyOptions, PageHinkleyState>;

export class PageHinkley {
  readonly options: Readonly<PageHinkleyOptions>;
  private observations = 0;
  private mean = 0;
  private sumIncrease = 0;
  private sumDecrease = 0;
  private minIncrease = Number.POSITIVE_INFINITY;
  private maxDecrease = -1;
  private driftDetected = false;

  constructor(options: Partial<PageHinkleyOptions> = {}) {
    const merged = { ...PAGE_HINKLEY_DEFAULTS, ...options };
    if (!(merged.minInstances >= 1)) throw new RangeError('PageHinkley.minInstances must be >= 1');
    if (!(merged.threshold > 0)) throw new RangeError('PageHinkley.threshold must be > 0');
    if (!(merged.alpha > 0 && merged.alpha <= 1)) throw new RangeError('PageHinkley.alpha must be in (0, 1]');
    if (!['up', 'down', 'both'].includes(merged.mode))
      throw new RangeError(`PageHinkley.mode must be up, down or both`);
    this.options = Object.freeze(merged);
  }

  update(x: number): PageHinkleyUpdate {
    assertFinite(x, 'PageHinkley');
    if (this.driftDetected) this.reset();
    const { alpha, delta, threshold, minInstances, mode } = this.options;

    this.observations += 1;
    this.mean += (1 / this.observations) * (x - this.mean);
    const deviation = x - this.mean;

    this.sumIncrease = alpha * this.sumIncrease + deviation - delta;
    this.sumDecrease = alpha * this.sumDecrease + deviation + delta;
    if (this.sumIncrease < this.minIncrease) this.minIncrease = this.sumIncrease;
    if (this.sumDecrease > this.maxDecrease) this.maxDecrease = this.sumDecrease;

    let increaseStatistic = 0;
    let decreaseStatistic = 0;
    if (this.observations >= minInstances) {
      increaseStatistic = this.sumIncrease - this.minIncrease;
      decreaseStatistic = this.maxDecrease - this.sumDecrease;
      const up = increaseStatistic > threshold;
      const down = decreaseStatistic > threshold;
      this.driftDetected = mode === 'up' ? up : mode === 'down' ? down : up || down;
    }
    return {
      drift: this.driftDetected,
      observations: this.observations,
      mean: this.mean,
      increaseStatistic,
      decreaseStatistic,
    };
  }

  /** Forget everything seen so far (options are kept). */
  reset(): void {
    this.observations = 0;
    this.mean = 0;
    this.sumIncrease = 0;
    this.sumDecrease = 0;
    this.minIncrease = Number.POSITIVE_INFINITY;
    this.maxDecrease = -1;
    this.driftDetected = false;
  }

  serialize(): SerializedPageHinkley {
    return {
      kind: 'page-hinkley',
      version: 1,
      options: { ...this.options },
      state: {
        observations: this.observations,
        mean: this.mean,
        sumIncrease: this.sumIncrease,
        sumDecrease: this.sumDecrease,
        minIncrease: Number.isFinite(this.minIncrease) ? this.minIncrease : null,
        maxDecrease: this.maxDecrease,
        driftDetected: this.driftDetected,
      },
    };
  }

  static restore(snapshot: SerializedPageHinkley): PageHinkley {
    if (snapshot.kind !== 'page-hinkley' || snapshot.version !== 1) {
      throw new TypeError(`Not a version-1 page-hinkley snapshot: ${snapshot.kind} v${String(snapshot.version)}`);
    }
    const detector = new PageHinkley(snapshot.options);
    const s = snapshot.state;
    detector.observations = s.observations;
    detector.mean = s.mean;
    detector.sumIncrease = s.sumIncrease;
    detector.sumDecrease = s.sumDecrease;
    detector.minIncrease = s.minIncrease ?? Number.POSITIVE_INFINITY;
    detector.maxDecrease = s.maxDecrease;
    detector.driftDetected = s.driftDetected;
    return detector;
  }
}
