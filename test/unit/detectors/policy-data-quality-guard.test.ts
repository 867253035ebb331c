// Rule revision 3's data-quality guard: every window a retrain would train on is judged.
import { describe, expect, it } from 'vitest';
import { evaluatePolicy } from '../../../detectors/policy/evaluate.ts';
import type { PolicyState, WindowSummary } from '../../../detectors/policy/state.ts';
import type { RetrainPolicy } from '../../../detectors/policy/types.ts';
import { parsePolicy } from '../../../platform/policy-file.ts';

const H = 3_600_000;
const NOW = Date.UTC(2026, 2, 10, 12);

function policy(extra: Record<string, unknown> = {}): RetrainPolicy {
  return parsePolicy({
    name: 'p',
    version: '1',
    model: 'm',
    trigger: { kind: 'periodic', every: '1d' },
    trainingWindow: { kind: 'fixed', duration: '12h' },
    ...extra,
  }).policy;
}

/** Hourly windows ending at NOW, oldest first; `broken` marks the ones (by index) whose checks failed. */
function windows(count: number, broken: Record<number, string[]> = {}, labelled = 100): WindowSummary[] {
  return Array.from({ length: count }, (_, i) => ({
    start: NOW - (count - i) * H,
    end: NOW - (count - i - 1) * H,
    events: 100,
    labelled,
    dataQualityOk: broken[i] === undefined,
    broken: broken[i] ?? [],
  }));
}

const due = (w: WindowSummary[]): PolicyState => ({
  ruleRevision: 3,
  windows: w,
  lastRetrainAt: NOW - 30 * H,
  featureCount: 3,
});

describe('data-quality guard (revision 3)', () => {
  it('no breakage in the training window: passes and says how many windows it judged', () => {
    const d = evaluatePolicy(policy(), due(windows(24)), NOW);
    expect(d.kind).toBe('retrain');
    expect(d.guardsApplied.find((g) => g.guard === 'data-quality')?.detail).toBe(
      'no breakage in the 12 windows the retrain would train on',
    );
  });

  it('broken windows inside the training window: it starts after them when enough labelled rows follow', () => {
    const w = windows(24, {
      15: ['x1: value 0 in 100.0% of 100 values (reference: most frequent value 0.05%): stuck'],
    });
    const d = evaluatePolicy(policy(), due(w), NOW);
    expect(d.kind).toBe('retrain');
    expect(d.trainingWindow.start).toBe(w[15]!.end);
    expect(d.trainingWindow.reason).toBe('the last 12 h, from the end of broken data at 2026-03-10 04:00:00 UTC');
    expect(d.guardsApplied.find((g) => g.guard === 'data-quality')?.detail).toMatch(
      /^training starts after broken data at 2026-03-10 04:00:00 UTC \(800 labelled rows since\), leaving out 1 broken window — 2026-03-10 03:00:00 UTC → 2026-03-10 04:00:00 UTC: x1: value 0 in 100\.0%/,
    );
  });

  it('too few labelled rows after the breakage: waits, naming the broken windows and the figures', () => {
    const w = windows(24, { 21: ['x2: missing rate 0.400 vs reference 0.000'] }, 60);
    const d = evaluatePolicy(policy(), due(w), NOW);
    expect(d.kind).toBe('blocked');
    expect(d.blockedBy).toBe('data-quality');
    expect(d.reason).toMatch(
      /^data-quality guard: 1 broken window in the training window; only 120 labelled rows since the breakage ended at 2026-03-10 10:00:00 UTC \(need 200\): waiting — .*x2: missing rate 0\.400 vs reference 0\.000; trigger: /,
    );
  });

  it('the latest window broken: waits for clean data', () => {
    const d = evaluatePolicy(policy(), due(windows(24, { 22: ['x1: a'], 23: ['x1: b'] })), NOW);
    expect(d.kind).toBe('blocked');
    expect(d.reason).toMatch(
      /^data-quality guard: the latest window is broken: .* — .*: x1: b \| .*: x1: a; trigger: /,
    );
  });

  it('runs recorded under decision texts revision 1 keep the texts they recorded', () => {
    const rev1 = (w: WindowSummary[]): PolicyState => ({ ...due(w), textRevision: 1 });
    expect(evaluatePolicy(policy(), rev1(windows(24, { 22: ['x1: a'], 23: ['x1: b'] })), NOW).reason).toBe(
      'blocked by data-quality: the latest window is broken: training on broken data would make things worse; waiting for clean data — 2026-03-10T11:00Z–2026-03-10T12:00Z: x1: b | 2026-03-10T10:00Z–2026-03-10T11:00Z: x1: a; trigger: version is 30.0 h old; retrain every 1d',
    );
    const d = evaluatePolicy(policy(), rev1(windows(24, { 15: ['x1: stuck'] })), NOW);
    expect(d.trainingWindow.reason).toBe('the last 12h, from the end of broken data at 2026-03-10T04:00:00.000Z');
    expect(d.guardsApplied.find((g) => g.guard === 'data-quality')?.detail).toBe(
      'training starts after broken data at 2026-03-10T04:00:00.000Z (800 labelled rows since), leaving out 1 broken window(s) — 2026-03-10T03:00Z–2026-03-10T04:00Z: x1: stuck',
    );
  });

  it('breakage before the training window does not matter; shift never blocks (dataQualityOk stays true)', () => {
    const d = evaluatePolicy(policy(), due(windows(24, { 3: ['x1: stuck'] })), NOW);
    expect(d.kind).toBe('retrain');
    expect(d.trainingWindow.start).toBe(NOW - 12 * H);
  });

  it('revision 2 judged only the latest window, shift and few rows included', () => {
    const w = windows(24, { 15: ['x1: stuck'] });
    expect(evaluatePolicy(policy(), { ...due(w), ruleRevision: 2 }, NOW).kind).toBe('retrain');
    expect(evaluatePolicy(policy(), { ...due(w), ruleRevision: 2 }, NOW).trainingWindow.start).toBe(NOW - 12 * H);
  });
});

describe('enough data after a change (revision 3)', () => {
  const sinceChange = policy({
    trigger: { kind: 'periodic', every: '1h' },
    trainingWindow: { kind: 'since-change-point', minimum: '1h', fallback: '12h' },
  });

  it('waits until the windows since the change hold the policy’s labelled rows', () => {
    const state = { ...due(windows(24, {}, 50)), lastChangePointAt: NOW - 3 * H };
    const d = evaluatePolicy(sinceChange, state, NOW);
    expect(d.kind).toBe('no-action');
    expect(d.reason).toBe(
      'waiting for enough labelled rows after the change at 2026-03-10 09:00:00 UTC: 150 of 200 (auto: 50 × (3 features + 1), at least 200); version is 1 d 6 h old; retrain every 1 h',
    );
    expect(d.trigger.fired).toBe(false);
    expect(d.inputs).toMatchObject({ changeAt: NOW - 3 * H, labelledSinceChange: 150, minTrainingLabelled: 200 });
    // Decision texts revision 1 (runs recorded before it) keep the text they recorded.
    expect(evaluatePolicy(sinceChange, { ...state, textRevision: 1 }, NOW).reason).toBe(
      'no action: wait for enough data after the change: version is 30.0 h old; retrain every 1h; but only 150 labelled rows since the change at 2026-03-10T09:00:00.000Z (need 200; auto: 50 × (3 features + 1), at least 200)',
    );
    expect(evaluatePolicy(sinceChange, { ...state, lastChangePointAt: NOW - 4 * H }, NOW).kind).toBe('retrain');
    // A fixed training window does not wait (the cost-aware trigger keeps it clean of a step).
    expect(evaluatePolicy(policy({ trigger: { kind: 'periodic', every: '1h' } }), state, NOW).kind).toBe('retrain');
  });
});
