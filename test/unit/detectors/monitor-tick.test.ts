import { describe, expect, it } from 'vitest';
import { categoricalProfile, numericReferenceProfile, numericWindowCounts } from '../../../detectors/drift/profiles.ts';
import { initialMonitorState, monitorTick, startVersion } from '../../../detectors/monitor/tick.ts';
import type { MonitorReference, MonitorState, WindowObservation } from '../../../detectors/monitor/types.ts';
import { buildScoreHistogram } from '../../../detectors/quality/score-histogram.ts';
import { parsePolicy } from '../../../platform/policy-file.ts';
import { Random } from '../../../detectors/random.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 0, 0, 0); // a Monday

/** A window of `n` events whose classifier has the given accuracy, with one numeric and one categorical feature. */
function window(
  rng: Random,
  start: number,
  accuracy: number,
  shift = 0,
  n = 1000,
): { obs: Omit<WindowObservation, 'features' | 'prediction'>; x: number[]; plan: string[] } {
  const labels: number[] = [];
  const scores: number[] = [];
  const x: number[] = [];
  const plan: string[] = [];
  for (let i = 0; i < n; i++) {
    const y = rng.next() < 0.4 ? 1 : 0;
    const correct = rng.next() < accuracy;
    const predictedPositive = correct ? y === 1 : y === 0;
    labels.push(y);
    scores.push(predictedPositive ? 0.5 + 0.49 * rng.next() : 0.49 * rng.next());
    x.push(rng.normal() + shift);
    plan.push(rng.next() < 0.7 ? 'basic' : 'pro');
  }
  const histogram = buildScoreHistogram(labels, scores);
  const scoreHistogram = histogram.positives.map((p, b) => p + histogram.negatives[b]!);
  return {
    obs: {
      start,
      end: start + 6 * HOUR,
      events: n,
      versions: [{ version: 'v1', events: n, trainedAt: T0 }],
      deadLettered: 0,
      scoreHistogram,
      labelled: { events: n, histogram, labelDelayHoursP50: 1 },
    },
    x,
    plan,
  };
}

const policy = parsePolicy({
  name: 'floor',
  version: '1',
  model: 'm',
  trigger: { kind: 'threshold', metric: 'accuracy', threshold: 0.8, consecutiveWindows: 2 },
  guards: { cooldown: '1d', approval: { required: false } },
  trainingWindow: { kind: 'fixed', duration: '7d' },
}).policy;

describe('monitor tick (the pure core of ModelMonitor and backtest)', () => {
  const rng = new Random(7);
  const first = window(rng, T0, 0.92);
  const reference: MonitorReference = {
    referenceId: 'ref-1',
    modelVersion: 'v1',
    features: { x: numericReferenceProfile(first.x), plan: categoricalProfile(first.plan) },
    prediction: null,
    cbpe: null,
  };
  const observe = (w: ReturnType<typeof window>): WindowObservation => ({
    ...w.obs,
    features: {
      x: numericWindowCounts(w.x, (reference.features.x as ReturnType<typeof numericReferenceProfile>).cuts),
      plan: categoricalProfile(w.plan),
    },
    prediction: null,
  });

  it('retrains exactly when quality stays under the threshold for the required windows', () => {
    let state: MonitorState = { ...initialMonitorState('m'), version: 'v1', versionTrainedAt: T0 };
    const accuracies = [0.92, 0.9, 0.88, 0.79, 0.85, 0.78, 0.76, 0.74];
    const kinds: string[] = [];
    accuracies.forEach((accuracy, i) => {
      const start = T0 + i * 6 * HOUR;
      const result = monitorTick(state, reference, observe(window(rng, start, accuracy)), policy, start + 6 * HOUR);
      state = result.state;
      kinds.push(result.decision.kind);
      expect(result.evaluation.quality.used).toBe('realised');
      expect(result.evaluation.quality.realised!.value).toBeCloseTo(accuracy, 1);
    });
    // One window at 0.79 is not enough; 0.78 then 0.76 (two in a row) is.
    expect(kinds).toEqual([
      'no-action',
      'no-action',
      'no-action',
      'no-action',
      'no-action',
      'no-action',
      'retrain',
      'retrain',
    ]);
    expect(state.ticks).toBe(8);
    expect(state.points).toHaveLength(8);
  });

  it('a promotion starts the new version: cooldown applies and the decay fit starts over', () => {
    let state: MonitorState = { ...initialMonitorState('m'), version: 'v1', versionTrainedAt: T0 };
    for (let i = 0; i < 3; i++)
      state = monitorTick(
        state,
        reference,
        observe(window(rng, T0 + i * 6 * HOUR, 0.7)),
        policy,
        T0 + (i + 1) * 6 * HOUR,
      ).state;
    const now = T0 + 18 * HOUR;
    state = startVersion(state, 'v2', now - HOUR, 0.93, now - 2 * HOUR, now);
    expect(state).toMatchObject({
      version: 'v2',
      versionTrainedAt: now - HOUR,
      freshQuality: 0.93,
      decay: null,
      lastRetrainAt: now,
    });
    const next = monitorTick(
      state,
      reference,
      { ...observe(window(rng, now, 0.7)), versions: [{ version: 'v2', events: 1000, trainedAt: now - HOUR }] },
      policy,
      now + 6 * HOUR,
    );
    expect(next.decision.kind).not.toBe('retrain');
    expect(next.decision.guardsApplied.find((g) => g.guard === 'cooldown')?.passed).toBe(false);
  });

  it('sees drift in a shifted feature and not in a stable one, and keeps state JSON-only', () => {
    const state: MonitorState = { ...initialMonitorState('m'), version: 'v1', versionTrainedAt: T0 };
    const stable = monitorTick(state, reference, observe(window(rng, T0, 0.9, 0)), policy, T0 + 6 * HOUR);
    const shifted = monitorTick(state, reference, observe(window(rng, T0, 0.9, 1.0)), policy, T0 + 6 * HOUR);
    const driftOf = (r: typeof stable, name: string) => r.evaluation.drift!.features.find((f) => f.name === name)!;
    expect(driftOf(stable, 'x').drifted).toBe(false);
    expect(driftOf(shifted, 'x').drifted).toBe(true);
    expect(driftOf(shifted, 'plan').drifted).toBe(false);
    expect(JSON.parse(JSON.stringify(shifted.state))).toEqual(shifted.state);
    // The input state is not modified.
    expect(state.ticks).toBe(0);
  });

  it('a version the team deployed itself takes over when it serves most traffic', () => {
    const state: MonitorState = { ...initialMonitorState('m'), version: 'v1', versionTrainedAt: T0 };
    const w = observe(window(rng, T0 + 48 * HOUR, 0.9));
    const result = monitorTick(
      state,
      reference,
      {
        ...w,
        versions: [
          { version: 'v9', events: 900, trainedAt: T0 + 40 * HOUR },
          { version: 'v1', events: 100, trainedAt: T0 },
        ],
      },
      policy,
      T0 + 54 * HOUR,
    );
    expect(result.state.version).toBe('v9');
    expect(result.state.versionTrainedAt).toBe(T0 + 40 * HOUR);
  });
});
