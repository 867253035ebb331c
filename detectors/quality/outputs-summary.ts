/**
 * A multiclass or regression model's metrics on labelled rows (a held-out slice, a shadow
 * replay): every metric the policy may choose, from the model's outputs and the truth. The same
 * formulas as the window's sums (multiclass-f1.ts, multiclass-log-loss.ts, regression.ts), on
 * arrays instead of SQL aggregates.
 */
import { accuracyFromMulticlassConfusion, macroF1FromConfusion, multiclassConfusion } from './multiclass-f1.ts';
import { multiclassLogLossContribution } from './multiclass-log-loss.ts';
import type { QualityMetric } from './quality-metric.ts';
import { regressionFromSums } from './regression.ts';

export interface OutputsSummary {
  n: number;
  accuracy: number | null;
  macroF1: number | null;
  logLoss: number | null;
  mae: number | null;
  rmse: number | null;
  r2: number | null;
}

/** The class with the largest probability (the first of ties, as argmax does). */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let j = 1; j < row.length; j++) if ((row[j] as number) > (row[best] as number)) best = j;
  return best;
}

/** Class probabilities `probabilities[i]` (length K) against true class indices. */
export function multiclassSummary(
  truth: readonly number[],
  probabilities: readonly (readonly number[])[],
): OutputsSummary {
  const n = truth.length;
  const k = probabilities[0]?.length ?? 0;
  const empty = { mae: null, rmse: null, r2: null };
  if (n === 0 || k < 2) return { n, accuracy: null, macroF1: null, logLoss: null, ...empty };
  const counts = multiclassConfusion(
    truth,
    probabilities.map((p) => argmax(p)),
    k,
  );
  let loss = 0;
  truth.forEach((y, i) => (loss += multiclassLogLossContribution(probabilities[i] as readonly number[], y)));
  return {
    n,
    accuracy: accuracyFromMulticlassConfusion(counts),
    macroF1: macroF1FromConfusion(counts),
    logLoss: loss / n,
    ...empty,
  };
}

export function regressionSummary(truth: readonly number[], predictions: readonly number[]): OutputsSummary {
  const sums = { n: truth.length, sumTruth: 0, sumSquaredTruth: 0, sumSquaredError: 0, sumAbsoluteError: 0 };
  truth.forEach((y, i) => {
    const e = y - (predictions[i] as number);
    sums.sumTruth += y;
    sums.sumSquaredTruth += y * y;
    sums.sumSquaredError += e * e;
    sums.sumAbsoluteError += Math.abs(e);
  });
  return { n: truth.length, accuracy: null, macroF1: null, logLoss: null, ...regressionFromSums(sums) };
}

/** The summary's figure of a policy metric (null when it does not apply or is undefined). */
export function summaryFigure(summary: OutputsSummary, metric: QualityMetric): number | null {
  switch (metric) {
    case 'accuracy':
      return summary.accuracy;
    case 'macro_f1':
      return summary.macroF1;
    case 'log_loss':
      return summary.logLoss;
    case 'mae':
      return summary.mae;
    case 'rmse':
      return summary.rmse;
    case 'r2':
      return summary.r2;
    default:
      return null;
  }
}

/**
 * The figure a model with no skill reaches on the same rows: a uniform guess (log loss ln K),
 * always the most frequent class (accuracy, macro-F1), always the mean (RMSE, R² = 0) or the
 * median (MAE) of the truth.
 */
export function noSkillFigure(metric: QualityMetric, truth: readonly number[], classes: number): number | null {
  const n = truth.length;
  if (n === 0) return null;
  if (metric === 'log_loss') return Math.log(classes);
  if (metric === 'accuracy' || metric === 'macro_f1') {
    const counts = new Array<number>(classes).fill(0);
    for (const y of truth) counts[y]! += 1;
    const top = Math.max(...counts);
    // Always predicting the top class: its F1 is 2·top/(n + top), every other class's 0.
    const present = counts.filter((c) => c > 0).length;
    return metric === 'accuracy' ? top / n : (2 * top) / (n + top) / present;
  }
  if (metric === 'r2') return 0;
  if (metric === 'rmse') {
    const mean = truth.reduce((a, b) => a + b, 0) / n;
    return Math.sqrt(truth.reduce((a, y) => a + (y - mean) ** 2, 0) / n);
  }
  if (metric === 'mae') {
    const sorted = [...truth].sort((a, b) => a - b);
    const median =
      n % 2 ? (sorted[(n - 1) / 2] as number) : ((sorted[n / 2 - 1] as number) + (sorted[n / 2] as number)) / 2;
    return sorted.reduce((a, y) => a + Math.abs(y - median), 0) / n;
  }
  return null;
}
