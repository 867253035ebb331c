/**
 * What a window query sums over a multiclass or regression model's labelled events, and the
 * realised quality of the policy's metric from those sums (with its interval).
 *
 * Everything is additive, so windows pool by adding their sums (label-pooling.ts) and late
 * labels add to a window's sums:
 * - multiclass: the K×K confusion counts (rows: true class, columns: predicted class, over the
 *   model's classes in its declared order) and Σℓ, Σℓ² of the per-event log loss −ln p(true);
 * - regression: n, Σ|e|, Σe², Σe⁴ (for the RMSE interval), Σy, Σy².
 *
 * Intervals: accuracy Wilson; macro-F1 the seeded bootstrap over the confusion cells
 * (multiclass-f1.ts); log loss and MAE a normal interval on the mean of per-event losses (Σ and
 * Σ of squares); RMSE a normal interval on the mean squared error (Σe², Σe⁴), square-rooted; R²
 * none (it needs the rows: a bootstrap over events).
 */
import { wilsonInterval } from './intervals.ts';
import { meanLossFromSums } from './multiclass-log-loss.ts';
import { accuracyFromMulticlassConfusion, macroF1FromConfusion, multiclassMacroF1 } from './multiclass-f1.ts';
import { regressionFromSums } from './regression.ts';
import type { QualityMetric } from './quality-metric.ts';

export interface MulticlassSums {
  kind: 'multiclass';
  /** The model's classes, in the order of the confusion matrix's rows and columns. */
  classes: string[];
  /** confusion[t][p]: labelled events of true class t predicted as class p. */
  confusion: number[][];
  /** Labelled events with a probability vector (the log loss's n), Σ −ln p(true class), Σ of its squares. */
  lossN: number;
  lossSum: number;
  lossSquares: number;
  /** Labelled events whose label or predicted class is not one of the model's classes (not counted above). */
  unknownClass: number;
}

export interface RegressionOutcomeSums {
  kind: 'regression';
  n: number;
  sumAbsoluteError: number;
  sumSquaredError: number;
  sumFourthPowerError: number;
  sumTruth: number;
  sumSquaredTruth: number;
}

export type OutcomeSums = MulticlassSums | RegressionOutcomeSums;

/** A model's kind as its sums know it: a multiclass model's classes in order, or regression. */
export type OutcomeKind = { kind: 'multiclass'; classes: readonly string[] } | { kind: 'regression' };

/** The sums of no labelled event: what a window without labels has, and what outcomes are added to. */
export function emptyOutcomeSums(kind: OutcomeKind): OutcomeSums {
  if (kind.kind === 'regression')
    return {
      kind: 'regression',
      n: 0,
      sumAbsoluteError: 0,
      sumSquaredError: 0,
      sumFourthPowerError: 0,
      sumTruth: 0,
      sumSquaredTruth: 0,
    };
  const k = kind.classes.length;
  return {
    kind: 'multiclass',
    classes: [...kind.classes],
    confusion: Array.from({ length: k }, () => new Array<number>(k).fill(0)),
    lossN: 0,
    lossSum: 0,
    lossSquares: 0,
    unknownClass: 0,
  };
}

/** Labelled events the sums rest on. */
export function outcomeEvents(s: OutcomeSums): number {
  if (s.kind === 'regression') return s.n;
  let n = 0;
  for (const row of s.confusion) for (const x of row) n += x;
  return n;
}

/** The sum of two windows' sums (same kind and classes). */
export function addOutcomeSums(a: OutcomeSums, b: OutcomeSums): OutcomeSums {
  if (a.kind === 'regression' && b.kind === 'regression')
    return {
      kind: 'regression',
      n: a.n + b.n,
      sumAbsoluteError: a.sumAbsoluteError + b.sumAbsoluteError,
      sumSquaredError: a.sumSquaredError + b.sumSquaredError,
      sumFourthPowerError: a.sumFourthPowerError + b.sumFourthPowerError,
      sumTruth: a.sumTruth + b.sumTruth,
      sumSquaredTruth: a.sumSquaredTruth + b.sumSquaredTruth,
    };
  if (a.kind === 'multiclass' && b.kind === 'multiclass' && a.classes.join('\u0000') === b.classes.join('\u0000'))
    return {
      kind: 'multiclass',
      classes: a.classes,
      confusion: a.confusion.map((row, t) => row.map((x, p) => x + (b.confusion[t]?.[p] ?? 0))),
      lossN: a.lossN + b.lossN,
      lossSum: a.lossSum + b.lossSum,
      lossSquares: a.lossSquares + b.lossSquares,
      unknownClass: a.unknownClass + b.unknownClass,
    };
  throw new RangeError('cannot add outcome sums of different kinds or classes');
}

/** A realised figure of the metric in its own units. */
export interface RealisedFigure {
  value: number | null;
  n: number;
  interval: { lower: number; upper: number } | null;
  note?: string;
}

/**
 * The realised figure of `metric` from a window's sums; null when the metric does not apply to
 * the sums' kind. `interval: false` skips macro-F1's bootstrap (O(replicates × events)), for
 * callers that use the value only. @default { interval: true }
 */
export function realisedFromSums(
  metric: QualityMetric,
  s: OutcomeSums,
  options: { interval?: boolean } = {},
): RealisedFigure | null {
  if (s.kind === 'multiclass') {
    if (metric === 'accuracy') {
      const n = outcomeEvents(s);
      const value = accuracyFromMulticlassConfusion(s.confusion);
      let correct = 0;
      s.confusion.forEach((row, t) => (correct += row[t] ?? 0));
      const interval = wilsonInterval(correct, n);
      return { value, n, interval: interval && { lower: interval.lower, upper: interval.upper } };
    }
    if (metric === 'macro_f1') {
      if (options.interval === false)
        return { value: macroF1FromConfusion(s.confusion), n: outcomeEvents(s), interval: null };
      return figure(multiclassMacroF1(s.confusion));
    }
    if (metric === 'log_loss')
      return figure(meanLossFromSums({ n: s.lossN, sum: s.lossSum, sumSquares: s.lossSquares }));
    return null;
  }
  if (metric === 'mae')
    return figure(meanLossFromSums({ n: s.n, sum: s.sumAbsoluteError, sumSquares: s.sumSquaredError }));
  if (metric === 'rmse') {
    const mse = meanLossFromSums({ n: s.n, sum: s.sumSquaredError, sumSquares: s.sumFourthPowerError });
    return {
      value: mse.value === null ? null : Math.sqrt(mse.value),
      n: mse.n,
      interval: mse.interval && { lower: Math.sqrt(mse.interval.lower), upper: Math.sqrt(mse.interval.upper) },
      ...(mse.note ? { note: mse.note } : {}),
    };
  }
  if (metric === 'r2') {
    const { r2 } = regressionFromSums({
      n: s.n,
      sumTruth: s.sumTruth,
      sumSquaredTruth: s.sumSquaredTruth,
      sumSquaredError: s.sumSquaredError,
      sumAbsoluteError: s.sumAbsoluteError,
    });
    return {
      value: r2,
      n: s.n,
      interval: null,
      note: r2 === null ? 'constant truth: R² undefined' : 'R² from sums: no interval',
    };
  }
  return null;
}

function figure(e: {
  value: number | null;
  n: number;
  interval: { lower: number; upper: number } | null;
  note?: string;
}): RealisedFigure {
  return {
    value: e.value,
    n: e.n,
    interval: e.interval && { lower: e.interval.lower, upper: e.interval.upper },
    ...(e.note ? { note: e.note } : {}),
  };
}
