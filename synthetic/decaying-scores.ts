/**
 * A binary classifier's scores and labels whose quality decays with model age, for exercising
 * decay fitting, retraining policies and the demo. Patterns follow Vela et al. 2022 ("Temporal
 * quality degradation in AI models", Scientific Reports):
 * - 'gradual': separation halves every `halfLife` age units (steady, smooth decline);
 * - 'explosive': stable until `onset`, then collapses quickly (separation halves every horizon/20);
 * - 'variance-growing': the average quality holds, but each age unit (a "day" batch) gets a random
 *   separation offset whose standard deviation grows linearly with age;
 * - 'stable': no decay (the control).
 *
 * Event model: label y ~ Bernoulli(prevalence); score = sigmoid((2y − 1)·s(age) + N(0, 1)), where
 * s(age) is the separation. Accuracy at threshold 0.5 is Φ(s): s = 2 gives ≈ 0.977, s → 0 gives 0.5.
 */
import { Random } from '../detectors/random.ts';

export type DecayPattern = 'gradual' | 'explosive' | 'variance-growing' | 'stable';

export interface DecayingScoresOptions {
  seed: number;
  /** Number of events, spread evenly over ages [0, horizon). @default 10000 */
  events: number;
  /** Model age covered, in age units (e.g. days). @default 365 */
  horizon: number;
  /** @default 'gradual' */
  pattern: DecayPattern;
  /** Separation s at age 0 (logit units). @default 2 */
  initialSeparation: number;
  /** 'gradual': age units for the separation to halve. @default horizon / 2 */
  halfLife?: number;
  /** 'explosive': age at which the collapse starts. @default 0.6 · horizon */
  onset?: number;
  /** 'variance-growing': standard deviation of the batch offset at age = horizon. @default 1 */
  finalOffsetStandardDeviation: number;
  /** Share of positive labels. @default 0.3 */
  prevalence: number;
}

export interface DecayingScores {
  age: number[];
  score: number[];
  label: (0 | 1)[];
  /** The true separation s(age) behind each event (what a decay model tries to recover). */
  separation: number[];
}

export function decayingScores(options: Partial<DecayingScoresOptions> & { seed: number }): DecayingScores {
  const {
    seed,
    events = 10_000,
    horizon = 365,
    pattern = 'gradual',
    initialSeparation = 2,
    finalOffsetStandardDeviation = 1,
    prevalence = 0.3,
  } = options;
  const halfLife = options.halfLife ?? horizon / 2;
  const onset = options.onset ?? 0.6 * horizon;
  const random = new Random(seed);
  const batchOffsets = new Map<number, number>();
  const separationAt = (age: number): number => {
    switch (pattern) {
      case 'stable':
        return initialSeparation;
      case 'gradual':
        return initialSeparation * 0.5 ** (age / halfLife);
      case 'explosive':
        return age < onset ? initialSeparation : initialSeparation * 0.5 ** ((age - onset) / (horizon / 20));
      case 'variance-growing': {
        const batch = Math.floor(age);
        let offset = batchOffsets.get(batch);
        if (offset === undefined) {
          offset = random.normal(0, (finalOffsetStandardDeviation * batch) / horizon);
          batchOffsets.set(batch, offset);
        }
        return Math.max(0, initialSeparation + offset);
      }
    }
  };
  const out: DecayingScores = { age: [], score: [], label: [], separation: [] };
  for (let i = 0; i < events; i++) {
    const age = (i / events) * horizon;
    const s = separationAt(age);
    const y: 0 | 1 = random.bernoulli(prevalence) ? 1 : 0;
    const z = (2 * y - 1) * s + random.normal();
    out.age.push(age);
    out.score.push(1 / (1 + Math.exp(-z)));
    out.label.push(y);
    out.separation.push(s);
  }
  return out;
}
