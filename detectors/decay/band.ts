import { exponentialQuality, predictQuality } from './curve.ts';
import { normalQuantile, profileCutoff, studentTQuantile } from './stats.ts';
import type { DecayFit } from './types.ts';

/** The fitted curve at one age, with its pointwise band (metric units). */
export interface DecayCurvePoint {
  ageHours: number;
  quality: number;
  /** Band at the fit's interval level; `null` when the fit gives none (too few points for one). */
  lower: number | null;
  upper: number | null;
}

/**
 * The fitted decay curve at `ages` with its band, for drawing over the ages a version was
 * observed at. Exponential: the envelope of the profile's curves inside the half-life interval's
 * cut-off (the half-lives the data do not reject at that level), widened by the level's own
 * error at a fixed half-life. Linear: the slope ± its standard error, widened the same way.
 * The level's error is the residual RMS × √(parameters / n) × the Student-t quantile — the
 * average leverage of a point, since the fit record keeps no covariance. No curve for `none`.
 */
export function decayCurveBand(fit: DecayFit, ages: readonly number[], level = 0.9): DecayCurvePoint[] {
  if (fit.model === 'none' || fit.q0 === null) return [];
  const at = (a: number): number => predictQuality(fit, a) as number;
  const none = () => ages.map((a) => ({ ageHours: a, quality: at(a), lower: null, upper: null }));
  const parameters = fit.model === 'exponential' ? 3 : 2;
  const dof = fit.n - parameters;
  const widen =
    dof >= 1 ? studentTQuantile((1 + level) / 2, dof) * (fit.goodness?.rmse ?? 0) * Math.sqrt(parameters / fit.n) : 0;
  if (fit.model === 'exponential') {
    const cutoff = profileCutoff(fit.halfLifeInterval?.level ?? level, fit.n, 3);
    const inside = Number.isFinite(cutoff) ? fit.profile.filter((p) => p.deviance <= cutoff) : [];
    if (inside.length === 0) return none();
    return ages.map((a) => {
      const values = inside.map((p) => exponentialQuality(p, a));
      const q = at(a);
      return { ageHours: a, quality: q, lower: Math.min(q, ...values) - widen, upper: Math.max(q, ...values) + widen };
    });
  }
  const se = fit.slopeStdError;
  const slope = fit.slopePerHour;
  if (se === null || slope === null || dof < 1) return none();
  const z = normalQuantile((1 + level) / 2);
  const variant = (s: number, a: number): number => predictQuality({ ...fit, slopePerHour: s }, a) as number;
  return ages.map((a) => {
    const one = variant(slope - z * se, a);
    const other = variant(slope + z * se, a);
    return { ageHours: a, quality: at(a), lower: Math.min(one, other) - widen, upper: Math.max(one, other) + widen };
  });
}
