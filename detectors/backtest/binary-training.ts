/** Training a binary version in the backtest (also the benchmarks' oracle and real-data runs). */
import type { MonitorSettings } from '../monitor/types.ts';
import { clampProbability, qualityOf } from './binary-quality.ts';
import { trainWithHoldout } from './holdout-training.ts';
import type { Training } from './kind.ts';
import type { BacktestModel, BacktestRow, BacktestTrainer } from './types.ts';

/**
 * Train on the labelled rows of a training window: every k-th row (k = 1/validationShare) is held
 * out to measure the fresh version's quality, the rest train the model.
 */
export function trainVersion(
  trainer: BacktestTrainer,
  rows: readonly BacktestRow[],
  numeric: readonly string[],
  categorical: readonly string[],
  seed: number,
  validationShare: number,
  settings: Pick<MonitorSettings, 'qualityMetric'>,
): Training<BacktestModel> {
  return trainWithHoldout<BacktestRow, number, 0 | 1, BacktestModel>(rows, validationShare, {
    singleClass: (train) => {
      const positives = train.reduce((s, r) => s + (r.label === 1 ? 1 : 0), 0);
      return positives === 0 || positives === train.length
        ? `the training window has a single class (${train.length} rows, all labelled ${positives === 0 ? 0 : 1})`
        : null;
    },
    fit: (train) => trainer.train({ rows: train, numeric, categorical }, seed),
    predict: (model, row) => clampProbability(model.predict(row.features)),
    quality: (scores, labels) => qualityOf(scores, labels, settings),
  });
}
