import { describe, expect, it } from 'vitest';
import { fitDecay } from '../../../detectors/decay/index.ts';
import {
  activeBlackout,
  chooseTrainingWindow,
  evaluatePolicy,
  parseDuration,
  tryParseDuration,
} from '../../../detectors/policy/index.ts';
import type {
  PolicyGuards,
  PolicyState,
  PolicyTrigger,
  RetrainPolicy,
  TrainingWindowPolicy,
  WindowSummary,
} from '../../../detectors/policy/index.ts';
import { costAwareTrigger, policyWith, REVIEWED_GUARDS } from '../../helpers/policies.ts';

const H = 3_600_000;
const NOW = Date.parse('2026-03-04T12:00:00Z'); // a Wednesday

function policy(
  trigger: PolicyTrigger,
  guards: Partial<PolicyGuards> = {},
  trainingWindow: TrainingWindowPolicy = { kind: 'fixed', duration: '30d' },
): RetrainPolicy {
  return policyWith(trigger, { guards: { ...REVIEWED_GUARDS, ...guards }, trainingWindow });
}

/** Hourly windows ending at NOW, oldest first. */
function windows(specs: Partial<WindowSummary>[]): WindowSummary[] {
  return specs.map((s, i) => ({
    start: NOW - (specs.length - i) * H,
    end: NOW - (specs.length - i - 1) * H,
    events: 1000,
    dataQualityOk: true,
    drift: null,
    quality: null,
    ...s,
  }));
}
const q = (value: number, source: 'realised' | 'estimated' = 'realised', metric = 'accuracy') => ({
  quality: { metric, value, source },
});

const THRESHOLD: PolicyTrigger = {
  kind: 'threshold',
  metric: 'accuracy',
  direction: 'higher-is-better',
  threshold: 0.8,
  consecutiveWindows: 2,
  acceptEstimated: true,
};
/** A state in which the threshold trigger fires. */
const FIRING: PolicyState = {
  windows: windows([q(0.9), q(0.75), q(0.7)]),
  lastRetrainAt: NOW - 48 * H,
  recentRetrains: [NOW - 50 * H],
};

describe('evaluatePolicy: threshold trigger', () => {
  it('fires after N consecutive breaching windows', () => {
    const d = evaluatePolicy(policy(THRESHOLD), FIRING, NOW);
    expect(d.kind).toBe('retrain');
    expect(d.trigger).toMatchObject({ kind: 'threshold', fired: true });
    expect(d.inputs.consecutiveBreaches).toBe(2);
    expect(d.thresholds).toMatchObject({ threshold: 0.8, consecutiveWindows: 2 });
  });

  it('does not fire on a single breach when two are needed', () => {
    const d = evaluatePolicy(policy(THRESHOLD), { ...FIRING, windows: windows([q(0.7), q(0.85), q(0.75)]) }, NOW);
    expect(d.kind).toBe('no-action');
    expect(d.inputs.consecutiveBreaches).toBe(1);
  });

  it('skips windows without quality rather than breaking the run', () => {
    const d = evaluatePolicy(policy(THRESHOLD), { ...FIRING, windows: windows([q(0.7), {}, q(0.75)]) }, NOW);
    expect(d.kind).toBe('retrain');
  });

  it('ignores estimated quality when acceptEstimated is false', () => {
    const t = { ...THRESHOLD, acceptEstimated: false } as PolicyTrigger;
    const d = evaluatePolicy(
      policy(t),
      { ...FIRING, windows: windows([q(0.7, 'estimated'), q(0.7, 'estimated')]) },
      NOW,
    );
    expect(d.kind).toBe('no-action');
    expect(d.trigger.reason).toMatch(/no realised accuracy/);
  });

  it('handles lower-is-better metrics and ignores other metrics', () => {
    const t: PolicyTrigger = {
      kind: 'threshold',
      metric: 'rmse',
      direction: 'lower-is-better',
      threshold: 2,
      consecutiveWindows: 1,
      acceptEstimated: true,
    };
    expect(evaluatePolicy(policy(t), { windows: windows([q(2.5, 'realised', 'rmse')]) }, NOW).kind).toBe('retrain');
    expect(evaluatePolicy(policy(t), { windows: windows([q(1.5, 'realised', 'rmse')]) }, NOW).kind).toBe('no-action');
    expect(evaluatePolicy(policy(t), { windows: windows([q(9, 'realised', 'accuracy')]) }, NOW).kind).toBe('no-action');
  });

  it('only counts windows of the version in service (after the last retrain)', () => {
    const d = evaluatePolicy(policy(THRESHOLD), { ...FIRING, lastRetrainAt: NOW - 1.5 * H }, NOW);
    expect(d.inputs.consecutiveBreaches).toBe(1);
    expect(d.kind).toBe('no-action');
  });
});

describe('evaluatePolicy: periodic, drift-triggered, manual', () => {
  const periodic: PolicyTrigger = { kind: 'periodic', every: '7d' };

  it('periodic fires once the version is at least `every` old', () => {
    expect(evaluatePolicy(policy(periodic), { lastRetrainAt: NOW - 7 * 24 * H }, NOW).kind).toBe('retrain');
    const early = evaluatePolicy(policy(periodic), { lastRetrainAt: NOW - 6 * 24 * H }, NOW);
    expect(early.kind).toBe('no-action');
    expect(early.inputs.dueAt).toBe(NOW + 24 * H);
  });

  it('periodic does not fire when the version age is unknown', () => {
    expect(evaluatePolicy(policy(periodic), {}, NOW).trigger.reason).toMatch(/age unknown/);
  });

  it('drift-triggered (dataset verdict) needs consecutive drifted windows', () => {
    const t: PolicyTrigger = { kind: 'drift-triggered', signal: 'dataset-drift', share: 0.5, consecutiveWindows: 2 };
    const drift = (d: boolean, share = 0) => ({ drift: { datasetDrift: d, driftedShare: share } });
    expect(evaluatePolicy(policy(t), { windows: windows([drift(false), drift(true), drift(true)]) }, NOW).kind).toBe(
      'retrain',
    );
    expect(evaluatePolicy(policy(t), { windows: windows([drift(true), drift(false), drift(true)]) }, NOW).kind).toBe(
      'no-action',
    );
  });

  it('drift-triggered (drifted share) compares the share of drifted features', () => {
    const t: PolicyTrigger = { kind: 'drift-triggered', signal: 'drifted-share', share: 0.3, consecutiveWindows: 1 };
    const share = (s: number) => ({ drift: { datasetDrift: false, driftedShare: s } });
    const d = evaluatePolicy(policy(t), { windows: windows([share(0.35)]) }, NOW);
    expect(d.kind).toBe('retrain');
    expect(d.inputs.latestDriftedShare).toBe(0.35);
    expect(evaluatePolicy(policy(t), { windows: windows([share(0.25)]) }, NOW).kind).toBe('no-action');
  });

  it('manual never fires by itself, but a manual request does', () => {
    const manual: PolicyTrigger = { kind: 'manual' };
    expect(evaluatePolicy(policy(manual), FIRING, NOW).kind).toBe('no-action');
    const d = evaluatePolicy(
      policy(manual),
      { ...FIRING, manualRequest: { by: 'ana', reason: 'new features', force: false } },
      NOW,
    );
    expect(d.kind).toBe('retrain');
    expect(d.trigger.kind).toBe('manual-request');
    expect(d.inputs.manualRequestBy).toBe('ana');
  });
});

describe('evaluatePolicy: cost-aware trigger', () => {
  const decay = fitDecay(
    Array.from({ length: 30 }, (_, i) => ({
      ageHours: i * 4,
      quality: 0.6 + 0.3 * Math.exp((-Math.LN2 * i * 4) / 24) + (i % 2 ? 0.002 : -0.002),
      weight: 1000,
    })),
  );
  const costAware = (over: Partial<Extract<PolicyTrigger, { kind: 'cost-aware' }>> = {}): PolicyTrigger =>
    costAwareTrigger({
      valuePerQualityUnit: 0.05,
      retrainCost: 300,
      deploymentRisk: { probability: 0.05, cost: 1000 },
      ...over,
    });

  it('retrains when the forecast staleness cost exceeds retrain cost + risk, using observed traffic', () => {
    const state: PolicyState = {
      windows: windows([{ events: 3000 }, { events: 3000 }]),
      decay,
      versionTrainedAt: NOW - 72 * H,
      lastRetrainAt: NOW - 72 * H,
    };
    const d = evaluatePolicy(policy(costAware()), state, NOW);
    expect(d.kind).toBe('retrain');
    expect(d.economics?.rule).toBe('forecast');
    expect(d.inputs.eventsPerHour).toBe(3000);
    expect(d.inputs.trafficSource).toBe('observed');
    expect(d.inputs.nowAgeHours).toBe(72);
    expect(d.economics?.netBenefit).toBeGreaterThan(0);
    expect(d.thresholds).toMatchObject({ retrainCost: 300, quantile: 0.5 });
  });

  it('waits when traffic is low (fixed rate)', () => {
    const d = evaluatePolicy(
      policy(costAware({ traffic: { kind: 'fixed', eventsPerHour: 1 } })),
      { decay, versionTrainedAt: NOW - 72 * H },
      NOW,
    );
    expect(d.kind).toBe('no-action');
    expect(d.inputs.trafficSource).toBe('fixed');
  });

  it('falls back to the cumulative rule without a decay fit', () => {
    const state: PolicyState = {
      windows: windows([
        { events: 10_000, ...q(0.7) },
        { events: 10_000, ...q(0.65) },
      ]),
      freshQuality: 0.9,
      lastRetrainAt: NOW - 10 * H,
    };
    const d = evaluatePolicy(policy(costAware()), state, NOW);
    expect(d.economics?.rule).toBe('cumulative');
    // 0.05 × (10 000 × 0.2 + 10 000 × 0.25) = 225 < 300 + 50.
    expect(d.inputs.accumulatedStalenessCost).toBeCloseTo(225, 6);
    expect(d.kind).toBe('no-action');
    const more = {
      ...state,
      windows: windows([
        { events: 20_000, ...q(0.7) },
        { events: 20_000, ...q(0.65) },
      ]),
    };
    expect(evaluatePolicy(policy(costAware()), more, NOW).kind).toBe('retrain');
  });

  it('uses the fallback traffic rate when no window has been counted', () => {
    const d = evaluatePolicy(
      policy(costAware({ traffic: { kind: 'observed', fallbackPerHour: 42 } })),
      { decay, versionTrainedAt: NOW - 10 * H },
      NOW,
    );
    expect(d.inputs.eventsPerHour).toBe(42);
    expect(d.inputs.trafficSource).toBe('fallback');
  });
});

describe('evaluatePolicy: guards', () => {
  it('one at a time: blocks while a retrain runs, even when forced', () => {
    const d = evaluatePolicy(
      policy(THRESHOLD),
      { ...FIRING, retrainInFlight: true, manualRequest: { by: 'ana', reason: '', force: true } },
      NOW,
    );
    expect(d.kind).toBe('blocked');
    expect(d.blockedBy).toBe('one-at-a-time');
    expect(d.notBefore).toBeNull();
  });

  it('data quality (rule revision 2): blocks when the latest window failed its checks', () => {
    const d = evaluatePolicy(
      policy(THRESHOLD),
      { ...FIRING, ruleRevision: 2, windows: windows([q(0.7), { ...q(0.7), dataQualityOk: false }]) },
      NOW,
    );
    expect(d.blockedBy).toBe('data-quality');
    const off = evaluatePolicy(
      policy(THRESHOLD, { requireDataQuality: false }),
      { ...FIRING, ruleRevision: 2, windows: windows([q(0.7), { ...q(0.7), dataQualityOk: false }]) },
      NOW,
    );
    expect(off.kind).toBe('retrain');
  });

  it('cooldown: blocks until the cooldown has passed and says when', () => {
    const d = evaluatePolicy(
      policy(THRESHOLD, { cooldown: '3h' }),
      { ...FIRING, lastRetrainAt: NOW - 2.5 * H, windows: windows([q(0.7), q(0.7)]) },
      NOW,
    );
    expect(d.kind).toBe('blocked');
    expect(d.blockedBy).toBe('cooldown');
    expect(d.notBefore).toBe(NOW + 0.5 * H);
    expect(
      evaluatePolicy(
        policy(THRESHOLD, { cooldown: '2h' }),
        { ...FIRING, lastRetrainAt: NOW - 2.5 * H, windows: windows([q(0.7), q(0.7)]) },
        NOW,
      ).kind,
    ).toBe('retrain');
  });

  it('budget: at most N retrains in a sliding window', () => {
    const recent = [NOW - 100 * H, NOW - 60 * H, NOW - 30 * H];
    const g = { budget: { maxRetrains: 3, per: '7d' } };
    const d = evaluatePolicy(policy(THRESHOLD, g), { ...FIRING, recentRetrains: recent }, NOW);
    expect(d.blockedBy).toBe('budget');
    expect(d.notBefore).toBe(NOW - 100 * H + 168 * H);
    expect(
      evaluatePolicy(policy(THRESHOLD, g), { ...FIRING, recentRetrains: [NOW - 200 * H, ...recent.slice(1)] }, NOW)
        .kind,
    ).toBe('retrain');
  });

  it('blackout (weekly, in a time zone): blocks inside, with the end time', () => {
    const g = {
      blackout: [
        { kind: 'weekly' as const, days: ['wed' as const], from: '13:00', to: '15:00', timeZone: 'Europe/Berlin' },
      ],
    };
    // 12:00Z on 2026-03-04 is 13:00 in Berlin (CET, UTC+1).
    const d = evaluatePolicy(policy(THRESHOLD, g), FIRING, NOW);
    expect(d.blockedBy).toBe('blackout');
    expect(d.notBefore).toBe(NOW + 2 * H);
    expect(evaluatePolicy(policy(THRESHOLD, g), FIRING, NOW - 1).kind).toBe('retrain');
  });

  it('blackout windows that wrap midnight cover the next morning', () => {
    const nightly = [{ kind: 'weekly' as const, days: ['tue' as const], from: '22:00', to: '06:00', timeZone: 'UTC' }];
    expect(activeBlackout(nightly, Date.parse('2026-03-04T05:59:00Z'))).not.toBeNull(); // Wednesday early
    expect(activeBlackout(nightly, Date.parse('2026-03-04T06:00:00Z'))).toBeNull();
    expect(activeBlackout(nightly, Date.parse('2026-03-03T23:00:00Z'))?.until).toBe(Date.parse('2026-03-04T06:00:00Z'));
    expect(activeBlackout(nightly, Date.parse('2026-03-05T05:00:00Z'))).toBeNull(); // Thursday early: Wednesday is not listed
  });

  it('blackout (dates): a code freeze', () => {
    const g = {
      blackout: [
        { kind: 'dates' as const, start: '2026-03-01T00:00:00Z', end: '2026-03-10T00:00:00Z', label: 'freeze' },
      ],
    };
    const d = evaluatePolicy(policy(THRESHOLD, g), FIRING, NOW);
    expect(d.blockedBy).toBe('blackout');
    expect(d.notBefore).toBe(Date.parse('2026-03-10T00:00:00Z'));
    expect(d.reason).toMatch(/freeze/);
  });

  it('forced manual requests override cooldown, budget, blackout and data quality', () => {
    const g = {
      cooldown: '1d',
      budget: { maxRetrains: 1, per: '7d' },
      blackout: [{ kind: 'dates' as const, start: '2026-03-01T00:00:00Z', end: '2026-03-10T00:00:00Z' }],
    };
    const state: PolicyState = {
      ...FIRING,
      lastRetrainAt: NOW - H,
      recentRetrains: [NOW - H],
      windows: windows([{ dataQualityOk: false }]),
    };
    expect(
      evaluatePolicy(policy(THRESHOLD, g), { ...state, manualRequest: { by: 'ana', reason: '', force: false } }, NOW)
        .kind,
    ).toBe('blocked');
    const forced = evaluatePolicy(
      policy(THRESHOLD, g),
      { ...state, manualRequest: { by: 'ana', reason: 'incident', force: true } },
      NOW,
    );
    expect(forced.kind).toBe('retrain');
    expect(forced.guardsApplied.filter((c) => c.overridden).map((c) => c.guard)).toEqual([
      'data-quality',
      'cooldown',
      'budget',
      'blackout',
    ]);
  });

  describe('approval', () => {
    const g = { approval: { required: true, timeout: '24h' } };

    it('asks for approval when the trigger fires and nothing else blocks', () => {
      const d = evaluatePolicy(policy(THRESHOLD, g), FIRING, NOW);
      expect(d.kind).toBe('blocked');
      expect(d.blockedBy).toBe('approval');
      expect(d.approval).toEqual({ required: true, status: 'needed', expiresAt: NOW + 24 * H });
    });

    it('waits while pending, then treats a timeout as a rejection', () => {
      const pending = evaluatePolicy(
        policy(THRESHOLD, g),
        { ...FIRING, approval: { status: 'pending', requestedAt: NOW - 23 * H } },
        NOW,
      );
      expect(pending.approval.status).toBe('pending');
      expect(pending.blockedBy).toBe('approval');
      const expired = evaluatePolicy(
        policy(THRESHOLD, g),
        { ...FIRING, approval: { status: 'pending', requestedAt: NOW - 24 * H } },
        NOW,
      );
      expect(expired.approval.status).toBe('expired');
      expect(expired.reason).toMatch(/timed out/);
    });

    it('retrains once approved; stays blocked when rejected', () => {
      expect(
        evaluatePolicy(policy(THRESHOLD, g), { ...FIRING, approval: { status: 'approved', by: 'ana', at: NOW } }, NOW)
          .kind,
      ).toBe('retrain');
      const rejected = evaluatePolicy(
        policy(THRESHOLD, g),
        { ...FIRING, approval: { status: 'rejected', by: 'bo', at: NOW } },
        NOW,
      );
      expect(rejected.kind).toBe('blocked');
      expect(rejected.reason).toMatch(/rejected by bo/);
    });

    it('a manual request counts as approval', () => {
      const d = evaluatePolicy(
        policy({ kind: 'manual' }, g),
        { manualRequest: { by: 'ana', reason: '', force: false } },
        NOW,
      );
      expect(d.kind).toBe('retrain');
      expect(d.approval.status).toBe('approved');
    });
  });

  it('lists every guard it applied, even when the trigger did not fire', () => {
    const d = evaluatePolicy(
      policy(THRESHOLD, {
        blackout: [{ kind: 'dates', start: '2020-01-01T00:00:00Z', end: '2020-01-02T00:00:00Z' }],
        approval: { required: true, timeout: '1h' },
      }),
      {},
      NOW,
    );
    expect(d.kind).toBe('no-action');
    expect(d.guardsApplied.map((g) => g.guard)).toEqual([
      'one-at-a-time',
      'data-quality',
      'cooldown',
      'budget',
      'blackout',
      'approval',
    ]);
  });
});

describe('evaluatePolicy: training window', () => {
  it('fixed: the last `duration`', () => {
    expect(evaluatePolicy(policy(THRESHOLD), FIRING, NOW).trainingWindow).toMatchObject({
      kind: 'fixed',
      start: NOW - 30 * 24 * H,
      end: NOW,
    });
  });

  it('all: no start', () => {
    expect(evaluatePolicy(policy(THRESHOLD, {}, { kind: 'all' }), FIRING, NOW).trainingWindow).toMatchObject({
      kind: 'all',
      start: null,
    });
  });

  it('since-change-point: from the change point, at least `minimum`, `fallback` without one', () => {
    const w: TrainingWindowPolicy = { kind: 'since-change-point', minimum: '3d', fallback: '30d' };
    expect(
      evaluatePolicy(policy(THRESHOLD, {}, w), { ...FIRING, lastChangePointAt: NOW - 10 * 24 * H }, NOW).trainingWindow
        .start,
    ).toBe(NOW - 10 * 24 * H);
    const recent = evaluatePolicy(
      policy(THRESHOLD, {}, w),
      { ...FIRING, lastChangePointAt: NOW - 24 * H },
      NOW,
    ).trainingWindow;
    expect(recent.start).toBe(NOW - 3 * 24 * H);
    expect(recent.reason).toMatch(/less than 3 d ago: the last 3 d$/);
    expect(evaluatePolicy(policy(THRESHOLD, {}, w), FIRING, NOW).trainingWindow).toMatchObject({
      start: NOW - 30 * 24 * H,
      reason: expect.stringMatching(/no change point/),
    });
  });

  it('since-change-point: a quality step the trigger localised counts as a change point, the latest one wins', () => {
    const w: TrainingWindowPolicy = { kind: 'since-change-point', minimum: '3d', fallback: '30d' };
    const p = policy(THRESHOLD, {}, w);
    // Page–Hinkley has not fired, the trigger saw a step 5 days ago: train from the step, not the 30-day fallback.
    expect(chooseTrainingWindow(p, FIRING, NOW, NOW - 5 * 24 * H)).toMatchObject({
      start: NOW - 5 * 24 * H,
      reason: expect.stringMatching(/since the quality step/),
    });
    // An older detected change point does not widen the window past a newer step; a newer one narrows it.
    expect(
      chooseTrainingWindow(p, { ...FIRING, lastChangePointAt: NOW - 9 * 24 * H }, NOW, NOW - 5 * 24 * H).start,
    ).toBe(NOW - 5 * 24 * H);
    expect(
      chooseTrainingWindow(p, { ...FIRING, lastChangePointAt: NOW - 4 * 24 * H }, NOW, NOW - 5 * 24 * H),
    ).toMatchObject({ start: NOW - 4 * 24 * H, reason: expect.stringMatching(/since the change point/) });
    // A step less than `minimum` ago still gets `minimum` of data; a step in the future is ignored.
    expect(chooseTrainingWindow(p, FIRING, NOW, NOW - 24 * H)).toMatchObject({
      start: NOW - 3 * 24 * H,
      reason: expect.stringMatching(/quality step at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC is less than 3 d ago/),
    });
    expect(chooseTrainingWindow(p, FIRING, NOW, NOW + H).reason).toMatch(/no change point known/);
  });
});

describe('determinism and durations', () => {
  it('the same inputs give the same decision (JSON-equal), and the decision is plain JSON', () => {
    const a = evaluatePolicy(
      policy(THRESHOLD, { blackout: [{ kind: 'weekly', days: ['sat'], from: '00:00', to: '24:00', timeZone: 'UTC' }] }),
      FIRING,
      NOW,
    );
    const b = evaluatePolicy(
      policy(THRESHOLD, { blackout: [{ kind: 'weekly', days: ['sat'], from: '00:00', to: '24:00', timeZone: 'UTC' }] }),
      structuredClone(FIRING),
      NOW,
    );
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
  });

  it('parses durations with one unit', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1.5d')).toBe(36 * H);
    expect(parseDuration('2w')).toBe(14 * 24 * H);
    expect(tryParseDuration('6 hours')).toBeNull();
    expect(tryParseDuration('1h30m')).toBeNull();
    expect(() => parseDuration('x')).toThrow(/expected a duration like "6h"/);
  });
});
