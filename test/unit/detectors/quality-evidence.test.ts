// Realised quality as labels arrive: pooling, late labels, the label queue, and the source the tick reports.
import { describe, expect, it } from 'vitest';
import { LabelQueue } from '../../../detectors/backtest/label-queue.ts';
import { addLabels, MATURING_BINS, poolWindows, rebin } from '../../../detectors/monitor/label-pooling.ts';
import { initialMonitorState, monitorTick } from '../../../detectors/monitor/tick.ts';
import {
  DEFAULT_MONITOR_SETTINGS,
  type MaturingWindow,
  type WindowObservation,
} from '../../../detectors/monitor/types.ts';
import { buildScoreHistogram, qualityFromScoreHistogram } from '../../../detectors/quality/score-histogram.ts';
import { Random } from '../../../detectors/random.ts';
import { parsePolicy } from '../../../platform/policy-file.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 2, 2);

/** Labels and scores with a given accuracy at threshold 0.5. */
function labelled(random: Random, n: number, accuracy: number) {
  const labels: number[] = [];
  const scores: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = random.bernoulli(0.5) ? 1 : 0;
    const right = random.next() < accuracy;
    labels.push(label);
    scores.push((label === 1) === right ? random.uniform(0.5, 1) : random.uniform(0, 0.4999));
  }
  return { labels, scores, histogram: buildScoreHistogram(labels, scores) };
}

function maturing(start: number, extra: Partial<MaturingWindow> = {}): MaturingWindow {
  return {
    start,
    end: start + HOUR,
    version: 'v1',
    trainedAt: T0 - HOUR,
    labelled: 0,
    positives: null,
    negatives: null,
    estimated: null,
    broken: false,
    ...extra,
  };
}

describe('pooling windows with too few labels', () => {
  const random = new Random(1);

  it('rebins a 100-bin histogram to 50 bins; accuracy at 0.5 is unchanged', () => {
    const { histogram } = labelled(random, 400, 0.8);
    const coarse = { positives: rebin(histogram.positives), negatives: rebin(histogram.negatives) };
    expect(coarse.positives).toHaveLength(MATURING_BINS);
    expect(qualityFromScoreHistogram(coarse).threshold.accuracy.value).toBe(
      qualityFromScoreHistogram(histogram).threshold.accuracy.value,
    );
    expect(() => rebin([1, 2, 3], 2)).toThrow(RangeError);
  });

  it('pools the fewest consecutive windows of one version that hold the minimum, never across a broken one', () => {
    const w = (i: number, n: number, extra: Partial<MaturingWindow> = {}) => {
      const l = labelled(random, n, 0.8);
      return n > 0 ? addLabels(maturing(T0 + i * HOUR, extra), n, l.histogram) : maturing(T0 + i * HOUR, extra);
    };
    const windows = [
      w(0, 12),
      w(1, 12),
      w(2, 12),
      w(3, 40),
      w(4, 12, { broken: true }),
      w(5, 25),
      w(6, 10, { version: 'v2' }),
      w(7, 25, { version: 'v2' }),
      w(8, 5, { version: 'v2' }),
    ];
    const pools = poolWindows(windows, 30, 'accuracy');
    expect(pools.map((p) => p.starts.map((s) => (s - T0) / HOUR))).toEqual([[0, 1, 2], [3], [6, 7]]);
    expect(pools.map((p) => p.labelled)).toEqual([36, 40, 35]);
    // Window 5 (25, after the broken window 4) and window 8 (5) wait for more.
  });

  it('adds late labels to a window: the pooled value is that of all its labels', () => {
    const a = labelled(random, 20, 0.9);
    const b = labelled(random, 30, 0.6);
    const w = addLabels(addLabels(maturing(T0), 20, a.histogram), 30, b.histogram);
    const [pool] = poolWindows([w], 30, 'accuracy');
    const all = buildScoreHistogram([...a.labels, ...b.labels], [...a.scores, ...b.scores]);
    expect(pool?.value).toBe(qualityFromScoreHistogram(all).threshold.accuracy.value);
  });
});

describe('LabelQueue', () => {
  it('gives back the labels that arrive before a time, in arrival order', () => {
    const random = new Random(2);
    const queue = new LabelQueue();
    const arrivals = Array.from({ length: 500 }, () => Math.floor(random.uniform(0, 1000)));
    arrivals.forEach((arrival, i) => queue.push({ arrival, windowStart: i, score: 0.5, label: 1 }));
    const first = queue.takeBefore(300).map((l) => l.arrival);
    expect(first).toEqual(arrivals.filter((a) => a < 300).sort((x, y) => x - y));
    const rest = queue.takeBefore(Infinity).map((l) => l.arrival);
    expect(rest).toEqual(arrivals.filter((a) => a >= 300).sort((x, y) => x - y));
    expect(queue.size).toBe(0);
  });
});

describe('the tick under revision 3: late labels reach the windows they belong to', () => {
  const policy = parsePolicy({
    name: 'p',
    version: '1',
    model: 'm',
    trigger: { kind: 'cost-aware', valuePerQualityUnit: 1, retrainCost: 1000 },
  }).policy;
  const random = new Random(3);
  const observation = (start: number, extra: Partial<WindowObservation> = {}): WindowObservation => ({
    start,
    end: start + HOUR,
    events: 100,
    versions: [{ version: 'v1', events: 100, trainedAt: T0 }],
    deadLettered: 0,
    features: {},
    prediction: null,
    scoreHistogram: null,
    labelled: null,
    labelsArrivedBy: start + HOUR,
    lateLabelled: null,
    ...extra,
  });

  it('a window without labels at its close has no quality; its late labels give it realised quality and a decay point', () => {
    let state = initialMonitorState('m');
    const first = monitorTick(state, null, observation(T0), policy, T0 + HOUR);
    expect(first.evaluation.window.quality).toBeNull();
    expect(first.evaluation.quality.reason).toMatch(/^no accuracy yet: 0 labelled events so far \(< 30\)/);
    state = first.state;
    const late = labelled(random, 100, 0.75);
    const second = monitorTick(
      state,
      null,
      observation(T0 + HOUR, { lateLabelled: [{ start: T0, events: 100, histogram: late.histogram }] }),
      policy,
      T0 + 2 * HOUR,
    );
    const earlier = second.state.windows.find((w) => w.start === T0);
    expect(earlier?.quality).toEqual({
      metric: 'accuracy',
      value: qualityFromScoreHistogram(late.histogram).threshold.accuracy.value,
      source: 'realised',
    });
    expect(earlier?.labelled).toBe(100);
    expect(second.state.points).toMatchObject([{ version: 'v1', start: T0, weight: 100, source: 'realised' }]);
    expect(second.evaluation.quality.reason).toMatch(/; late labels \(100\) updated 1 earlier window$/);
    expect(second.decision.reason).toMatch(/quality: no accuracy yet/);
    expect(second.state.labelsArrivedBy).toBe(T0 + 2 * HOUR);
  });

  it('a pool leaves the kept windows whole: pools keep their boundaries and no window is counted twice', () => {
    let state = initialMonitorState('m');
    const settings = { ...DEFAULT_MONITOR_SETTINGS, maxWindows: 5 };
    const heads: number[][] = [];
    for (let i = 0; i < 14; i++) {
      const start = T0 + i * HOUR;
      const l = labelled(random, 12, 0.8);
      const tick = monitorTick(
        state,
        null,
        observation(start, { labelled: { events: 12, histogram: l.histogram, labelDelayHoursP50: null } }),
        policy,
        start + HOUR,
        settings,
      );
      state = tick.state;
      const realised = state.points.filter((p) => p.source === 'realised');
      // Every pool holds three windows of 12 labels; pools never overlap.
      expect(realised.every((p) => p.weight === 36)).toBe(true);
      const starts = realised.map((p) => p.start as number).sort((a, b) => a - b);
      for (let k = 1; k < starts.length; k++) expect(starts[k]! - starts[k - 1]!).toBeGreaterThanOrEqual(3 * HOUR);
      heads.push(starts.map((x) => (x - T0) / HOUR));
    }
    // Pool heads stay on 0, 3, 6, 9 as old windows leave.
    expect(new Set(heads.flat())).toEqual(new Set([0, 3, 6, 9]));
  });
});
