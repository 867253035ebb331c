import { describe, expect, it } from 'vitest';
import {
  assessHealth,
  monitorHealth,
  monitorHealthRevision1,
  reassessStatus,
  type HealthInputs,
} from '../../../detectors/monitor/health.ts';
import { monitorHealthInputs, qualitySlo } from '../../../detectors/monitor/health-inputs.ts';
import { initialMonitorState } from '../../../detectors/monitor/tick.ts';
import { DEFAULT_MONITOR_SETTINGS, type MonitorState } from '../../../detectors/monitor/types.ts';
import { parsePolicy } from '../../../platform/policy-file.ts';

const healthy: HealthInputs = {
  paused: false,
  evaluated: true,
  dataQualityOk: true,
  quality: { value: 0.9, lower: 0.88, upper: 0.92 },
  target: { value: 0.91, source: 'attainable' },
  timeToBreachHours: null,
  breachWarningHours: 24,
  datasetDrift: false,
  ingest: { stalled: false, lagSeconds: 0 },
  ingestLagLimitSeconds: 60,
  servingDisagreement: false,
};

describe('the health rule', () => {
  it('is healthy when every signal is fine, and unknown before the first window', () => {
    expect(monitorHealth(healthy)).toBe('healthy');
    expect(assessHealth(healthy).findings).toEqual([]);
    expect(monitorHealth({ ...healthy, evaluated: false, quality: null })).toBe('unknown');
  });

  it('holds quality to the attainable level when there is no SLO: 0.74 against an attainable 0.93 is degraded', () => {
    const demo = {
      ...healthy,
      quality: { value: 0.741, lower: 0.706, upper: 0.776 },
      target: { value: 0.93, source: 'attainable' as const },
    };
    const { health, findings } = assessHealth(demo);
    expect(health).toBe('degraded');
    expect(findings[0]!.reason).toContain('below the attainable 0.930');
  });

  it('does not call sampling noise or a small shortfall degraded', () => {
    // The interval reaches the attainable level less the tolerance: not significantly below.
    expect(monitorHealth({ ...healthy, quality: { value: 0.88, lower: 0.85, upper: 0.9 } })).toBe('healthy');
    // An estimated value has no interval: its point must clear attainable − tolerance.
    expect(monitorHealth({ ...healthy, quality: { value: 0.895, lower: null, upper: null } })).toBe('healthy');
    expect(monitorHealth({ ...healthy, quality: { value: 0.885, lower: null, upper: null } })).toBe('degraded');
  });

  it('holds quality to the SLO when one is set, without a tolerance', () => {
    const slo = { ...healthy, target: { value: 0.8, source: 'slo' as const } };
    expect(monitorHealth({ ...slo, quality: { value: 0.77, lower: 0.75, upper: 0.79 } })).toBe('degraded');
    expect(monitorHealth({ ...slo, quality: { value: 0.79, lower: 0.77, upper: 0.81 } })).toBe('healthy');
    expect(monitorHealth({ ...slo, timeToBreachHours: 0 })).toBe('degraded');
  });

  it('says decaying when the decay fit crosses the SLO within the warning horizon', () => {
    expect(monitorHealth({ ...healthy, timeToBreachHours: 5 })).toBe('decaying');
    expect(monitorHealth({ ...healthy, timeToBreachHours: 30 })).toBe('healthy');
  });

  it('says so when ingest is stalled or lags beyond the limit, and when serving disagrees with the registry', () => {
    expect(
      monitorHealth({ ...healthy, ingest: { stalled: true, lagSeconds: 0, detail: 'no answer from Kafka' } }),
    ).toBe('ingest-stalled');
    const lagging = assessHealth({ ...healthy, ingest: { stalled: false, lagSeconds: 240 } });
    expect(lagging.health).toBe('ingest-stalled');
    expect(lagging.findings[0]!.reason).toContain('240 s behind');
    expect(monitorHealth({ ...healthy, ingest: { stalled: false, lagSeconds: 30 } })).toBe('healthy');
    expect(monitorHealth({ ...healthy, servingDisagreement: true })).toBe('serving-mismatch');
  });

  it('ranks paused, serving, ingest, unknown, data quality, degraded, decaying, drift — and lists every finding', () => {
    const everything: HealthInputs = {
      ...healthy,
      paused: true,
      servingDisagreement: true,
      ingest: { stalled: true, lagSeconds: null },
      evaluated: false,
      dataQualityOk: false,
      quality: { value: 0.5, lower: 0.45, upper: 0.55 },
      datasetDrift: true,
    };
    const order = ['paused', 'serving-mismatch', 'ingest-stalled', 'unknown', 'data-quality', 'degraded', 'drifting'];
    expect(assessHealth(everything).findings.map((f) => f.state)).toEqual(order);
    let inputs = everything;
    const peel: Array<Partial<HealthInputs>> = [
      { paused: false },
      { servingDisagreement: false },
      { ingest: null },
      { evaluated: true },
      { dataQualityOk: true },
      { quality: { value: 0.9, lower: 0.88, upper: 0.92 } },
      { datasetDrift: false },
    ];
    for (const [i, change] of peel.entries()) {
      expect(monitorHealth(inputs)).toBe(order[i]);
      inputs = { ...inputs, ...change };
    }
    expect(monitorHealth(inputs)).toBe('healthy');
  });

  it('treats signals that were not measured as no evidence of trouble', () => {
    expect(
      monitorHealth({
        ...healthy,
        dataQualityOk: null,
        quality: null,
        target: null,
        datasetDrift: null,
        ingest: null,
        servingDisagreement: null,
      }),
    ).toBe('healthy');
  });

  it('keeps the first rule for histories recorded before the quality target', () => {
    const base = { paused: false, evaluated: true, dataQualityOk: true, timeToBreachHours: null, datasetDrift: false };
    expect(monitorHealthRevision1(base)).toBe('healthy');
    expect(monitorHealthRevision1({ ...base, timeToBreachHours: 0 })).toBe('degraded');
    expect(monitorHealthRevision1({ ...base, datasetDrift: true })).toBe('drifting');
  });

  it('re-assesses a status with what an observer sees; a status without inputs stays as it is', () => {
    const status = { modelId: 'm', health: 'healthy' as const, healthInputs: healthy };
    expect(reassessStatus(status, { ingest: { stalled: true, lagSeconds: null } })).toMatchObject({
      health: 'ingest-stalled',
      healthFindings: [{ state: 'ingest-stalled', reason: 'ingest is not consuming' }],
    });
    const old = { modelId: 'm', health: 'healthy' as const };
    expect(reassessStatus(old, { ingest: { stalled: true, lagSeconds: null } })).toBe(old);
  });
});

describe('health inputs from the monitor state', () => {
  const policy = (trigger: Record<string, unknown>) =>
    parsePolicy({ name: 'p', version: '1', model: 'm', trigger }, 'test').policy;
  const costAware = policy({ kind: 'cost-aware', valuePerQualityUnit: 1, retrainCost: 10 });

  /** v1 fresh at 0.93 for three windows, then decayed to `now` in its last window (600 labelled events each). */
  function decayedState(now: number): MonitorState {
    const state = initialMonitorState('m');
    state.version = 'v1';
    state.versionTrainedAt = 0;
    const qualities = [0.93, 0.925, 0.935, 0.85, 0.8, now];
    state.points = qualities.map((quality, i) => ({
      version: 'v1',
      ageHours: i + 1,
      quality,
      weight: 600,
      source: 'realised',
    }));
    state.windows = qualities.map((value, i) => ({
      start: i * 3_600_000,
      end: (i + 1) * 3_600_000,
      events: 600,
      dataQualityOk: true,
      drift: { datasetDrift: false, driftedShare: 0 },
      quality: { metric: 'accuracy', value, source: 'realised' },
    }));
    return state;
  }
  const context = { settings: DEFAULT_MONITOR_SETTINGS, policy: costAware, cadenceMs: 3_600_000, settleMs: 0 };

  it('a model at 0.74 accuracy whose versions start near 0.93 is degraded, with no SLO set', () => {
    const inputs = monitorHealthInputs(decayedState(0.741), context);
    expect(inputs.target?.source).toBe('attainable');
    expect(inputs.target?.value).toBeCloseTo(0.93, 3);
    expect(inputs.quality?.upper).toBeLessThan(0.78);
    expect(monitorHealth(inputs)).toBe('degraded');
    expect(monitorHealth(monitorHealthInputs(decayedState(0.92), context))).toBe('healthy');
  });

  it('takes the SLO from the monitor settings, else from a threshold trigger on the monitored metric', () => {
    expect(qualitySlo({ settings: { ...DEFAULT_MONITOR_SETTINGS, qualitySlo: 0.8 }, policy: costAware })).toBe(0.8);
    const threshold = policy({ kind: 'threshold', metric: 'accuracy', threshold: 0.85 });
    expect(qualitySlo({ settings: DEFAULT_MONITOR_SETTINGS, policy: threshold })).toBe(0.85);
    const otherMetric = policy({ kind: 'threshold', metric: 'rmse', direction: 'lower-is-better', threshold: 3 });
    expect(qualitySlo({ settings: DEFAULT_MONITOR_SETTINGS, policy: otherMetric })).toBeNull();
    const inputs = monitorHealthInputs(decayedState(0.86), { ...context, policy: threshold });
    expect(inputs.target).toEqual({ value: 0.85, source: 'slo' });
    expect(monitorHealth(inputs)).toBe('healthy');
  });

  it('warns of a breach 24 windows ahead and tolerates ingest lag up to the settle delay (60 s at least)', () => {
    const inputs = monitorHealthInputs(decayedState(0.9), { ...context, cadenceMs: 30_000, settleMs: 90_000 });
    expect(inputs.breachWarningHours).toBeCloseTo((24 * 30) / 3600, 6);
    expect(inputs.ingestLagLimitSeconds).toBe(90);
    expect(inputs.ingest).toBeNull();
    expect(inputs.servingDisagreement).toBeNull();
  });
});
