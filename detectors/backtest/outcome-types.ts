/** Types of the backtest of multiclass and regression models (outcome-engine.ts). */
import type { HistoryRow } from './history-row.ts';
import type { OutcomeKind } from '../quality/outcome-sums.ts';
import type { OutcomePrediction } from './outcome-rows.ts';
import type { ReplayOptions } from './types.ts';

/**
 * One event of a multiclass or regression history: the prediction is the probabilities in class
 * order or a value, the label the true class's index or the true value.
 */
export type OutcomeBacktestRow = HistoryRow<OutcomePrediction, number>;

export interface OutcomeModel {
  predict(features: OutcomeBacktestRow['features']): OutcomePrediction;
}

/** Trains a model in process, deterministically for a training set and seed. */
export interface OutcomeTrainer {
  readonly name: string;
  train(
    data: { rows: readonly OutcomeBacktestRow[]; numeric: readonly string[]; categorical: readonly string[] },
    seed: number,
  ): OutcomeModel;
}

/** The policy must name a `quality.metric` of the model's kind (and `worthlessError` for MAE and RMSE). */
export interface OutcomeBacktestOptions extends ReplayOptions<OutcomeBacktestRow> {
  kind: OutcomeKind;
  trainer: OutcomeTrainer;
}
