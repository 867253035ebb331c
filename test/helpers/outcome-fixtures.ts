/**
 * The reference vectors for multiclass and regression outcome metrics, typed once for every test
 * that reads them (scikit-learn and scipy figures from
 * test/fixtures/multiclass-regression/generate_realised.py and generate_outcome_intervals.py).
 */
import { readFileSync } from 'node:fs';

export interface MulticlassRealisedCase {
  name: string;
  classes: number;
  truth: number[];
  probabilities: number[][];
  expected: {
    predicted: number[];
    accuracy: number;
    macro_f1: number;
    log_loss: number;
    log_loss_interval: [number, number];
    macro_f1_bootstrap_interval: [number, number];
    confusion: number[][];
  };
}

export interface RegressionOutcomeCase {
  name: string;
  y_true: number[];
  y_pred: number[];
  expected: {
    mae: number;
    rmse: number;
    r2: number;
    mae_interval: [number, number];
    rmse_interval: [number, number];
  };
}

const fixture = <T>(file: string): { cases: T[] } =>
  JSON.parse(readFileSync(new URL(`../fixtures/multiclass-regression/${file}`, import.meta.url), 'utf8')) as {
    cases: T[];
  };

export const multiclassRealisedCases = (): MulticlassRealisedCase[] =>
  fixture<MulticlassRealisedCase>('realised.json').cases;

export const regressionOutcomeCases = (): RegressionOutcomeCase[] =>
  fixture<RegressionOutcomeCase>('outcome_intervals.json').cases;
