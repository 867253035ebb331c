import { activeBlackout, describeBlackout } from './blackout.ts';
import { HOUR_MS, parseDuration } from './duration.ts';
import { resolveEvidence, type ResolvedEvidence } from './evidence.ts';
import {
  DEFAULT_RULE_REVISION,
  type ApprovalOutcome,
  type GuardCheck,
  type PolicyDecision,
  type PolicyState,
  type TrainingWindowChoice,
  type WindowSummary,
} from './state.ts';
import { withSegmentSlo } from '../segments/slo-rule.ts';
import { evaluateTrigger } from './triggers.ts';
import type { RetrainPolicy } from './types.ts';
import { composeDecisionReason, heldTriggerReason, probeStoppedReason } from '../texts/decision-reason.ts';
import { formatDuration, formatDurationText, formatInstant, plural } from '../texts/format.ts';
import { LATEST_TEXT_REVISION } from '../texts/revision.ts';

/**
 * Evaluate a retrain policy: trigger first, then guards, then the training window.
 *
 * Deterministic by construction — it runs inside Temporal workflow code: no clock (`now` is an
 * argument), no randomness, no I/O, no Node built-ins. The same policy, state and `now` always
 * give the same decision, which is what lets `halflife replay` re-derive any decision.
 *
 * Guard order (the first failing one is reported as `blockedBy`; all are evaluated and listed):
 * one-at-a-time → data quality → cooldown → budget → blackout → approval. Approval is last so a
 * person is only asked when nothing else stands in the way.
 */
export function evaluatePolicy(policy: RetrainPolicy, state: PolicyState, now: number): PolicyDecision {
  const texts = state.textRevision ?? LATEST_TEXT_REVISION;
  const manual = state.manualRequest ?? null;
  const revision3 = (state.ruleRevision ?? DEFAULT_RULE_REVISION) >= 3;
  const evidence = resolveEvidence(policy.evidence, state.featureCount ?? null);
  const outcome = evaluateTrigger(policy.trigger, state, now, policy.trainingWindow, evidence, policy.probes);
  let trainingWindow = chooseTrainingWindow(policy, state, now, outcome.stepChangeAt ?? null);
  if (revision3) {
    // After a change, train on enough of the new data: wait for labelled rows, not only for time.
    const postChange = postChangeData(policy, state, now, outcome.stepChangeAt ?? null, evidence);
    if (outcome.fired && postChange?.wait) {
      outcome.fired = false;
      outcome.reason =
        texts >= 2
          ? heldTriggerReason(postChange.wait, outcome.reason)
          : `wait for enough data after the change: ${outcome.reason}; but ${postChange.wait}`;
    }
    outcome.inputs = {
      ...outcome.inputs,
      minTrainingLabelled: evidence.minTrainingLabelled,
      ...(postChange ? { changeAt: postChange.changeAt, labelledSinceChange: postChange.labelled } : {}),
    };
    const note = state.qualityNote ?? null;
    if (note !== null && (policy.trigger.kind === 'cost-aware' || policy.trigger.kind === 'threshold')) {
      outcome.reason = `${outcome.reason}; quality: ${note}`;
      outcome.inputs = { ...outcome.inputs, qualityNote: note };
    }
  }
  // A segment whose quality breaches its SLO is named, and fires the trigger when the policy says so.
  Object.assign(outcome, withSegmentSlo(outcome, policy.segments, state.segmentSloBreaches));
  const fired = outcome.fired || manual !== null;
  const trigger =
    manual !== null
      ? {
          kind: 'manual-request' as const,
          fired: true,
          reason: `requested by ${manual.by}${manual.reason ? `: ${manual.reason}` : ''}${manual.force ? ' (forced)' : ''}; policy trigger: ${outcome.reason}`,
        }
      : { kind: policy.trigger.kind, fired: outcome.fired, reason: outcome.reason };

  const guarded = evaluateGuards(policy, state, now, revision3 ? { trainingWindow, evidence } : null);
  const guards = guarded.checks;
  trainingWindow = guarded.trainingWindow ?? trainingWindow;
  const approval = approvalOutcome(policy, state, now);
  const blocking = guards.find((g) => !g.passed && !g.overridden) ?? null;
  const timeBased = guards.filter((g) => !g.passed && !g.overridden);
  const notBefore =
    blocking !== null && timeBased.every((g) => g.until !== null)
      ? Math.max(...timeBased.map((g) => g.until as number))
      : null;

  // A challenger trains on the data a retrain would: while broken data blocks that, no probe starts.
  const brokenData = guards.find((g) => g.guard === 'data-quality' && !g.passed) ?? null;
  const stoppedProbe = outcome.probe !== undefined && !fired && brokenData !== null ? outcome.probe : null;
  // Text revision 3: a trigger held only by a probe that cannot start has fired, and the guard blocks
  // it (before, "probe first" was recorded window after window and nothing started).
  const wantsRetrain = fired || (texts >= 3 && stoppedProbe?.kind === 'before-retrain');
  const kind: PolicyDecision['kind'] = !wantsRetrain ? 'no-action' : blocking === null ? 'retrain' : 'blocked';
  const reason =
    texts >= 3 && stoppedProbe !== null && brokenData !== null
      ? probeStoppedReason(stoppedProbe, trigger.reason, brokenData)
      : texts >= 2
        ? composeDecisionReason(trigger.reason, kind === 'blocked' ? blocking : null)
        : kind === 'no-action'
          ? `no action: ${trigger.reason}`
          : kind === 'retrain'
            ? `retrain: ${trigger.reason}`
            : `blocked by ${blocking?.guard}: ${blocking?.detail}; trigger: ${trigger.reason}`;

  return {
    kind,
    reason,
    policy: { name: policy.name, version: policy.version },
    model: policy.model,
    evaluatedAt: now,
    trigger: wantsRetrain === fired ? trigger : { ...trigger, fired: true },
    guardsApplied: guards,
    blockedBy: kind === 'blocked' ? (blocking?.guard ?? null) : null,
    notBefore: kind === 'blocked' ? notBefore : null,
    approval,
    thresholds: {
      ...outcome.thresholds,
      cooldown: policy.guards.cooldown,
      budgetMaxRetrains: policy.guards.budget.maxRetrains,
      budgetPer: policy.guards.budget.per,
    },
    inputs: {
      ...outcome.inputs,
      lastRetrainAt: state.lastRetrainAt ?? null,
      retrainInFlight: state.retrainInFlight ?? false,
      latestWindowEnd: state.windows?.at(-1)?.end ?? null,
      manualRequestBy: manual?.by ?? null,
      ...(texts >= 3 && stoppedProbe !== null ? { probeStoppedBy: 'data-quality' } : {}),
    },
    economics: outcome.economics,
    trainingWindow,
    // A challenger is trained on the data a retrain would use: not while broken data blocks it.
    ...(outcome.probe && kind !== 'retrain' && brokenData === null ? { probe: outcome.probe } : {}),
  };
}

/**
 * The labelled rows since the latest change and, when they are too few, why a retrain should
 * wait (rule revision 3); null without a known change or a since-change-point window. A
 * `since-change-point` training window trains on what follows the latest change (the monitor's
 * change point or the trigger's quality step); until that holds the policy's
 * `evidence.minTrainingLabelled` labelled rows, a retrain would learn the new concept from too
 * little of it (or mix the old one back in through the window's minimum length). A bounded
 * `fixed` window is kept clean of a step by the cost-aware trigger's own wait.
 */
export function postChangeData(
  policy: RetrainPolicy,
  state: PolicyState,
  now: number,
  stepAt: number | null,
  evidence: ResolvedEvidence,
): { changeAt: number; labelled: number; wait: string | null } | null {
  if (policy.trainingWindow.kind !== 'since-change-point') return null;
  const known = [state.lastChangePointAt ?? null, stepAt].filter((t): t is number => t !== null && t <= now);
  if (known.length === 0) return null;
  const changeAt = Math.max(...known);
  const labelled = labelledBetween(state.windows ?? [], changeAt, now);
  const need = evidence.minTrainingLabelled;
  return {
    changeAt,
    labelled,
    wait:
      labelled >= need
        ? null
        : (state.textRevision ?? LATEST_TEXT_REVISION) >= 2
          ? `waiting for enough labelled rows after the change at ${formatInstant(changeAt)}: ${labelled} of ${need} (${evidence.minTrainingLabelledSource})`
          : `only ${labelled} labelled rows since the change at ${new Date(changeAt).toISOString()} (need ${need}; ${evidence.minTrainingLabelledSource})`,
  };
}

/** Labelled events of the windows that lie within [start, end). */
function labelledBetween(windows: readonly WindowSummary[], start: number, end: number): number {
  return windows.filter((w) => w.start >= start && w.end <= end).reduce((s, w) => s + (w.labelled ?? 0), 0);
}

/** Instants and counts of the data-quality guard's texts, in the decision texts' revision. */
function guardTexts(revision: number) {
  const latest = revision >= 2;
  return {
    instant: (ms: number): string => (latest ? formatInstant(ms) : new Date(ms).toISOString()),
    span: (start: number, end: number): string =>
      latest
        ? `${formatInstant(start)} → ${formatInstant(end)}`
        : `${new Date(start).toISOString().replace(':00.000Z', 'Z')}–${new Date(end).toISOString().replace(':00.000Z', 'Z')}`,
    count: (n: number, singular: string): string => (latest ? plural(n, singular) : `${n} ${singular}(s)`),
  };
}

/**
 * The data-quality guard of rule revision 3: every window the retrain would train on is judged.
 * Broken windows are kept out by starting the training window after the last of them; while the
 * latest window is broken, or too few labelled rows follow the breakage, the retrain waits.
 * Every failing window is named with its failed checks and their figures.
 */
export function dataQualityGuard(
  state: PolicyState,
  window: TrainingWindowChoice,
  evidence: ResolvedEvidence,
): { passed: boolean; detail: string; trainingWindow: TrainingWindowChoice } {
  const t = guardTexts(state.textRevision ?? LATEST_TEXT_REVISION);
  const windows = state.windows ?? [];
  const from = window.start ?? Number.NEGATIVE_INFINITY;
  const span = windows.filter((w) => w.end > from && w.start < window.end);
  const broken = span.filter((w) => w.dataQualityOk === false);
  if (broken.length === 0)
    return {
      passed: true,
      detail: `no breakage in the ${t.count(span.length, 'window')} the retrain would train on`,
      trainingWindow: window,
    };
  const named = broken
    .slice(-3)
    .reverse()
    .map((w) => `${t.span(w.start, w.end)}: ${(w.broken ?? []).join('; ') || 'failed data-quality checks'}`)
    .join(' | ');
  const which = `${named}${broken.length > 3 ? ` (and ${t.count(broken.length - 3, 'more broken window')})` : ''}`;
  const latest = windows.at(-1);
  if (latest !== undefined && latest.dataQualityOk === false)
    return {
      passed: false,
      detail: `the latest window is broken: training on broken data would make things worse; waiting for clean data — ${which}`,
      trainingWindow: window,
    };
  const cleanStart = (broken.at(-1) as WindowSummary).end;
  const labelled = labelledBetween(windows, cleanStart, window.end);
  if (labelled < evidence.minTrainingLabelled)
    return {
      passed: false,
      detail: `${t.count(broken.length, 'broken window')} in the training window; only ${labelled} labelled rows since the breakage ended at ${t.instant(cleanStart)} (need ${evidence.minTrainingLabelled}): waiting — ${which}`,
      trainingWindow: window,
    };
  return {
    passed: true,
    detail: `training starts after broken data at ${t.instant(cleanStart)} (${labelled} labelled rows since), leaving out ${t.count(broken.length, 'broken window')} — ${which}`,
    trainingWindow: {
      ...window,
      start: cleanStart,
      reason: `${window.reason}, from the end of broken data at ${t.instant(cleanStart)}`,
    },
  };
}

function evaluateGuards(
  policy: RetrainPolicy,
  state: PolicyState,
  now: number,
  revision3: { trainingWindow: TrainingWindowChoice; evidence: ResolvedEvidence } | null,
): { checks: GuardCheck[]; trainingWindow: TrainingWindowChoice | null } {
  let trainingWindow: TrainingWindowChoice | null = null;
  const g = policy.guards;
  const texts = state.textRevision ?? LATEST_TEXT_REVISION;
  const force = state.manualRequest?.force === true;
  const checks: GuardCheck[] = [];
  const add = (
    guard: GuardCheck['guard'],
    passed: boolean,
    detail: string,
    until: number | null,
    overridable: boolean,
  ): void => {
    checks.push({
      guard,
      passed,
      overridden: !passed && overridable && force,
      detail: !passed && overridable && force ? `${detail} (overridden by a forced request)` : detail,
      until: passed ? null : until,
    });
  };

  // One retrain at a time: never overridable (two trainings of one model would race to promote).
  if (g.oneAtATime)
    add(
      'one-at-a-time',
      !(state.retrainInFlight ?? false),
      state.retrainInFlight ? 'a retrain of this model is already running' : 'no retrain running',
      null,
      false,
    );

  if (g.requireDataQuality && revision3 !== null) {
    const guard = dataQualityGuard(state, revision3.trainingWindow, revision3.evidence);
    add('data-quality', guard.passed, guard.detail, null, true);
    trainingWindow = guard.trainingWindow;
  } else if (g.requireDataQuality) {
    const latest = state.windows?.at(-1);
    const ok = latest?.dataQualityOk ?? true;
    add(
      'data-quality',
      ok,
      ok
        ? 'latest window passed data-quality checks'
        : 'latest window failed data-quality checks: training on broken data would make things worse',
      null,
      true,
    );
  }

  const cooldownMs = parseDuration(g.cooldown);
  const last = state.lastRetrainAt ?? null;
  if (cooldownMs > 0) {
    const until = last === null ? null : last + cooldownMs;
    const passed = until === null || now >= until;
    add(
      'cooldown',
      passed,
      last === null
        ? 'no previous retrain'
        : texts >= 2
          ? passed
            ? `last retrain ${formatDuration(now - last)} ago, past the ${formatDurationText(g.cooldown)} cooldown`
            : `last retrain ${formatDuration(now - last)} ago, within the ${formatDurationText(g.cooldown)} cooldown (over at ${formatInstant(until)})`
          : passed
            ? `last retrain ${((now - last) / HOUR_MS).toFixed(1)} h ago ≥ ${g.cooldown}`
            : `last retrain ${((now - last) / HOUR_MS).toFixed(1)} h ago < cooldown ${g.cooldown}`,
      until,
      true,
    );
  }

  const perMs = parseDuration(g.budget.per);
  const inPeriod = (state.recentRetrains ?? []).filter((t) => t > now - perMs && t <= now).sort((a, b) => a - b);
  const budgetOk = inPeriod.length < g.budget.maxRetrains;
  // The budget frees up when enough of the retrains in the window have aged out of it.
  const freesAt = budgetOk ? null : (inPeriod[inPeriod.length - g.budget.maxRetrains] ?? now) + perMs;
  add(
    'budget',
    budgetOk,
    texts >= 2
      ? `${plural(inPeriod.length, 'retrain')} in the last ${formatDurationText(g.budget.per)}, at most ${g.budget.maxRetrains}${freesAt === null ? '' : ` (the next frees up at ${formatInstant(freesAt)})`}`
      : `${inPeriod.length} retrain(s) in the last ${g.budget.per}, at most ${g.budget.maxRetrains}`,
    freesAt,
    true,
  );

  if (g.blackout.length > 0) {
    const active = activeBlackout(g.blackout, now);
    add(
      'blackout',
      active === null,
      active === null ? 'outside blackout windows' : `inside ${describeBlackout(active.window)}`,
      active?.until ?? null,
      true,
    );
  }

  if (g.approval.required) {
    const a = approvalOutcome(policy, state, now);
    const passed = a.status === 'approved';
    const timeout = texts >= 2 ? formatDurationText(g.approval.timeout) : g.approval.timeout;
    const expires =
      a.expiresAt === null ? 'never' : texts >= 2 ? formatInstant(a.expiresAt) : new Date(a.expiresAt).toISOString();
    const detail = {
      'not-required': 'approval not required',
      needed: `a person must approve this retrain (request expires after ${timeout})`,
      pending: `awaiting approval (expires ${expires})`,
      approved: state.manualRequest
        ? `requested by ${state.manualRequest.by}, which counts as approval`
        : `approved by ${state.approval?.status === 'approved' ? state.approval.by : '?'}`,
      rejected: `rejected by ${state.approval?.status === 'rejected' ? state.approval.by : '?'}`,
      expired: `approval request timed out after ${timeout}: treated as rejected`,
    }[a.status];
    add('approval', passed, detail, null, false);
  }
  return { checks, trainingWindow };
}

function approvalOutcome(policy: RetrainPolicy, state: PolicyState, now: number): PolicyDecision['approval'] {
  const required = policy.guards.approval.required;
  const timeoutMs = parseDuration(policy.guards.approval.timeout);
  if (!required) return { required, status: 'not-required', expiresAt: null };
  if (state.manualRequest != null) return { required, status: 'approved', expiresAt: null };
  const a = state.approval ?? { status: 'none' as const };
  let status: ApprovalOutcome;
  let expiresAt: number | null = null;
  switch (a.status) {
    case 'none':
      status = 'needed';
      expiresAt = now + timeoutMs;
      break;
    case 'pending':
      expiresAt = a.requestedAt + timeoutMs;
      status = now >= expiresAt ? 'expired' : 'pending';
      break;
    case 'approved':
      status = 'approved';
      break;
    case 'rejected':
      status = 'rejected';
      break;
  }
  return { required, status, expiresAt };
}

/**
 * "How far back do we train?" — recorded with every decision.
 *
 * For `since-change-point`, the change point is the latest of the monitor's detected change
 * point and the quality step the trigger localised (`stepAt`): the trigger often sees a step
 * before Page–Hinkley fires, and training from before it would mix the old concept back in.
 */
export function chooseTrainingWindow(
  policy: RetrainPolicy,
  state: PolicyState,
  now: number,
  stepAt: number | null = null,
): TrainingWindowChoice {
  const w = policy.trainingWindow;
  const texts = state.textRevision ?? LATEST_TEXT_REVISION;
  const span = (d: string): string => (texts >= 2 ? formatDurationText(d) : d);
  const instant = (t: number): string => (texts >= 2 ? formatInstant(t) : new Date(t).toISOString());
  switch (w.kind) {
    case 'fixed':
      return {
        kind: 'fixed',
        start: now - parseDuration(w.duration),
        end: now,
        reason: `the last ${texts >= 2 ? formatDurationText(w.duration) : w.duration}`,
      };
    case 'all':
      return { kind: 'all', start: null, end: now, reason: 'all retained history' };
    case 'since-change-point': {
      const detected = state.lastChangePointAt ?? null;
      const known = [detected, stepAt].filter((t): t is number => t !== null && t <= now);
      if (known.length === 0)
        return {
          kind: 'since-change-point',
          start: now - parseDuration(w.fallback),
          end: now,
          reason: `no change point known: the last ${span(w.fallback)}`,
        };
      const cp = Math.max(...known);
      const what = cp === stepAt && cp !== detected ? 'quality step' : 'change point';
      const minimumStart = now - parseDuration(w.minimum);
      if (cp > minimumStart)
        return {
          kind: 'since-change-point',
          start: minimumStart,
          end: now,
          reason: `${what} at ${instant(cp)} is less than ${span(w.minimum)} ago: the last ${span(w.minimum)}`,
        };
      return {
        kind: 'since-change-point',
        start: cp,
        end: now,
        reason: `since the ${what} at ${instant(cp)}`,
      };
    }
  }
}
