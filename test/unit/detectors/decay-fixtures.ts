/** Seeded synthetic decays for the decay-model tests (not a test file itself). */
import type { QualityObservation } from '../../../detectors/decay/types.ts';

/** mulberry32: a small seeded PRNG, so every replicate is reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws by Box–Muller. */
export function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

export interface SyntheticDecay {
  q0: number;
  floor: number;
  halfLifeHours: number;
  /** Observation ages. */
  ages: number[];
  /** Events behind each point (binomial-like noise sd = sqrt(q(1−q)/n)). */
  eventsPerPoint: number;
  /** Noise sd grows as sd·(1 + growth·age/maxAge) — Vela et al.'s variance-growing pattern. @default 0 */
  varianceGrowth?: number;
  seed: number;
}

export function synthesize(spec: SyntheticDecay): QualityObservation[] {
  const normal = gaussian(prng(spec.seed));
  const maxAge = Math.max(...spec.ages);
  return spec.ages.map((ageHours) => {
    const q = spec.floor + (spec.q0 - spec.floor) * Math.exp((-Math.LN2 * ageHours) / spec.halfLifeHours);
    const sd = Math.sqrt((q * (1 - q)) / spec.eventsPerPoint) * (1 + (spec.varianceGrowth ?? 0) * (ageHours / maxAge));
    return { ageHours, quality: q + sd * normal(), weight: spec.eventsPerPoint };
  });
}

export function everyHours(step: number, until: number, from = 0): number[] {
  const out: number[] = [];
  for (let a = from; a <= until + 1e-9; a += step) out.push(a);
  return out;
}
