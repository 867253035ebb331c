// The late-label horizon: auto from observed label delays (and its clamps), the policy's duration,
// and the one rule the monitor's tick and `halflife backtest` both apply to late labels.
import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../../detectors/backtest/engine.ts';
import type { BacktestRow } from '../../../detectors/backtest/types.ts';
import {
  addDelays,
  AUTO_HORIZON_MIN_LABELS,
  bucketUpperMs,
  delayBucket,
  insideLateLabelHorizon,
  lateLabelHorizon,
} from '../../../detectors/monitor/late-label-horizon.ts';
import { initialMonitorState, monitorTick } from '../../../detectors/monitor/tick.ts';
import {
  DEFAULT_MONITOR_SETTINGS,
  type MaturingWindow,
  type MonitorState,
  type WindowObservation,
} from '../../../detectors/monitor/types.ts';
import { buildScoreHistogram } from '../../../detectors/quality/score-histogram.ts';
import { Random } from '../../../detectors/random.ts';
import { parsePolicy, safeParsePolicy } from '../../../platform/policy-file.ts';
import { builtInTrainer } from '../../../training/backtest-trainer.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 2, 2);

function window(start: number, length: number, delays: [number, number][] = []): MaturingWindow {
  let w: MaturingWindow = {
    start,
    end: start + length,
    version: 'v1',
    trainedAt: T0,
    labelled: 0,
    positives: null,
    negatives: null,
    estimated: null,
    broken: false,
  };
  for (const [delayMs, labels] of delays) w = addDelays(w, delayMs, labels);
  return w;
}

describe('the auto late-label horizon', () => {
  it("buckets a delay by half octaves; a bucket's upper edge overstates it by at most √2", () => {
    for (const delay of [1 * SECOND, 30 * SECOND, 5 * MINUTE, 90 * MINUTE, DAY]) {
      const upper = bucketUpperMs(delayBucket(delay));
      expect(upper).toBeGreaterThanOrEqual(delay - 1);
      expect(upper).toBeLessThanOrEqual(delay * Math.SQRT2 + 1);
    }
  });

  it('no delays observed, or too few for a p99: every kept window stays open', () => {
    const hourly = Array.from({ length: 5 }, (_, i) => window(T0 + i * HOUR, HOUR));
    expect(lateLabelHorizon(hourly, 'auto')).toBeNull();
    const few = [window(T0, HOUR, [[30 * SECOND, AUTO_HORIZON_MIN_LABELS - 1]])];
    expect(lateLabelHorizon(few, 'auto')).toBeNull();
    expect(lateLabelHorizon([], 'auto')).toBeNull();
  });

  it('delays observed: their p99 × 2, from the labels of every kept window', () => {
    // 1-minute windows, labels 5 minutes late: p99 ≈ 5 min (its bucket's edge), × 2.
    const minutes = Array.from({ length: 20 }, (_, i) => window(T0 + i * MINUTE, MINUTE, [[5 * MINUTE, 50]]));
    const h = lateLabelHorizon(minutes, 'auto');
    const p99 = bucketUpperMs(delayBucket(5 * MINUTE));
    expect(h).toEqual({ ms: 2 * p99, source: { kind: 'auto', p99Ms: p99, clamped: null } });
    expect(h!.ms).toBeGreaterThan(10 * MINUTE);
    expect(h!.ms).toBeLessThan(15 * MINUTE);

    // The p99 is a quantile: 1% of late stragglers do not move it, 1.1% do.
    const prompt = (late: number) => [
      window(T0, HOUR, [[10 * SECOND, 1000 - late]]),
      window(T0 + HOUR, HOUR, [[3 * HOUR, late]]),
    ];
    expect(lateLabelHorizon(prompt(10), 'auto')!.source).toMatchObject({
      p99Ms: bucketUpperMs(delayBucket(10 * SECOND)),
    });
    expect(lateLabelHorizon(prompt(11), 'auto')!.source).toMatchObject({ p99Ms: bucketUpperMs(delayBucket(3 * HOUR)) });
  });

  it('clamps: at least two cadences (the shortest kept window), at most the kept windows', () => {
    const prompt = Array.from({ length: 10 }, (_, i) => window(T0 + i * HOUR, HOUR, [[30 * SECOND, 20]]));
    expect(lateLabelHorizon(prompt, 'auto')).toMatchObject({ ms: 2 * HOUR, source: { clamped: 'min' } });
    // A coalesced window is longer; the cadence is the shortest.
    const coalesced = [window(T0, 3 * HOUR, [[30 * SECOND, 100]]), window(T0 + 3 * HOUR, HOUR, [[30 * SECOND, 100]])];
    expect(lateLabelHorizon(coalesced, 'auto')).toMatchObject({ ms: 2 * HOUR });
    // Labels a day late on 10 hourly windows: never more than the 10 hours kept.
    const slow = Array.from({ length: 10 }, (_, i) => window(T0 + i * HOUR, HOUR, [[DAY, 20]]));
    expect(lateLabelHorizon(slow, 'auto')).toMatchObject({ ms: 10 * HOUR, source: { clamped: 'max' } });
  });

  it("a policy's duration is the horizon, whatever the delays", () => {
    const prompt = [window(T0, HOUR, [[30 * SECOND, 500]])];
    expect(lateLabelHorizon(prompt, 6 * HOUR)).toEqual({ ms: 6 * HOUR, source: { kind: 'policy' } });
  });

  it('a window is inside while labels within the horizon can still arrive after the last decision', () => {
    const h = { ms: 2 * HOUR, source: { kind: 'policy' as const } };
    const w = window(T0, HOUR);
    expect(insideLateLabelHorizon(w, T0 + 2 * HOUR, h)).toBe(true);
    expect(insideLateLabelHorizon(w, T0 + 3 * HOUR - 1, h)).toBe(true);
    expect(insideLateLabelHorizon(w, T0 + 3 * HOUR, h)).toBe(false);
    expect(insideLateLabelHorizon(w, T0 + 1000 * HOUR, null)).toBe(true);
  });
});

describe('evidence.lateLabelHorizon in a policy file', () => {
  const MINIMAL = {
    name: 'p',
    version: '1',
    model: 'm',
    trigger: { kind: 'cost-aware', valuePerQualityUnit: 1, retrainCost: 10 },
  };
  const messages = (raw: unknown): string[] => {
    const r = safeParsePolicy(raw);
    return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
  };

  it('takes "auto" or a duration; left out it stays out, so the content hash is unchanged', () => {
    expect(parsePolicy({ ...MINIMAL, evidence: { lateLabelHorizon: '6h' } }).policy.evidence?.lateLabelHorizon).toBe(
      '6h',
    );
    expect(parsePolicy({ ...MINIMAL, evidence: { lateLabelHorizon: 'auto' } }).policy.evidence?.lateLabelHorizon).toBe(
      'auto',
    );
    const plain = parsePolicy({ ...MINIMAL, evidence: { minLabelledEvents: 30 } });
    expect(plain.policy.evidence).not.toHaveProperty('lateLabelHorizon');
  });

  it('a bad duration names the setting and the fix', () => {
    for (const bad of ['soon', '0h', 6, '2 hours'])
      expect(messages({ ...MINIMAL, evidence: { lateLabelHorizon: bad } })).toEqual([
        'policy.evidence.lateLabelHorizon: expected "auto" or a duration longer than zero like "2h" or "3d": how long after a window closes its late labels still count (omit it for "auto")',
      ]);
  });
});

/** Hourly windows of 200 labelled events whose labels arrive `promptMs` after their event. */
const random = new Random(7);
function observation(start: number, extra: Partial<WindowObservation> = {}): WindowObservation {
  const labels = Array.from({ length: 200 }, () => (random.bernoulli(0.5) ? 1 : 0));
  const scores = labels.map((l) => (random.next() < 0.8 ? (l ? 0.8 : 0.2) : l ? 0.2 : 0.8));
  return {
    start,
    end: start + HOUR,
    events: 200,
    versions: [{ version: 'v1', events: 200, trainedAt: T0 }],
    deadLettered: 0,
    features: {},
    prediction: null,
    scoreHistogram: null,
    labelled: {
      events: 200,
      histogram: buildScoreHistogram(labels, scores),
      labelDelayHoursP50: 0.005,
      labelDelayHoursP99: 0.01,
    },
    labelsArrivedBy: start + HOUR,
    lateLabelled: null,
    ...extra,
  };
}

describe("the monitor's tick counts late labels only inside the horizon", () => {
  const policy = parsePolicy({
    name: 'p',
    version: '1',
    model: 'm',
    trigger: { kind: 'cost-aware', valuePerQualityUnit: 1, retrainCost: 1000 },
  }).policy;
  const lateOne = (start: number): NonNullable<WindowObservation['lateLabelled']>[number] => ({
    start,
    events: 1,
    histogram: buildScoreHistogram([1], [0.8]),
  });

  function run(hours: number, settings = DEFAULT_MONITOR_SETTINGS): MonitorState {
    let state = initialMonitorState('m');
    for (let i = 0; i < hours; i++)
      state = monitorTick(state, null, observation(T0 + i * HOUR), policy, T0 + (i + 1) * HOUR, settings).state;
    return state;
  }

  it('prompt labels give a horizon of two cadences: a late label for a window past it is not counted, one inside is', () => {
    const state = run(6);
    expect(state.lateLabelHorizon).toMatchObject({ ms: 2 * HOUR, source: { kind: 'auto', clamped: 'min' } });
    const at = T0 + 6 * HOUR;
    // Window 4 closed an hour before the last decision (inside); window 2 three hours before (mature).
    const tick = monitorTick(
      state,
      null,
      observation(at, { lateLabelled: [lateOne(T0 + 2 * HOUR), lateOne(T0 + 4 * HOUR)] }),
      policy,
      at + HOUR,
    );
    const labelled = (s: MonitorState, start: number) => s.maturing!.find((m) => m.start === start)!.labelled;
    expect(labelled(tick.state, T0 + 2 * HOUR)).toBe(200);
    expect(labelled(tick.state, T0 + 4 * HOUR)).toBe(201);
    expect(tick.evaluation.quality.reason).toMatch(
      /; late labels \(1\) updated 1 earlier window; windows before .* mature \(label delay p99 .* × 2, at least 2 cadences: 2 h\)$/,
    );
  });

  it('runs without the marker count them for every kept window, as before', () => {
    const settings = { ...DEFAULT_MONITOR_SETTINGS, lateLabelHorizon: false };
    const state = run(6, settings);
    expect(state.lateLabelHorizon).toBeUndefined();
    const at = T0 + 6 * HOUR;
    const tick = monitorTick(
      state,
      null,
      observation(at, { lateLabelled: [lateOne(T0 + 2 * HOUR)] }),
      policy,
      at + HOUR,
      settings,
    );
    expect(tick.state.maturing!.find((m) => m.start === T0 + 2 * HOUR)!.labelled).toBe(201);
    expect(tick.evaluation.quality.reason).not.toMatch(/mature/);
  });
});

describe('`halflife backtest` applies the same horizon', () => {
  /** Rows every 30 s labelled as they are scored, but for two whose labels arrive `lateMs` later. */
  function rows(lateMs: number): BacktestRow[] {
    const r = new Random(9);
    const out: BacktestRow[] = [];
    for (let t = T0; t < T0 + 12 * HOUR; t += 30 * SECOND) {
      const x1 = r.next();
      const label = (r.next() < 0.9 ? x1 > 0.5 : x1 <= 0.5) ? 1 : 0;
      out.push({ time: t, features: { x1 }, prediction: x1, label, labelTime: t });
    }
    // Two events of window 6 ([T0 + 6 h, T0 + 7 h)) whose labels come late.
    for (const row of out.filter(
      (x) => x.time === T0 + 6 * HOUR + 10 * MINUTE || x.time === T0 + 6 * HOUR + 20 * MINUTE,
    ))
      row.labelTime = row.time + lateMs;
    return out;
  }
  const policy = parsePolicy({
    name: 'p',
    version: '1',
    model: 'm',
    trigger: { kind: 'cost-aware', valuePerQualityUnit: 1, retrainCost: 1e9 },
  }).policy;
  const backtest = (lateMs: number) =>
    runBacktest({
      rows: rows(lateMs),
      numeric: ['x1'],
      hasPrediction: true,
      policy,
      cadenceMs: HOUR,
      referenceWindowMs: 2 * HOUR,
      trainer: builtInTrainer(),
    });

  it('a label arriving inside the horizon (2 cadences here) fills its window in; one arriving after it does not', async () => {
    // 90 minutes: they arrive during window 7, whose tick counts them for window 6 (it closed an hour before).
    const inside = await backtest(90 * MINUTE);
    const lateReasons = (r: Awaited<ReturnType<typeof backtest>>) =>
      r.windows.map((w) => w.qualityReason ?? '').filter((q) => /late labels/.test(q));
    expect(lateReasons(inside)).toHaveLength(1);
    expect(lateReasons(inside)[0]).toMatch(/late labels \(2\) updated 1 earlier window/);
    // 4 hours: window 6 closed three hours before the tick they arrive in, past the 2-hour horizon.
    const after = await backtest(4 * HOUR);
    expect(lateReasons(after)).toEqual([]);
    expect(after.windows.at(-1)?.qualityReason).toMatch(
      /windows before .* mature \(label delay p99 .* × 2, at least 2 cadences: 2 h\)/,
    );
  });
});
