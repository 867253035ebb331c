/**
 * Multiclass confusion matrix and macro-F1 (= sklearn f1_score(average='macro')) with a seeded
 * percentile-bootstrap interval.
 *
 * Everything starts from the K×K count matrix (rows: true class, columns: predicted class), so a
 * query can aggregate the events and the bootstrap resamples the matrix's cells, which is the
 * same as resampling events. Macro-F1 averages over the classes that occur in the truth or the
 * predictions, as scikit-learn does with its default `labels`; a class that never occurs has no
 * F1 and is left out rather than counted as 0.
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

/** counts[t][p]: events of true class t predicted as class p. */
export type ConfusionMatrix = number[][];

function assertClassIndex(value: number, classes: number, what: string): void {
  if (!(Number.isInteger(value) && value >= 0 && value < classes))
    throw new RangeError(`${what} ${String(value)} is not a class index in [0, ${classes - 1}]`);
}

/** Count matrix of true (rows) against predicted (columns) class indices in [0, classes). */
export function multiclassConfusion(
  truth: readonly number[],
  predicted: readonly number[],
  classes: number,
): ConfusionMatrix {
  assertSameLength(truth, predicted, 'multiclassConfusion');
  if (!(Number.isInteger(classes) && classes >= 2))
    throw new RangeError(`a multiclass model needs at least 2 classes, got ${classes}`);
  const counts = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i] as number;
    const p = predicted[i] as number;
    assertClassIndex(t, classes, 'true class');
    assertClassIndex(p, classes, 'predicted class');
    counts[t]![p]! += 1;
  }
  return counts;
}

/** Per-class F1 from a (possibly expected, fractional) confusion matrix; null for a class that never occurs. */
export function perClassF1(counts: readonly (readonly number[])[]): (number | null)[] {
  const k = counts.length;
  return counts.map((row, c) => {
    const tp = row[c] as number;
    let predictedC = 0;
    for (let t = 0; t < k; t++) predictedC += counts[t]![c] as number;
    let actualC = 0;
    for (const x of row) actualC += x;
    const denominator = predictedC + actualC;
    return denominator > 0 ? (2 * tp) / denominator : null;
  });
}

/** Mean F1 over the classes that occur; null when none does (an empty matrix). */
export function macroF1FromConfusion(counts: readonly (readonly number[])[]): number | null {
  const f1 = perClassF1(counts).filter((v): v is number => v !== null);
  return f1.length === 0 ? null : f1.reduce((a, b) => a + b, 0) / f1.length;
}

/** Accuracy from a confusion matrix: the diagonal's share. */
export function accuracyFromMulticlassConfusion(counts: readonly (readonly number[])[]): number | null {
  let n = 0;
  let correct = 0;
  counts.forEach((row, t) =>
    row.forEach((x, p) => {
      n += x;
      if (t === p) correct += x;
    }),
  );
  return n > 0 ? correct / n : null;
}

export interface MacroF1Options {
  /** @default 0.95 */
  level: number;
  /** @default 1000 */
  bootstrapReplicates: number;
  /** @default 20240611 */
  seed: number;
  /** @default 20 */
  minBootstrapSample: number;
}

/** Macro-F1 of a count matrix with a percentile-bootstrap interval over its events. */
export function multiclassMacroF1(
  counts: readonly (readonly number[])[],
  options: Partial<MacroF1Options> = {},
): MetricEstimate {
  const { level, bootstrapReplicates, seed, minBootstrapSample } = {
    level: DEFAULT_CONFIDENCE_LEVEL,
    bootstrapReplicates: DEFAULT_BOOTSTRAP_REPLICATES,
    seed: DEFAULT_BOOTSTRAP_SEED,
    minBootstrapSample: DEFAULT_MIN_BOOTSTRAP_SAMPLE,
    ...options,
  };
  const k = counts.length;
  const cells: number[] = [];
  counts.forEach((row, t) =>
    row.forEach((x, p) => {
      if (!(Number.isInteger(x) && x >= 0))
        throw new RangeError(`confusion count [${t}][${p}] = ${String(x)} must be a whole number of events`);
      for (let i = 0; i < x; i++) cells.push(t * k + p);
    }),
  );
  const n = cells.length;
  if (n === 0) return { value: null, n, interval: null, note: 'no events' };
  const value = macroF1FromConfusion(counts);
  if (n < minBootstrapSample)
    return { value, n, interval: null, note: `n = ${n} < ${minBootstrapSample}: too small for a bootstrap interval` };
  const random = new Random(seed);
  const flat = new Float64Array(k * k);
  const replicate: number[][] = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const replicates: (number | null)[] = [];
  for (let b = 0; b < bootstrapReplicates; b++) {
    flat.fill(0);
    for (let i = 0; i < n; i++) flat[cells[Math.floor(random.next() * n)] as number]! += 1;
    for (let t = 0; t < k; t++) for (let p = 0; p < k; p++) replicate[t]![p] = flat[t * k + p] as number;
    replicates.push(macroF1FromConfusion(replicate));
  }
  return { value, n, ...percentileInterval(replicates, level) };
}
