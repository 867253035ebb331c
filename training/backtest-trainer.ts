/**
 * The built-in trainers behind the backtest's trainer interfaces: what `halflife backtest` and
 * the decision benchmarks train whenever a policy retrains, in memory — logistic regression for
 * binary models, multinomial logistic and ridge regression for multiclass and regression ones.
 */
import type { OutcomeTrainer } from '../detectors/backtest/outcome-types.ts';
import type { BacktestTrainer } from '../detectors/backtest/types.ts';
import { fitLogistic, predictProbability, type LogisticParams } from './logistic.ts';
import { fitMultinomialLogistic, predictClassProbabilities, type MultinomialParams } from './multinomial-logistic.ts';
import { fitRidge, predictRidge, type RidgeParams } from './ridge.ts';

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

/**
 * The built-in multinomial logistic regression behind the backtest's multiclass trainer: each
 * row's probability vector in the order of `classes` (a class the training window lacks gets 0).
 */
export function builtInMulticlassTrainer(
  classes: readonly string[],
  params: Partial<MultinomialParams> = {},
): OutcomeTrainer {
  return {
    name: 'built-in multinomial logistic regression',
    train(data) {
      const fit = fitMultinomialLogistic(
        {
          features: { numeric: [...data.numeric], categorical: [...data.categorical] },
          rows: data.rows.map((r) => r.features),
          labels: data.rows.map((r) => classes[r.label as number] as string),
        },
        params,
      );
      const order = classes.map((c) => fit.model.classes.indexOf(c));
      return {
        predict: (features) => {
          const p = predictClassProbabilities(fit.model, features);
          return order.map((k) => (k < 0 ? 0 : (p[k] as number)));
        },
      };
    },
  };
}

/** The built-in ridge regression behind the backtest's regression trainer. */
export function builtInRegressionTrainer(params: Partial<RidgeParams> = {}): OutcomeTrainer {
  return {
    name: 'built-in ridge regression',
    train(data) {
      const model = fitRidge(
        {
          features: { numeric: [...data.numeric], categorical: [...data.categorical] },
          rows: data.rows.map((r) => r.features),
          targets: data.rows.map((r) => r.label as number),
        },
        params,
      );
      return { predict: (features) => predictRidge(model, features) };
    },
  };
}
