/**
 * Multiclass events with a known covariate shift, for the estimation tests and benchmark: three
 * classes whose true probabilities are a softmax of two features; the model serves them sharpened
 * by `temperature` (over-confident above 1, so some classes need recalibrating). `shift` moves the
 * first feature's mean and `spread` scales it (a narrower spread puts events near the classes'
 * boundaries), which changes how often the model is right without changing P(y | x).
 */
import type { Random } from '../detectors/random.ts';

export interface KnownShiftClassEvent {
  /** The features the classes depend on. */
  x1: number;
  x2: number;
  /** The drawn class: 0, 1 or 2. */
  truth: number;
  /** The served probabilities. */
  probabilities: number[];
}

/**
 * One event, drawn from `random` (two normals, then the class).
 * @param spread the first feature's standard deviation @default 1
 */
export function knownShiftClassEvent(
  random: Random,
  shift: number,
  temperature: number,
  spread = 1,
): KnownShiftClassEvent {
  const x1 = random.normal(shift, spread);
  const x2 = random.normal(0, 1);
  const logits = [1.5 * x1, -1.5 * x1 + 0.5 * x2, 1.2 * x2];
  const softmax = (scale: number) => {
    const e = logits.map((z) => Math.exp(z * scale));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  };
  const p = softmax(1);
  const u = random.next();
  return { x1, x2, truth: u < p[0]! ? 0 : u < p[0]! + p[1]! ? 1 : 2, probabilities: softmax(temperature) };
}

/** `n` events as columns. */
export function knownShiftClassEvents(
  random: Random,
  n: number,
  shift: number,
  temperature: number,
): { truth: number[]; probabilities: number[][] } {
  const truth: number[] = [];
  const probabilities: number[][] = [];
  for (let i = 0; i < n; i++) {
    const event = knownShiftClassEvent(random, shift, temperature);
    truth.push(event.truth);
    probabilities.push(event.probabilities);
  }
  return { truth, probabilities };
}
