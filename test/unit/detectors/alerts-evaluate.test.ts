import { describe, expect, it } from 'vitest';
import {
  alertEpisodeId,
  emptyAlertMemory,
  evaluateAlerts,
  notePromotionOutcome,
  noteServingReport,
} from '../../../detectors/alerts/evaluate.ts';
import { monitorAlertSignals } from '../../../detectors/alerts/signals.ts';
import type { AlertMemory, AlertPolicy, AlertRule, AlertSignals } from '../../../detectors/alerts/types.ts';
import { initialMonitorState } from '../../../detectors/monitor/tick.ts';
import type { WindowSummary } from '../../../detectors/policy/state.ts';
import { parsePolicy } from '../../../platform/policy-file.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 5, 1);

/** Rules as a policy file would give them (defaults applied by the real schema). */
function alertPolicy(rules: unknown[], receivers: unknown[] = []): AlertPolicy {
  const { policy } = parsePolicy({
    name: 'p',
    version: 1,
    model: 'm',
    trigger: { kind: 'manual' },
    alerts: { receivers, rules },
  });
  return policy.alerts!;
}

function window(i: number, over: Partial<WindowSummary> = {}): WindowSummary {
  return {
    start: T0 + i * HOUR,
    end: T0 + (i + 1) * HOUR,
    events: 1000,
    dataQualityOk: true,
    drift: { datasetDrift: false, driftedShare: 0 },
    quality: { metric: 'accuracy', value: 0.9, source: 'realised' },
    ...over,
  };
}

function signals(over: Partial<AlertSignals> = {}): AlertSignals {
  return {
    modelId: 'm',
    version: 'v3',
    at: T0 + 10 * HOUR,
    health: 'healthy',
    windows: [window(0)],
    slo: null,
    timeToBreachHours: null,
    dataQualityAlerts: [],
    driftedFeatures: [],
    approval: { pending: false, requestedAt: null },
    promotionFailure: null,
    serving: null,
    ...over,
  };
}

const drifted = (i: number, share = 0.6) => window(i, { drift: { datasetDrift: true, driftedShare: share } });

/** Run ticks through the evaluator, returning every fire and resolve in order. */
function run(policy: AlertPolicy, ticks: Partial<AlertSignals>[], start: AlertMemory = emptyAlertMemory()) {
  let memory = start;
  const log: string[] = [];
  ticks.forEach((tick, i) => {
    const result = evaluateAlerts(policy, signals({ at: T0 + i * HOUR, ...tick }), memory);
    memory = result.memory;
    for (const f of result.fire) log.push(`${i} fire ${f.key}`);
    for (const r of result.resolve) log.push(`${i} resolve ${r.key}`);
  });
  return { log, memory };
}

describe('alert rules: one firing per key until its condition clears', () => {
  it('drift fires after its consecutive windows, once across ticks, and resolves when a window is clean', () => {
    const policy = alertPolicy([{ kind: 'drift', consecutiveWindows: 2 }]);
    const { log, memory } = run(policy, [
      { windows: [window(0), drifted(1)] },
      { windows: [window(0), drifted(1), drifted(2)], driftedFeatures: ['x1', 'x2'] },
      { windows: [drifted(1), drifted(2), drifted(3)] },
      { windows: [drifted(2), drifted(3), drifted(4)] },
      { windows: [drifted(3), drifted(4), window(5)] },
    ]);
    expect(log).toEqual(['1 fire m/drift', '4 resolve m/drift']);
    expect(memory.firing).toEqual({});
  });

  it('a drifted-share rule counts windows by their share, not the dataset verdict', () => {
    const policy = alertPolicy([{ kind: 'drift', consecutiveWindows: 1, share: 0.5 }]);
    expect(run(policy, [{ windows: [drifted(0, 0.4)] }, { windows: [drifted(1, 0.5)] }]).log).toEqual([
      '1 fire m/drift',
    ]);
  });

  it('what it sends names the model, version, rule, severity, drifted features and receivers', () => {
    const policy = alertPolicy(
      [{ kind: 'drift', consecutiveWindows: 1 }],
      [
        { name: 'a', format: 'json', url: { env: 'A_URL' } },
        { name: 'b', format: 'slack', url: { env: 'B_URL' } },
      ],
    );
    const at = T0 + 5 * HOUR;
    const result = evaluateAlerts(
      policy,
      signals({ at, windows: [drifted(4)], driftedFeatures: ['x1', 'x2', 'x3', 'x4'] }),
      emptyAlertMemory(),
    );
    expect(result.fire).toHaveLength(1);
    const notice = result.fire[0]!;
    expect(notice).toMatchObject({
      key: 'm/drift',
      episodeId: alertEpisodeId('m/drift', at),
      modelId: 'm',
      modelVersion: 'v3',
      rule: 'drift',
      kind: 'drift',
      severity: 'warning',
      subject: null,
      startsAt: at,
      receivers: ['a', 'b'],
    });
    expect(notice.summary).toBe('m: input drift: x1, x2, x3 and 1 more');
    expect(notice.details).toMatchObject({ features: ['x1', 'x2', 'x3', 'x4'], driftedShare: 0.6 });
  });

  it('a rule that names receivers notifies only those', () => {
    const policy = alertPolicy(
      [{ kind: 'drift', consecutiveWindows: 1, receivers: ['b'] }],
      [
        { name: 'a', format: 'json', url: { env: 'A_URL' } },
        { name: 'b', format: 'slack', url: { env: 'B_URL' } },
      ],
    );
    expect(evaluateAlerts(policy, signals({ windows: [drifted(0)] }), emptyAlertMemory()).fire[0]!.receivers).toEqual([
      'b',
    ]);
  });

  it('a change of health resolves the old state and fires the new one', () => {
    const policy = alertPolicy([{ kind: 'health' }]);
    const { log } = run(policy, [
      { health: 'healthy' },
      { health: 'drifting' },
      { health: 'drifting' },
      { health: 'degraded' },
      { health: 'healthy' },
    ]);
    expect(log).toEqual([
      '1 fire m/health/drifting',
      '3 fire m/health/degraded',
      '3 resolve m/health/drifting',
      '4 resolve m/health/degraded',
    ]);
  });

  it('health states outside the rule never fire', () => {
    const policy = alertPolicy([{ kind: 'health', states: ['degraded'] }]);
    expect(run(policy, [{ health: 'drifting' }, { health: 'paused' }]).log).toEqual([]);
  });

  it('SLO: below for the consecutive windows is a breach; a predicted breach within the horizon is a warning', () => {
    const policy = alertPolicy([{ kind: 'slo', consecutiveWindows: 2, within: '12h' }]);
    const q = (i: number, value: number) => window(i, { quality: { metric: 'accuracy', value, source: 'realised' } });
    const { log } = run(policy, [
      { slo: 0.85, windows: [q(0, 0.9)], timeToBreachHours: 30 },
      { slo: 0.85, windows: [q(0, 0.9), q(1, 0.88)], timeToBreachHours: 10 },
      { slo: 0.85, windows: [q(1, 0.88), q(2, 0.84)], timeToBreachHours: 5 },
      { slo: 0.85, windows: [q(2, 0.84), q(3, 0.83)], timeToBreachHours: 2 },
      { slo: 0.85, windows: [q(3, 0.83), q(4, 0.9)], timeToBreachHours: 40 },
    ]);
    expect(log).toEqual([
      '1 fire m/slo/forecast',
      '3 fire m/slo/breached',
      '3 resolve m/slo/forecast',
      '4 resolve m/slo/breached',
    ]);
    const forecast = evaluateAlerts(
      policy,
      signals({ slo: 0.85, windows: [q(0, 0.9)], timeToBreachHours: 3 }),
      emptyAlertMemory(),
    ).fire[0]!;
    expect(forecast.severity).toBe('warning');
    expect(forecast.summary).toContain('in 3.0 h');
  });

  it('SLO: a decay fit past the SLO is a breach even when the last windows are not below it; no SLO, no alert', () => {
    const policy = alertPolicy([{ kind: 'slo' }]);
    expect(
      evaluateAlerts(policy, signals({ slo: 0.85, timeToBreachHours: 0 }), emptyAlertMemory()).fire[0],
    ).toMatchObject({ key: 'm/slo/breached', severity: 'critical' });
    expect(
      evaluateAlerts(
        policy,
        signals({
          slo: null,
          windows: [window(0, { quality: { metric: 'accuracy', value: 0.1, source: 'realised' } })],
        }),
        emptyAlertMemory(),
      ).fire,
    ).toEqual([]);
  });

  it('data quality fires on failing windows and names the failing checks', () => {
    const policy = alertPolicy([{ kind: 'data-quality', consecutiveWindows: 2 }]);
    const bad = (i: number) => window(i, { dataQualityOk: false });
    const { log } = run(policy, [
      { windows: [bad(0)] },
      { windows: [bad(0), bad(1)], dataQualityAlerts: ['x1: all values missing'] },
      { windows: [bad(1), window(2)] },
    ]);
    expect(log).toEqual(['1 fire m/data-quality', '2 resolve m/data-quality']);
    const notice = evaluateAlerts(
      policy,
      signals({ windows: [bad(0), bad(1)], dataQualityAlerts: ['x1: all values missing'] }),
      emptyAlertMemory(),
    ).fire[0]!;
    expect(notice.summary).toBe('m: data quality failing for 2 windows: x1: all values missing');
    expect(notice.severity).toBe('critical');
  });

  it('approval pending fires once it has waited `after`, and resolves when answered', () => {
    const policy = alertPolicy([{ kind: 'approval-pending', after: '2h' }]);
    const requestedAt = T0;
    const { log } = run(policy, [
      { approval: { pending: true, requestedAt } },
      { approval: { pending: true, requestedAt } },
      { approval: { pending: true, requestedAt } },
      { approval: { pending: false, requestedAt: null } },
    ]);
    expect(log).toEqual(['2 fire m/approval-pending', '3 resolve m/approval-pending']);
  });

  it('a failed or rolled-back retrain fires until a later promotion; a rejected challenger changes nothing', () => {
    const policy = alertPolicy([{ kind: 'promotion-failed' }]);
    let memory = emptyAlertMemory();
    const outcome = (o: 'failed' | 'rolled-back' | 'rejected' | 'promoted', at: number) => ({
      outcome: o,
      version: 'v4',
      reason: `${o} for a reason`,
      at,
      source: 'halflife-retrain-m-1',
    });
    const step = (o: Parameters<typeof outcome>[0] | null, i: number) => {
      if (o) memory = notePromotionOutcome(memory, outcome(o, T0 + i * HOUR));
      const result = evaluateAlerts(
        policy,
        signals({ at: T0 + i * HOUR, promotionFailure: memory.promotionFailure }),
        memory,
      );
      memory = result.memory;
      return [...result.fire.map((f) => `fire ${f.summary}`), ...result.resolve.map((r) => `resolve ${r.reason}`)];
    };
    expect(step('rolled-back', 0)).toEqual(['fire m: version v4 was rolled back']);
    expect(step('rejected', 1)).toEqual([]);
    expect(step('failed', 2)).toEqual([]);
    expect(step('promoted', 3)).toEqual(['resolve a later version was promoted']);
  });

  it("a person's failed rollback says it was the rollback that failed, naming the version it tried to leave", () => {
    const policy = alertPolicy([{ kind: 'promotion-failed' }]);
    const memory = notePromotionOutcome(emptyAlertMemory(), {
      outcome: 'failed',
      action: 'rollback',
      version: 'v4',
      reason: 'rolled back: not confirmed by serving: scorer s1 refused',
      at: T0,
      source: 'alice',
    });
    const [fired] = evaluateAlerts(policy, signals({ promotionFailure: memory.promotionFailure }), memory).fire;
    expect(fired?.summary).toBe('m: the rollback from v4 failed');
    expect(fired?.description).toMatch(/^m: the rollback from v4 failed \(alice\): rolled back: not confirmed/);
  });

  it('serving disagreement fires on a disagreeing report and resolves on an agreeing one', () => {
    const policy = alertPolicy([{ kind: 'serving-disagreement' }]);
    let memory = noteServingReport(emptyAlertMemory(), {
      agrees: false,
      requested: 'v3',
      serving: ['v4'],
      reason: 'a scorer refused the update (sha256 mismatch)',
      at: T0,
    });
    const first = evaluateAlerts(policy, signals({ serving: memory.serving }), memory);
    expect(first.fire.map((f) => f.summary)).toEqual([
      'm: serving disagrees with the registry (requested v3, serving v4)',
    ]);
    memory = noteServingReport(first.memory, {
      agrees: true,
      requested: 'v3',
      serving: ['v3'],
      reason: '',
      at: T0 + 1,
    });
    expect(evaluateAlerts(policy, signals({ serving: memory.serving }), memory).resolve).toHaveLength(1);
  });

  it('removing a rule from the policy resolves what it fired; no policy, no alerts', () => {
    const withDrift = alertPolicy([{ kind: 'drift', consecutiveWindows: 1 }]);
    const fired = evaluateAlerts(withDrift, signals({ windows: [drifted(0)] }), emptyAlertMemory());
    const withoutDrift = alertPolicy([{ kind: 'health' }]);
    const after = evaluateAlerts(withoutDrift, signals({ windows: [drifted(0)] }), fired.memory);
    expect(after.resolve).toEqual([
      {
        key: 'm/drift',
        episodeId: fired.fire[0]!.episodeId,
        at: T0 + 10 * HOUR,
        reason: 'its rule was removed from the policy',
      },
    ]);
    expect(evaluateAlerts(undefined, signals({ windows: [drifted(0)] }), emptyAlertMemory()).fire).toEqual([]);
  });

  it('two rules of one kind fire under their own names', () => {
    const policy = alertPolicy([
      { kind: 'drift', name: 'drift-fast', consecutiveWindows: 1, severity: 'info' },
      { kind: 'drift', name: 'drift-slow', consecutiveWindows: 3, severity: 'critical' },
    ]);
    const { log } = run(policy, [
      { windows: [drifted(0)] },
      { windows: [drifted(0), drifted(1)] },
      { windows: [drifted(0), drifted(1), drifted(2)] },
    ]);
    expect(log).toEqual(['0 fire m/drift-fast', '2 fire m/drift-slow']);
  });

  it('is pure: the same inputs give the same result and the previous memory is left as it was', () => {
    const policy = alertPolicy([{ kind: 'drift', consecutiveWindows: 1 }, { kind: 'health' }]);
    const previous = emptyAlertMemory();
    const s = signals({ windows: [drifted(0)], health: 'drifting' });
    const a = evaluateAlerts(policy, s, previous);
    const b = evaluateAlerts(policy, s, previous);
    expect(a).toEqual(b);
    expect(previous).toEqual(emptyAlertMemory());
  });
});

describe('signals from the monitor state', () => {
  it('reads windows, time to breach, approval and the last evaluation without recomputing', () => {
    const state = initialMonitorState('m');
    state.version = 'v2';
    state.windows = Array.from({ length: 30 }, (_, i) => window(i));
    state.approval = { status: 'pending', requestedAt: T0 };
    const s = monitorAlertSignals({
      state,
      evaluation: null,
      health: 'healthy',
      slo: 0.8,
      memory: emptyAlertMemory(),
      now: T0 + HOUR,
    });
    expect(s.windows).toHaveLength(24);
    expect(s.windows.at(-1)).toEqual(state.windows.at(-1));
    expect(s).toMatchObject({
      modelId: 'm',
      version: 'v2',
      at: T0 + HOUR,
      slo: 0.8,
      timeToBreachHours: null,
      approval: { pending: true, requestedAt: T0 },
      dataQualityAlerts: [],
      driftedFeatures: [],
    });
  });

  it('rules parsed from a policy have their documented defaults', () => {
    const rules: AlertRule[] = alertPolicy([
      { kind: 'health' },
      { kind: 'slo' },
      { kind: 'drift' },
      { kind: 'approval-pending' },
    ]).rules;
    expect(rules).toEqual([
      { kind: 'health', name: 'health', severity: 'warning', states: ['degraded', 'data-quality', 'drifting'] },
      { kind: 'slo', name: 'slo', severity: 'critical', consecutiveWindows: 1 },
      { kind: 'drift', name: 'drift', severity: 'warning', consecutiveWindows: 2 },
      { kind: 'approval-pending', name: 'approval-pending', severity: 'info', after: '0s' },
    ]);
  });
});
