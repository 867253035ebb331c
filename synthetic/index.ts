/** Seeded synthetic data for tests, benchmarks and the demo. */
export { conceptAt, isShifted, recurringSchedule, switchProbability, take } from './schedule.ts';
export type { ConceptChange, ConceptSchedule, ShiftTiming, SyntheticEvent } from './schedule.ts';
export { seaStream, SEA_THRESHOLDS } from './sea.ts';
export type { SeaOptions } from './sea.ts';
export { hyperplaneStream } from './hyperplane.ts';
export type { HyperplaneOptions } from './hyperplane.ts';
export { agrawalStream, AGRAWAL_FUNCTIONS } from './agrawal.ts';
export type { AgrawalOptions, AgrawalRecord } from './agrawal.ts';
export { decayingScores } from './decaying-scores.ts';
export type { DecayPattern, DecayingScores, DecayingScoresOptions } from './decaying-scores.ts';
export { knownShiftClassEvent, knownShiftClassEvents } from './known-shift-classes.ts';
export type { KnownShiftClassEvent } from './known-shift-classes.ts';
