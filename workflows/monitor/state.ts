/**
 * The state of a model's monitor and everything that changes it: evaluating a window, recording
 * decisions, starting and finishing retrains, and the operations behind its updates. The
 * workflow function (model-monitor.ts) drives the windows; handlers.ts routes messages here.
 *
 * Workflow code: every command (activity, child, search attributes) is issued in the order the
 * recorded histories in test/replay/ expect, so keep the order of awaits when changing a method.
 */
import {
  ApplicationFailure,
  log,
  ParentClosePolicy,
  proxyActivities,
  proxyLocalActivities,
  proxySinks,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { MonitorActivities } from '../../activities/monitor.ts';
import type { PromotionOutcome, ServingReport } from '../../detectors/alerts/types.ts';
import { assessHealth, monitorHealthRevision1, type HealthInputs } from '../../detectors/monitor/health.ts';
import { monitorHealthInputs } from '../../detectors/monitor/health-inputs.ts';
import { windowEstimationGrouping } from '../../detectors/monitor/window-estimate.ts';
import { hasStuckBaselines } from '../../detectors/segments/types.ts';
import { lateLabelWindows } from '../../detectors/monitor/late-label-horizon.ts';
import { planWindow, staggerOffsetMs, windowStartAt, type WindowPlan } from '../../detectors/monitor/schedule.ts';
import {
  featureCountOf,
  initialMonitorState,
  monitorTick,
  policyStateOf,
  reevaluatePolicy,
  startVersion,
  tickSettings,
} from '../../detectors/monitor/tick.ts';
import {
  DEFAULT_MONITOR_SETTINGS,
  type MonitorReference,
  type MonitorSettings,
  type MonitorState,
  type WindowEvaluation,
} from '../../detectors/monitor/types.ts';
import { followUpBarsOf } from '../../detectors/policy/data-quality-bars.ts';
import { parseDuration } from '../../detectors/policy/duration.ts';
import { evaluatePolicy } from '../../detectors/policy/evaluate.ts';
import type { PolicyDecision } from '../../detectors/policy/state.ts';
import type { RetrainPolicy } from '../../detectors/policy/types.ts';
import { formatDuration, formatInstant, plural } from '../../detectors/texts/format.ts';
import type { DecisionKind, DecisionRecord } from '../../platform/clickhouse/decisions-repository.ts';
import type { EstimationQuery } from '../../platform/clickhouse/estimation-repository.ts';
import {
  retrainWorkflowId,
  type Actor,
  type ForceRetrainRequest,
  type MonitorHealth,
  type MonitorSinks,
  type MonitorStage,
  type MonitorStatus,
  type PolicyRef,
  type SetPolicyRequest,
} from '../messages.ts';
import { DEFAULT_RETRAIN_SETTINGS, Retrain, type RetrainResult, type RetrainSettings } from '../retrain.ts';
import { MonitorAlerts } from './alerts.ts';
import type { ModelMonitorInput } from './input.ts';
import type { ProbeProvenance } from '../../detectors/probes/types.ts';
import { withProbeSentence } from '../../detectors/texts/probe-statement.ts';
import { scoreProbeWindow, startProbeFor } from './probes.ts';
import { outlivingTurn } from './turn-scopes.ts';
import { isOutcomeProbeMetric, type OutcomeProbeMetric } from '../../detectors/probes/outcome-gap.ts';
import type { OutcomeSums } from '../../detectors/quality/outcome-sums.ts';

const activities = proxyActivities<MonitorActivities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '2m',
  retry: { initialInterval: '5s', maximumInterval: '2m', backoffCoefficient: 2 },
});

/**
 * The window read of runs with the `window-read-local-activity` marker, and the decision record of
 * runs with `decision-record-local-activity`: each runs in the workflow task that asks for it, on
 * this worker, and its result is recorded as one marker (no activity scheduled, dispatched and
 * completed on the server, no workflow task for its result) — a tick is one task. A record that
 * fails (the engine refuses it) is retried by the same policy as a read. The workflow's clock
 * does not move within a task, so the tick after it sees the time the read was asked, not answered.
 * The regular read's start-to-close timeout and retry: a read with the multivariate tests or a DLE
 * fit can take minutes on a loaded machine; past the workflow task's timeout (10 s) the SDK keeps
 * the task alive by completing it and taking a new one about every 8 s. A retry whose backoff is at
 * most `localRetryThreshold` is waited out in the worker, inside the task; a longer one is a
 * workflow timer, the read tried again in a new task. The SDK's threshold (1 minute) would keep the
 * first four retries (5–40 s) inside the task, kept alive by a workflow task every 8 s — the store
 * busiest just when ClickHouse fails for the whole fleet; at 5 s only the first retry (a passing
 * fault) stays inside, the rest are a timer and a workflow task each. No heartbeat timeout: a local
 * activity has no server-side task to heartbeat, and a worker that dies mid-read loses its workflow
 * task, which times out and runs again, read included.
 */
const localActivities = proxyLocalActivities<MonitorActivities>({
  startToCloseTimeout: '10m',
  retry: { initialInterval: '5s', maximumInterval: '2m', backoffCoefficient: 2 },
  localRetryThreshold: '5s',
});

const { decisions } = proxySinks<MonitorSinks>();

/** What a decision is recorded with besides its kind, actor and reason. */
interface DecisionProvenance {
  decision?: PolicyDecision;
  evaluation?: WindowEvaluation | null;
  details?: unknown;
  lineageId?: string;
}

/** A retrain child this monitor started and has not yet seen finish. */
interface RunningRetrain {
  retrainId: string;
  startedAt: number;
  result: Promise<RetrainResult>;
}

/** A model's monitor within one run; the next run rebuilds it from {@link nextRunInput}. */
export class MonitorWorkflowState {
  /** The run's input without what it carried from the run before (that is `state`, `reference`, … now). */
  readonly input: Omit<ModelMonitorInput, 'carried'>;
  /** Runs of this monitor before this one. */
  readonly #runsBefore: number;
  readonly settings: MonitorSettings;
  readonly retrainSettings: RetrainSettings;
  readonly cadenceMs: number;
  readonly settleMs: number;
  policy: RetrainPolicy;
  policyRef: PolicyRef;
  /** What the pure tick carries from window to window (detectors/monitor/tick.ts). */
  state: MonitorState;
  reference: MonitorReference | null;
  nextWindowStart: number;
  retrainSequence: number;
  lastDecision: MonitorStatus['lastDecision'];
  /** The last window's evaluation: what approve and forceRetrain re-ask the policy with. */
  lastEvaluation: WindowEvaluation | null = null;
  /** The last window's outcome sums (a multiclass or regression model's): which metric re-asking the policy uses. */
  #lastOutcomes: OutcomeSums | null = null;
  retrain: RunningRetrain | null = null;
  /** Set when the loop should re-check before its window is due (resumed, retrain finished). */
  wakeUp = false;
  /** Windows due up to this time were missed while paused: evaluated one by one, not coalesced. */
  catchUpUntil: number | null;
  /** Whether several due windows are evaluated as one (this run's history has the `patched` marker). */
  readonly coalescing: boolean;
  /** Alert rules evaluated after each tick and event (./alerts.ts). */
  readonly alerts: MonitorAlerts;
  #decisionCounter = 0;

  /** The search attribute uses the health rule with a quality target (see {@link health}). */
  readonly #healthQualityTarget: boolean;
  /** Each window's read also says whether serving agrees with the registry (the `patched` marker). */
  readonly #servingWithWindow: boolean;
  /** The policy's segment keys are counted and judged with each window (the `patched` marker). */
  readonly #segments: boolean;

  /** Each window's read also runs the multivariate drift tests the policy enables (the `patched` marker). */
  readonly #multivariateDrift: boolean;

  /** Challenger probes run when the rule asks for one (rule revision 4, the `patched` marker). */
  readonly #challengerProbes: boolean;

  /** Multiclass and regression windows are estimated label-free by their read (the `patched` marker). */
  readonly #kindEstimation: boolean;

  /** Multiclass and regression models get challenger probes in their policy's metric (the `patched` marker). */
  readonly #kindProbes: boolean;

  /** Multiclass and regression windows' segments also sum their labelled outcomes (the `patched` marker). */
  readonly #segmentOutcomes: boolean;

  /** Search attributes are upserted only when they change (the `patched` marker): each upsert is a history event. */
  readonly #searchAttributesWhenChanged: boolean;
  /** The health and stage last upserted by this run. */
  #publishedSearchAttributes: string | null = null;

  /** Multiclass and regression windows' segments are also estimated label-free with the window (the `patched` marker). */
  readonly #segmentEstimates: boolean;

  /** Approve and forceRetrain re-ask the policy in the model's metric, as a tick does (the `patched` marker). */
  readonly #kindReevaluation: boolean;

  /** Each window is read by a local activity, not a regular one (the `patched` marker). */
  readonly #windowReadLocal: boolean;

  /** Each decision is recorded by a local activity, not a regular one (the `patched` marker). */
  readonly #decisionRecordLocal: boolean;

  /**
   * `ruleRevision2`, `ruleRevision3`, `alerting`, `textRevision2`, `healthQualityTarget`,
   * `staggered`, `coalescing`, `boundedDecayFits`, `servingWithWindow`, `multivariateDrift`: whether
   * this run's history carries those `patched` markers (staggered windows, coalesced late windows,
   * bounded decay fits, serving read with each window, the multivariate drift tests for the last five),
   * `segments` (the policy's segments judged with each window), `estimationRevision2` (the
   * label-free estimate of the policy's metric at the version's threshold, with its interval),
   * `challengerProbes` (rule revision 4: the probes the rule asks for are trained and scored),
   * `kindEstimation` (multiclass and regression windows estimated label-free by their read),
   * `segmentOutcomes` (their segments' labelled outcomes summed with the window, for per-segment quality).
   * `stepPersistence` (rule revision 5: a step priced for as long as the model's excursions last),
   * `kindProbes` (multiclass and regression models probed in their policy's metric),
   * `segmentEstimates` (their segments estimated label-free with the window's estimate),
   * `pooledWithEarlier` (rule revision 6: a window short of the minimum labels pooled with the windows before it),
   * `stuckValueOrder` (a grown value judged by its event order: interleaved repeats at a value the
   * reference had are a ceiling reached more often, shift),
   * `kindReevaluation` (approve and forceRetrain re-ask the policy in the model's metric),
   * `segmentPooling` (rule revision 6: a segment short of its SLO's labels pooled with the windows before it).
   * `unmeasuredStepPersistence` (rule revision 7: with too short a history to tell, a step priced
   * for as long again as it has lasted).
   * `lateLabelHorizon` (late labels asked and counted only for windows inside the late-label horizon),
   * `boundedRunHistory` (search attributes upserted only when they change; the run's history bounded in
   * bytes by model-monitor.ts),
   * `probeGapEvidence` (rule revision 8: what a probe measured counts beyond its verdict — an
   * estimate below the worthwhile gap holds, the explore prior is updated by it).
   * `segmentStuckValues` (a segment's stuck values judged against its own reference's most frequent values).
   * `exploreSampleInformation` (rule revision 9: an exploring probe priced by what a probe of its size
   * can measure).
   * `beforeRetrainSampleInformation` (rule revision 10: a probe before a retrain of a version whose gap
   * its probes measured priced by what it can add).
   * `windowReadLocal` (each window read by a local activity, recorded as a marker).
   * `decisionRecordLocal` (each decision recorded by a local activity, recorded as a marker).
   * `textRevision3` (decision texts revision 3: a probe the data-quality guard stops said so).
   */
  constructor(
    input: ModelMonitorInput,
    {
      ruleRevision2,
      ruleRevision3 = false,
      alerting = false,
      textRevision2 = false,
      healthQualityTarget = false,
      staggered = false,
      coalescing = false,
      boundedDecayFits = false,
      servingWithWindow = false,
      segments = false,
      estimationRevision2 = false,
      multivariateDrift = false,
      challengerProbes = false,
      kindEstimation = false,
      segmentOutcomes = false,
      stepPersistence = false,
      kindProbes = false,
      segmentEstimates = false,
      pooledWithEarlier = false,
      stuckValueOrder = false,
      kindReevaluation = false,
      segmentPooling = false,
      unmeasuredStepPersistence = false,
      lateLabelHorizon = false,
      probeGapEvidence = false,
      boundedRunHistory = false,
      segmentStuckValues = false,
      exploreSampleInformation = false,
      beforeRetrainSampleInformation = false,
      windowReadLocal = false,
      decisionRecordLocal = false,
      textRevision3 = false,
    }: {
      ruleRevision2: boolean;
      ruleRevision3?: boolean;
      alerting?: boolean;
      textRevision2?: boolean;
      healthQualityTarget?: boolean;
      staggered?: boolean;
      coalescing?: boolean;
      boundedDecayFits?: boolean;
      servingWithWindow?: boolean;
      segments?: boolean;
      estimationRevision2?: boolean;
      multivariateDrift?: boolean;
      challengerProbes?: boolean;
      kindEstimation?: boolean;
      segmentOutcomes?: boolean;
      stepPersistence?: boolean;
      kindProbes?: boolean;
      segmentEstimates?: boolean;
      pooledWithEarlier?: boolean;
      stuckValueOrder?: boolean;
      kindReevaluation?: boolean;
      segmentPooling?: boolean;
      unmeasuredStepPersistence?: boolean;
      lateLabelHorizon?: boolean;
      probeGapEvidence?: boolean;
      boundedRunHistory?: boolean;
      segmentStuckValues?: boolean;
      exploreSampleInformation?: boolean;
      beforeRetrainSampleInformation?: boolean;
      windowReadLocal?: boolean;
      decisionRecordLocal?: boolean;
      textRevision3?: boolean;
    },
  ) {
    const { carried, ...ownInput } = input;
    this.input = ownInput;
    this.#runsBefore = carried?.runs ?? 0;
    this.#searchAttributesWhenChanged = boundedRunHistory;
    this.#healthQualityTarget = healthQualityTarget;
    this.#servingWithWindow = servingWithWindow;
    this.#segments = segments;
    this.#multivariateDrift = multivariateDrift;
    this.#challengerProbes = challengerProbes && ruleRevision3;
    this.#kindEstimation = kindEstimation;
    this.#kindProbes = kindProbes && this.#challengerProbes;
    this.#segmentOutcomes = segmentOutcomes;
    this.#segmentEstimates = segmentEstimates;
    this.#kindReevaluation = kindReevaluation;
    this.#windowReadLocal = windowReadLocal;
    this.#decisionRecordLocal = decisionRecordLocal;
    const revision8 =
      this.#challengerProbes && stepPersistence && pooledWithEarlier && unmeasuredStepPersistence && probeGapEvidence;
    const newest =
      revision8 && exploreSampleInformation && beforeRetrainSampleInformation
        ? 10
        : revision8 && exploreSampleInformation
          ? 9
          : revision8
            ? 8
            : this.#challengerProbes && stepPersistence && pooledWithEarlier && unmeasuredStepPersistence
              ? 7
              : this.#challengerProbes && stepPersistence && pooledWithEarlier
                ? 6
                : this.#challengerProbes && stepPersistence
                  ? 5
                  : this.#challengerProbes
                    ? 4
                    : ruleRevision3
                      ? 3
                      : ruleRevision2
                        ? 2
                        : 1;
    this.settings = {
      ...DEFAULT_MONITOR_SETTINGS,
      ...input.settings,
      // A revision the code of this run's history did not have is never used; a lower one asked for is.
      ruleRevision: Math.min(
        newest,
        input.settings?.ruleRevision ?? DEFAULT_MONITOR_SETTINGS.ruleRevision,
      ) as MonitorSettings['ruleRevision'],
      // A text revision the code of this run's history did not have is never used.
      textRevision: textRevision2
        ? (Math.min(
            textRevision3 ? 3 : 2,
            input.settings?.textRevision ?? DEFAULT_MONITOR_SETTINGS.textRevision,
          ) as MonitorSettings['textRevision'])
        : 1,
      boundedDecayFits: boundedDecayFits
        ? (input.settings?.boundedDecayFits ?? DEFAULT_MONITOR_SETTINGS.boundedDecayFits)
        : false,
      estimationRevision: estimationRevision2
        ? (input.settings?.estimationRevision ?? DEFAULT_MONITOR_SETTINGS.estimationRevision)
        : 1,
      // Runs recorded before kind probes: their multiclass and regression decisions saw no probes.
      kindProbes:
        kindProbes && this.#challengerProbes
          ? (input.settings?.kindProbes ?? DEFAULT_MONITOR_SETTINGS.kindProbes)
          : false,
      // Runs recorded before the marker judged a grown value without its event order.
      stuckValueOrder:
        stuckValueOrder && this.#challengerProbes
          ? (input.settings?.stuckValueOrder ?? DEFAULT_MONITOR_SETTINGS.stuckValueOrder)
          : false,
      // Runs recorded before the marker judged each segment on its own window's labels.
      segmentPooling: segmentPooling
        ? (input.settings?.segmentPooling ?? DEFAULT_MONITOR_SETTINGS.segmentPooling)
        : false,
      // Runs recorded before the marker asked and counted late labels for every kept window.
      lateLabelHorizon: lateLabelHorizon
        ? (input.settings?.lateLabelHorizon ?? DEFAULT_MONITOR_SETTINGS.lateLabelHorizon)
        : false,
      // Runs recorded before the marker judged no segment's stuck value.
      segmentStuckValues:
        segments && segmentStuckValues
          ? (input.settings?.segmentStuckValues ?? DEFAULT_MONITOR_SETTINGS.segmentStuckValues)
          : false,
    };
    this.retrainSettings = { ...DEFAULT_RETRAIN_SETTINGS, ...input.retrain };
    this.cadenceMs = parseDuration(input.cadence ?? '1h');
    this.settleMs = input.settle ? parseDuration(input.settle) : 0;
    this.policy = input.policy;
    this.policyRef = input.policyRef;
    this.state = carried?.state ?? initialMonitorState(input.modelId);
    this.reference = carried?.reference ?? null;
    // A model's windows are shifted by its own offset within the cadence, so a fleet's ticks spread
    // over the cadence instead of all coming due in the same second (runs from before: aligned).
    this.nextWindowStart =
      carried?.nextWindowStart ??
      windowStartAt(Date.now(), this.cadenceMs, staggered ? staggerOffsetMs(input.modelId, this.cadenceMs) : 0);
    this.catchUpUntil = carried?.catchUpUntil ?? null;
    this.coalescing = coalescing;
    this.retrainSequence = carried?.retrainSequence ?? 0;
    this.lastDecision = carried?.lastDecision ?? null;
    this.lastEvaluation = carried?.lastEvaluation ?? null;
    this.alerts = new MonitorAlerts(alerting, carried?.alerts);
  }

  get modelId(): string {
    return this.input.modelId;
  }

  /** When the next window closes and may be evaluated. */
  get nextWindowDueAt(): number {
    return this.nextWindowStart + this.cadenceMs + this.settleMs;
  }

  /**
   * What the health rule is given from this monitor's state; serving as the last window's read
   * saw it (runs with that marker), ingest left to observers.
   */
  healthInputs(): HealthInputs {
    const inputs = monitorHealthInputs(this.state, {
      settings: this.settings,
      policy: this.policy,
      cadenceMs: this.cadenceMs,
      settleMs: this.settleMs,
    });
    const serving = this.alerts.memory.serving;
    return this.#servingWithWindow && serving ? { ...inputs, servingDisagreement: !serving.agrees } : inputs;
  }

  /**
   * Health as published in the search attribute. A run whose history predates the quality
   * target keeps the first rule there, so replaying it issues the same commands; the status
   * query (not part of the history) always answers with the current rule.
   */
  health(): MonitorHealth {
    if (this.#healthQualityTarget) return assessHealth(this.healthInputs()).health;
    const last = this.state.windows[this.state.windows.length - 1];
    return monitorHealthRevision1({
      paused: this.state.paused,
      evaluated: last !== undefined,
      dataQualityOk: last?.dataQualityOk ?? null,
      timeToBreachHours: this.state.decay?.timeToBreach?.hours ?? null,
      datasetDrift: last?.drift?.datasetDrift ?? null,
    });
  }

  stage(): MonitorStage {
    if (this.state.paused) return 'paused';
    if (this.retrain) return 'retraining';
    return this.state.approval.status === 'pending' ? 'awaiting-approval' : 'monitoring';
  }

  publishSearchAttributes(): void {
    const health = this.health();
    const stage = this.stage();
    const published = `${health}/${stage}`;
    // An unchanged upsert still adds an event (~750 bytes) the run keeps until it ends.
    if (this.#searchAttributesWhenChanged && published === this.#publishedSearchAttributes) return;
    upsertSearchAttributes({
      HalflifeModelId: [this.modelId],
      HalflifeHealth: [health],
      HalflifeStage: [stage],
    });
    this.#publishedSearchAttributes = published;
  }

  status(): MonitorStatus {
    const { state, retrain } = this;
    const healthInputs = this.healthInputs();
    const assessment = assessHealth(healthInputs);
    return {
      modelId: this.modelId,
      health: assessment.health,
      healthFindings: assessment.findings,
      healthInputs,
      stage: this.stage(),
      version: state.version,
      versionTrainedAt: state.versionTrainedAt,
      policy: this.policyRef,
      ticks: state.ticks,
      nextTickAt: state.paused ? null : this.nextWindowDueAt,
      lastWindow: state.windows[state.windows.length - 1] ?? null,
      lastDecision: this.lastDecision,
      decay: state.decay,
      retrain: retrain ? { retrainId: retrain.retrainId, startedAt: retrain.startedAt } : null,
      approval: {
        status: state.approval.status,
        expiresAt:
          state.approval.status === 'pending'
            ? state.approval.requestedAt + parseDuration(this.policy.guards.approval.timeout)
            : null,
      },
      paused: state.paused,
    };
  }

  /** The input of the next run (continue-as-new): this run's input with everything learnt since. */
  nextRunInput(): ModelMonitorInput {
    const { state, reference, nextWindowStart, retrainSequence, lastDecision } = this;
    return {
      ...this.input,
      policy: this.policy,
      policyRef: this.policyRef,
      carried: {
        state,
        reference,
        nextWindowStart,
        retrainSequence,
        lastDecision,
        runs: this.#runsBefore + 1,
        catchUpUntil: this.catchUpUntil,
        lastEvaluation: this.lastEvaluation,
        ...(this.alerts.enabled ? { alerts: this.alerts.memory } : {}),
      },
    };
  }

  // ---- the window ---------------------------------------------------------------------------

  /** What to evaluate now: the next window, or the due windows coalesced when the monitor fell behind. */
  planNextWindow(): WindowPlan {
    const start = this.nextWindowStart;
    if (!this.coalescing) return { start, end: start + this.cadenceMs, windows: 1, skipped: null };
    return planWindow({
      nextWindowStart: start,
      cadenceMs: this.cadenceMs,
      settleMs: this.settleMs,
      now: Date.now(),
      catchUpUntil: this.catchUpUntil ?? undefined,
      maxCoalesced: this.settings.maxCoalescedWindows,
    });
  }

  /** Evaluate the next window: its aggregates, the pure tick, and the decision acted on. */
  async evaluateNextWindow(): Promise<void> {
    const plan = this.planNextWindow();
    const { start, end } = plan;
    this.nextWindowStart = end;

    // Revision 3: only labels arrived by the decision time count, and late ones fill in earlier windows.
    const revision3 = this.settings.ruleRevision >= 3;
    const since = this.state.labelsArrivedBy ?? null;
    const from = this.state.maturing?.[0]?.start ?? null;
    const collectWindow = this.#windowReadLocal ? localActivities.collectWindow : activities.collectWindow;
    const observation = await collectWindow({
      modelId: this.modelId,
      start,
      end,
      referenceId: this.reference?.referenceId ?? null,
      ...(this.#servingWithWindow ? { serving: true } : {}),
      // Segments are counted in the window's own queries; the reference's segment counts come once per reference and plan.
      ...(this.#segments && this.policy.segments && this.reference
        ? {
            segments: {
              policy: this.policy.segments,
              planKnown: this.#segmentPlanKnown(),
              // A multiclass or regression model's segments are also summed for their quality (ignored for binary).
              ...(this.#segmentOutcomes ? { outcomes: true } : {}),
              // …and estimated label-free with the window's estimate (ignored for binary and without it).
              ...(this.#segmentEstimates && this.#kindEstimation ? { estimates: true } : {}),
              // Each segment's stuck-value baseline with its reference counts, its candidates' top values with the window.
              ...(this.settings.segmentStuckValues ? { stuckValues: true } : {}),
            },
          }
        : {}),
      ...((this.settings.estimationRevision ?? 1) >= 2 ? { estimation: this.#estimationQuery() } : {}),
      ...(this.#multivariateDrift && this.policy.multivariate?.enabled
        ? { multivariate: this.policy.multivariate }
        : {}),
      // A multiclass or regression model's window is estimated label-free with the reference's estimator (ignored for binary).
      ...(this.#kindEstimation && this.reference ? { outcomeEstimate: { version: this.reference.modelVersion } } : {}),
      // The policy's data-quality bars decide which features' most frequent value is counted
      // (the activity's input only: no command changes, so no marker).
      ...(this.policy.dataQuality ? { followUps: followUpBarsOf(this.policy.dataQuality) } : {}),
      ...(revision3
        ? {
            labelsArrivedBy: end + this.settleMs,
            // The earlier windows by their own bounds: staggered and coalesced windows are not
            // cut at multiples of the cadence.
            lateLabels:
              since !== null && from !== null
                ? {
                    since,
                    from,
                    cadenceMs: this.cadenceMs,
                    // Only windows inside the late-label horizon: older ones are mature (the tick counts none of theirs).
                    windows: lateLabelWindows(
                      this.state.maturing ?? [],
                      start,
                      since,
                      this.state.lateLabelHorizon,
                      this.settings.lateLabelHorizon === true,
                    ),
                  }
                : null,
          }
        : {}),
    });
    if (!this.reference && observation.events > 0) {
      const dominant = [...observation.versions].sort((a, b) => b.events - a.events)[0];
      // No reference yet: this first window becomes the reference of the version in service.
      this.reference = await activities.buildReference({
        modelId: this.modelId,
        modelVersion: dominant?.version ?? null,
        window: { start, end },
      });
    }
    // Serving as read with the window (kept as it was when it could not be read).
    if (observation.serving) this.alerts.noteServing(observation.serving);
    // Rule revision 4: the probe in flight scores this window beside the champion before the tick reads it.
    const probes = this.#probesRun(observation);
    let probe: ProbeProvenance | null = null;
    if (probes) {
      const scored = await scoreProbeWindow({
        modelId: this.modelId,
        state: this.state,
        policy: this.policy,
        windowEnd: end,
        labelsArrivedBy: end + this.settleMs,
        now: Date.now(),
      });
      this.state = scored.state;
      probe = scored.provenance;
    }
    const tick = monitorTick(this.state, this.reference, observation, this.policy, Date.now(), this.settings);
    this.state = tick.state;
    this.lastEvaluation = tick.evaluation;
    this.#lastOutcomes = observation.outcomes ?? null;
    if (probes && tick.decision.probe !== undefined && tick.decision.kind !== 'retrain') {
      const started = await startProbeFor({
        modelId: this.modelId,
        state: this.state,
        policy: this.policy,
        decision: tick.decision,
        settings: this.retrainSettings,
        now: Date.now(),
        ...(probes === 'binary' ? {} : { outcomeMetric: probes }),
      });
      this.state = started.state;
      if (started.provenance) probe = { ...probe, ...started.provenance };
    }
    await this.#act(tick.decision, tick.evaluation, 'system', lateWindows(plan, this.cadenceMs), probe);
    await this.#updateAlerts();
    this.publishSearchAttributes();
  }

  /**
   * Whether this run trains and scores the probes the rule asks for (revision 4, cost-aware), and
   * which: a binary model's on accuracy ('binary'), a multiclass or regression model's (its window
   * carries outcome sums) in the policy's metric when it is measured per event; null: none.
   */
  #probesRun(observation: {
    outcomes?: OutcomeSums | null;
  }): 'binary' | { metric: OutcomeProbeMetric; worthlessError: number | null } | null {
    if (!(this.#challengerProbes && this.settings.ruleRevision >= 4 && this.policy.trigger.kind === 'cost-aware'))
      return null;
    if (observation.outcomes === undefined)
      // Probes pair binary correctness: a binary policy naming its quality metric runs none.
      return (this.settings.qualityMetric ?? 'accuracy') === 'accuracy' && this.policy.quality === undefined
        ? 'binary'
        : null;
    if (!this.#kindProbes || this.settings.kindProbes !== true) return null;
    const metric = tickSettings(this.settings, this.policy, { outcomes: observation.outcomes ?? null }).qualityMetric;
    return metric === 'accuracy' || isOutcomeProbeMetric(metric)
      ? { metric, worthlessError: this.policy.quality?.worthlessError ?? null }
      : null;
  }

  /**
   * The segment plan whose reference counts this monitor holds; null (so they come again) when it
   * judges segments' stuck values and the held counts, carried from a run before the marker, have
   * no stuck-value baselines.
   */
  #segmentPlanKnown(): string | null {
    const held = this.state.segments?.reference ?? null;
    if (held && this.settings.segmentStuckValues && !hasStuckBaselines(held)) return null;
    return held?.id ?? null;
  }

  /** How the window's scores are grouped for the reference's estimator; null without one. */
  #estimationQuery(): EstimationQuery | null {
    const grouping = windowEstimationGrouping(this.reference);
    return grouping && this.reference?.cbpe
      ? { ...grouping, referenceRange: this.reference.cbpe.referenceScoreRange }
      : null;
  }

  // ---- alerts -------------------------------------------------------------------------------

  /** Ask the alert rules what fires and what resolves now (./alerts.ts); never waits for a delivery. */
  async #updateAlerts(): Promise<void> {
    const info = workflowInfo();
    await this.alerts.update(
      this.policy.alerts,
      {
        state: this.state,
        evaluation: this.lastEvaluation,
        health: this.health(),
        slo: this.settings.qualitySlo,
        now: Date.now(),
      },
      { workflowId: info.workflowId, runId: info.runId, policy: this.policyRef },
    );
  }

  async onServingReport(report: ServingReport): Promise<void> {
    this.alerts.noteServing(report);
    await this.#updateAlerts();
  }

  async onPromotionOutcome(outcome: PromotionOutcome): Promise<void> {
    this.alerts.notePromotion(outcome);
    await this.#updateAlerts();
  }

  // ---- decisions ----------------------------------------------------------------------------

  /**
   * Record a decision with provenance; the id is deterministic (the run and its count of decisions,
   * rebuilt from the history on replay) so a retried activity stores it once. A local record (the
   * `patched` marker) runs before its workflow task completes: a task that fails first runs again,
   * record included, at its own time — that attempt replaces the rows of the id decided since the
   * run began (recordDecisions).
   */
  async record(kind: DecisionKind, actor: string, reason: string, extra: DecisionProvenance = {}): Promise<string> {
    this.#decisionCounter += 1;
    const info = workflowInfo();
    const decisionId = `${info.workflowId}/${info.runId}/${this.#decisionCounter}`;
    const at = Date.now();
    const recordDecision = this.#decisionRecordLocal
      ? (record: DecisionRecord) =>
          localActivities.recordDecision(record, { earlierAttemptsSince: info.runStartTime.getTime() })
      : activities.recordDecision;
    await recordDecision({
      decisionId,
      modelId: this.modelId,
      modelVersion: this.state.version ?? '',
      workflowId: info.workflowId,
      runId: info.runId,
      decidedAt: at,
      kind,
      actor,
      reason,
      policy: this.policyRef,
      statistics: {
        window: extra.evaluation?.window ?? null,
        drift: extra.evaluation?.drift ?? null,
        dataQuality: extra.evaluation?.dataQuality ?? null,
        quality: extra.evaluation?.quality ?? null,
        changePoint: extra.evaluation?.changePoint ?? null,
        decay: this.state.decay,
        economics: extra.decision?.economics ?? null,
        ...(extra.evaluation?.segments ? { segments: extra.evaluation.segments } : {}),
      },
      thresholds: extra.decision?.thresholds ?? null,
      windows: extra.evaluation ? [{ start: extra.evaluation.window.start, end: extra.evaluation.window.end }] : null,
      trainingWindow: extra.decision?.trainingWindow ?? null,
      lineageId: extra.lineageId ?? '',
      details: {
        trigger: extra.decision?.trigger ?? null,
        guards: extra.decision?.guardsApplied ?? null,
        blockedBy: extra.decision?.blockedBy ?? null,
        notBefore: extra.decision?.notBefore ?? null,
        approval: extra.decision?.approval ?? null,
        inputs: extra.decision?.inputs ?? null,
        referenceId: this.reference?.referenceId ?? null,
        // The segments that drove the decision (SLO breaches, then drifted, then broken).
        ...(extra.evaluation?.segments ? { segmentDrivers: extra.evaluation.segments.drivers } : {}),
        ...(typeof extra.details === 'object' && extra.details !== null ? extra.details : {}),
      },
    });
    this.lastDecision = { decisionId, kind, reason, at };
    decisions.derived({
      modelId: this.modelId,
      decisionId,
      kind,
      reason,
      at,
      window: extra.evaluation ? { start: extra.evaluation.window.start, end: extra.evaluation.window.end } : null,
      quality: extra.evaluation?.window.quality?.value ?? null,
    });
    return decisionId;
  }

  /**
   * Act on a policy decision: record it, and start a retrain or ask for approval when it says so.
   * `late`: the window was several due windows coalesced (and older ones skipped), said in the
   * decision's reason and details.
   */
  async #act(
    decision: PolicyDecision,
    evaluation: WindowEvaluation | null,
    actor: string,
    late: LateWindows | null = null,
    probe: ProbeProvenance | null = null,
  ): Promise<string> {
    const reason = (text: string) => {
      const said = probe ? withProbeSentence(text, probe) : text;
      return late ? `${late.summary}; ${said}` : said;
    };
    const details = late || probe ? { ...(late ? { lateWindows: late } : {}), ...(probe ? { probe } : {}) } : undefined;
    // The challenger's training snapshot is the decision's lineage, as a retrain's is.
    const lineageId = probe?.started?.challenger?.lineageId;
    const extra: DecisionProvenance = { decision, evaluation, details, ...(lineageId ? { lineageId } : {}) };
    if (decision.kind === 'retrain') {
      const decisionId = await this.record('retrain', actor, reason(decision.reason), {
        decision,
        evaluation,
        details,
      });
      await this.#startRetrain(decision, actor, decisionId);
      return decisionId;
    }
    if (decision.kind === 'blocked' && decision.blockedBy === 'approval' && decision.approval.status === 'needed') {
      this.state.approval = { status: 'pending', requestedAt: Date.now() };
      return this.record('approval-requested', 'system', reason(decision.reason), extra);
    }
    if (decision.approval.status === 'expired' || decision.approval.status === 'rejected') {
      this.state.approval = { status: 'none' };
      if (decision.approval.status === 'expired')
        return this.record(
          'approval-expired',
          'system',
          reason('nobody approved the retrain before the approval timeout'),
          extra,
        );
    }
    return this.record(decision.kind, 'system', reason(decision.reason), extra);
  }

  /** Ask the policy again without a new window (after approve/forceRetrain) and act on it. */
  async #reevaluate(actor: string): Promise<string> {
    if (!this.lastEvaluation)
      throw ApplicationFailure.nonRetryable('no window has been evaluated yet; wait for the first tick');
    const extra = {
      featureCount: featureCountOf(this.reference),
      qualityNote: this.lastEvaluation.quality.reason ?? null,
    };
    // Runs recorded before the marker re-asked a multiclass or regression policy in accuracy, with
    // its thresholds in the metric's own units, and replay so.
    const decision = this.#kindReevaluation
      ? reevaluatePolicy(this.state, this.policy, this.settings, { outcomes: this.#lastOutcomes }, extra, Date.now())
      : evaluatePolicy(this.policy, policyStateOf(this.state, this.settings, extra), Date.now());
    return this.#act(decision, this.lastEvaluation, actor);
  }

  // ---- retrains -----------------------------------------------------------------------------

  async #startRetrain(decision: PolicyDecision, actor: string, decisionId: string): Promise<void> {
    this.retrainSequence += 1;
    const retrainId = retrainWorkflowId(this.modelId, this.retrainSequence);
    this.state.retrainInFlight = true;
    this.state.manualRequest = null;
    this.state.approval = { status: 'none' };
    const startedAt = Date.now();
    // The child and the callbacks on its result outlive the turn that started it (turn-scopes.ts).
    await outlivingTurn(async () => {
      const handle = await startChild(Retrain, {
        workflowId: retrainId,
        // A monitor that continues-as-new waits for its retrain first; a terminated monitor leaves it running.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        args: [
          {
            retrainId,
            modelId: this.modelId,
            championVersion: this.state.version,
            trainingWindow: {
              kind: decision.trainingWindow.kind,
              start: decision.trainingWindow.start,
              end: decision.trainingWindow.end,
            },
            decisionId,
            policy: this.policyRef,
            actor,
            settings: this.retrainSettings,
            // A multiclass or regression policy's metric: what the retrain validates and shadow-tests on.
            ...(this.policy.quality ? { quality: this.policy.quality } : {}),
          },
        ],
      });
      const retrain: RunningRetrain = { retrainId, startedAt, result: handle.result() };
      this.retrain = retrain;
      void retrain.result.then(
        (result) => this.#onRetrainFinished(retrainId, startedAt, result),
        (err: unknown) =>
          this.#onRetrainFinished(retrainId, startedAt, {
            outcome: 'failed',
            reason: String(err),
            version: null,
            trainedAt: null,
            freshQuality: null,
            lineageId: null,
            verdict: null,
          }),
      );
    });
    this.publishSearchAttributes();
  }

  async #onRetrainFinished(retrainId: string, startedAt: number, result: RetrainResult): Promise<void> {
    if (result.outcome === 'promoted' && result.version) {
      this.state = startVersion(
        this.state,
        result.version,
        result.trainedAt ?? Date.now(),
        result.freshQuality,
        startedAt,
        Date.now(),
      );
      // The new version's reference is the data it was trained on (kept as is when that fails).
      this.reference =
        (await activities.buildReference({
          modelId: this.modelId,
          modelVersion: result.version,
          lineageId: result.lineageId ?? undefined,
        })) ?? this.reference;
    } else {
      // A failed or rejected retrain still counts against the budget and starts the cooldown.
      this.state.recentRetrains = [...this.state.recentRetrains, startedAt].slice(-50);
      this.state.lastRetrainAt = Date.now();
    }
    this.state.retrainInFlight = false;
    this.retrain = null;
    log.info('retrain finished', { retrainId, outcome: result.outcome });
    this.alerts.notePromotion({
      outcome: result.outcome,
      version: result.version,
      reason: result.reason,
      at: Date.now(),
      source: retrainId,
    });
    await this.#updateAlerts();
    this.publishSearchAttributes();
    this.wakeUp = true;
  }

  // ---- operations behind the updates (validated in handlers.ts) -----------------------------

  async setPolicy({ policy, ref, actor, reason }: SetPolicyRequest): Promise<PolicyRef> {
    this.policy = policy;
    this.policyRef = ref;
    const why = reason ?? `policy ${ref.name} v${ref.version} (${ref.hash.slice(0, 12)})`;
    await this.record('policy-change', actor, why, { details: { policy: ref } });
    await this.#updateAlerts();
    return ref;
  }

  async pause({ actor, reason }: Actor): Promise<MonitorStatus> {
    this.state.paused = true;
    await this.record('pause', actor, reason ?? 'paused');
    await this.#updateAlerts();
    this.publishSearchAttributes();
    return this.status();
  }

  async resume({ actor, reason }: Actor): Promise<MonitorStatus> {
    this.state.paused = false;
    this.wakeUp = true;
    // The windows that came due while paused are evaluated one by one, not coalesced.
    this.catchUpUntil = Date.now();
    await this.record('resume', actor, reason ?? 'resumed');
    await this.#updateAlerts();
    this.publishSearchAttributes();
    return this.status();
  }

  async forceRetrain({ actor, reason, force }: ForceRetrainRequest): Promise<{ accepted: true; decisionId: string }> {
    this.state.manualRequest = { by: actor, reason: reason ?? 'manual request', force: force ?? false };
    await this.record('force-retrain', actor, this.state.manualRequest.reason, { details: { force: force ?? false } });
    const decisionId = await this.#reevaluate(actor);
    await this.#updateAlerts();
    this.publishSearchAttributes();
    return { accepted: true, decisionId };
  }

  async approve({ actor, reason }: Actor): Promise<{ approved: true; decisionId: string }> {
    this.state.approval = { status: 'approved', by: actor, at: Date.now() };
    await this.record('approve', actor, reason ?? 'approved');
    const decisionId = await this.#reevaluate(actor);
    await this.#updateAlerts();
    this.publishSearchAttributes();
    return { approved: true, decisionId };
  }

  async reject({ actor, reason }: Actor): Promise<{ rejected: true; decisionId: string }> {
    this.state.approval = { status: 'none' };
    const decisionId = await this.record('reject', actor, reason ?? 'retrain rejected by a person');
    await this.#updateAlerts();
    this.publishSearchAttributes();
    return { rejected: true, decisionId };
  }
}

/** How a coalesced evaluation is recorded (a decision's `details.lateWindows`): which due windows it covered and which it skipped. */
export interface LateWindows {
  /** Cadences the evaluated window spans. */
  coalesced: number;
  window: { start: number; end: number };
  skipped: { start: number; end: number; windows: number } | null;
  /** The sentence the decision's reason starts with. */
  summary: string;
}

function lateWindows(plan: WindowPlan, cadenceMs: number): LateWindows | null {
  if (plan.windows === 1 && plan.skipped === null) return null;
  const parts = [
    `the monitor fell behind: ${plan.windows} due windows of ${formatDuration(cadenceMs)} coalesced into one (${formatInstant(plan.start)} to ${formatInstant(plan.end)})`,
  ];
  if (plan.skipped)
    parts.push(
      `${plural(plan.skipped.windows, 'older window')} skipped (${formatInstant(plan.skipped.start)} to ${formatInstant(plan.skipped.end)})`,
    );
  return {
    coalesced: plan.windows,
    window: { start: plan.start, end: plan.end },
    skipped: plan.skipped,
    summary: parts.join(', '),
  };
}
