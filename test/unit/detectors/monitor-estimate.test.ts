import { describe, expect, it } from 'vitest';
import { evaluateAlerts, emptyAlertMemory } from '../../../detectors/alerts/evaluate.ts';
import type { AlertPolicy, AlertSignals } from '../../../detectors/alerts/types.ts';
import { lastWindowQuality } from '../../../detectors/monitor/health-inputs.ts';
import { initialMonitorState, monitorTick } from '../../../detectors/monitor/tick.ts';
import {
  DEFAULT_MONITOR_SETTINGS,
  type MonitorReference,
  type MonitorSettings,
  type WindowObservation,
} from '../../../detectors/monitor/types.ts';
import { estimateWindowQuality, windowEstimationGrouping } from '../../../detectors/monitor/window-estimate.ts';
import { estimateCbpe, fitCbpe, groupScores } from '../../../detectors/quality/index.ts';
import { Random } from '../../../detectors/random.ts';
import { parsePolicy } from '../../../platform/policy-file.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);

/** A labelled reference on a 0.01 score grid, miscalibrated so the estimator fits an isotonic map. */
function labelledReference(seed: number, n: number) {
  const random = new Random(seed);
  const scores: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = Math.round(random.next() * 100) / 100;
    scores.push(s);
    labels.push(random.bernoulli(0.1 + 0.8 * s * s) ? 1 : 0);
  }
  return { scores, labels };
}

function reference(threshold: number, source: 'version' | 'default'): MonitorReference {
  const ref = labelledReference(11, 6000);
  return {
    referenceId: 'ref',
    modelVersion: 'v1',
    features: {},
    prediction: null,
    cbpe: fitCbpe(ref.labels, ref.scores, { threshold }),
    decisionThreshold: { value: threshold, source },
  };
}

/** An unlabelled window whose scores lean high, with its scores grouped as the window query groups them. */
function observation(ref: MonitorReference, seed: number, n = 4000): { obs: WindowObservation; scores: number[] } {
  const random = new Random(seed);
  const scores = Array.from({ length: n }, () => Math.round(random.next() ** 0.6 * 100) / 100);
  const histogram = new Array<number>(100).fill(0);
  for (const s of scores) histogram[Math.min(99, Math.floor(s * 100))]! += 1;
  const grouping = windowEstimationGrouping(ref)!;
  return {
    scores,
    obs: {
      start: T0,
      end: T0 + HOUR,
      events: n,
      versions: [{ version: 'v1', events: n, trainedAt: T0 }],
      deadLettered: 0,
      features: {},
      prediction: null,
      scoreHistogram: histogram,
      labelled: null,
      estimationGroups: { grouping, groups: groupScores(grouping, scores), outside: 0 },
    },
  };
}

const settings = (metric: 'accuracy' | 'auc', slo: number | null = null): MonitorSettings => ({
  ...DEFAULT_MONITOR_SETTINGS,
  qualityMetric: metric,
  qualitySlo: slo,
  estimationRevision: 2,
});

describe('the monitor estimates what the policy measures (estimation revision 2)', () => {
  it("estimates accuracy at the version's own threshold and ROC AUC, each with its interval, equal to the estimate from every score", () => {
    const ref = reference(0.65, 'version');
    const { obs, scores } = observation(ref, 3);
    const rows = estimateCbpe(ref.cbpe!, scores);
    const accuracy = estimateWindowQuality(ref, obs, settings('accuracy'))!;
    expect(accuracy.threshold).toBe(0.65);
    expect(accuracy.method).toBe('CBPE');
    expect(accuracy.value).toBeCloseTo(rows.accuracy!, 12);
    expect(accuracy.interval!.lower).toBeCloseTo(rows.accuracyInterval!.lower, 12);
    expect(accuracy.reasons).toEqual([]);
    const auc = estimateWindowQuality(ref, obs, settings('auc'))!;
    expect(auc.value).toBeCloseTo(rows.rocAuc!, 12);
    expect(auc.interval!.upper).toBeGreaterThan(auc.value!);
    expect(auc.interval!.lower).toBeLessThan(auc.value!);
    expect(auc.trustworthy).toBe(true);
  });

  it('says when the version records no threshold, and falls back to the histogram when the window has no groups', () => {
    const ref = reference(0.5, 'default');
    const { obs } = observation(ref, 4);
    const estimate = estimateWindowQuality(ref, obs, settings('accuracy'))!;
    expect(estimate.reasons.join(' ')).toMatch(/threshold 0\.5: the version records no decision threshold/);
    const { estimationGroups: _groups, ...withoutGroups } = obs;
    const fallback = estimateWindowQuality(ref, withoutGroups, settings('accuracy'))!;
    expect(fallback.reasons.join(' ')).toMatch(/from the score histogram/);
    expect(Math.abs(fallback.value! - estimate.value!)).toBeLessThan(0.01);
    // Groups made for another estimator's grouping are not read as this one's.
    const stale = {
      ...obs,
      estimationGroups: { ...obs.estimationGroups!, grouping: { ...obs.estimationGroups!.grouping, threshold: 0.3 } },
    };
    expect(estimateWindowQuality(ref, stale, settings('accuracy'))!.reasons.join(' ')).toMatch(/score histogram/);
  });

  it('carries the estimate and its interval into the window, the decision text, health and the SLO alert', () => {
    const ref = reference(0.65, 'version');
    const { obs } = observation(ref, 5);
    const state = { ...initialMonitorState('m'), version: 'v1', versionTrainedAt: T0 };
    const policy = parsePolicy({
      name: 'p',
      version: '1',
      model: 'm',
      trigger: { kind: 'manual' },
    }).policy;
    const tick = monitorTick(state, ref, obs, policy, T0 + HOUR, settings('auc', 0.99));
    const estimated = tick.evaluation.quality.estimated!;
    const window = tick.state.windows.at(-1)!;
    expect(window.quality).toMatchObject({ metric: 'auc', source: 'estimated', value: estimated.value });
    expect(window.quality!.interval).toEqual({ lower: estimated.interval!.lower, upper: estimated.interval!.upper });
    expect(tick.evaluation.quality.reason).toContain(
      `estimated ROC AUC ${estimated.value!.toFixed(3)} [${estimated.interval!.lower.toFixed(3)}, ${estimated.interval!.upper.toFixed(3)}], CBPE: 0 labelled events so far`,
    );
    expect(lastWindowQuality(tick.state)).toEqual({
      value: estimated.value,
      lower: estimated.interval!.lower,
      upper: estimated.interval!.upper,
    });

    const alerts: AlertPolicy = parsePolicy({
      name: 'p',
      version: '1',
      model: 'm',
      trigger: { kind: 'manual' },
      alerts: { receivers: [{ name: 'r', format: 'json', url: { env: 'R' } }], rules: [{ kind: 'slo' }] },
    }).policy.alerts!;
    const signals = (slo: number): AlertSignals => ({
      modelId: 'm',
      version: 'v1',
      at: T0 + HOUR,
      health: 'healthy',
      slo,
      windows: tick.state.windows,
      timeToBreachHours: null,
      dataQualityAlerts: [],
      driftedFeatures: [],
      approval: { pending: false, requestedAt: null },
      promotionFailure: null,
      serving: null,
    });
    const upper = estimated.interval!.upper;
    // Below the SLO by its point estimate but not by its upper bound: sampling noise, no breach.
    const noisy = evaluateAlerts(alerts, signals((estimated.value! + upper) / 2), emptyAlertMemory());
    expect(noisy.fire).toHaveLength(0);
    const breached = evaluateAlerts(alerts, signals(upper + 0.001), emptyAlertMemory());
    expect(breached.fire).toHaveLength(1);
    expect(breached.fire[0]!.summary).toMatch(/auc .* \[.*\] \(estimated\) is below its SLO/);
  });
});
