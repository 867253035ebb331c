import { describe, expect, it } from 'vitest';
import { initialMonitorState, monitorTick } from '../../../detectors/monitor/tick.ts';
import type { MonitorState, WindowObservation } from '../../../detectors/monitor/types.ts';
import { multiclassConfusion } from '../../../detectors/quality/multiclass-f1.ts';
import { multiclassLogLossContribution } from '../../../detectors/quality/multiclass-log-loss.ts';
import {
  emptyOutcomeSums,
  type MulticlassSums,
  type RegressionOutcomeSums,
} from '../../../detectors/quality/outcome-sums.ts';
import { Random } from '../../../detectors/random.ts';
import { parsePolicy } from '../../../platform/policy-file.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);
const CLASSES = ['a', 'b', 'c'];

/** A multiclass window: the model gives the true class `sharpness` more logit than the others. */
function multiclassWindow(rng: Random, sharpness: number, n = 600): MulticlassSums {
  const truth: number[] = [];
  const predicted: number[] = [];
  let lossSum = 0;
  let lossSquares = 0;
  for (let i = 0; i < n; i++) {
    const t = rng.integer(0, 2);
    const logits = CLASSES.map((_, k) => rng.normal() + (k === t ? sharpness : 0));
    const exp = logits.map(Math.exp);
    const total = exp.reduce((a, b) => a + b, 0);
    const p = exp.map((e) => e / total);
    truth.push(t);
    predicted.push(p.indexOf(Math.max(...p)));
    const loss = multiclassLogLossContribution(p, t);
    lossSum += loss;
    lossSquares += loss * loss;
  }
  return {
    kind: 'multiclass',
    classes: CLASSES,
    confusion: multiclassConfusion(truth, predicted, 3),
    lossN: n,
    lossSum,
    lossSquares,
    unknownClass: 0,
  };
}

/** A regression window whose errors have the given spread. */
function regressionWindow(rng: Random, errorSd: number, n = 500): RegressionOutcomeSums {
  const s = emptyOutcomeSums({ kind: 'regression' }) as RegressionOutcomeSums;
  for (let i = 0; i < n; i++) {
    const y = rng.normal(100, 20);
    const e = rng.normal(0, errorSd);
    s.n += 1;
    s.sumAbsoluteError += Math.abs(e);
    s.sumSquaredError += e * e;
    s.sumFourthPowerError += e ** 4;
    s.sumTruth += y;
    s.sumSquaredTruth += y * y;
  }
  return s;
}

function observation(start: number, events: number, outcomes: WindowObservation['outcomes']): WindowObservation {
  return {
    start,
    end: start + 6 * HOUR,
    events,
    versions: [{ version: 'v1', events, trainedAt: T0 }],
    deadLettered: 0,
    features: {},
    prediction: null,
    scoreHistogram: null,
    labelled: null,
    labelsArrivedBy: start + 6 * HOUR,
    lateLabelled: null,
    outcomes,
  };
}

describe('the monitor tick on a multiclass model', () => {
  const policy = parsePolicy({
    name: 'mc',
    version: '1',
    model: 'm',
    quality: { metric: 'log_loss' },
    trigger: {
      kind: 'threshold',
      metric: 'log_loss',
      direction: 'lower-is-better',
      threshold: 0.8,
      consecutiveWindows: 2,
    },
    guards: { cooldown: '1d', approval: { required: false } },
  }).policy;

  it('tracks exp(−log loss) from the window sums and retrains once the loss stays above its threshold', () => {
    const rng = new Random(3);
    let state: MonitorState = { ...initialMonitorState('m'), version: 'v1', versionTrainedAt: T0 };
    // The classifier grows less sure of the true class: log loss rises past 0.8 from the fourth window.
    const sharpness = [3, 2.8, 2.6, 0.9, 0.8, 0.7];
    const kinds: string[] = [];
    sharpness.forEach((s, i) => {
      const start = T0 + i * 6 * HOUR;
      const tick = monitorTick(
        state,
        null,
        observation(start, 600, multiclassWindow(rng, s)),
        policy,
        start + 6 * HOUR,
      );
      state = tick.state;
      kinds.push(tick.decision.kind);
      const q = tick.evaluation.quality;
      expect(q.metric).toBe('log_loss');
      expect(q.used).toBe('realised');
      const figure = q.realised!.figure!;
      expect(figure.transform).toBe('quality = exp(−log loss)');
      expect(q.realised!.value).toBeCloseTo(Math.exp(-figure.value!), 12);
      // The interval maps to quality bounds the right way round, around the value.
      expect(q.realised!.interval!.lower).toBeLessThan(q.realised!.value!);
      expect(q.realised!.interval!.upper).toBeGreaterThan(q.realised!.value!);
      expect(tick.state.windows.at(-1)!.quality).toMatchObject({ metric: 'log_loss', source: 'realised' });
      if (i === 0) expect(figure.value!).toBeLessThan(0.8);
      if (i >= 3) expect(figure.value!).toBeGreaterThan(0.8);
    });
    expect(kinds.slice(0, 4).every((k) => k !== 'retrain')).toBe(true);
    expect(kinds[4]).toBe('retrain');
    // Every decay point is a quality in [0, 1].
    expect(state.points.every((p) => p.quality > 0 && p.quality <= 1)).toBe(true);
  });

  it('macro-F1 and accuracy come from the same confusion counts', () => {
    const rng = new Random(4);
    const sums = multiclassWindow(rng, 2);
    for (const metric of ['macro_f1', 'accuracy'] as const) {
      const p = parsePolicy({ ...policy, quality: { metric }, trigger: { kind: 'manual' } }).policy;
      const tick = monitorTick(initialMonitorState('m'), null, observation(T0, 600, sums), p, T0 + 6 * HOUR);
      expect(tick.evaluation.quality.metric).toBe(metric);
      expect(tick.evaluation.quality.realised!.value).toBe(tick.evaluation.quality.realised!.figure!.value);
    }
  });
});

describe('the monitor tick on a regression model', () => {
  const policy = parsePolicy({
    name: 'reg',
    version: '1',
    model: 'm',
    quality: { metric: 'rmse', worthlessError: 20 },
    trigger: { kind: 'threshold', metric: 'rmse', direction: 'lower-is-better', threshold: 8, consecutiveWindows: 2 },
    guards: { cooldown: '1d', approval: { required: false } },
  }).policy;

  it('tracks 1 − RMSE / worthlessError, fits the decay on it and retrains when RMSE stays above its threshold', () => {
    const rng = new Random(5);
    let state: MonitorState = { ...initialMonitorState('m'), version: 'v1', versionTrainedAt: T0 };
    const errorSd = [4, 4.5, 5, 5.6, 6.3, 7, 9, 9.5];
    const decisions: string[] = [];
    errorSd.forEach((sd, i) => {
      const start = T0 + i * 6 * HOUR;
      const tick = monitorTick(
        state,
        null,
        observation(start, 500, regressionWindow(rng, sd)),
        policy,
        start + 6 * HOUR,
      );
      state = tick.state;
      decisions.push(tick.decision.kind);
      const realised = tick.evaluation.quality.realised!;
      expect(tick.evaluation.quality.metric).toBe('rmse');
      expect(realised.value).toBeCloseTo(1 - realised.figure!.value! / 20, 12);
      expect(realised.figure!.transform).toBe('quality = 1 − rmse / 20 (clipped to [0, 1])');
    });
    expect(decisions.slice(0, 7).every((k) => k !== 'retrain')).toBe(true);
    expect(decisions[7]).toBe('retrain');
    // The quality series falls, and the decay fit follows it.
    expect(state.decay).not.toBeNull();
    const qualities = state.points.map((p) => p.quality);
    expect(qualities[0]!).toBeGreaterThan(qualities.at(-1)!);
  });

  it('late labels fill in an earlier window: its sums grow and its quality is realised from them', () => {
    const rng = new Random(8);
    const first = observation(T0, 500, regressionWindow(rng, 4, 10));
    let tick = monitorTick(initialMonitorState('m'), null, first, policy, T0 + 6 * HOUR);
    // Ten labels by the first decision: too few (30) for a realised value.
    expect(tick.state.windows[0]!.quality).toBeNull();
    const late = regressionWindow(rng, 4, 300);
    const second = {
      ...observation(T0 + 6 * HOUR, 500, regressionWindow(rng, 4, 0)),
      lateOutcomes: [{ start: T0, sums: late }],
    };
    tick = monitorTick(tick.state, null, second, policy, T0 + 12 * HOUR);
    const filled = tick.state.windows[0]!;
    expect(filled.labelled).toBe(310);
    expect(filled.quality).toMatchObject({ metric: 'rmse', source: 'realised' });
    expect(tick.evaluation.quality.reason).toMatch(/late labels \(300\) updated 1 earlier window/);
  });

  it('without labelled events there is no quality, and the reason says the label-free estimate is not run', () => {
    const empty = regressionWindow(new Random(6), 4, 0);
    const tick = monitorTick(initialMonitorState('m'), null, observation(T0, 500, empty), policy, T0 + 6 * HOUR);
    expect(tick.evaluation.quality.realised).toBeNull();
    expect(tick.evaluation.quality.estimated).toMatchObject({ value: null, trustworthy: false });
    expect(tick.evaluation.quality.used).toBeNull();
    expect(tick.evaluation.quality.reason).toMatch(/no rmse yet: .*label-free estimate of a regression model yet/);
  });
});
