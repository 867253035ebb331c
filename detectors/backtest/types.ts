/**
 * Types of `halflife backtest`: a labelled scoring history replayed through the monitor's tick
 * (same windowing, detectors, decay model and policy code as the ModelMonitor workflow) with
 * in-process training whenever the policy retrains. Pure types; the replay is `replay.ts`.
 */
import type { MonitorSettings } from '../monitor/types.ts';
import type { RetrainPolicy } from '../policy/types.ts';
import type { BacktestWindowing } from './windowing.ts';
import type { ProbePlan, ProbeResult } from '../probes/types.ts';

/** One event of the history: when it was scored, its features, the file's score and its label. */
export interface BacktestRow {
  /** Epoch milliseconds. Rows must arrive in non-decreasing time order. */
  time: number;
  /** Raw feature values by name; null marks a missing value. */
  features: Readonly<Record<string, number | string | null>>;
  /** The serving model's score in [0, 1] from the file, or null when the file has none. */
  prediction: number | null;
  /** Binary label, or null when the event was never labelled. */
  label: 0 | 1 | null;
  /** When the label arrived (epoch ms); absent: `time` + the run's `labelDelayMs`. @default undefined */
  labelTime?: number | null;
}

/** Data handed to a trainer: labelled rows of the chosen training window. */
export interface TrainingSet {
  rows: readonly BacktestRow[];
  numeric: readonly string[];
  categorical: readonly string[];
}

/** A trained model: a probability of label 1 for a row's features. */
export interface BacktestModel {
  predict(features: BacktestRow['features']): number;
}

/**
 * Trains a model in process. Must be deterministic for a given training set and seed, so that a
 * backtest is reproducible (and the benchmark's oracle sees exactly the models the engine trains).
 */
export interface BacktestTrainer {
  readonly name: string;
  train(data: TrainingSet, seed: number): BacktestModel;
}

/**
 * How the backtest prices a schedule, two ways:
 * - `totalCost` (policy-relative, as before): per window, valuePerQualityUnit × events ×
 *   max(0, freshQuality − quality), where freshQuality is the serving version's validation quality
 *   and quality the window's realised quality; per retrain, retrainCost + riskCost. A version
 *   trained on bad data validates low and so looks cheap: do not compare policies by it.
 * - `trueCost` (policy-independent): per window, valuePerQualityUnit × events × (1 − quality),
 *   quality measured in hindsight on every labelled event of the window; per retrain that served
 *   a window, retrainCost + riskCost; per challenger probe, the policy's probe cost. Compare policies by this.
 */
export interface BacktestCostModel {
  /** Money lost per scored event per 1.0 of quality lost. */
  valuePerQualityUnit: number;
  /** Cost of one retrain. */
  retrainCost: number;
  /** Expected deployment-risk cost added to each retrain (probability × cost). @default 0 */
  riskCost?: number;
}

/** What a backtest of any kind is given (the row type is the kind's). */
export interface ReplayOptions<Row> {
  /** The history, in time order (an array, any iterable or an async iterable). */
  rows: Iterable<Row> | AsyncIterable<Row>;
  /** Numeric feature names. */
  numeric: readonly string[];
  /** Categorical feature names. @default [] */
  categorical?: readonly string[];
  /** Whether rows carry the serving model's prediction; if not, the first model is trained on the reference period. */
  hasPrediction: boolean;
  policy: RetrainPolicy;
  /** Window length (the monitor's cadence). */
  cadenceMs: number;
  /** How the history is cut into windows. @default { kind: 'duration', ms: cadenceMs } */
  windowing?: BacktestWindowing;
  /** Length of the reference period at the start of the history (a whole number of cadences is natural). */
  referenceWindowMs: number;
  trainer: { readonly name: string };
  /** Prices the schedule; when null the report's costs are null. @default null */
  costModel?: BacktestCostModel | null;
  /** Monitor settings (quality metric, labelled events needed per window, …). @default DEFAULT_MONITOR_SETTINGS */
  settings?: Partial<MonitorSettings>;
  /** Seed passed to the trainer (the same for every training, so equal windows give equal models). @default 1 */
  seed?: number;
  /** Share of each training window held out to measure the fresh version's quality. @default 0.2 */
  validationShare?: number;
  /**
   * How long a label takes to arrive after its event, for rows without `labelTime`: a window sees
   * only labels that arrived before it closed, later ones reach earlier windows as late labels,
   * and a retrain trains only on labels that had arrived. @default 0
   */
  labelDelayMs?: number;
  /** Called after each window with the windows done so far (for progress output). */
  onWindow?: (done: { windows: number; rows: number; retrains: number; time: number }) => void;
}

/** A binary model's backtest: scores in [0, 1] and 0/1 labels. */
export interface BacktestOptions extends ReplayOptions<BacktestRow> {
  /**
   * The decision threshold of the file's model and of every trained version (score ≥ it predicts
   * positive): label-free accuracy is estimated at it. @default null (none recorded: 0.5)
   */
  decisionThreshold?: number | null;
  trainer: BacktestTrainer;
}

export interface BacktestDecision {
  /** When the decision was taken (the end of the window that triggered it), epoch ms. */
  time: number;
  /** The policy's decision, or `retrain-failed` when the policy said retrain but training could not run. */
  kind: 'retrain' | 'no-action' | 'blocked' | 'retrain-failed';
  reason: string;
  /** Version serving when the decision was taken. */
  version: string | null;
  /** For retrains: the new version, its training window, the rows it was fitted and validated on, and fresh (validation) quality. */
  retrain?: {
    newVersion: string | null;
    trainingStart: number | null;
    trainingEnd: number;
    /** Labelled rows the model was fitted on (as `versions[].trainingRows`). */
    trainingRows: number;
    /** Labelled rows held out to measure its fresh quality. */
    validationRows: number;
    /** Every row in the training window, labelled or not (or not yet). */
    windowRows: number;
    freshQuality: number | null;
    /** Decided as the last window closed: the new version served nothing, and `trueCost` does not charge it. */
    servesNothing?: boolean;
    error?: string;
  };
}

export interface BacktestWindow {
  start: number;
  end: number;
  events: number;
  labelled: number;
  /** Version that scored the window. */
  version: string;
  /** Realised quality (settings metric) of the window, or null without labels. */
  quality: number | null;
  /** Label-free estimate from the reference's CBPE calibrator, when available. */
  estimatedQuality: number | null;
  /**
   * The label-free estimate with its interval beside the realised value of the same metric at the
   * same threshold (every label of the window, in hindsight), and the alert the estimate alone
   * raises (its upper bound below the SLO or the reference band); null without an estimate.
   * @default undefined
   */
  estimate?: {
    metric: string;
    value: number;
    lower: number | null;
    upper: number | null;
    threshold: number;
    trustworthy: boolean;
    realised: number | null;
    /** The estimate over the reference period: the reference band is [this − 0.02, …]. */
    referenceEstimate: number | null;
    alert: string | null;
  } | null;
  /** Which quality the monitor used for its decay fit and triggers (as it stood when the window closed). */
  qualityUsed: 'realised' | 'estimated' | null;
  /** Why that source, in words. @default undefined */
  qualityReason?: string;
  /**
   * The quality value the decision used (realised, possibly pooled, or the estimate), which
   * `quality` (this window's own labels at its close) need not be; null when none. @default undefined
   */
  qualityUsedValue?: number | null;
  /** Windows that value is pooled over, when more than this one (rule revision 3 on). @default undefined */
  qualityPooledWindows?: number;
  /** Labels that had arrived when the window closed (the rest arrive late). */
  labelledAtClose: number;
  /** Realised quality in hindsight, over every labelled event of the window whenever its label arrived. */
  hindsightQuality: number | null;
  /** valuePerQualityUnit × events × (1 − hindsight quality), or null when unpriced or unlabelled. */
  trueCost: number | null;
  /** The window's data-quality result: whether it was broken, and every failing check (breakage, shift, evidence). */
  dataQuality: {
    broken: boolean;
    checks: { check: string; kind: 'breakage' | 'shift' | 'evidence'; feature: string | null; detail: string }[];
  };
  drift: { detected: boolean; driftedShare: number; driftedFeatures: string[] } | null;
  /** Staleness cost of the window, or null when unpriced or unlabelled. */
  stalenessCost: number | null;
  /** A challenger probe scored in this window, started at its close, or finished (rule revision 4). @default undefined */
  probe?: BacktestProbeRecord;
}

/** What a window did with a challenger probe. */
export interface BacktestProbeRecord {
  id: string;
  /** Labelled events of the window both models scored. @default undefined (none scored) */
  scored?: number;
  /** The probe finished at this window's close: the gap, its interval and the verdict. @default undefined */
  result?: ProbeResult;
  /** A probe started at this window's close: why, and the training window its challenger was trained on. @default undefined */
  started?: ProbePlan & { trainingStart: number | null; trainingEnd: number; trainingRows: number };
}

export interface BacktestVersion {
  version: string;
  /** Epoch ms; for the file's own model, the start of the history. */
  trainedAt: number;
  freshQuality: number | null;
  source: 'file' | 'trainer';
  /** Labelled rows it was fitted on (0 for the file's own model). */
  trainingRows: number;
  /** Labelled rows held out to measure its fresh quality. */
  validationRows: number;
}

export interface BacktestReport {
  model: string;
  policy: { name: string; version: string; trigger: string };
  trainer: string;
  cadenceMs: number;
  reference: { start: number; end: number; rows: number };
  rows: number;
  labelledRows: number;
  decisions: BacktestDecision[];
  retrains: number;
  failedRetrains: number;
  windows: BacktestWindow[];
  versions: BacktestVersion[];
  costModel: (BacktestCostModel & { riskCost: number }) | null;
  stalenessCost: number | null;
  retrainCost: number | null;
  totalCost: number | null;
  /** Policy-independent cost (see {@link BacktestCostModel}); null when unpriced. */
  trueCost: number | null;
  /** What `trueCost` is made of. */
  trueCostParts: {
    staleness: number;
    retrains: number;
    /** Retrains decided as the last window closed: flagged, not charged. */
    retrainsServingNothing: number;
    /** Windows without a single labelled event: not priced. */
    unlabelledWindows: number;
    /** Challenger probes started, and what they cost (probes × the policy's probe cost). @default 0 */
    probes?: number;
    probeCost?: number;
  } | null;
  /** The label delay the run assumed for rows without their own label time (ms). */
  labelDelayMs: number;
  /** Challenger probes started (rule revision 4, cost-aware). */
  probes: number;
}
