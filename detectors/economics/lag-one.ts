/**
 * The sums behind a lag-1 autocorrelation, pooled over several stretches of a series (the
 * persistence estimate's stable stretches): products pair neighbours within a stretch, never
 * across two. Pure.
 */

export interface LagOneSums {
  /** Values summed. */
  values: number;
  /** Neighbouring pairs within stretches. */
  pairs: number;
  /** Σ x_t² over every value. */
  sumSquares: number;
  /** Σ x_t · x_(t+1) over every pair within a stretch. */
  sumLagProducts: number;
}

/** The sums of already centred values (residuals): nothing is subtracted here. */
export function lagOneSums(stretches: readonly (readonly number[])[]): LagOneSums {
  let values = 0;
  let pairs = 0;
  let sumSquares = 0;
  let sumLagProducts = 0;
  for (const xs of stretches) {
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i] as number;
      sumSquares += x * x;
      values++;
      if (i > 0) {
        sumLagProducts += x * (xs[i - 1] as number);
        pairs++;
      }
    }
  }
  return { values, pairs, sumSquares, sumLagProducts };
}
