import type { DecayFit } from '../decay/types.ts';
import type { VersionEarlyQuality } from '../economics/staleness.ts';
import type { RetrainEconomics } from '../economics/types.ts';
import type { ProbePlan, ProbeView } from '../probes/types.ts';
import type { TriggerKind } from './types.ts';
import type { SegmentSloBreach } from '../segments/types.ts';

/**
 * What the policy evaluator is given and what it returns. Plain JSON both ways: the state is
 * carried by the ModelMonitor workflow (and across continue-as-new), the decision is stored
 * with its provenance. All instants are epoch milliseconds.
 */

/** One monitoring window, as the monitor summarises it. */
export interface WindowSummary {
  start: number;
  end: number;
  /** Events scored in the window. */
  events: number;
  /** Whether the window passed its data-quality checks (rule revision 3: no breakage; shift and few rows pass). @default true */
  dataQualityOk?: boolean;
  /** The breakage checks it failed, with their figures (rule revision 3). @default [] */
  broken?: string[];
  /** Labelled events behind its realised quality (of the pool, when pooled), or that have arrived for it. @default undefined */
  labelled?: number;
  /** Drift verdict summary, or `null` when drift was not evaluated. */
  /** `multivariateTests`: the multivariate tests that drifted, when they ran (a dataset drift none of the features show). */
  drift?: { datasetDrift: boolean; driftedShare: number; multivariateTests?: string[] } | null;
  /** Model quality in the window, realised (labels) or estimated (label-free), or `null` when unknown. */
  quality?: {
    metric: string;
    value: number;
    source: 'realised' | 'estimated';
    /** Windows a realised value is pooled over, when more than one (rule revision 3). @default undefined */
    pooledWindows?: number;
    /** An estimated value's interval (estimation revision 2). @default undefined */
    interval?: { lower: number; upper: number } | null;
  } | null;
}

export type ApprovalState =
  /** No approval has been requested for the pending retrain. */
  | { status: 'none' }
  /** Requested at `requestedAt`, not yet answered. */
  | { status: 'pending'; requestedAt: number }
  | { status: 'approved'; by: string; at: number }
  | { status: 'rejected'; by: string; at: number };

/** Everything the evaluator looks at. Optional fields have the defaults noted. */
export interface PolicyState {
  /** Recent windows, oldest first; the last one is the latest. Only windows that start at or after the last retrain count toward triggers. @default [] */
  windows?: WindowSummary[];
  /** Decay fit of the version in service. @default null */
  decay?: DecayFit | null;
  /** Quality of the version in service when it was fresh (e.g. validation), in the decay metric. @default decay.q0 */
  freshQuality?: number | null;
  /** When the version in service was trained (its age is measured from here). @default lastRetrainAt */
  versionTrainedAt?: number | null;
  /** When the last retrain finished (or the version was deployed). @default null (never) */
  lastRetrainAt?: number | null;
  /** Start times of recent retrains, for the budget guard (older ones are ignored). @default [] */
  recentRetrains?: number[];
  /** Whether a retrain of this model is running now. @default false */
  retrainInFlight?: boolean;
  /** Last detected change point in the data, for `since-change-point` training windows. @default null */
  lastChangePointAt?: number | null;
  /**
   * Early-life realised quality of recent versions (their first windows in service), oldest first,
   * the version in service last when it has any. The cost-aware trigger measures staleness against
   * their median — what a fresh version attains — rather than the serving version's own validation
   * quality. @default [] (falls back to `freshQuality`)
   */
  recentVersions?: VersionEarlyQuality[];
  /**
   * Revision of the cost-aware rule (see `MonitorSettings.ruleRevision`): 1 as shipped until
   * 2026-11; 2 adds the step rule (a step down priced for as long as it is expected to last);
   * 3 adds the data-quality guard over the training window, the window minimums and the wait
   * for enough labelled rows after a change; 4 challenger probes; 5 prices a step for as long as
   * the model's own quality excursions last when its history shows they revert (economics/persistence.ts);
   * 6 pools a window short of the minimum labels with the windows before it (monitor/label-pooling.ts);
   * 7 prices a step for as long again as it has lasted, not the version's age, while the history
   * is too short to tell lasting steps from excursions that revert (economics/staleness.ts `stepStaleness`);
   * 8 counts what a challenger probe measured beyond its verdict: an inconclusive probe whose measured
   * gap is below the gap the retrain needs holds it, as one that found no better model does
   * (probes/evidence.ts `estimateBelowWorthwhile`); a probe before a retrain needs at least the gap
   * at which the version's life so far pays for the retrain; and the explore value is taken under the
   * gap prior updated by the version's standing probes (probes/gap-posterior.ts); 9 prices an exploring
   * probe by what a probe of its size can measure — the value of sample information, the prior's scale
   * shrunk to s² / √(s² + σ²) for the standard error σ of the gap on the paired events it would score
   * (probes/sample-information.ts); 10 prices a probe before a retrain of a version whose gap its standing
   * probes already measured by the value of its sample information against the better of retraining and
   * keeping the version, and without the probe retrains or not on that measurement
   * (probes/before-retrain-information.ts).
   * Replayed workflow histories keep the revision they
   * were recorded under. @default DEFAULT_RULE_REVISION
   */
  ruleRevision?: number;
  /** Features of the model (of its reference), for window minimums sized to the model. @default null (unknown) */
  featureCount?: number | null;
  /** Which quality the latest window used and why, in words: decision reasons carry it (rule revision 3). @default null */
  qualityNote?: string | null;
  /**
   * Revision of the decision texts (see `MonitorSettings.textRevision`): 1 as shipped until
   * 2026-12 ("no action: …", "retrain: retrain: …", hours with one decimal, ISO instants); 2
   * without a repeated kind, durations and instants in detectors/texts' form, and the economics
   * statement. Replayed histories recorded under revision 1 keep it. @default LATEST_TEXT_REVISION
   */
  textRevision?: number;
  /** Approval of the retrain the policy wants (when approval is required). @default { status: 'none' } */
  approval?: ApprovalState;
  /**
   * Challenger probes (rule revision 4, cost-aware trigger; accuracy, or a multiclass or regression
   * metric measured per event: probes/outcome-gap.ts): the one being scored, the
   * finished ones and the version in service. Absent: the trigger neither probes nor reads probes.
   * @default undefined
   */
  probes?: ProbeView;
  /**
   * A person asked for a retrain (`forceRetrain`). It fires whatever the trigger kind and counts as
   * approval; with `force` it also overrides cooldown, budget, blackout and data quality — but never
   * one-at-a-time. @default null
   */
  manualRequest?: { by: string; reason: string; force: boolean } | null;
  /** Segments whose quality breaches the policy's segment SLO in the latest window (detectors/segments/). @default null */
  segmentSloBreaches?: SegmentSloBreach[] | null;
}

/** The newest revision of the cost-aware rule (the highest a policy or `backtest --rule-revision` may ask for). */
export const LATEST_RULE_REVISION = 10;

/**
 * The revision a monitor and a backtest use unless asked for another, and what a state without
 * `ruleRevision` gets. Revision 9 is opt-in: on the tuning sets it changed no real-data cost and made
 * three gradual streams dearer (+0.9 to +8.5%) beside eleven abrupt ones cheaper (BENCHMARKS.md, "Rule
 * revision 9"), and it explores flat models on small windows far later. Revision 10 is opt-in too
 * (BENCHMARKS.md, "Rule revision 10").
 */
export const DEFAULT_RULE_REVISION = 8;

export type GuardName = 'one-at-a-time' | 'data-quality' | 'cooldown' | 'budget' | 'blackout' | 'approval';

/** The outcome of one guard. */
export interface GuardCheck {
  guard: GuardName;
  passed: boolean;
  /** Whether a forced manual request overrode a failing guard. */
  overridden: boolean;
  detail: string;
  /** When a failing time-based guard stops blocking, if known. */
  until: number | null;
}

export type ApprovalOutcome = 'not-required' | 'needed' | 'pending' | 'approved' | 'rejected' | 'expired';

export interface TrainingWindowChoice {
  kind: 'fixed' | 'since-change-point' | 'all';
  /** First instant of training data, or `null` for all history. */
  start: number | null;
  end: number;
  reason: string;
}

export type DecisionValue = number | string | boolean | null;

/** The decision, with every threshold and input that drove it. */
export interface PolicyDecision {
  /** `retrain`: start one now; `blocked`: the trigger fired but a guard stopped it; `no-action`: the trigger did not fire. */
  kind: 'retrain' | 'no-action' | 'blocked';
  reason: string;
  policy: { name: string; version: string };
  model: string;
  evaluatedAt: number;
  trigger: { kind: TriggerKind | 'manual-request'; fired: boolean; reason: string };
  guardsApplied: GuardCheck[];
  /** First guard that blocked, when `kind` is `blocked`. */
  blockedBy: GuardName | null;
  /** Earliest instant the blocking guards could let a retrain through, when known. */
  notBefore: number | null;
  /** Approval status. With `kind: "blocked"` and `blockedBy: "approval"`, `needed` tells the monitor to ask a person now; `expiresAt` is when that request lapses. */
  approval: { required: boolean; status: ApprovalOutcome; expiresAt: number | null };
  thresholds: Record<string, DecisionValue>;
  inputs: Record<string, DecisionValue>;
  /** The cost-aware trigger's full computation. */
  economics: RetrainEconomics | null;
  trainingWindow: TrainingWindowChoice;
  /**
   * A challenger probe to start now, on `trainingWindow` (rule revision 4): the runner trains a
   * challenger without deploying it and scores it beside the champion on the next windows.
   * @default undefined
   */
  probe?: ProbePlan;
}
