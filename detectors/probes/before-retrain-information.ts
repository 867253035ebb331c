/**
 * What a probe before a retrain can still tell once this version's gap has been measured (rule
 * revision 10).
 *
 * Up to revision 9 a probe before a retrain is bought when the retrain cost it may save, the chance
 * a retrain of this model does not help × (retrain + risk), exceeds its price and the staleness of
 * waiting for it (schedule.ts `beforeRetrainValue`). That compares probing with retraining blind,
 * and leaves out a third choice: keeping the version without a new probe. Once this version's
 * standing probes have measured the gap g a fresh model finds (revision 8's posterior,
 * gap-posterior.ts: the signed gap N(m, τ²), a fresh model may be worse), that measurement says which
 * of retraining and keeping is better — retraining now nets k·m − C (k = value × the events the
 * version has served, the Lindy estimate of what it will serve; C the retrain and its risk) — and a
 * new probe is worth only what it adds: it reads ĝ = g + N(0, σ²), the decision then follows
 * E[g | ĝ], which before the probe is N(m, s'²) with s' = τ² / √(τ² + σ²) (sample-information.ts
 * `preposteriorScale`), so
 *
 *   value = E[max(0, k·E[g | ĝ] − C)] − max(0, k·m − C) = μ·Φ(μ/t) + t·φ(μ/t) − max(0, μ),
 *
 * μ = k·m − C, t = k·s'. Exact for the normal posterior; 0 for a probe that measures nothing (σ → ∞),
 * the value of perfect information less the better blind choice at σ = 0, rising as σ falls and as the
 * version's life (k) grows. When it does not exceed the probe's price and wait, the measurement
 * decides: retrain when k·m > C, else keep the version. Flight delays at C = 150 bought a probe before a
 * retrain each time a hold ran out (six in 2015, each "no better" on ~270 flights): each re-measured a gap
 * its predecessors had already put at 0 ± 0.005.
 */
import { normalCdf } from '../quality/distributions.ts';
import type { GapPosterior } from './gap-posterior.ts';
import { preposteriorScale } from './sample-information.ts';

export interface BeforeRetrainSampleInputs {
  /** Money per event per unit of quality. */
  valuePerQualityUnit: number;
  /** Events the version has served (its age × traffic): what a gap is paid over. */
  eventsServed: number;
  /** Retrain + deployment risk. */
  hurdle: number;
  /** The signed gap as this version's standing probes measured it: N(mean, sd²). */
  posterior: GapPosterior;
  /** Standard error of the gap the new probe would read (0: exactly; ∞: nothing). */
  standardError: number;
}

export interface BeforeRetrainSampleValue {
  /** k·m − C: what retraining now, without a new probe, is expected to net. */
  retrainNow: number;
  /** E[max(0, k·E[g | ĝ] − C)]: what deciding after the probe is expected to net (before its price and wait). */
  afterProbe: number;
  /** The probe's value of sample information: `afterProbe` − max(0, `retrainNow`), ≥ 0. */
  value: number;
}

/** The value of a new probe before a retrain, given what this version's probes already measured. */
export function beforeRetrainSampleValue(input: BeforeRetrainSampleInputs): BeforeRetrainSampleValue {
  const k = Math.max(0, input.valuePerQualityUnit * input.eventsServed);
  const retrainNow = k * input.posterior.mean - input.hurdle;
  const blind = Math.max(0, retrainNow);
  const spread = k * preposteriorScale(input.posterior.sd, input.standardError);
  if (!(spread > 0)) return { retrainNow, afterProbe: blind, value: 0 };
  const z = retrainNow / spread;
  const afterProbe = Math.max(
    blind,
    retrainNow * normalCdf(z) + (spread * Math.exp(-0.5 * z * z)) / Math.sqrt(2 * Math.PI),
  );
  return { retrainNow, afterProbe, value: afterProbe - blind };
}
