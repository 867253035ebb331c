/**
 * Multiclass CBPE (cbpe-multiclass.ts) from a window's sums instead of its rows: what a window
 * query returns is O(classes²) whatever the window's size.
 *
 * Every event's calibrated, renormalised vector q is computed where the rows are (the query
 * applies each class's calibrator from {@link calibrationTable}); the window returns, per
 * predicted class ŷ, Σ q (a column of the expected confusion matrix), with Σ q_ŷ(1 − q_ŷ) for the
 * accuracy interval and, for the log loss of the served probabilities p, the expected loss
 * Σ_t q_t·(−ln p_t) and its variance Σ_t q_t·ℓ_t² − (Σ_t q_t·ℓ_t)² under t ~ q. Accuracy and
 * macro-F1 equal the row-wise estimator's; accuracy's interval too. The macro-F1 interval draws
 * each predicted class's column as one multinomial with the column's mean vector, whose spread is
 * at least that of drawing every event from its own q (a sum of categorical draws varies less
 * than a multinomial with their mean): wider than the row-wise interval, never narrower.
 */
import { Random } from '../random.ts';
import { multinomialCounts } from '../sampling/binomial.ts';
import { calibratedClassProbabilities, type MulticlassCbpeModel } from './cbpe-multiclass.ts';
import { twoSidedZ } from './distributions.ts';
import { percentileInterval } from './intervals.ts';
import { macroF1FromConfusion } from './multiclass-f1.ts';
import { multiclassLogLossContribution } from './multiclass-log-loss.ts';
import type { MetricEstimate } from './types.ts';

/**
 * Each class's calibrator as arrays a query applies per event: `kind` 0 identity, 1 Platt
 * (`slope`, `intercept` on the clipped logit), 2 isotonic (`upper`, `values`; with `lower`
 * non-empty, linear between steps as scikit-learn; empty, a step function).
 */
export interface CalibrationTable {
  kind: number[];
  slope: number[];
  intercept: number[];
  upper: number[][];
  lower: number[][];
  values: number[][];
}

export function calibrationTable(model: MulticlassCbpeModel): CalibrationTable {
  const table: CalibrationTable = { kind: [], slope: [], intercept: [], upper: [], lower: [], values: [] };
  for (const { calibrator } of model.perClass) {
    table.kind.push(calibrator.kind === 'identity' ? 0 : calibrator.kind === 'platt' ? 1 : 2);
    table.slope.push(calibrator.kind === 'platt' ? calibrator.slope : 0);
    table.intercept.push(calibrator.kind === 'platt' ? calibrator.intercept : 0);
    table.upper.push(calibrator.kind === 'isotonic' ? [...calibrator.upperScores] : []);
    table.lower.push(calibrator.kind === 'isotonic' ? [...(calibrator.lowerScores ?? [])] : []);
    table.values.push(calibrator.kind === 'isotonic' ? [...calibrator.values] : []);
  }
  return table;
}

/** A window's sums for the estimate (additive over events). */
export interface MulticlassEstimationSums {
  /** expectedConfusion[t][ŷ]: Σ q_t over the events predicted ŷ (column ŷ sums to their count). */
  expectedConfusion: number[][];
  /** Events with a probability vector predicted each class. */
  predicted: number[];
  /** Σ q_ŷ(1 − q_ŷ): the variance of the number of right predictions. */
  correctVariance: number;
  /** Σ over events of E[−ln p_t] and of its variance, t drawn from q. */
  expectedLoss: number;
  lossVariance: number;
}

export function emptyEstimationSums(classes: number): MulticlassEstimationSums {
  return {
    expectedConfusion: Array.from({ length: classes }, () => new Array<number>(classes).fill(0)),
    predicted: new Array<number>(classes).fill(0),
    correctVariance: 0,
    expectedLoss: 0,
    lossVariance: 0,
  };
}

const argmax = (row: readonly number[]) => row.reduce((best, p, k) => (p > (row[best] as number) ? k : best), 0);

/** The sums of events given as rows (what the window query computes in ClickHouse). */
export function multiclassEstimationSums(
  model: MulticlassCbpeModel,
  probabilities: readonly (readonly number[])[],
  predicted?: readonly number[],
): MulticlassEstimationSums {
  const sums = emptyEstimationSums(model.classes);
  probabilities.forEach((p, i) => {
    const yHat = predicted?.[i] ?? argmax(p);
    const q = calibratedClassProbabilities(model, p);
    let expected = 0;
    let second = 0;
    q.forEach((qt, t) => {
      sums.expectedConfusion[t]![yHat]! += qt;
      const loss = multiclassLogLossContribution(p, t);
      expected += qt * loss;
      second += qt * loss * loss;
    });
    const right = q[yHat] as number;
    sums.predicted[yHat]! += 1;
    sums.correctVariance += right * (1 - right);
    sums.expectedLoss += expected;
    sums.lossVariance += Math.max(0, second - expected * expected);
  });
  return sums;
}

export interface MulticlassSumsEstimate {
  n: number;
  trustworthy: boolean;
  reasons: string[];
  accuracy: MetricEstimate;
  macroF1: MetricEstimate;
  logLoss: MetricEstimate;
}

/** Accuracy, macro-F1 and log loss of an unlabelled window from its sums, with intervals. */
export function estimateMulticlassFromSums(
  model: MulticlassCbpeModel,
  sums: MulticlassEstimationSums,
): MulticlassSumsEstimate {
  const k = model.classes;
  if (sums.expectedConfusion.length !== k || sums.predicted.length !== k)
    throw new RangeError(`the window's sums have ${sums.predicted.length} classes; the estimator was fitted on ${k}`);
  const n = sums.predicted.reduce((a, b) => a + b, 0);
  const base = { n, trustworthy: model.trustworthy, reasons: [...model.reasons] };
  if (n === 0) {
    const empty: MetricEstimate = { value: null, n: 0, interval: null, note: 'no events' };
    return { ...base, accuracy: empty, macroF1: empty, logLoss: empty };
  }
  const level = model.options.level;
  const z = twoSidedZ(level);
  let correct = 0;
  for (let t = 0; t < k; t++) correct += sums.expectedConfusion[t]![t]!;
  const accuracy = correct / n;
  const accuracyHalf = (z * Math.sqrt(sums.correctVariance)) / n;
  const loss = sums.expectedLoss / n;
  const lossHalf = (z * Math.sqrt(sums.lossVariance)) / n;

  // Each predicted class's column drawn as one multinomial with its mean vector (conservative).
  const random = new Random(model.options.seed);
  const columns = Array.from({ length: k }, (_, p) =>
    sums.predicted[p]! > 0 ? sums.expectedConfusion.map((row) => row[p]! / sums.predicted[p]!) : null,
  );
  const draw = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const replicates: (number | null)[] = [];
  for (let b = 0; b < model.options.macroF1Draws; b++) {
    for (const row of draw) row.fill(0);
    columns.forEach((mean, p) => {
      if (!mean) return;
      const counts = multinomialCounts(random, sums.predicted[p]!, normalised(mean));
      for (let t = 0; t < k; t++) draw[t]![p] = counts[t] as number;
    });
    replicates.push(macroF1FromConfusion(draw));
  }
  return {
    ...base,
    accuracy: {
      value: accuracy,
      n,
      interval: {
        lower: Math.max(0, accuracy - accuracyHalf),
        upper: Math.min(1, accuracy + accuracyHalf),
        level,
        method: 'normal',
      },
    },
    macroF1: { value: macroF1FromConfusion(sums.expectedConfusion), n, ...percentileInterval(replicates, level) },
    logLoss: {
      value: loss,
      n,
      interval: { lower: Math.max(0, loss - lossHalf), upper: loss + lossHalf, level, method: 'normal' },
    },
  };
}

/** A mean vector summed in floating point, scaled to sum to exactly 1 for the multinomial draw. */
function normalised(p: readonly number[]): number[] {
  const total = p.reduce((a, b) => a + b, 0);
  return total > 0 ? p.map((x) => Math.max(0, x) / total) : p.map(() => 1 / p.length);
}
