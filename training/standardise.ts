/**
 * Numeric inputs of the built-in linear trainers: each feature's mean and scale from its
 * non-missing training values (population standard deviation, as scikit-learn's StandardScaler),
 * a missing value standing for the mean. Inputs are rounded to float32 when predicting, because
 * the ONNX graph receives float32 tensors: both then see the same numbers.
 */
import { numericValue, type RawFeatures } from '../platform/onnx/features.ts';

export interface Standardisation {
  mean: number[];
  scale: number[];
}

/** Refuses a present value that is not a number (missing stands for the mean; a typo must not). */
export function assertNumericFeatures(names: readonly string[], rows: readonly RawFeatures[]): void {
  for (const [i, row] of rows.entries())
    for (const name of names)
      if (row[name] !== null && row[name] !== undefined && Number.isNaN(numericValue(row[name])))
        throw new RangeError(`row ${i}: feature ${name} = ${JSON.stringify(row[name])} is not a number`);
}

/** Mean and scale of each named numeric feature over the rows; scale 1 for a constant feature. */
export function fitStandardisation(names: readonly string[], rows: readonly RawFeatures[]): Standardisation {
  const mean: number[] = [];
  const scale: number[] = [];
  for (const name of names) {
    let sum = 0;
    let count = 0;
    for (const row of rows) {
      const v = numericValue(row[name]);
      if (!Number.isNaN(v)) {
        sum += v;
        count++;
      }
    }
    const m = count > 0 ? sum / count : 0;
    let squares = 0;
    for (const row of rows) {
      const v = numericValue(row[name]);
      if (!Number.isNaN(v)) squares += (v - m) * (v - m);
    }
    const variance = count > 0 ? squares / count : 0;
    mean.push(m);
    scale.push(variance > 1e-24 ? Math.sqrt(variance) : 1);
  }
  return { mean, scale };
}

/** A row's standardised inputs; `forServing` rounds each value to float32 first, as the ONNX input does. */
export function standardisedRow(
  s: Standardisation,
  names: readonly string[],
  row: RawFeatures,
  forServing: boolean,
): number[] {
  return names.map((name, j) => {
    const raw = numericValue(row[name]);
    const mean = s.mean[j] as number;
    const x = Number.isNaN(raw) ? mean : forServing ? Math.fround(raw) : raw;
    return (x - mean) / (s.scale[j] as number);
  });
}
