/**
 * When each synthetic event switches concept: abrupt, gradual (sigmoid mixing over a width) and
 * recurring changes, plus covariate-shift timing.
 *
 * Gradual mixing follows MOA's ConceptDriftStream: at event t the new concept is drawn with
 * probability 1 / (1 + exp(−4 (t − position) / width)), so about 96% of the switch happens within
 * ± width/2 of `position`. Changes compose in order, like nested drift streams.
 */
import type { Random } from '../detectors/random.ts';

export interface ConceptChange {
  /** Event index at the centre of the change. */
  position: number;
  /** Concept in force after the change. */
  concept: number;
  /** 0 for an abrupt switch at `position`; otherwise the sigmoid width in events. @default 0 */
  width?: number;
}

export interface ConceptSchedule {
  /** Concept before any change. @default 0 */
  initial?: number;
  /** Changes in increasing `position`. @default [] */
  changes?: readonly ConceptChange[];
}

/** Probability that event `t` already follows a change at `position` with `width`. */
export function switchProbability(t: number, position: number, width = 0): number {
  if (width <= 0) return t >= position ? 1 : 0;
  return 1 / (1 + Math.exp((-4 * (t - position)) / width));
}

/** Concept of event `t`; draws one uniform per gradual change whose window is active. */
export function conceptAt(schedule: ConceptSchedule, t: number, random: Random): number {
  let concept = schedule.initial ?? 0;
  for (const change of schedule.changes ?? []) {
    const p = switchProbability(t, change.position, change.width ?? 0);
    if (p >= 1 || (p > 0 && random.next() < p)) concept = change.concept;
  }
  return concept;
}

/**
 * A recurring schedule: cycle through `concepts`, switching every `period` events from `start`,
 * each switch with the same `width` — e.g. seasons that come back.
 */
export function recurringSchedule(options: {
  concepts: readonly number[];
  period: number;
  start?: number;
  width?: number;
  length: number;
}): ConceptSchedule {
  const { concepts, period, start = period, width = 0, length } = options;
  if (concepts.length < 2) throw new RangeError('a recurring schedule needs at least two concepts');
  if (!(period > 0)) throw new RangeError('period must be > 0');
  const changes: ConceptChange[] = [];
  let k = 1;
  for (let position = start; position < length; position += period, k += 1) {
    changes.push({ position, concept: concepts[k % concepts.length] as number, width });
  }
  return { initial: concepts[0] as number, changes };
}

/** Timing of a covariate shift: where the feature distribution moves, abruptly or gradually. */
export interface ShiftTiming {
  position: number;
  /** @default 0 */
  width?: number;
}

/** Whether event `t` is drawn from the shifted feature distribution. */
export function isShifted(timing: ShiftTiming | undefined, t: number, random: Random): boolean {
  if (timing === undefined) return false;
  const p = switchProbability(t, timing.position, timing.width ?? 0);
  return p >= 1 || (p > 0 && random.next() < p);
}

/** One labelled synthetic event. */
export interface SyntheticEvent<Features> {
  index: number;
  features: Features;
  label: 0 | 1;
  /** Concept that produced the label. */
  concept: number;
  /** True when the features came from the shifted (covariate-shift) distribution. */
  shifted: boolean;
}

/** First `n` events of a stream. */
export function take<T>(stream: Iterable<T>, n: number): T[] {
  const out: T[] = [];
  if (n <= 0) return out;
  for (const item of stream) {
    out.push(item);
    if (out.length >= n) break;
  }
  return out;
}
