/**
 * SEA concepts (Street & Kim 2001): three features uniform on [0, 10], only the first two matter;
 * class 1 when f1 + f2 ≤ θ, with θ ∈ {8, 9, 7, 9.5} for concepts 0–3, and a share of labels
 * flipped as class noise (10% in the paper).
 */
import { Random } from '../detectors/random.ts';
import { conceptAt, isShifted } from './schedule.ts';
import type { ConceptSchedule, ShiftTiming, SyntheticEvent } from './schedule.ts';

/** θ of the four published SEA concepts. */
export const SEA_THRESHOLDS: readonly number[] = Object.freeze([8, 9, 7, 9.5]);

export interface SeaOptions {
  seed: number;
  /** Which concept holds when; concept k uses thresholds[k]. @default { initial: 0 } */
  schedule: ConceptSchedule;
  /** θ per concept. @default SEA_THRESHOLDS */
  thresholds: readonly number[];
  /** Probability of flipping each label. @default 0.1 */
  noise: number;
  /**
   * Covariate shift: after `timing`, features are drawn uniformly from `ranges` instead of
   * [0, 10]³ (labels still follow the concept, so only P(x) changes). @default none
   */
  covariateShift?: {
    timing: ShiftTiming;
    ranges: readonly [readonly [number, number], readonly [number, number], readonly [number, number]];
  };
}

export function* seaStream(options: Partial<SeaOptions> & { seed: number }): Generator<SyntheticEvent<number[]>> {
  const { seed, schedule = { initial: 0 }, thresholds = SEA_THRESHOLDS, noise = 0.1, covariateShift } = options;
  const random = new Random(seed);
  for (let index = 0; ; index++) {
    const concept = conceptAt(schedule, index, random);
    const theta = thresholds[concept];
    if (theta === undefined) throw new RangeError(`SEA concept ${concept} has no threshold`);
    const shifted = isShifted(covariateShift?.timing, index, random);
    const features = [0, 1, 2].map((j) => {
      const [low, high] = shifted && covariateShift ? (covariateShift.ranges[j] as readonly [number, number]) : [0, 10];
      return random.uniform(low, high);
    });
    let label: 0 | 1 = (features[0] as number) + (features[1] as number) <= theta ? 1 : 0;
    if (random.next() < noise) label = label === 1 ? 0 : 1;
    yield { index, features, label, concept, shifted };
  }
}
