import type { DecayFit } from './types.ts';

/**
 * Evaluating a fitted decay curve: predicted quality at an age and the quality lost over an
 * age range. These are what the retrain economics integrate.
 */

const LN2 = Math.LN2;

/** Parameters of one exponential curve (a fit's best curve, or one point of its profile). */
export interface ExponentialCurve {
  q0: number;
  floor: number;
  halfLifeHours: number;
}

/** q(a) = floor + (q0 − floor)·exp(−ln2·a/h). */
export function exponentialQuality(curve: ExponentialCurve, ageHours: number): number {
  return curve.floor + (curve.q0 - curve.floor) * Math.exp((-LN2 * Math.max(0, ageHours)) / curve.halfLifeHours);
}

/** ∫ from `fromAge` to `toAge` of (q0 − q(a)) da for an exponential curve, in quality·hours (closed form). */
export function exponentialLoss(curve: ExponentialCurve, fromAge: number, toAge: number): number {
  const a = Math.max(0, fromAge);
  const b = Math.max(a, toAge);
  const k = LN2 / curve.halfLifeHours;
  const excess = curve.q0 - curve.floor;
  return excess * (b - a - (Math.exp(-k * a) - Math.exp(-k * b)) / k);
}

/** Predicted quality of the fitted version at `ageHours`, in metric units; `null` for `model: 'none'`. */
export function predictQuality(fit: DecayFit, ageHours: number): number | null {
  if (fit.q0 === null) return null;
  const sign = fit.direction === 'higher-is-better' ? 1 : -1;
  if (fit.model === 'exponential' && fit.floor !== null && fit.halfLifeHours !== null) {
    return exponentialQuality({ q0: fit.q0, floor: fit.floor, halfLifeHours: fit.halfLifeHours }, ageHours);
  }
  if (fit.model === 'linear' && fit.slopePerHour !== null) {
    const q = fit.q0 + fit.slopePerHour * Math.max(0, ageHours);
    // A line keeps falling; stop it at the bound (the floor) when one is known.
    if (fit.floor !== null) return sign > 0 ? Math.max(q, fit.floor) : Math.min(q, fit.floor);
    return q;
  }
  return fit.q0;
}

/**
 * Quality lost between two ages relative to a fresh version, ∫ (q0 − q(a)) da, in
 * quality·hours and always as a non-negative "worse by" amount (direction-aware).
 */
export function qualityLoss(fit: DecayFit, fromAge: number, toAge: number): number {
  if (fit.model === 'none' || fit.q0 === null || toAge <= fromAge) return 0;
  if (fit.model === 'exponential' && fit.floor !== null && fit.halfLifeHours !== null) {
    const sign = fit.direction === 'higher-is-better' ? 1 : -1;
    return Math.max(
      0,
      sign * exponentialLoss({ q0: fit.q0, floor: fit.floor, halfLifeHours: fit.halfLifeHours }, fromAge, toAge),
    );
  }
  // Linear (clamped): integrate numerically with Simpson's rule, exact for the unclamped line.
  const steps = 64;
  const h = (toAge - fromAge) / steps;
  const sign = fit.direction === 'higher-is-better' ? 1 : -1;
  const loss = (a: number): number =>
    Math.max(0, sign * ((fit.q0 as number) - (predictQuality(fit, a) ?? (fit.q0 as number))));
  let sum = loss(fromAge) + loss(toAge);
  for (let i = 1; i < steps; i++) sum += loss(fromAge + i * h) * (i % 2 === 1 ? 4 : 2);
  return (sum * h) / 3;
}
