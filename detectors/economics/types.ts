import type { DecayFit } from '../decay/types.ts';

/** Which comparison drove a cost-aware decision. */
export type EconomicsRule = 'forecast' | 'cumulative' | 'step';

/**
 * A step down in the serving version's quality, priced (see `stepStaleness` in staleness.ts):
 * the loss rate it left, taken one standard error low, times how long it is expected to last.
 */
export interface StepEvidence {
  /** Value × events per hour × loss-rate lower bound × expected duration (hours). */
  value: number;
  /** Lower bound of the quality lost per event since the step (metric units, ≥ 0). */
  lossRate: number;
  /**
   * Hours the loss is expected to last: the longer of the version's age at the step (revision 5:
   * or how long the model's excursions last, if shorter; revision 7: nothing, when the history is
   * too short to tell) and the step's own age.
   */
  expectedHours: number;
  /** For the decision's reason. */
  description: string;
  /** The step itself, for texts that state it their own way (absent from records made before it was added). */
  change?: StepFacts;
}

/** A step down as the step rule saw it. */
export interface StepFacts {
  /** Start of the first window after the step. */
  at: number;
  /** Mean quality before and after. */
  before: number;
  after: number;
  /** Standardised size of the drop. */
  z: number;
  /** The attainable quality it is measured against. */
  attainable: number;
  /** How long the version had served before the step, in hours. */
  ageAtStepHours: number;
  /** How long the model's quality excursions last, when its history measured it (rule revision 5). @default undefined */
  persistenceHours?: number;
  /**
   * Rule revision 7: the history was too short to measure how long its steps last (`pairs` window
   * pairs, fewer than `minPairs`), so the step was priced for as long again as it had lasted
   * (`lastedHours`), not the version's age. @default undefined
   */
  unmeasuredPersistence?: { pairs: number; minPairs: number; lastedHours: number };
}

/**
 * How the cumulative rule's figure was reached: a signed sum against the yardstick (windows
 * better than it earn credit), taken `sd` below its estimate. `lowerBound` is what is compared.
 */
export interface AccumulationFacts {
  estimate: number;
  sd: number;
  lowerBound: number;
  /** Quality the staleness is measured against. */
  yardstick: number | null;
}

export interface EconomicsInput {
  /** Decay fit of the version in service. */
  fit: DecayFit;
  /** How a freshly retrained version would decay; @default the same fit (versions of a model age alike — use the population fit when there is one) */
  freshFit?: DecayFit | null;
  /** Age of the version in service now, in hours. @default fit.nowAgeHours */
  nowAgeHours?: number;
  /** Forecast horizon in hours. */
  horizonHours: number;
  /** Scored events per hour. */
  eventsPerHour: number;
  /** Money lost per event per 1.0 of quality lost. */
  valuePerQualityUnit: number;
  /** Cost of one retrain. */
  retrainCost: number;
  /** Probability a retrain fails or regresses, and what that costs. @default { probability: 0, cost: 0 } */
  deploymentRisk?: { probability: number; cost: number };
  /** Quantile of the predicted (avoidable) staleness cost used for the decision. @default 0.5 */
  quantile?: number;
  /** Quality of a freshly retrained version, in metric units. @default the fit's q0 */
  freshQuality?: number | null;
  /** Staleness cost accumulated since the last retrain (see `accumulatedStalenessCost`). @default null (unknown) */
  accumulatedStalenessCost?: number | null;
  /**
   * Why the decay fit cannot see this version's staleness (a step down at a change point, or a
   * start below the attainable quality), or `null`. When set, `forecast-then-cumulative` also
   * retrains when the accumulated cost exceeds the hurdle even though the forecast says wait.
   * @default null
   */
  fitBlindSpot?: string | null;
  /** Which rule to apply. @default "forecast-then-cumulative" */
  rule?: 'forecast' | 'cumulative' | 'forecast-then-cumulative';
  /** How the accumulated cost was reached, for the statement of the decision. @default null */
  accumulation?: AccumulationFacts | null;
  /**
   * Revision of the texts (see `MonitorSettings.textRevision`): 1 writes `reason` as shipped until
   * 2026-12 ("retrain: …", "wait: …"); 2 writes the economics statement of detectors/texts. @default 2
   */
  textRevision?: number;
  /**
   * A credible step down, priced. With `cumulative` or `forecast-then-cumulative`, a retrain is
   * also worth it when its value exceeds retrain + risk (rule `step`). @default null (rule revision 1)
   */
  step?: StepEvidence | null;
}

/** The outcome of weighing staleness against retraining, with every number that drove it. */
export interface RetrainEconomics {
  shouldRetrain: boolean;
  /** Rule that was applied, or `none` when neither could run (no decay fit, no accumulated cost). */
  rule: EconomicsRule | 'none';
  /**
   * Forecast rule: R·(A·loss(A) − L(A)) at the current age A, at the quantile — how far the current
   * staleness cost rate has risen above the cycle's average; retrain when it exceeds retrain + risk cost.
   */
  restartValue: number;
  /** Staleness cost of keeping the current version over the horizon, at the quantile. */
  expectedStalenessCost: number;
  /** Staleness cost a freshly retrained version would itself incur over the horizon (it ages too). */
  freshStalenessCost: number;
  /** What retraining now would save over the horizon: the difference of the two, at the quantile. */
  avoidableStalenessCost: number;
  /** Mean of the avoidable cost over the half-life uncertainty, for reference. */
  meanAvoidableStalenessCost: number;
  /** Staleness cost accumulated since the last retrain (Cara's cumulative rule), when known. */
  accumulatedStalenessCost: number | null;
  /** Step rule (rule revision 2): the priced step, when a step down was found; absent under revision 1. */
  step?: StepEvidence | null;
  retrainCost: number;
  /** Deployment risk: probability × cost. */
  riskCost: number;
  /** restartValue (forecast) or accumulated cost (cumulative) minus retrain cost minus risk cost; positive means retrain. */
  netBenefit: number;
  /** Forecast rule: hours until the restart condition is predicted to hold (0 when it holds now), or `null` when not within a year. */
  breakEvenHours: number | null;
  /** The statement of this outcome (text revision 2: without a verdict prefix; the verdict is `shouldRetrain`). */
  reason: string;
  /** Forecast rule: what staleness costs per hour at the current age (text revision 2). */
  stalenessCostPerHour?: number;
  /** Why the decay fit cannot see this version's staleness, when the cumulative rule was let decide (text revision 2). */
  fitBlindSpot?: string | null;
  /** Why there is no decay forecast, when there is none (text revision 2). */
  noForecastReason?: string | null;
  /** How the accumulated cost was reached (text revision 2). */
  accumulation?: AccumulationFacts | null;
  inputs: {
    horizonHours: number;
    eventsPerHour: number;
    valuePerQualityUnit: number;
    quantile: number;
    nowAgeHours: number;
    freshQuality: number | null;
    decayModel: DecayFit['model'];
    halfLifeHours: number | null;
  };
}
