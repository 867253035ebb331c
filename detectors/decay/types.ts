/**
 * Types of the decay model: how a model version's quality falls with its age.
 *
 * All outputs are plain JSON (no functions, no Infinity) because decay fits travel through
 * Temporal payloads and are stored with decisions for provenance. "Never" is `null`.
 */

export type QualityDirection = 'higher-is-better' | 'lower-is-better';

/** One measurement of a version's quality at a given age. */
export interface QualityObservation {
  /** Time since the version was trained, in hours (≥ 0). */
  ageHours: number;
  /** Quality (e.g. accuracy in [0, 1]) or any metric; see {@link DecayFitOptions.direction}. */
  quality: number;
  /** Statistical weight, normally the number of labelled (or scored) events behind the value. @default 1 */
  weight?: number;
  /**
   * `realised` quality comes from labels; `estimated` from a label-free estimator (e.g. CBPE).
   * Estimated points get their weight multiplied by {@link DecayFitOptions.estimatedWeightFactor}
   * because their error includes calibration error that the sample size does not show.
   * @default "realised"
   */
  source?: 'realised' | 'estimated';
}

/** A prior on the half-life borrowed from the model's other versions (see `population.ts`). */
export interface HalfLifePrior {
  /** Centre of the prior, in hours. */
  halfLifeHours: number;
  /** Standard deviation of ln(half-life) — how much versions of this model differ. */
  logSd: number;
}

/**
 * A prior on the linear rate of quality change (per hour of age) borrowed from the model's other
 * versions (see `populationRate` in `population.ts`): normal, in the metric's units.
 */
export interface RatePrior {
  /** Mean rate, quality per hour (negative while a higher-is-better metric decays). */
  slopePerHour: number;
  /** Standard deviation of a new version's rate around it. */
  sd: number;
  /** Versions behind it. */
  versions: number;
}

export interface DecayFitOptions {
  /** Which way the metric improves. Lower-is-better metrics decay upward toward a ceiling. @default "higher-is-better" */
  direction?: QualityDirection;
  /** Weight multiplier for estimated (label-free) points. @default 0.5 */
  estimatedWeightFactor?: number;
  /**
   * Bounds the asymptote may take, in the metric's units. The defaults suit quality in [0, 1]
   * for higher-is-better metrics and a non-negative error for lower-is-better ones.
   * @default { min: 0, max: 1 } (higher-is-better) / { min: 0, max: null } (lower-is-better)
   */
  bounds?: { min: number | null; max: number | null };
  /** Fewest points for an exponential fit without a prior (three parameters need some slack). @default 4 */
  minPointsExponential?: number;
  /** A decreasing trend must have a slope t-statistic below minus this to count as decay. @default 2 */
  minTrendT?: number;
  /** Confidence level of the half-life interval. @default 0.9 */
  level?: number;
  /** Quality SLO: predict when quality crosses it. @default undefined (no prediction) */
  slo?: number;
  /** Age of the version now, in hours, for the time-to-breach prediction. @default the largest observed age */
  nowAgeHours?: number;
  /** Prior on the half-life (from the population of versions); allows a fit from as few as 2 points. @default undefined */
  prior?: HalfLifePrior;
  /**
   * Widen the linear slope's standard error for lag-1 autocorrelation of the residuals (runs of
   * windows that are all low or all high are weaker evidence of a trend). @default false
   */
  serialCorrelation?: boolean;
  /**
   * Prior on the linear rate (from the population of versions). The version's own least-squares
   * rate is combined with it by precision (normal–normal); the posterior rate is what the trend
   * test and a linear fit use. @default undefined
   */
  ratePrior?: RatePrior;
  /**
   * Length of the windows the observations were measured over, in hours. Given, the fit is
   * bounded by what such windows can show: its fresh quality and floor stay within `bounds`, a
   * half-life shorter than one window, or a decay that the windows only saw the end of (more than
   * two half-lives gone by the first of them), is no evidence and gives `model: 'none'`, as does a
   * straight line that would lose half its quality within one window. @default undefined (unbounded)
   */
  windowHours?: number;
}

/** One point of the half-life profile: the best curve with the half-life held at this value. */
export interface ProfilePoint {
  halfLifeHours: number;
  q0: number;
  floor: number;
  /** −2 × log profile likelihood (plus the prior penalty, if any) relative to the best point (≥ 0). */
  deviance: number;
}

export interface TimeToBreach {
  /** The SLO value. */
  slo: number;
  /** Hours from now until predicted quality crosses the SLO; 0 when it already has; `null` when never (floor above the SLO). */
  hours: number | null;
  /** Interval of `hours` over the half-life interval; `upper` is `null` when it may never happen. */
  interval: { lower: number; upper: number | null } | null;
}

export interface GoodnessOfFit {
  /** Weighted root-mean-square residual, in metric units. */
  rmse: number;
  /** Weighted R² against a constant model. */
  r2: number;
  /** Akaike information criterion of the chosen model (Gaussian, weights as inverse variances up to a scale). */
  aic: number;
  /** AIC of the weighted straight line, for comparison. */
  aicLinear: number | null;
}

/**
 * A fitted decay curve.
 * - `exponential`: q(a) = floor + (q0 − floor)·exp(−ln2·a/h); `halfLifeHours` = h, the age at
 *   which half of the excess quality above the floor is gone.
 * - `linear`: q(a) = q0 + slopePerHour·a, clamped to the bounds; `halfLifeHours` is the age at which
 *   half of the quality above the lower bound is gone, when that is defined.
 * - `none`: no decay detected; `reason` says why.
 */
export interface DecayFit {
  model: 'exponential' | 'linear' | 'none';
  reason: string;
  direction: QualityDirection;
  /** Number of observations used. */
  n: number;
  /** Sum of effective weights. */
  totalWeight: number;
  /** Largest observed age. */
  maxAgeHours: number;
  /** Age used as "now" for predictions. */
  nowAgeHours: number;
  /** Quality of a fresh version (age 0), in metric units. */
  q0: number | null;
  /** Asymptotic quality (a ceiling for lower-is-better metrics). */
  floor: number | null;
  halfLifeHours: number | null;
  /** Interval of the half-life by profile likelihood; `upper` is `null` when unbounded (no upper limit in the data). */
  halfLifeInterval: { lower: number; upper: number | null; level: number; method: 'profile-likelihood' } | null;
  /** Linear model only: change of quality per hour, and its standard error. */
  slopePerHour: number | null;
  slopeStdError: number | null;
  goodness: GoodnessOfFit | null;
  /** Profile over the half-life (exponential only), used to propagate uncertainty into costs. */
  profile: ProfilePoint[];
  /** Whether a population prior shaped the fit. */
  prior: HalfLifePrior | null;
  /** With `serialCorrelation`: the factor the slope's standard error was widened by (≥ 1). */
  slopeSeInflation?: number;
  /** With a rate prior: the prior, and the version's own rate (per hour) and standard error before it was combined. */
  ratePrior?: RatePrior | null;
  ownSlopePerHour?: number | null;
  ownSlopeStdError?: number | null;
  /** With `windowHours`: the window length the fit was bounded by. */
  windowHours?: number;
  timeToBreach: TimeToBreach | null;
}
