/**
 * What the ModelMonitor workflow (and `halflife backtest`, which runs the same code without
 * Temporal) passes through one tick. Everything is plain JSON: the observation is an activity
 * result recorded in workflow history, and the state is carried across continue-as-new, so
 * replaying a history re-derives exactly the same decisions.
 */
import type { DecayFit } from '../decay/types.ts';
import type { MultivariateDriftReport } from '../drift/multivariate/report.ts';
import type { DriftReport } from '../drift/report.ts';
import type { AppearedFeatures, DataQualityReport, FeatureQualityCounts } from '../drift/data-quality.ts';
import type { CategoricalProfile, NumericCounts, NumericReferenceProfile } from '../drift/profiles.ts';
import type { ApprovalState, PolicyDecision, WindowSummary } from '../policy/state.ts';
import type { LabelledScoreHistogram } from '../quality/score-histogram.ts';
import type { CbpeModel } from '../quality/cbpe.ts';
import type { OutcomeEstimate } from '../quality/outcome-estimate.ts';
import type { OutcomeSums } from '../quality/outcome-sums.ts';
import type { QualityMetric } from '../quality/quality-metric.ts';
import type { EstimationGrouping, ScoreGroup } from '../quality/cbpe-groups.ts';
import type { SerializedPageHinkley } from '../sequential/page-hinkley.ts';
import type { SegmentReport } from '../segments/evaluate-segments.ts';
import type { SegmentObservation, SegmentReferenceCounts, SegmentSloBreach } from '../segments/types.ts';
import type { SegmentLabelWindow } from '../segments/segment-pooling.ts';
import type { ProbeMemory } from '../probes/types.ts';
import type { EstimatorFit } from '../quality/estimator-source.ts';

/** The reference a window is compared with: profiles fixed once per model version. */
export interface MonitorReference {
  referenceId: string;
  modelVersion: string;
  features: Record<string, NumericReferenceProfile | CategoricalProfile>;
  /** Profile of the prediction score, for prediction drift. */
  prediction: NumericReferenceProfile | null;
  /** Label-free estimator fitted on the reference's labelled events, when there were enough. */
  cbpe: CbpeModel | null;
  /**
   * The decision threshold the estimator was fitted at: the version's own (`version`, its
   * registry params' `decisionThreshold`) or 0.5 when it records none (`default`). @default undefined (0.5, not recorded)
   */
  decisionThreshold?: { value: number; source: 'version' | 'default' };
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
  labelled: {
    events: number;
    histogram: LabelledScoreHistogram;
    labelDelayHoursP50: number | null;
    /** The 99th percentile of its label delays (hours), what the auto late-label horizon reads. @default undefined (unknown) */
    labelDelayHoursP99?: number | null;
  } | null;
  /**
   * Labels counted are those that had arrived (`label_ts`) by this instant, the decision time, as
   * in production (rule revision 3). @default null (every stored label)
   */
  labelsArrivedBy?: number | null;
  /**
   * Labels that arrived after the previous observation's `labelsArrivedBy` (and by this one's) for
   * events of earlier windows, per window start: late labels fill in those windows' realised
   * quality (rule revision 3). @default null
   */
  lateLabelled?: { start: number; events: number; histogram: LabelledScoreHistogram }[] | null;
  /** Feature keys the reference does not know (absent: not counted). @default null */
  appeared?: AppearedFeatures | null;
  /** The window's segments, when the policy names segment keys (detectors/segments/). @default null */
  segments?: SegmentObservation | null;
  /**
   * The window's scores grouped as the reference's estimator asked (`grouping`, quality/cbpe-groups.ts),
   * with the events outside the reference's score range (estimation revision 2). @default null
   */
  estimationGroups?: { grouping: EstimationGrouping; groups: ScoreGroup[]; outside: number } | null;
  /** Multivariate drift of a sample of the window against one of the reference, when the policy runs the tests. @default null */
  multivariate?: MultivariateDriftReport | null;
  /**
   * A multiclass or regression model's labelled events summed for its metrics (confusion counts
   * and log-loss sums; error and target sums), labels cut at `labelsArrivedBy`. Absent for a
   * binary model, whose quality comes from `labelled`. @default undefined
   */
  outcomes?: OutcomeSums | null;
  /**
   * A multiclass or regression model's labels that arrived after the previous observation's
   * `labelsArrivedBy` for events of earlier windows, summed per window start (what `lateLabelled`
   * is for a binary model). @default null
   */
  lateOutcomes?: { start: number; sums: OutcomeSums }[] | null;
  /**
   * A multiclass or regression model's label-free estimate of the window (multiclass CBPE from
   * its calibrated probability sums, regression DLE on a sample of its rows), computed by the
   * window read with the estimator fitted on the reference; null when none could be made (its
   * reasons say why). Absent: not asked for (runs before the `kind-estimation` marker). @default undefined
   */
  outcomeEstimate?: OutcomeEstimate | null;
}

/** A quality point of one model version at an age, for the decay fit. */
export interface QualityPoint {
  version: string;
  ageHours: number;
  quality: number;
  weight: number;
  source: 'realised' | 'estimated';
  /** Start of the window (or of the pooled windows) the point measures; lets late labels replace it (rule revision 3). @default undefined */
  start?: number;
}

/**
 * A window whose realised quality can still change (rule revision 3): its labels so far, binned
 * coarsely (accuracy at 0.5 stays exact: 0.5 is a bin edge), so late labels can be added and
 * windows with too few labels pooled with their neighbours.
 */
export interface MaturingWindow {
  start: number;
  end: number;
  /** The version that scored most of it, and when that version was trained (its age runs from there). */
  version: string | null;
  trainedAt: number | null;
  /** Labelled events so far. */
  labelled: number;
  /** Labels 1 and 0 per score bin (`MATURING_BINS` bins), or null while it has none. */
  positives: number[] | null;
  negatives: number[] | null;
  /** The label-free estimate at close, when trustworthy: stands in until enough labels arrive. */
  estimated: number | null;
  /** Its interval (estimation revision 2). @default undefined */
  estimatedInterval?: { lower: number; upper: number } | null;
  /** The decision threshold an estimated accuracy is at (estimation revision 2). @default undefined */
  estimatedThreshold?: number;
  /**
   * A multiclass or regression estimate in the metric's own units and its method, for the texts
   * (`estimated` is its quality). @default undefined
   */
  estimatedFigure?: { method: 'CBPE' | 'DLE'; value: number; interval: { lower: number; upper: number } | null };
  /** Whether breakage was found in it: its labels measure broken data, so it is never pooled. */
  broken: boolean;
  /** A multiclass or regression model's outcome sums so far (additive: pooled by adding). @default undefined */
  outcomes?: OutcomeSums;
  /** Start of the pool it belonged to after the last tick: a pool leaves the kept windows whole. @default undefined */
  pool?: number;
  /**
   * Its labels by delay so far: [half-octave delay bucket, labels] (late-label-horizon.ts), what
   * the auto late-label horizon is sized from. @default undefined (none recorded)
   */
  labelDelays?: [number, number][];
}

/** The late-label horizon a tick fixed for the next one (late-label-horizon.ts). */
export interface LateLabelHorizon {
  /** Labels count for a window while it closed less than this long before the previous decision. */
  ms: number;
  /** Where it came from: the policy's duration, or auto with the observed p99 (ms) it was sized from. */
  source: { kind: 'policy' } | { kind: 'auto'; p99Ms: number; clamped: 'min' | 'max' | null };
}

/** Settings of a monitor that are not part of the retrain policy. */
export interface MonitorSettings {
  /**
   * Quality metric the monitor tracks and the decay model fits. The policy's `quality.metric`
   * overrides it for the tick (multiclass and regression metrics come only from there).
   * @default "accuracy"
   */
  qualityMetric: QualityMetric;
  /** For mae and rmse: the error at which quality is 0 (the policy's `quality.worthlessError`). @default undefined */
  worthlessError?: number | null;
  /**
   * Labelled events a window needs before its realised quality is used, under rule revisions 1
   * and 2. Revision 3 takes the policy's `evidence.minLabelledEvents` (default 30) and pools
   * windows with fewer. @default 200
   */
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
   * (`cumulativeYardstick`). 3: data quality tells breakage from shift and the guard judges every
   * window a retrain would train on, keeping broken ones out; the policy's window minimums
   * (`evidence`) apply, windows with too few labels are pooled, labels count only once arrived
   * and late labels fill in earlier windows; after a change the trigger waits for enough
   * labelled rows. The ModelMonitor workflow keeps the revision a run started with (`patched`
   * markers in its history), so replay re-derives its decisions. 4: challenger probes
   * (detectors/probes/) measure what a fresh model attains on the same events, and a stuck value
   * is breakage only where it replaces spread (a value the reference already had with mass,
   * grown more frequent while the window keeps its spread, is shift). 5: the step rule prices a
   * step down for as long as the model's own quality excursions last, when its window history
   * shows excursions beyond sampling noise that revert (detectors/economics/persistence.ts).
   * 6: a window short of `evidence.minLabelledEvents` (its last labels not yet arrived, or too
   * few events) that has labels of its own is pooled with the windows before it, so it is judged
   * on realised quality rather than the estimate (monitor/label-pooling.ts `poolWithEarlier`).
   * 7: while the window history is too short to tell a step that lasts from an excursion that
   * reverts (fewer than 6 consecutive window pairs in stable stretches), a step is priced for as
   * long again as it has lasted, not for the version's age (economics/staleness.ts `stepStaleness`).
   * 8: what a challenger probe measured counts beyond its verdict (detectors/probes/gap-posterior.ts,
   * evidence.ts `estimateBelowWorthwhile`). 9: an exploring probe is priced by what a probe of its
   * size can measure, the value of sample information (detectors/probes/sample-information.ts);
   * opt-in (`DEFAULT_RULE_REVISION`). 10: a probe before a retrain of a version whose gap its probes
   * already measured is priced by what it can add to that measurement, and without one the measurement
   * decides (detectors/probes/before-retrain-information.ts); opt-in.
   * @default 8
   */
  ruleRevision: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;
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
   * replay re-derives the reasons they recorded. 3 records a challenger probe the data-quality
   * guard stops as that guard's block (before a retrain) or names it (exploring); runs without
   * its marker keep 2. @default 3
   */
  textRevision: 1 | 2 | 3;
  /**
   * Revision of the label-free estimate (monitor/window-estimate.ts). 1: accuracy only, at the
   * estimator's fitted threshold (0.5), from score-histogram bin centres, without an interval.
   * 2: the policy's metric (accuracy or ROC AUC) at the version's own decision threshold, from
   * score groups the window query returns, with its interval, which health and the SLO alert
   * rule use. The ModelMonitor workflow keeps 1 for runs that started before it (no `patched`
   * marker). @default 2
   */
  estimationRevision?: 1 | 2;
  /**
   * Challenger probes of multiclass and regression models (rule revision 4 and later): a policy
   * whose metric is log loss, MAE, RMSE or R² gets probes as an accuracy policy does, their gap
   * in its metric as quality (detectors/probes/outcome-gap.ts). The ModelMonitor workflow keeps
   * it off for runs that started before it (no `patched` marker), so replay re-derives their
   * decisions. @default true
   */
  kindProbes?: boolean;
  /**
   * Tell a stuck value from a ceiling by the window's event order (rule revision 4 and later;
   * detectors/drift/data-quality.ts `stuck_order_aware`, the runs test in value-runs.ts): a value
   * grown far more frequent whose repeats interleave with other values, at a value the reference
   * had, with the other values keeping their spread, is a ceiling or floor reached more often
   * (shift, never a block); repeats in stretches stay a stuck value (breakage). The ModelMonitor
   * workflow keeps it off for runs that started before it (no `stuck-value-order` marker), so
   * replay re-derives their decisions. @default true
   */
  stuckValueOrder?: boolean;
  /**
   * Pool a segment short of its SLO's labelled minimum (`segments.slo.minEvents`) that has labels
   * of its own with the same segment's labels of the windows just before it (rule revision 6 and
   * later; detectors/segments/segment-pooling.ts), as revision 6 pools the whole window, so a
   * low-volume segment is held to the SLO. The ModelMonitor workflow keeps it off for runs that
   * started before it (no `segment-pooled-quality` marker), so replay re-derives their decisions. @default true
   */
  segmentPooling?: boolean;
  /**
   * Late labels count only for windows inside the late-label horizon (the policy's
   * `evidence.lateLabelHorizon`, late-label-horizon.ts): older windows are mature and their late
   * labels are neither read nor counted. The ModelMonitor workflow keeps it off for runs that
   * started before it (no `late-label-horizon` marker): every kept window keeps receiving them,
   * so replay re-derives their decisions. @default true
   */
  lateLabelHorizon?: boolean;
  /**
   * Judge a segment's stuck values against its own reference (detectors/segments/): each segment
   * carries its reference's most frequent value per numeric feature, and its window's read counts
   * the most frequent value of the segment's candidates, so a feature stuck inside one segment
   * (one country's pipeline writing 0) is breakage there while the rest of the traffic is fine.
   * The ModelMonitor workflow keeps it off for runs that started before it (no
   * `segment-stuck-values` marker), so replay re-derives their decisions. @default true
   */
  segmentStuckValues?: boolean;
}

export const DEFAULT_MONITOR_SETTINGS: MonitorSettings = {
  qualityMetric: 'accuracy',
  minLabelledEvents: 200,
  qualitySlo: null,
  maxWindows: 168,
  maxPointsPerVersion: 500,
  maxVersions: 8,
  ruleRevision: 8,
  maxCoalescedWindows: 24,
  boundedDecayFits: true,
  textRevision: 3,
  estimationRevision: 2,
  kindProbes: true,
  stuckValueOrder: true,
  segmentPooling: true,
  lateLabelHorizon: true,
  segmentStuckValues: true,
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
  /** Windows whose realised quality late labels can still change (rule revision 3), oldest first. @default [] */
  maturing?: MaturingWindow[];
  /** The previous observation's `labelsArrivedBy`: labels arriving after it are new to the monitor. @default null */
  labelsArrivedBy?: number | null;
  /**
   * The late-label horizon the last tick fixed for the next (late-label-horizon.ts): late labels
   * are asked and counted only for windows inside it. @default undefined (every kept window)
   */
  lateLabelHorizon?: LateLabelHorizon | null;
  /** The reference's segment counts the windows are judged against, and the latest window's segment SLO breaches. @default undefined */
  segments?: {
    reference: SegmentReferenceCounts | null;
    sloBreaches: SegmentSloBreach[];
    /** Recent windows' segment labels, for pooling a short segment with them (`segmentPooling`). @default undefined */
    labels?: SegmentLabelWindow[];
  };
  /** Challenger probes: the one being scored and the finished ones (rule revision 4). @default undefined (none yet) */
  probes?: ProbeMemory;
}

/** What one tick found, kept in the decision's provenance. */
export interface WindowEvaluation {
  window: WindowSummary;
  drift: DriftReport | null;
  dataQuality: DataQualityReport;
  quality: {
    metric: string;
    realised: {
      value: number | null;
      n: number;
      interval: { lower: number; upper: number } | null;
      /**
       * For a multiclass or regression metric: its figure in its own units (value, interval) and
       * how quality was derived from it (quality-metric.ts). @default undefined
       */
      figure?: { value: number | null; interval: { lower: number; upper: number } | null; transform: string };
    } | null;
    estimated: {
      value: number | null;
      n: number;
      trustworthy: boolean;
      reasons: string[];
      /** Sampling interval assuming calibration holds (estimation revision 2). @default undefined */
      interval?: { lower: number; upper: number; level: number } | null;
      /** The decision threshold accuracy was estimated at (estimation revision 2). @default undefined */
      threshold?: number;
      /** CBPE (binary, multiclass) or DLE (regression). @default undefined */
      method?: 'CBPE' | 'DLE';
      /**
       * For a multiclass or regression metric: the estimate in the metric's own units and how
       * quality was derived from it (quality-metric.ts). @default undefined
       */
      figure?: { value: number | null; interval: { lower: number; upper: number } | null; transform: string };
      /**
       * A multiclass or regression estimator's source: the version's own labelled events in the
       * reference's window, or its held-out snapshot rows scored at validation (quality/estimator-source.ts).
       * @default undefined (not recorded)
       */
      fittedOn?: EstimatorFit;
    } | null;
    used: 'realised' | 'estimated' | null;
    /** Which source was used and why, in words (rule revision 3). @default undefined */
    reason?: string;
    /** Windows the realised value is pooled over, when more than this one (rule revision 3). @default undefined */
    pooledWindows?: number;
  };
  changePoint: { detected: boolean; statistic: number | null };
  /** Per-segment drift, data quality and quality, when the policy names segment keys. @default undefined */
  segments?: SegmentReport | null;
}

export interface TickResult {
  state: MonitorState;
  evaluation: WindowEvaluation;
  decision: PolicyDecision;
}
