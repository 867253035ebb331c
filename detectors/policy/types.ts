/**
 * The shape of a parsed, defaults-applied retrain policy.
 *
 * This file is pure types so that both the validator (`platform/policy-file.ts`, which uses zod and
 * YAML) and the evaluator (`detectors/policy/evaluate.ts`, which must stay importable from
 * Temporal workflow code) share one definition. `platform/policy-file.ts` asserts at compile time
 * that the zod schema's output type is exactly {@link RetrainPolicy}.
 *
 * Durations are kept as the strings the user wrote ("6h", "2d") so that the canonical JSON —
 * and therefore the policy's content hash — reads like the YAML; {@link parseDuration} turns
 * them into milliseconds where needed.
 */

import type { AlertPolicy } from '../alerts/types.ts';
import type { SegmentPolicy } from '../segments/types.ts';
import type { MultivariateDriftSettings } from '../drift/multivariate/settings.ts';
import type { ProbePolicy } from '../probes/types.ts';
import type { QualityMetric } from '../quality/quality-metric.ts';

/** A duration such as "90s", "30m", "6h", "2d" or "1w" (one number, one unit). */
export type DurationText = string;

/** Which way a metric improves. */
export type MetricDirection = 'higher-is-better' | 'lower-is-better';

/** Where the cost-aware trigger gets its traffic (events per hour) from. */
export type TrafficSource =
  /** Use the event count of recent windows; fall back to `fallbackPerHour` when none are known. */
  | { kind: 'observed'; fallbackPerHour: number }
  /** Assume a fixed rate, e.g. for what-if analysis or low-traffic models. */
  | { kind: 'fixed'; eventsPerHour: number };

/**
 * Which comparison the cost-aware trigger uses.
 * - `forecast`: from the decay fit (at a quantile of its uncertainty, UPF-style), retrain when the
 *   current staleness cost rate has risen far enough above the retrain cycle's average that
 *   restarting the cycle pays: R·(A·loss(A) − L(A)) > retrain cost + deployment risk (see
 *   `detectors/economics/retrain-economics.ts` for the derivation).
 * - `cumulative`: staleness cost accumulated since the last retrain versus retraining cost plus
 *   deployment risk (Cara's rule). Needs no decay fit, only per-window quality.
 * - `forecast-then-cumulative`: `forecast` when a decay fit exists, otherwise `cumulative`; with a
 *   fit, the cumulative rule may still retrain when the fit cannot see the staleness (a step down
 *   in quality, or a version that started below the attainable quality of recent versions).
 *   The cumulative evidence is signed, measured against the attainable quality, and taken one
 *   standard error low. Either way, after a step the trigger waits for a training window clean
 *   of the old concept (fixed or since-change-point spans up to 12 h).
 * With either cumulative variant, rule revision 2 also retrains on a credible step priced for as
 * long as it is expected to last (economics rule `step`).
 */
export type CostRule = 'forecast' | 'cumulative' | 'forecast-then-cumulative';

/** Retrain when what staleness is expected to cost exceeds what retraining costs. */
export interface CostAwareTrigger {
  kind: 'cost-aware';
  /** Money (any unit, used consistently) lost per scored event per 1.0 of quality lost. No default: it is the policy's core assumption. */
  valuePerQualityUnit: number;
  /** Traffic source. @default { kind: 'observed', fallbackPerHour: 0 } */
  traffic: TrafficSource;
  /** Horizon of the staleness forecast recorded with each decision (what keeping the version that long costs, and what a retrain would avoid). @default "7d" */
  horizon: DurationText;
  /** Cost of one retrain (compute, people, review), in the same money unit. No default. */
  retrainCost: number;
  /** Deployment risk: probability a retrain fails or regresses, and what that costs. @default { probability: 0.05, cost: 0 } */
  deploymentRisk: { probability: number; cost: number };
  /**
   * Quantile of the predicted staleness cost to compare with the retrain cost. 0.5 (the median)
   * is neutral; higher retrains earlier when the decay forecast is uncertain (risk-averse),
   * lower waits for more evidence. @default 0.5
   */
  quantile: number;
  /** Which comparison to use. @default "forecast-then-cumulative" */
  rule: CostRule;
}

/** Retrain when a quality metric crosses a threshold for N consecutive windows. */
export interface ThresholdTrigger {
  kind: 'threshold';
  /** Metric name as recorded in window stats, e.g. "accuracy", "auc", "rmse". @default "quality" */
  metric: string;
  /** @default "higher-is-better" */
  direction: MetricDirection;
  /** Breach when the metric is worse than this value. */
  threshold: number;
  /** How many consecutive breaching windows are needed. @default 1 */
  consecutiveWindows: number;
  /** Whether estimated (label-free) quality counts, or only realised quality. @default true */
  acceptEstimated: boolean;
}

/** Retrain on a fixed schedule measured from the last retrain. */
export interface PeriodicTrigger {
  kind: 'periodic';
  /** Retrain when the current version is at least this old. */
  every: DurationText;
}

/** Retrain when the input data drift for N consecutive windows. */
export interface DriftTrigger {
  kind: 'drift-triggered';
  /** `dataset-drift`: the window's dataset-level verdict; `drifted-share`: share of drifted features ≥ `share`. @default "dataset-drift" */
  signal: 'dataset-drift' | 'drifted-share';
  /** Share of drifted features (0–1) for `drifted-share`. @default 0.5 */
  share: number;
  /** How many consecutive drifted windows are needed. @default 2 */
  consecutiveWindows: number;
}

/** Never retrain on its own; only on a manual request. */
export interface ManualTrigger {
  kind: 'manual';
}

export type PolicyTrigger = CostAwareTrigger | ThresholdTrigger | PeriodicTrigger | DriftTrigger | ManualTrigger;
export type TriggerKind = PolicyTrigger['kind'];

/** Lower-case three-letter weekday names, Monday first. */
export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/**
 * A period in which no retrain may start.
 * - `weekly`: on the given weekdays, between `from` and `to` ("HH:MM", 24-hour clock, `to` may be
 *   "24:00"; `from` > `to` wraps past midnight into the next day) in an IANA time zone.
 * - `dates`: between two absolute instants (e.g. a holiday code freeze).
 */
export type BlackoutWindow =
  | { kind: 'weekly'; days: Weekday[]; from: string; to: string; timeZone: string; label?: string }
  | { kind: 'dates'; start: string; end: string; label?: string };

export interface PolicyGuards {
  /** Minimum time between the end of one retrain and the start of the next. @default "6h" */
  cooldown: DurationText;
  /** At most `maxRetrains` retrains in any sliding window of length `per`. @default { maxRetrains: 4, per: "7d" } */
  budget: { maxRetrains: number; per: DurationText };
  /** Never start a retrain while another one of the same model is running. @default true */
  oneAtATime: boolean;
  /** Periods in which retrains do not start. @default [] */
  blackout: BlackoutWindow[];
  /** Whether a person must approve each retrain, and how long to wait before rejecting. @default { required: false, timeout: "24h" } */
  approval: { required: boolean; timeout: DurationText };
  /**
   * Keep broken data out of training (training on it makes things worse, and a retrain cannot
   * fix a broken pipeline). Rule revision 3 judges every window the retrain would train on: the
   * training window starts after the last broken one, and the retrain waits while the latest
   * window is broken or too few labelled rows follow the breakage. Shift (values out of the
   * reference's range, unseen categories) and small windows never block. Earlier revisions
   * blocked on any data-quality alert of the latest window. @default true
   */
  requireDataQuality: boolean;
}

/**
 * How far back the next training set reaches.
 * - `fixed`: the last `duration`.
 * - `since-change-point`: from the last change point — the later of the monitor's Page–Hinkley
 *   detection and the quality step the cost-aware trigger localised — but at least `minimum` of
 *   data; `fallback` when no change point is known.
 * - `all`: all retained history.
 */
export type TrainingWindowPolicy =
  | { kind: 'fixed'; duration: DurationText }
  | { kind: 'since-change-point'; minimum: DurationText; fallback: DurationText }
  | { kind: 'all' };

/**
 * How much evidence a window, a decay fit and a retrain need: the window minimums. The defaults
 * suit anything from hourly windows of thousands of events to daily or weekly batch scoring of
 * tens to hundreds of events (rule revision 3; earlier revisions use fixed minimums).
 */
export interface EvidencePolicy {
  /**
   * Labelled events behind a realised quality value. A window with fewer is pooled with the next
   * windows of the same version (labels that arrive late included) until together they have this
   * many, and from rule revision 6 a window still short (typically the newest) that has labels of
   * its own with the fewest windows just before it that make the minimum; until then the
   * label-free estimate stands in when it is trustworthy. 30 labelled events
   * give an accuracy of 0.85 a 95% interval of about ±0.13: noisy alone, and the rules weigh every
   * window by its events, so noise averages out instead of deciding. @default 30
   */
  minLabelledEvents: number;
  /** Quality points a version needs before its decay is fitted as a curve (fewer: a straight line, unless earlier versions give a prior). @default 4 */
  minDecayPoints: number;
  /**
   * Scored events under which a window's drift verdict is weak evidence: it does not count
   * toward a drift trigger, and the window's data-quality report notes it (never a block). @default 100
   */
  minWindowRows: number;
  /**
   * Labelled rows a retrain needs from after a detected change (a quality step or a change point)
   * or after broken data: the trigger waits for them, not only for time to pass. "auto" sizes it
   * to the model: 50 × (features + 1), at least 200. A bounded training window (`fixed`) that is
   * wholly after the change is enough whatever it holds. @default "auto"
   */
  minTrainingLabelled: number | 'auto';
  /**
   * How long after a window closes its late labels still count (a duration like "2h", or "auto").
   * Older windows are mature: their realised quality is final, and a tick neither reads nor
   * counts their late labels, so its cost stays flat as windows are kept. "auto" sizes it from the
   * model's own label delays: their p99 × 2, at least 2 cadences, at most every kept window (all
   * of them until 100 delays are seen). Set a duration when labels come in far-apart waves, which
   * auto cannot see past (detectors/monitor/late-label-horizon.ts). Absent in a policy that does
   * not set it, so its content hash stays what it was. @default "auto"
   */
  lateLabelHorizon?: 'auto' | string;
}

/**
 * The bars that decide whether a window's data is broken or shifted (detectors/drift/data-quality.ts
 * `QualityThresholds`). A team whose features legitimately have spiky values, or whose pipeline
 * tolerates a few dead letters, sets them here; each default is the detector's own, so a policy
 * without this section decides as before. Rates and shares are fractions of the window's rows (or
 * of a feature's non-missing values). The rows under which a window is weak evidence are
 * `evidence.minWindowRows`.
 */
export interface DataQualityPolicy {
  /** Rise of a feature's missing rate above the reference's that is breakage. @default 0.05 */
  missingRateIncrease: number;
  /** Binomial standard errors the missing-rate rise must also reach. @default 3 */
  missingRateZ: number;
  /** Share of a feature's values of the wrong type that is breakage. @default 0.01 */
  typeViolationRate: number;
  /** Share of the window's events dead-lettered at ingest that is breakage. @default 0.01 */
  deadLetterRate: number;
  /** Share of rows carrying feature keys the reference lacks that is breakage (a feature appeared). @default 0.05 */
  featureAppearedRate: number;
  /** Share of a numeric feature's values outside the reference's range that is reported as shift. @default 0.05 */
  outOfRangeRate: number;
  /** Share of a categorical feature's values in categories the reference lacks that is reported as shift. @default 0.05 */
  unseenCategoryRate: number;
  /** Rise of the most frequent value's share over the reference's that makes it a stuck-value candidate. @default 0.2 */
  stuckShareIncrease: number;
  /** Binomial standard errors that rise must also reach. @default 3 */
  stuckShareZ: number;
  /** Non-missing values a window needs before the stuck-value check applies. @default 20 */
  stuckMinValues: number;
  /** Non-missing values a window needs before "all values equal" counts as stuck. @default 5 */
  zeroVarianceMinValues: number;
  /** The reference's most frequent value share from which a feature's values count as repeating (rule revision 4). @default 0.01 */
  stuckReferenceMass: number;
  /** Share of the reference's standard deviation a window must keep for a grown value the reference had to be shift (rule revision 4). @default 0.5 */
  stuckSpreadKept: number;
  /**
   * Runs-test p (value-runs.ts, left tail) at or under which a grown value's repeats come in
   * stretches (stuck, breakage); above it, in a window where one stretch would reach it, they
   * interleave (a ceiling reached more often: shift). Lower: more interleaving counts as a
   * ceiling; higher: more repeats count as stuck (`stuckValueOrder`). @default 0.01
   */
  stuckRunsP: number;
  /** Share of the reference's standard deviation the other values must keep for interleaved repeats to be a ceiling (`stuckValueOrder`). @default 0.25 */
  stuckOthersSpread: number;
}

/**
 * Which quality metric the monitor tracks (detectors/quality/quality-metric.ts): it must apply
 * to the model's kind (binary: accuracy, auc; multiclass: accuracy, macro_f1, log_loss;
 * regression: mae, rmse, r2). Every metric becomes a quality in [0, 1], higher is better.
 */
export interface QualityPolicy {
  metric: QualityMetric;
  /**
   * For mae and rmse: the error (in the target's units) at which the model is of no use, e.g.
   * the error of always predicting the mean; quality = 1 − error / worthlessError. @default none (required for mae and rmse)
   */
  worthlessError?: number;
}

/** A complete, validated, defaults-applied retrain policy. */
export interface RetrainPolicy {
  /** Policy name, e.g. "fraud-scorer-cost". */
  name: string;
  /** Policy version chosen by its author, e.g. "3" or "2026-01-31". */
  version: string;
  /** Model id the policy is for. */
  model: string;
  /** Free text for people. @default "" */
  description: string;
  trigger: PolicyTrigger;
  guards: PolicyGuards;
  trainingWindow: TrainingWindowPolicy;
  /** Alert rules and receivers (detectors/alerts/types.ts). @default none: no alerts */
  alerts?: AlertPolicy;
  /**
   * Window minimums (rule revision 3). Absent in a policy that does not set them, so its content
   * hash stays what it was; {@link resolveEvidence} applies the defaults. @default DEFAULT_EVIDENCE
   */
  evidence?: EvidencePolicy;
  /**
   * The bars between broken, shifted and fine data (whole windows and segments). Absent in a
   * policy that does not set them, so its content hash stays what it was; each absent field is
   * the detector's default. @default DEFAULT_DATA_QUALITY
   */
  dataQuality?: DataQualityPolicy;
  /** Drift, data quality and quality per segment, and a segment SLO (detectors/segments/). @default none: whole windows only */
  segments?: SegmentPolicy;
  /**
   * Multivariate drift tests on sampled rows of each window (detectors/drift/multivariate/). Absent
   * in a policy that does not set them (off), so its content hash stays what it was. @default off
   */
  multivariate?: MultivariateDriftSettings;
  /**
   * Challenger probes of the cost-aware trigger (rule revision 4): price and schedule. Absent in
   * a policy that does not set them, so its content hash stays what it was;
   * `resolveProbePolicy` applies the defaults (probes on). @default DEFAULT_PROBES
   */
  probes?: ProbePolicy;
  /**
   * The quality metric. Absent in a policy that does not set it, so its content hash stays what
   * it was: binary models then track the monitor setting (accuracy), multiclass accuracy and
   * regression rmse (which needs `worthlessError`, so a regression policy sets it). @default absent
   */
  quality?: QualityPolicy;
}

/** Identifies the exact policy that drove a decision (the hash is sha256 of its canonical JSON). */
export interface PolicyRef {
  name: string;
  version: string;
  hash: string;
}
