/**
 * What the ModelMonitor workflow (and `halflife backtest`, which runs the same code without
 * Temporal) passes through one tick. Everything is plain JSON: the observation is an activity
 * result recorded in workflow history, and the state is carried across continue-as-new, so
 * replaying a history re-derives exactly the same decisions.
 */
import type { DecayFit } from '../decay/types.ts';
import type { DriftReport } from '../drift/report.ts';
import type { DataQualityReport, FeatureQualityCounts } from '../drift/data-quality.ts';
import type { CategoricalProfile, NumericCounts, NumericReferenceProfile } from '../drift/profiles.ts';
import type { ApprovalState, PolicyDecision, WindowSummary } from '../policy/state.ts';
import type { LabelledScoreHistogram } from '../quality/score-histogram.ts';
import type { CbpeModel } from '../quality/cbpe.ts';
import type { SerializedPageHinkley } from '../sequential/page-hinkley.ts';

/** The reference a window is compared with: profiles fixed once per model version. */
export interface MonitorReference {
  referenceId: string;
  modelVersion: string;
  features: Record<string, NumericReferenceProfile | CategoricalProfile>;
  /** Profile of the prediction score, for prediction drift. */
  prediction: NumericReferenceProfile | null;
  /** Label-free estimator fitted on the reference's labelled events, when there were enough. */
  cbpe: CbpeModel | null;
}

/** One window's aggregates, as the statistics activity computes them in ClickHouse. */
export interface WindowObservation {
  start: number;
  end: number;
  /** Scored events in the window (all versions). */
  events: number;
  /** Events per model version (traffic split, which version served), with when each was trained (registry) or first seen. */
  versions: { version: string; events: number; trainedAt: number | null }[];
  /** Records of this model rejected at ingest in the window. */
  deadLettered: number;
  /** Per-feature counts over the reference's bins / categories (absent when there is no reference yet). */
  features: Record<string, NumericCounts | CategoricalProfile>;
  /** Prediction score counts over the reference's prediction bins. */
  prediction: NumericCounts | null;
  /** Score histogram (equal-width bins over [0, 1]) of all scored events, for label-free estimation. */
  scoreHistogram: number[] | null;
  /** Data-quality counts per feature from the statistics pass (with type violations); absent: derived from the profiles. */
  quality?: FeatureQualityCounts[] | null;
  /** Labelled events of the window (labels joined by event_id), split by label, or null when none. */
  labelled: { events: number; histogram: LabelledScoreHistogram; labelDelayHoursP50: number | null } | null;
}

/** A quality point of one model version at an age, for the decay fit. */
export interface QualityPoint {
  version: string;
  ageHours: number;
  quality: number;
  weight: number;
  source: 'realised' | 'estimated';
}

/** Settings of a monitor that are not part of the retrain policy. */
export interface MonitorSettings {
  /** Quality metric the monitor tracks and the decay model fits. @default "accuracy" */
  qualityMetric: 'accuracy' | 'auc';
  /** Labelled events a window needs before its realised quality is used. @default 200 */
  minLabelledEvents: number;
  /** Quality SLO: the decay fit predicts when quality falls below it. @default null (none) */
  qualitySlo: number | null;
  /** Windows kept in state (older ones are summarised away). @default 168 */
  maxWindows: number;
  /** Quality points kept per version and versions kept for the population view. @default 500, 8 */
  maxPointsPerVersion: number;
  maxVersions: number;
  /**
   * Revision of the decay fit and cost-aware rule the monitor applies (ARCHITECTURE.md, "How
   * halflife decides to retrain"). 1: as shipped until 2026-11-26. 2: the linear decay rate is
   * shrunk toward earlier versions' rates and its error widened for runs of windows
   * (decay/population.ts `populationRate`, decay/fit.ts `serialCorrelation`); a credible step down
   * is priced for as long as it is expected to last (economics/staleness.ts `stepStaleness`); the
   * cumulative rule measures a version with no sign of staleness against its own early life
   * (`cumulativeYardstick`). The ModelMonitor workflow keeps 1 for runs that started before
   * revision 2 (no `patched` marker in their history), so replay re-derives their decisions.
   * @default 2
   */
  ruleRevision: 1 | 2;
  /**
   * Most cadences one evaluation covers when the monitor wakes with several windows due (it fell
   * behind): they are evaluated as one coalesced window and older ones are skipped, both recorded
   * with the decision (schedule.ts). @default 24
   */
  maxCoalescedWindows: number;
  /**
   * Bounded decay fits (decay/fit.ts `windowHours`): the fit's fresh quality and floor stay within
   * the metric's range, and a half-life shorter than the monitor's windows (or a decay over before
   * its first window) is no fit, so the cumulative rule decides. Gated like rule revision 2: the
   * ModelMonitor workflow keeps it off for runs that started before it (no `patched` marker), so
   * replay re-derives their decisions. @default true
   */
  boundedDecayFits: boolean;
  /**
   * Revision of the decision texts (detectors/texts/revision.ts): 2 states reasons without
   * repeating the decision's kind, with one duration and time format and the economics statement.
   * The ModelMonitor workflow keeps 1 for runs that started before it (no `patched` marker), so
   * replay re-derives the reasons they recorded. @default 2
   */
  textRevision: 1 | 2;
}

export const DEFAULT_MONITOR_SETTINGS: MonitorSettings = {
  qualityMetric: 'accuracy',
  minLabelledEvents: 200,
  qualitySlo: null,
  maxWindows: 168,
  maxPointsPerVersion: 500,
  maxVersions: 8,
  ruleRevision: 2,
  maxCoalescedWindows: 24,
  boundedDecayFits: true,
  textRevision: 2,
};

/** Everything a monitor remembers between ticks (and across continue-as-new). */
export interface MonitorState {
  modelId: string;
  /** Version in service and when it was trained (its age is measured from there). */
  version: string | null;
  versionTrainedAt: number | null;
  /** Quality of the version when fresh (its validation), if known. */
  freshQuality: number | null;
  windows: WindowSummary[];
  points: QualityPoint[];
  decay: DecayFit | null;
  changeDetector: SerializedPageHinkley | null;
  lastChangePointAt: number | null;
  lastRetrainAt: number | null;
  recentRetrains: number[];
  retrainInFlight: boolean;
  approval: ApprovalState;
  manualRequest: { by: string; reason: string; force: boolean } | null;
  paused: boolean;
  ticks: number;
}

/** What one tick found, kept in the decision's provenance. */
export interface WindowEvaluation {
  window: WindowSummary;
  drift: DriftReport | null;
  dataQuality: DataQualityReport;
  quality: {
    metric: string;
    realised: { value: number | null; n: number; interval: { lower: number; upper: number } | null } | null;
    estimated: { value: number | null; n: number; trustworthy: boolean; reasons: string[] } | null;
    used: 'realised' | 'estimated' | null;
  };
  changePoint: { detected: boolean; statistic: number | null };
}

export interface TickResult {
  state: MonitorState;
  evaluation: WindowEvaluation;
  decision: PolicyDecision;
}
