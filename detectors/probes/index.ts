export * from './types.ts';
export * from './policy.ts';
export * from './paired-gap.ts';
export * from './progress.ts';
export * from './evidence.ts';
export * from './schedule.ts';
export * from './outcomes.ts';
export * from './outcome-gap.ts';
