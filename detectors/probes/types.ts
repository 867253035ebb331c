/**
 * Challenger probes: a challenger trained on the training window a retrain would use, never
 * deployed, scored beside the champion on the labelled events that follow. Pure types; plain
 * JSON, because the monitor carries them in its state and records them with its decisions.
 */
import type { OutcomeProbeMetric, PairedOutcomeSums } from './outcome-gap.ts';

/**
 * How a policy prices and schedules probes (top-level `probes` of a retrain policy; cost-aware
 * trigger, rule revision 4). Absent from a policy that does not set it, so its content hash stays
 * what it was; {@link resolveProbePolicy} applies the defaults.
 */
export interface ProbePolicy {
  /** Whether the cost-aware trigger may probe. @default true */
  enabled: boolean;
  /**
   * Price of one probe: one training run and a scoring pass, compute only (no review, no
   * deployment, no risk), in the trigger's money unit. "auto": a twentieth of the trigger's
   * `retrainCost`. @default "auto"
   */
  probeCost: number | 'auto';
  /** Paired labelled events a probe scores before its gap is read. @default 200 */
  minPairedEvents: number;
  /** Windows a probe scores at most; then its gap is read on what it has. @default 4 */
  maxWindows: number;
  /**
   * Scale of the gap a fresh model might find that the monitor's own evidence cannot see (the
   * prior of the value-of-information rule, in quality units). @default 0.005
   */
  priorGap: number;
}

/** Correctness of champion and challenger on the same labelled events. */
export interface PairedCounts {
  events: number;
  championCorrect: number;
  challengerCorrect: number;
  /** Events both got right (with the two totals, this gives the per-event difference's spread). */
  bothCorrect: number;
}

/** Why a probe was started (recorded with it). */
export interface ProbePlan {
  /** `before-retrain`: the trigger fired, and a retrain is worth checking first; `explore`: the value of knowing exceeds the probe's cost. */
  kind: 'before-retrain' | 'explore';
  /** Expected value of the information (explore) or the retrain cost at stake (before-retrain), in money. */
  value: number;
  /** What the probe costs: its price plus, before a retrain, the staleness of waiting for it. */
  cost: number;
  /**
   * The smallest gap that would change the decision: a probe whose interval ends below it (and
   * does not exclude 0 upwards) found no better model; one whose interval spans it is inconclusive.
   */
  worthwhileGap: number;
  /**
   * Windows it is planned to score: a probe before a retrain reads its gap after these (the wait
   * it was priced for); an exploring probe may go on to the policy's `maxWindows`. @default maxWindows
   */
  windows?: number;
  reason: string;
}

/** The challenger a runner trained and registered for a probe (never served). */
export interface ProbeChallenger {
  /** Its registry version (stage `probe`). */
  version: string;
  /** Its training snapshot (lineage). */
  lineageId: string;
  /** Labelled rows it trained on. */
  trainingRows: number;
}

/** A probe being scored. */
export interface ProbeInFlight {
  /** `<champion version>@<startedAt>`. */
  id: string;
  /** The champion it is compared with. */
  version: string;
  startedAt: number;
  /** How long the champion had served when it started, in hours. */
  versionAgeHours: number;
  trainingStart: number | null;
  trainingEnd: number;
  plan: ProbePlan;
  /** The trained challenger, when a runner registers it (the monitor). @default undefined */
  challengerModel?: ProbeChallenger;
  /** Windows scored so far and their paired counts (of a multiclass or regression probe: `events` only). */
  windows: number;
  counts: PairedCounts;
  /**
   * A multiclass or regression probe's paired sums in the policy's metric (outcome-gap.ts), which
   * its gap is read from. @default undefined (a binary probe: paired correctness in `counts`)
   */
  outcomes?: PairedOutcomeSums;
}

/**
 * `challenger-better`: the interval of challenger − champion excludes 0 in the challenger's
 * favour; `no-better`: its upper end is below the plan's worthwhile gap (no fresh model beats the
 * champion by enough to matter); `inconclusive`: neither (too few events, or the challenger could
 * not be trained).
 */
export type ProbeVerdict = 'challenger-better' | 'no-better' | 'inconclusive';

/** A finished probe: the measured gap on the same events, with its interval. */
export interface ProbeResult {
  id: string;
  version: string;
  startedAt: number;
  completedAt: number;
  versionAgeHours: number;
  trainingStart: number | null;
  trainingEnd: number;
  plan: ProbePlan;
  windows: number;
  events: number;
  /**
   * The policy metric the gap is in, for a multiclass or regression probe (its quality: see
   * detectors/quality/quality-metric.ts). @default undefined (accuracy of a binary model)
   */
  metric?: OutcomeProbeMetric;
  /** Quality (accuracy, for a binary model) of each on the paired events. */
  champion: number | null;
  challenger: number | null;
  /** challenger − champion, and its interval (paired t on the per-event correctness or loss difference). */
  gap: number | null;
  lower: number | null;
  upper: number | null;
  level: number;
  verdict: ProbeVerdict;
  /** The trained challenger, when a runner registers it (the monitor). @default undefined */
  challengerModel?: ProbeChallenger;
  /** Why the challenger could not be trained, when it could not. @default undefined */
  error?: string;
}

/** What a monitor remembers of its probes. */
export interface ProbeMemory {
  inFlight: ProbeInFlight | null;
  /** Finished probes, oldest first (the newest {@link MAX_PROBE_RESULTS}). */
  results: ProbeResult[];
}

/** What the policy evaluator sees: the memory and the version in service. */
export interface ProbeView extends ProbeMemory {
  version: string | null;
  /** Retrains of this model whose gain was measured in service (quality points before and after). */
  retrainOutcomes: { helped: number; didNotHelp: number };
}

/** Finished probes a monitor keeps. */
export const MAX_PROBE_RESULTS = 8;

/** What a decision records of the probe it scored, started or read (details.probe). */
export interface ProbeProvenance {
  /** The probe scored before this decision's tick. */
  scored?: {
    id: string;
    challengerVersion: string;
    evaluationId: string;
    /** Paired events added by this window, and in all since the probe started. */
    added: number;
    events: number;
    window: { start: number; end: number };
    /** Each side's decision threshold (a binary probe). @default undefined (multiclass or regression) */
    thresholds?: { champion: number; challenger: number };
    /** The policy metric the pairs are compared on (a multiclass or regression probe). @default undefined */
    metric?: OutcomeProbeMetric;
  };
  /** A probe finished by this window: its gap, interval and verdict. */
  result?: ProbeResult;
  /** A probe given up because the champion it compared with no longer serves. */
  abandoned?: { id: string; reason: string };
  /** A probe started by this decision: its challenger and what it costs (priced apart from retrains). */
  started?: {
    id: string;
    plan: ProbePlan;
    trainingWindow: { start: number | null; end: number };
    challenger: ProbeChallenger | null;
    cost: number;
    costSource: string;
    error?: string;
  };
}
