/**
 * Seeded pseudo-random numbers: the detectors' bootstrap resampling draws from it, and so do the
 * synthetic streams of tests, benchmarks and the demo.
 *
 * mulberry32 (Tommy Ettinger's 32-bit generator): one 32-bit word of state, period 2^32, fast, and
 * good enough for simulation (not for cryptography). Normals by the Box–Muller transform, caching
 * the second variate. The whole state is two numbers, so a stream can be paused and resumed.
 */

export interface RandomState {
  seed: number;
  /** Second Box–Muller variate waiting to be returned, if any. */
  spareNormal: number | null;
}

export class Random {
  private state: number;
  private spareNormal: number | null = null;

  /** @param seed any number; only its low 32 bits matter. */
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform on [0, 1), 32 bits of resolution. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /**
   * The mean of one bootstrap resample of `values`: n draws `values[floor(next() × n)]`, the same
   * draws and state as n calls of {@link next}, with the generator inlined (the hot loop of a
   * bootstrap over a million events).
   */
  resampledMean(values: Float64Array): number {
    const n = values.length;
    // x / 2³² · n and x · (n / 2³²) round the same real number once (dividing by a power of two
    // is exact), and | 0 is floor for these non-negative values below 2³¹: the same indices.
    const scale = n / 4294967296;
    let state = this.state | 0;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      state = (state + 0x6d2b79f5) | 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      sum += values[(((t ^ (t >>> 14)) >>> 0) * scale) | 0] as number;
    }
    this.state = state >>> 0;
    return sum / n;
  }

  /**
   * The generator `draws` calls of {@link next} after `new Random(seed)`, in O(1): mulberry32's
   * state only adds a constant each call. A bootstrap's replicates can so be computed in any
   * order, or on several threads, with exactly the draws of one sequential run.
   */
  static afterDraws(seed: number, draws: number): Random {
    if (!Number.isSafeInteger(draws) || draws < 0)
      throw new RangeError(`afterDraws: draws must be a non-negative safe integer, got ${draws}`);
    // draws · C mod 2³²: only draws mod 2³² matters, and Math.imul keeps the low 32 bits.
    const step = Math.imul(draws % 4294967296, 0x6d2b79f5) >>> 0;
    return new Random(((seed >>> 0) + step) >>> 0);
  }

  /** Uniform on [low, high). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.next();
  }

  /** Uniform integer in [low, high], both inclusive. */
  integer(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }

  /** True with probability p. */
  bernoulli(p: number): boolean {
    return this.next() < p;
  }

  /** Normal(mean, sd) by Box–Muller. */
  normal(mean = 0, standardDeviation = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + standardDeviation * z;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = radius * Math.sin(2 * Math.PI * v);
    return mean + standardDeviation * radius * Math.cos(2 * Math.PI * v);
  }

  /** An independent generator derived from this one (for sub-streams). */
  fork(): Random {
    return new Random(Math.floor(this.next() * 4294967296));
  }

  serialize(): RandomState {
    return { seed: this.state, spareNormal: this.spareNormal };
  }

  static restore(state: RandomState): Random {
    const random = new Random(state.seed);
    random.spareNormal = state.spareNormal;
    return random;
  }
}
