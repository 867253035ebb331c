/**
 * Challenger probes run by the ModelMonitor (rule revision 4), as the backtest runs them
 * (detectors/backtest/probe-runner.ts): when a decision asks for a probe, a challenger is trained
 * on the decision's training window through the retrain's own steps (snapshot with lineage, then
 * the trainer), registered in stage `probe` — never promoted, published or served; before each
 * following tick it scores the champion's labelled events since the probe started (activities/
 * probe.ts; a multiclass or regression model's by activities/outcome-probe.ts), and the paired
 * counts (or loss sums) go into the probe's memory (detectors/probes), which reads the gap the rule uses. Workflow code: deterministic, commands only through activities.
 */
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { RetrainActivities } from '../../activities/retrain.ts';
import type { MonitorState } from '../../detectors/monitor/types.ts';
import type { PolicyDecision } from '../../detectors/policy/state.ts';
import type { RetrainPolicy } from '../../detectors/policy/types.ts';
import {
  pairedOutcomeSumsSince,
  type OutcomeProbeMetric,
  type PairedOutcomeSums,
} from '../../detectors/probes/outcome-gap.ts';
import { pairedCountsSince } from '../../detectors/probes/paired-gap.ts';
import { resolveProbePolicy, type ResolvedProbePolicy } from '../../detectors/probes/policy.ts';
import { abandonProbe, failProbe, probeIdOf, recordProbeWindow, startProbe } from '../../detectors/probes/progress.ts';
import type { PairedCounts, ProbeChallenger, ProbeProvenance, ProbeResult } from '../../detectors/probes/types.ts';
import type { RetrainSettings } from '../retrain.ts';

/** Training a challenger: the retrain's timeouts and retries (a probe trains as a retrain does). */
const training = proxyActivities<RetrainActivities>({
  startToCloseTimeout: '2h',
  heartbeatTimeout: '2m',
  retry: {
    initialInterval: '1s',
    maximumInterval: '5m',
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['TrainingInputError', 'ValidationError'],
  },
});

/** Scoring a probe window: a bounded read and one onnxruntime pass. */
const scoring = proxyActivities<RetrainActivities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '2m',
  retry: {
    initialInterval: '5s',
    maximumInterval: '2m',
    maximumAttempts: 10,
    nonRetryableErrorTypes: ['ValidationError'],
  },
});

/** Paired events a probe reads at most (oldest first). */
const MAX_PROBE_EVENTS = 20_000;

/** The policy's probe settings, priced against its retrain cost. */
export function probePolicyOf(policy: RetrainPolicy): ResolvedProbePolicy {
  return resolveProbePolicy(policy.probes, policy.trigger.kind === 'cost-aware' ? policy.trigger.retrainCost : 0);
}

/**
 * Before the tick: score the window for the probe in flight, so the tick's decision sees its
 * result. Returns the new state (its probe memory) and what happened.
 */
export async function scoreProbeWindow(args: {
  modelId: string;
  state: MonitorState;
  policy: RetrainPolicy;
  windowEnd: number;
  labelsArrivedBy: number;
  now: number;
}): Promise<{ state: MonitorState; provenance: ProbeProvenance | null }> {
  const { state } = args;
  const inFlight = state.probes?.inFlight ?? null;
  if (inFlight === null) return { state, provenance: null };
  if (inFlight.version !== state.version || inFlight.challengerModel === undefined) {
    return {
      state: { ...state, probes: abandonProbe(state.probes) },
      provenance: {
        abandoned: {
          id: inFlight.id,
          reason:
            inFlight.challengerModel === undefined
              ? 'the probe has no trained challenger'
              : `${inFlight.version} no longer serves (now ${state.version ?? 'none'})`,
        },
      },
    };
  }
  const window = { start: inFlight.trainingEnd, end: args.windowEnd };
  const challengerVersion = inFlight.challengerModel.version;
  // The pairs this window added, folded into the probe's memory (a verdict once enough), and
  // what is recorded of them; `side` is what only one kind of probe says.
  const recordAdded = (
    added: PairedCounts | PairedOutcomeSums,
    evaluationId: string,
    side: Pick<NonNullable<ProbeProvenance['scored']>, 'thresholds' | 'metric'>,
  ) => {
    const { memory, result } = recordProbeWindow(
      state.probes ?? { inFlight, results: [] },
      added,
      args.now,
      probePolicyOf(args.policy),
    );
    return {
      state: { ...state, probes: memory },
      provenance: {
        scored: {
          id: inFlight.id,
          challengerVersion,
          evaluationId,
          added: added.events,
          events: inFlight.counts.events + added.events,
          window,
          ...side,
        },
        ...(result === null ? {} : { result }),
      },
    };
  };
  if (inFlight.outcomes !== undefined) {
    // A multiclass or regression model's probe: paired loss sums in the policy's metric.
    const recorded = inFlight.outcomes;
    const scored = await scoring.scoreOutcomeProbe({
      modelId: args.modelId,
      probeId: inFlight.id,
      championVersion: inFlight.version,
      challengerVersion,
      window,
      labelsArrivedBy: args.labelsArrivedBy,
      metric: recorded.metric,
      worthlessError: recorded.worthlessError,
      maxEvents: MAX_PROBE_EVENTS,
    });
    const added: PairedOutcomeSums = pairedOutcomeSumsSince(scored.sums, recorded);
    return recordAdded(added, scored.evaluationId, { metric: recorded.metric });
  }
  const scored = await scoring.scoreProbe({
    modelId: args.modelId,
    probeId: inFlight.id,
    championVersion: inFlight.version,
    challengerVersion,
    window,
    labelsArrivedBy: args.labelsArrivedBy,
    maxEvents: MAX_PROBE_EVENTS,
  });
  const added: PairedCounts = pairedCountsSince(scored.counts, inFlight.counts);
  return recordAdded(added, scored.evaluationId, { thresholds: scored.thresholds });
}

/**
 * After the tick: the decision asks for a probe, so train its challenger on the decision's
 * training window (a snapshot with lineage, then the retrain's trainer), registered as a probe.
 * A challenger that cannot be trained is an inconclusive probe, as in the backtest.
 */
export async function startProbeFor(args: {
  modelId: string;
  state: MonitorState;
  policy: RetrainPolicy;
  decision: PolicyDecision;
  settings: RetrainSettings;
  now: number;
  /**
   * A multiclass or regression model's probe: the policy metric its gap is measured in.
   * @default undefined (binary: paired correctness)
   */
  outcomeMetric?: { metric: OutcomeProbeMetric; worthlessError: number | null };
}): Promise<{ state: MonitorState; provenance: ProbeProvenance | null }> {
  const { state, decision, now } = args;
  const plan = decision.probe;
  if (plan === undefined || decision.kind === 'retrain' || state.version === null) return { state, provenance: null };
  const id = probeIdOf(state.version, now);
  const trainingWindow = { start: decision.trainingWindow.start, end: decision.trainingWindow.end };
  const probe = {
    version: state.version,
    versionTrainedAt: state.versionTrainedAt,
    now,
    trainingStart: trainingWindow.start,
    trainingEnd: trainingWindow.end,
    plan,
    ...(args.outcomeMetric === undefined ? {} : { outcomeMetric: args.outcomeMetric }),
  };
  const priced = probePolicyOf(args.policy);
  const provenance = (challenger: ProbeChallenger | null, error?: string): ProbeProvenance => ({
    started: {
      id,
      plan,
      trainingWindow,
      challenger,
      cost: priced.probeCost,
      costSource: priced.probeCostSource,
      ...(error === undefined ? {} : { error }),
    },
  });
  // The key the snapshot and the registry know the probe's training by (as a retrain id).
  const runKey = `${args.modelId}/probe/${id}`;
  try {
    const snapshot = await training.snapshotTrainingData({
      retrainId: runKey,
      modelId: args.modelId,
      window: { start: trainingWindow.start ?? 0, end: trainingWindow.end },
    });
    const trained = await training.trainModel({
      retrainId: runKey,
      modelId: args.modelId,
      snapshotId: snapshot.snapshotId,
      trainer: args.settings.trainer,
      seed: args.settings.seed,
      purpose: 'probe',
    });
    const challenger: ProbeChallenger = {
      version: trained.modelVersion,
      lineageId: snapshot.snapshotId,
      trainingRows: snapshot.trainRows,
    };
    return {
      state: { ...state, probes: startProbe(state.probes, { ...probe, challengerModel: challenger }) },
      provenance: provenance(challenger),
    };
  } catch (err) {
    const error = failureMessage(err);
    const memory = failProbe(state.probes, probe, error);
    return {
      state: { ...state, probes: memory },
      provenance: { ...provenance(null, error), result: memory.results.at(-1) as ProbeResult },
    };
  }
}

function failureMessage(err: unknown): string {
  let current: unknown = err;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  if (current instanceof ApplicationFailure) return current.message;
  return current instanceof Error ? current.message : String(current);
}
