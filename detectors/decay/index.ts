/** Decay model: how fast a model version's quality falls with age, and when it breaches its SLO. */
export { fitDecay } from './fit.ts';
export { fitPopulation, fitVersionWithPopulation } from './population.ts';
export type { PopulationDecay, PopulationOptions, VersionObservations } from './population.ts';
export { exponentialLoss, exponentialQuality, predictQuality, qualityLoss } from './curve.ts';
export { decayCurveBand } from './band.ts';
export type { DecayCurvePoint } from './band.ts';
export { halfLifeEvidence, MIN_POINTS_FOR_HALF_LIFE } from './evidence.ts';
export type { HalfLifeEvidence } from './evidence.ts';
export type { ExponentialCurve } from './curve.ts';
export type {
  DecayFit,
  DecayFitOptions,
  GoodnessOfFit,
  HalfLifePrior,
  ProfilePoint,
  QualityDirection,
  QualityObservation,
  TimeToBreach,
} from './types.ts';
