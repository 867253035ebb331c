/**
 * Hourly quality windows drawn from a true accuracy, for the step and persistence rules' tests:
 * each window's accuracy is EVENTS seeded Bernoulli draws, so every run sees the same windows.
 */
import type { QualityWindow } from '../../detectors/economics/staleness.ts';
import { Random } from '../../detectors/random.ts';

export const H = 3_600_000;
export const NOW = Date.parse('2026-03-04T12:00:00Z');
/** Events a window. */
export const EVENTS = 300;

/** A seeded uniform generator: detectors/random.ts's mulberry32. */
export function uniform(seed: number): () => number {
  const random = new Random(seed);
  return () => random.next();
}

/** Each window's accuracy: EVENTS Bernoulli draws at the window's true accuracy. */
export function sampled(trueAccuracy: readonly number[], seed: number): number[] {
  const u = uniform(seed);
  return trueAccuracy.map((p) => {
    let hits = 0;
    for (let i = 0; i < EVENTS; i++) if (u() < p) hits++;
    return hits / EVENTS;
  });
}

/** Hourly windows ending at NOW. */
export function hourly(qualities: readonly number[]): QualityWindow[] {
  return qualities.map((quality, i) => ({
    start: NOW - (qualities.length - i) * H,
    end: NOW - (qualities.length - i - 1) * H,
    events: EVENTS,
    quality,
  }));
}
