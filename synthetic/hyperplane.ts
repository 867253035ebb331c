/**
 * Rotating hyperplane (Hulten, Spencer & Domingos 2001): x uniform on [0, 1]^d, class 1 when
 * Σ wᵢxᵢ ≥ ½ Σ wᵢ. Each event, the first `driftingFeatures` weights move by `magnitude` in their
 * current direction, and each direction reverses with probability `reversalProbability` — a
 * continuous, slow concept drift. Labels are flipped with probability `noise`.
 *
 * Concept changes on top of the rotation: each concept index has its own weight vector (drawn
 * from the seed), and only the active concept's weights rotate. A recurring concept resumes
 * where it left off. Weights are non-negative (as in the paper), so two concepts' hyperplanes are
 * positively correlated: a concept change costs a frozen model roughly 10–15 accuracy points, not 50.
 */
import { Random } from '../detectors/random.ts';
import { conceptAt, isShifted } from './schedule.ts';
import type { ConceptSchedule, ShiftTiming, SyntheticEvent } from './schedule.ts';

export interface HyperplaneOptions {
  /** Seeds everything — or, with `sampleSeed`, only the concept path (concept weights, rotation reversals, schedule draws). */
  seed: number;
  /**
   * Seeds the events drawn on the concept path (features and label noise), so two streams can share
   * one concept path with independent samples. @default `seed` (one generator for both, as before)
   */
  sampleSeed?: number;
  /** Number of features. @default 10 */
  dimensions: number;
  /** Features whose weights rotate. @default 2 */
  driftingFeatures: number;
  /** Weight change per event. @default 0.001 */
  magnitude: number;
  /** Chance that a drifting weight reverses direction, per event. @default 0.1 */
  reversalProbability: number;
  /** Probability of flipping each label. @default 0.05 */
  noise: number;
  /** @default { initial: 0 } */
  schedule: ConceptSchedule;
  /** After `timing`, every feature is drawn from `range` instead of [0, 1]. @default none */
  covariateShift?: { timing: ShiftTiming; range: readonly [number, number] };
}

interface ConceptWeights {
  weights: number[];
  directions: number[];
}

export function* hyperplaneStream(
  options: Partial<HyperplaneOptions> & { seed: number },
): Generator<SyntheticEvent<number[]>> {
  const {
    seed,
    sampleSeed,
    dimensions = 10,
    driftingFeatures = 2,
    magnitude = 0.001,
    reversalProbability = 0.1,
    noise = 0.05,
    schedule = { initial: 0 },
    covariateShift,
  } = options;
  if (driftingFeatures > dimensions) throw new RangeError('driftingFeatures cannot exceed dimensions');
  const random = new Random(seed);
  const sampleRandom = sampleSeed === undefined ? random : new Random(sampleSeed);
  const concepts = new Map<number, ConceptWeights>();
  const weightsOf = (concept: number): ConceptWeights => {
    let c = concepts.get(concept);
    if (!c) {
      const conceptRandom = new Random((seed ^ Math.imul(concept + 1, 0x9e3779b1)) >>> 0);
      c = {
        weights: Array.from({ length: dimensions }, () => conceptRandom.next()),
        directions: Array.from({ length: dimensions }, () => (conceptRandom.next() < 0.5 ? -1 : 1)),
      };
      concepts.set(concept, c);
    }
    return c;
  };
  for (let index = 0; ; index++) {
    const concept = conceptAt(schedule, index, random);
    const shifted = isShifted(covariateShift?.timing, index, random);
    const [low, high] = shifted && covariateShift ? covariateShift.range : [0, 1];
    const features = Array.from({ length: dimensions }, () => sampleRandom.uniform(low, high));
    const { weights, directions } = weightsOf(concept);
    let dot = 0;
    let total = 0;
    for (let j = 0; j < dimensions; j++) {
      dot += (weights[j] as number) * (features[j] as number);
      total += weights[j] as number;
    }
    let label: 0 | 1 = dot >= total / 2 ? 1 : 0;
    if (sampleRandom.next() < noise) label = label === 1 ? 0 : 1;
    for (let j = 0; j < driftingFeatures; j++) {
      weights[j] = (weights[j] as number) + (directions[j] as number) * magnitude;
      if (random.next() < reversalProbability) directions[j] = -(directions[j] as number);
    }
    yield { index, features, label, concept, shifted };
  }
}
