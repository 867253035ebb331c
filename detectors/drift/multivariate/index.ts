/** Multivariate drift: tests of the joint distribution on sampled rows. Pure, no I/O. */
export * from './combine.ts';
export * from './domain-classifier.ts';
export * from './logistic.ts';
export * from './mann-whitney.ts';
export * from './mmd.ts';
export * from './pca-reconstruction.ts';
export * from './report.ts';
export * from './sample.ts';
export * from './settings.ts';
export * from './symmetric-eigen.ts';
