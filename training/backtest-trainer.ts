/**
 * The built-in logistic regression behind the backtest's trainer interface: what `halflife
 * backtest` and the decision benchmarks train whenever a policy retrains, in memory.
 */
import type { BacktestTrainer } from '../detectors/backtest/types.ts';
import { fitLogistic, predictProbability, type LogisticParams } from './logistic.ts';

export function builtInTrainer(params: Partial<LogisticParams> = {}): BacktestTrainer {
  return {
    name: 'built-in logistic regression',
    train(data, seed) {
      const fit = fitLogistic(
        {
          features: { numeric: [...data.numeric], categorical: [...data.categorical] },
          rows: data.rows.map((r) => r.features),
          labels: data.rows.map((r) => (r.label === 1 ? 1 : 0)),
        },
        params,
        seed,
      );
      return { predict: (features) => predictProbability(fit.model, features) };
    },
  };
}
