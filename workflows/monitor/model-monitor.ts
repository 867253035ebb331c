/**
 * ModelMonitor(model): one long-lived workflow per model.
 *
 * Every cadence it asks ClickHouse (through an activity) for the window's aggregates, runs the
 * pure tick (detectors/monitor: drift, data quality, quality, change detection, decay fit,
 * policy) and records the decision — "no action" included — with its provenance. When the
 * policy says retrain, it starts a Retrain child (one at a time) and keeps monitoring while it
 * runs. Decisions are derived in workflow code from recorded activity results, so replaying the
 * history re-derives every one of them.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  ParentClosePolicy,
  proxyActivities,
  proxySinks,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
  log,
  patched,
} from '@temporalio/workflow';
import type { MonitorActivities } from '../../activities/monitor.ts';
import { initialMonitorState, monitorTick, policyStateOf, startVersion } from '../../detectors/monitor/tick.ts';
import { monitorHealth } from '../../detectors/monitor/health.ts';
import { evaluatePolicy } from '../../detectors/policy/evaluate.ts';
import {
  DEFAULT_MONITOR_SETTINGS,
  type MonitorReference,
  type MonitorSettings,
  type MonitorState,
  type WindowEvaluation,
} from '../../detectors/monitor/types.ts';
import { parseDuration } from '../../detectors/policy/duration.ts';
import type { PolicyDecision } from '../../detectors/policy/state.ts';
import type { RetrainPolicy } from '../../detectors/policy/types.ts';
import type { DecisionKind } from '../../platform/clickhouse/decisions-repository.ts';
import {
  approveUpdate,
  forceRetrainUpdate,
  pauseUpdate,
  rejectUpdate,
  resumeUpdate,
  retrainWorkflowId,
  setPolicyUpdate,
  statusQuery,
  type Actor,
  type MonitorHealth,
  type MonitorSinks,
  type MonitorStage,
  type MonitorStatus,
  type PolicyRef,
} from '../messages.ts';
import { DEFAULT_RETRAIN_SETTINGS, Retrain, type RetrainResult, type RetrainSettings } from '../retrain.ts';

export interface ModelMonitorInput {
  modelId: string;
  policy: RetrainPolicy;
  policyRef: PolicyRef;
  /** How often a window closes and is evaluated, e.g. "1h". @default "1h" */
  cadence?: string;
  /** Wait after a window closes before evaluating it, for late events, e.g. "1m". @default "0s" */
  settle?: string;
  /** Continue-as-new after this many ticks even if Temporal does not suggest it yet (keeps histories short). @default 500 */
  maxTicksPerRun?: number;
  settings?: Partial<MonitorSettings>;
  retrain?: Partial<RetrainSettings>;
  /** Carried across continue-as-new. */
  carried?: CarriedState;
}

/** What a monitor hands to its next run. */
export interface CarriedState {
  state: MonitorState;
  reference: MonitorReference | null;
  nextWindowStart: number;
  retrainSequence: number;
  lastDecision: MonitorStatus['lastDecision'];
  runs: number;
}

const monitor = proxyActivities<MonitorActivities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '2m',
  retry: { initialInterval: '5s', maximumInterval: '2m', backoffCoefficient: 2 },
});

const { decisions } = proxySinks<MonitorSinks>();

/** `patched` id of rule revision 2 of the decay fit and cost-aware trigger (see `MonitorSettings.ruleRevision`). */
const COST_AWARE_RULE_REVISION_2 = 'cost-aware-rule-revision-2';

export async function ModelMonitor(input: ModelMonitorInput): Promise<void> {
  const info = workflowInfo();
  // Rule revision 2 (2026-11-26) changes cost-aware decisions: runs recorded before it have no
  // marker and keep revision 1, so replaying their histories re-derives the same decisions.
  const revision2 = patched(COST_AWARE_RULE_REVISION_2);
  const settings: MonitorSettings = {
    ...DEFAULT_MONITOR_SETTINGS,
    ...input.settings,
    ruleRevision: revision2 ? (input.settings?.ruleRevision ?? DEFAULT_MONITOR_SETTINGS.ruleRevision) : 1,
  };
  const retrainSettings: RetrainSettings = { ...DEFAULT_RETRAIN_SETTINGS, ...input.retrain };
  const cadenceMs = parseDuration(input.cadence ?? '1h');
  const settleMs = input.settle ? parseDuration(input.settle) : 0;
  let policy = input.policy;
  let policyRef = input.policyRef;

  const carried = input.carried;
  let state: MonitorState = carried?.state ?? initialMonitorState(input.modelId);
  let reference: MonitorReference | null = carried?.reference ?? null;
  // Windows are aligned to the cadence, so every monitor of the same cadence cuts the same windows.
  let nextWindowStart = carried?.nextWindowStart ?? Math.floor(Date.now() / cadenceMs) * cadenceMs;
  let retrainSequence = carried?.retrainSequence ?? 0;
  let lastDecision: MonitorStatus['lastDecision'] = carried?.lastDecision ?? null;
  let lastEvaluation: WindowEvaluation | null = null;
  let retrain: { retrainId: string; startedAt: number; result: Promise<RetrainResult> } | null = null;
  let wakeUp = false;
  let decisionCounter = 0;
  let ticksThisRun = 0;

  const health = (): MonitorHealth => {
    const last = state.windows[state.windows.length - 1];
    return monitorHealth({
      paused: state.paused,
      evaluated: last !== undefined,
      dataQualityOk: last?.dataQualityOk ?? null,
      timeToBreachHours: state.decay?.timeToBreach?.hours ?? null,
      datasetDrift: last?.drift?.datasetDrift ?? null,
    });
  };
  const stage = (): MonitorStage =>
    state.paused
      ? 'paused'
      : retrain
        ? 'retraining'
        : state.approval.status === 'pending'
          ? 'awaiting-approval'
          : 'monitoring';
  const publishSearchAttributes = () =>
    upsertSearchAttributes({ HalflifeModelId: [input.modelId], HalflifeHealth: [health()], HalflifeStage: [stage()] });

  const status = (): MonitorStatus => ({
    modelId: input.modelId,
    health: health(),
    stage: stage(),
    version: state.version,
    versionTrainedAt: state.versionTrainedAt,
    policy: policyRef,
    ticks: state.ticks,
    nextTickAt: state.paused ? null : nextWindowStart + cadenceMs + settleMs,
    lastWindow: state.windows[state.windows.length - 1] ?? null,
    lastDecision,
    decay: state.decay,
    retrain: retrain ? { retrainId: retrain.retrainId, startedAt: retrain.startedAt } : null,
    approval: {
      status: state.approval.status,
      expiresAt:
        state.approval.status === 'pending'
          ? state.approval.requestedAt + parseDuration(policy.guards.approval.timeout)
          : null,
    },
    paused: state.paused,
  });

  /** Record a decision with provenance; the id is deterministic so a retried activity stores it once. */
  const record = async (
    kind: DecisionKind,
    actor: string,
    reason: string,
    extra: {
      decision?: PolicyDecision;
      evaluation?: WindowEvaluation | null;
      details?: unknown;
      lineageId?: string;
    } = {},
  ) => {
    decisionCounter += 1;
    const decisionId = `${info.workflowId}/${info.runId}/${decisionCounter}`;
    const at = Date.now();
    await monitor.recordDecision({
      decisionId,
      modelId: input.modelId,
      modelVersion: state.version ?? '',
      workflowId: info.workflowId,
      runId: info.runId,
      decidedAt: at,
      kind,
      actor,
      reason,
      policy: policyRef,
      statistics: {
        window: extra.evaluation?.window ?? null,
        drift: extra.evaluation?.drift ?? null,
        dataQuality: extra.evaluation?.dataQuality ?? null,
        quality: extra.evaluation?.quality ?? null,
        changePoint: extra.evaluation?.changePoint ?? null,
        decay: state.decay,
        economics: extra.decision?.economics ?? null,
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
        referenceId: reference?.referenceId ?? null,
        ...(typeof extra.details === 'object' && extra.details !== null ? extra.details : {}),
      },
    });
    lastDecision = { decisionId, kind, reason, at };
    decisions.derived({
      modelId: input.modelId,
      decisionId,
      kind,
      reason,
      at,
      window: extra.evaluation ? { start: extra.evaluation.window.start, end: extra.evaluation.window.end } : null,
      quality: extra.evaluation?.window.quality?.value ?? null,
    });
    return decisionId;
  };

  const startRetrain = async (decision: PolicyDecision, actor: string, decisionId: string) => {
    retrainSequence += 1;
    const retrainId = retrainWorkflowId(input.modelId, retrainSequence);
    state.retrainInFlight = true;
    state.manualRequest = null;
    state.approval = { status: 'none' };
    const startedAt = Date.now();
    const handle = await startChild(Retrain, {
      workflowId: retrainId,
      // A monitor that continues-as-new waits for its retrain first; a terminated monitor leaves it running.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      args: [
        {
          retrainId,
          modelId: input.modelId,
          championVersion: state.version,
          trainingWindow: {
            kind: decision.trainingWindow.kind,
            start: decision.trainingWindow.start,
            end: decision.trainingWindow.end,
          },
          decisionId,
          policy: policyRef,
          actor,
          settings: retrainSettings,
        },
      ],
    });
    retrain = { retrainId, startedAt, result: handle.result() };
    void retrain.result.then(
      (result) => onRetrainFinished(retrainId, startedAt, result),
      (err: unknown) =>
        onRetrainFinished(retrainId, startedAt, {
          outcome: 'failed',
          reason: String(err),
          version: null,
          trainedAt: null,
          freshQuality: null,
          lineageId: null,
          verdict: null,
        }),
    );
    publishSearchAttributes();
  };

  const onRetrainFinished = async (retrainId: string, startedAt: number, result: RetrainResult) => {
    if (result.outcome === 'promoted' && result.version) {
      state = startVersion(
        state,
        result.version,
        result.trainedAt ?? Date.now(),
        result.freshQuality,
        startedAt,
        Date.now(),
      );
      // The new version's reference is the data it was trained on (kept as is when that fails).
      reference =
        (await monitor.buildReference({
          modelId: input.modelId,
          modelVersion: result.version,
          lineageId: result.lineageId ?? undefined,
        })) ?? reference;
    } else {
      // A failed or rejected retrain still counts against the budget and starts the cooldown.
      state.recentRetrains = [...state.recentRetrains, startedAt].slice(-50);
      state.lastRetrainAt = Date.now();
    }
    state.retrainInFlight = false;
    retrain = null;
    log.info('retrain finished', { retrainId, outcome: result.outcome });
    publishSearchAttributes();
    wakeUp = true;
  };

  /** Ask the policy again without a new window (after approve/forceRetrain) and act on it. */
  const act = async (decision: PolicyDecision, evaluation: WindowEvaluation | null, actor: string) => {
    if (decision.kind === 'retrain') {
      const decisionId = await record('retrain', actor, decision.reason, { decision, evaluation });
      await startRetrain(decision, actor, decisionId);
      return decisionId;
    }
    if (decision.kind === 'blocked' && decision.blockedBy === 'approval' && decision.approval.status === 'needed') {
      state.approval = { status: 'pending', requestedAt: Date.now() };
      return record('approval-requested', 'system', decision.reason, { decision, evaluation });
    }
    if (decision.approval.status === 'expired' || decision.approval.status === 'rejected') {
      state.approval = { status: 'none' };
      if (decision.approval.status === 'expired')
        return record('approval-expired', 'system', 'nobody approved the retrain before the approval timeout', {
          decision,
          evaluation,
        });
    }
    return record(decision.kind, 'system', decision.reason, { decision, evaluation });
  };

  const reevaluate = async (actor: string): Promise<string> => {
    if (!lastEvaluation)
      throw ApplicationFailure.nonRetryable('no window has been evaluated yet; wait for the first tick');
    const decision = evaluatePolicy(policy, policyStateOf(state, settings), Date.now());
    return act(decision, lastEvaluation, actor);
  };

  // ---- message handlers ---------------------------------------------------------------------
  setHandler(statusQuery, status);

  setHandler(
    setPolicyUpdate,
    async ({ policy: next, ref, actor, reason }) => {
      policy = next;
      policyRef = ref;
      await record('policy-change', actor, reason ?? `policy ${ref.name} v${ref.version} (${ref.hash.slice(0, 12)})`, {
        details: { policy: ref },
      });
      return ref;
    },
    {
      validator: ({ policy: next, ref }) => {
        if (next.model !== input.modelId)
          throw new Error(`policy is for model "${next.model}", this monitor watches "${input.modelId}"`);
        if (!/^[0-9a-f]{64}$/.test(ref.hash))
          throw new Error('policy ref needs the sha256 content hash from platform/policy.ts');
      },
    },
  );

  setHandler(
    pauseUpdate,
    async ({ actor, reason }) => {
      state.paused = true;
      await record('pause', actor, reason ?? 'paused');
      publishSearchAttributes();
      return status();
    },
    { validator: (_request: Actor) => void (state.paused && fail('the monitor is already paused')) },
  );

  setHandler(
    resumeUpdate,
    async ({ actor, reason }) => {
      state.paused = false;
      wakeUp = true;
      await record('resume', actor, reason ?? 'resumed');
      publishSearchAttributes();
      return status();
    },
    { validator: (_request: Actor) => void (!state.paused && fail('the monitor is not paused')) },
  );

  setHandler(
    forceRetrainUpdate,
    async ({ actor, reason, force }) => {
      state.manualRequest = { by: actor, reason: reason ?? 'manual request', force: force ?? false };
      await record('force-retrain', actor, state.manualRequest.reason, { details: { force: force ?? false } });
      const decisionId = await reevaluate(actor);
      publishSearchAttributes();
      return { accepted: true as const, decisionId };
    },
    {
      validator: (_request: Actor & { force?: boolean }) => {
        if (retrain) fail(`a retrain is already running (${retrain.retrainId}); one at a time`);
        if (state.paused) fail('the monitor is paused: resume it first');
        if (!lastEvaluation) fail('no window has been evaluated yet; wait for the first tick');
      },
    },
  );

  setHandler(
    approveUpdate,
    async ({ actor, reason }) => {
      state.approval = { status: 'approved', by: actor, at: Date.now() };
      await record('approve', actor, reason ?? 'approved');
      const decisionId = await reevaluate(actor);
      publishSearchAttributes();
      return { approved: true as const, decisionId };
    },
    {
      validator: (_request: Actor) =>
        void (
          state.approval.status !== 'pending' &&
          fail(`nothing is waiting for approval (approval is ${state.approval.status})`)
        ),
    },
  );

  setHandler(
    rejectUpdate,
    async ({ actor, reason }) => {
      state.approval = { status: 'none' };
      const decisionId = await record('reject', actor, reason ?? 'retrain rejected by a person');
      publishSearchAttributes();
      return { rejected: true as const, decisionId };
    },
    {
      validator: (_request: Actor) =>
        void (
          state.approval.status !== 'pending' &&
          fail(`nothing is waiting for approval (approval is ${state.approval.status})`)
        ),
    },
  );

  publishSearchAttributes();

  // ---- the loop -----------------------------------------------------------------------------
  for (;;) {
    const dueAt = nextWindowStart + cadenceMs + settleMs;
    // Sleep until the window closes; a resume or a finished retrain wakes us early only to re-check.
    await condition(() => wakeUp || (!state.paused && Date.now() >= dueAt), Math.max(1, dueAt - Date.now()));
    wakeUp = false;
    if (state.paused || Date.now() < dueAt) continue;

    const start = nextWindowStart;
    const end = start + cadenceMs;
    nextWindowStart = end;

    const observation = await monitor.collectWindow({
      modelId: input.modelId,
      start,
      end,
      referenceId: reference?.referenceId ?? null,
    });
    if (!reference && observation.events > 0) {
      const dominant = [...observation.versions].sort((a, b) => b.events - a.events)[0];
      // No reference yet: this first window becomes the reference of the version in service.
      reference = await monitor.buildReference({
        modelId: input.modelId,
        modelVersion: dominant?.version ?? null,
        window: { start, end },
      });
    }
    const tick = monitorTick(state, reference, observation, policy, Date.now(), settings);
    state = tick.state;
    lastEvaluation = tick.evaluation;
    await act(tick.decision, tick.evaluation, 'system');
    publishSearchAttributes();

    ticksThisRun += 1;
    if ((workflowInfo().continueAsNewSuggested || ticksThisRun >= (input.maxTicksPerRun ?? 500)) && !retrain) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof ModelMonitor>({
        ...input,
        policy,
        policyRef,
        carried: { state, reference, nextWindowStart, retrainSequence, lastDecision, runs: (carried?.runs ?? 0) + 1 },
      });
    }
  }
}

function fail(message: string): never {
  throw new Error(message);
}
