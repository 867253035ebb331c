/**
 * A multiclass or regression backtest's rows summed as the monitor's window query sums them
 * (platform/clickhouse/outcome-sums-repository.ts): the same `OutcomeSums`, so the tick, pooling
 * and the realised metric see a backtest window exactly as a monitored one.
 */
import { multiclassLogLossContribution } from '../quality/multiclass-log-loss.ts';
import {
  emptyOutcomeSums,
  type MulticlassSums,
  type OutcomeKind,
  type OutcomeSums,
  type RegressionOutcomeSums,
} from '../quality/outcome-sums.ts';

/** One prediction: a probability vector in class order (multiclass) or a value (regression). */
export type OutcomePrediction = readonly number[] | number;

/** One labelled outcome: the true class's index (multiclass) or the true value (regression). */
export interface LabelledOutcome {
  prediction: OutcomePrediction;
  label: number;
}

/** The predicted class of a probability vector: the largest, the first listed on a tie (as the window query). */
export function predictedClass(p: readonly number[]): number {
  return p.reduce((best, x, k) => (x > (p[best] as number) ? k : best), 0);
}

/** Add one labelled outcome to the sums (in place). */
export function addOutcome(sums: OutcomeSums, outcome: LabelledOutcome): void {
  if (sums.kind === 'regression') {
    const r = sums as RegressionOutcomeSums;
    const y = outcome.label;
    const e = y - (outcome.prediction as number);
    r.n += 1;
    r.sumAbsoluteError += Math.abs(e);
    r.sumSquaredError += e * e;
    r.sumFourthPowerError += e ** 4;
    r.sumTruth += y;
    r.sumSquaredTruth += y * y;
    return;
  }
  const m = sums as MulticlassSums;
  const p = outcome.prediction as readonly number[];
  m.confusion[outcome.label]![predictedClass(p)]! += 1;
  const loss = multiclassLogLossContribution(p, outcome.label);
  m.lossN += 1;
  m.lossSum += loss;
  m.lossSquares += loss * loss;
}

/** The sums of some labelled outcomes. */
export function outcomeSumsOf(kind: OutcomeKind, outcomes: Iterable<LabelledOutcome>): OutcomeSums {
  const sums = emptyOutcomeSums(kind);
  for (const o of outcomes) addOutcome(sums, o);
  return sums;
}
