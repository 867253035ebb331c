/** Model quality from labelled predictions, aggregated forms for SQL push-down, and CBPE. */
export * from './types.ts';
export * from './distributions.ts';
export * from './intervals.ts';
export * from './confusion.ts';
export * from './roc-auc.ts';
export * from './probabilistic.ts';
export * from './calibration.ts';
export * from './regression.ts';
export * from './multiclass.ts';
export * from './score-histogram.ts';
export * from './binary-report.ts';
export * from './recalibration.ts';
export * from './cbpe-roc-auc.ts';
export * from './cbpe.ts';
export * from './cbpe-groups.ts';
export * from './multiclass-f1.ts';
export * from './multiclass-log-loss.ts';
