// Realised quality as labels arrive: pooling, late labels, the label queue, and the source the tick reports.
import { describe, expect, it } from 'vitest';
import { LabelQueue } from '../../../detectors/backtest/label-queue.ts';
import {
  addLabels,
  MATURING_BINS,
  poolWindows,
  poolWithEarlier,
  rebin,
} from '../../../detectors/monitor/label-pooling.ts';
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

describe('rule revision 6: a window short of the minimum is pooled with the windows before it', () => {
  const random = new Random(4);
  const w = (i: number, n: number, extra: Partial<MaturingWindow> = {}) => {
    const l = labelled(random, n, 0.8);
    return {
      window: n > 0 ? addLabels(maturing(T0 + i * HOUR, extra), n, l.histogram) : maturing(T0 + i * HOUR, extra),
      ...l,
    };
  };

  it('takes the fewest windows just before it that make the minimum; its value is that of all their labels', () => {
    const a = w(0, 30);
    const b = w(1, 29);
    const windows = [a.window, b.window];
    const forward = poolWindows(windows, 30, 'accuracy');
    expect(forward.map((p) => p.starts)).toEqual([[T0]]);
    const earlier = poolWithEarlier(windows, new Set([T0]), 30, 'accuracy');
    expect([...earlier.keys()]).toEqual([T0 + HOUR]);
    const pool = earlier.get(T0 + HOUR);
    expect(pool?.starts).toEqual([T0, T0 + HOUR]);
    expect(pool?.labelled).toBe(59);
    const all = buildScoreHistogram([...a.labels, ...b.labels], [...a.scores, ...b.scores]);
    expect(pool?.value).toBe(
      qualityFromScoreHistogram({ positives: rebin(all.positives), negatives: rebin(all.negatives) }).threshold.accuracy
        .value,
    );

    // Three windows of 12 before one of 10: two of them are enough (10 + 12 + 12 = 34).
    const small = [w(0, 12), w(1, 12), w(2, 12), w(3, 10)].map((x) => x.window);
    expect(poolWithEarlier(small, new Set(), 30, 'accuracy').get(T0 + 3 * HOUR)?.starts).toEqual([
      T0 + HOUR,
      T0 + 2 * HOUR,
      T0 + 3 * HOUR,
    ]);
  });

  it('never across a broken window or another version, never for a window without labels, never for a pooled one', () => {
    const afterBroken = [w(0, 40), w(1, 40, { broken: true }), w(2, 20)].map((x) => x.window);
    expect(poolWithEarlier(afterBroken, new Set([T0]), 30, 'accuracy').size).toBe(0);
    const afterVersion = [w(0, 40), w(1, 20, { version: 'v2' })].map((x) => x.window);
    expect(poolWithEarlier(afterVersion, new Set([T0]), 30, 'accuracy').size).toBe(0);
    const unlabelled = [w(0, 40), w(1, 0)].map((x) => x.window);
    expect(poolWithEarlier(unlabelled, new Set([T0]), 30, 'accuracy').size).toBe(0);
    const broken = [w(0, 40), w(1, 20, { broken: true })].map((x) => x.window);
    expect(poolWithEarlier(broken, new Set([T0]), 30, 'accuracy').size).toBe(0);
    // Windows of a forward pool keep it.
    const forward = [w(0, 12), w(1, 20)].map((x) => x.window);
    expect(poolWithEarlier(forward, new Set([T0, T0 + HOUR]), 30, 'accuracy').size).toBe(0);
  });

  const policy = parsePolicy({
    name: 'p',
    version: '1',
    model: 'm',
    trigger: { kind: 'cost-aware', valuePerQualityUnit: 1, retrainCost: 1000 },
  }).policy;
  const DAY = 24 * HOUR;
  /** A 30-day window of one event a day whose last label has not arrived: 29 of 30 labelled at its close. */
  const observation = (start: number, extra: Partial<WindowObservation> = {}): WindowObservation => ({
    start,
    end: start + 30 * DAY,
    events: 30,
    versions: [{ version: 'v1', events: 30, trainedAt: T0 }],
    deadLettered: 0,
    features: {},
    prediction: null,
    scoreHistogram: null,
    labelled: null,
    labelsArrivedBy: start + 30 * DAY,
    lateLabelled: null,
    ...extra,
  });

  function twoWindows(ruleRevision: 5 | 6) {
    const settings = { ...DEFAULT_MONITOR_SETTINGS, ruleRevision };
    const random = new Random(5);
    const first = labelled(random, 29, 0.8);
    const last = labelled(random, 1, 0.8);
    const second = labelled(random, 29, 0.6);
    const one = monitorTick(
      initialMonitorState('m'),
      null,
      observation(T0, { labelled: { events: 29, histogram: first.histogram, labelDelayHoursP50: null } }),
      policy,
      T0 + 30 * DAY,
      settings,
    );
    const two = monitorTick(
      one.state,
      null,
      observation(T0 + 30 * DAY, {
        labelled: { events: 29, histogram: second.histogram, labelDelayHoursP50: null },
        lateLabelled: [{ start: T0, events: 1, histogram: last.histogram }],
      }),
      policy,
      T0 + 60 * DAY,
      settings,
    );
    const pooled = buildScoreHistogram(
      [...first.labels, ...last.labels, ...second.labels],
      [...first.scores, ...last.scores, ...second.scores],
    );
    return { one, two, pooledValue: qualityFromScoreHistogram(pooled).threshold.accuracy.value };
  }

  it('the tick: 29 of 30 labels at the close are pooled with the matured window before, and the reason says so', () => {
    const { one, two, pooledValue } = twoWindows(6);
    // The first window has none before it: it waits, and says why.
    expect(one.evaluation.window.quality).toBeNull();
    expect(one.evaluation.quality.reason).toMatch(
      /^no accuracy yet: 29 labelled events so far \(< 30\) and no trustworthy label-free estimate; with the windows before it of its version \(up to a broken one\) still < 30$/,
    );
    expect(two.evaluation.window.quality).toEqual({
      metric: 'accuracy',
      value: pooledValue,
      source: 'realised',
      pooledWindows: 2,
    });
    expect(two.evaluation.quality.used).toBe('realised');
    expect(two.evaluation.quality.pooledWindows).toBe(2);
    expect(two.evaluation.quality.reason).toBe(
      `realised accuracy ${pooledValue!.toFixed(4)} from 59 labelled events pooled over 2 windows since 2026-03-02 00:00:00 UTC, this one and the window before it (this window has 29 of 30 events labelled so far, < 30); late labels (1) updated 1 earlier window`,
    );
    expect(two.decision.reason).toContain(`; quality: ${two.evaluation.quality.reason}`);
    // The matured window has its own realised value and decay point; the borrowed pool makes none.
    expect(two.state.windows[0]?.quality).toMatchObject({ source: 'realised' });
    expect(two.state.points).toMatchObject([{ start: T0, weight: 30, source: 'realised' }]);
    expect(two.state.points).toHaveLength(1);
  });

  it('under revision 5 the same window waits for the windows after it', () => {
    const { two } = twoWindows(5);
    expect(two.evaluation.window.quality).toBeNull();
    expect(two.evaluation.quality.reason).toMatch(
      /^no accuracy yet: 29 labelled events so far \(< 30\) and no trustworthy label-free estimate; late labels/,
    );
    expect(two.state.points).toMatchObject([{ start: T0, weight: 30, source: 'realised' }]);
  });
});
