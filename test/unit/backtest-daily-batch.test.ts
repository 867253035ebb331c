/**
 * A daily batch model whose labels take a day (issue #12, low-volume models): one event scored
 * each night, 30-day windows, labels a day late, the default `evidence.minLabelledEvents` 30.
 * Each window closes with 29 labels (the last night's has not arrived), one under the minimum;
 * under rule revision 5 every decision therefore used the label-free estimate, blind to the
 * concept change in the history. Revision 6 pools such a window with the windows before it, and
 * the decisions say so.
 */
import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../detectors/backtest/engine.ts';
import type { BacktestOptions, BacktestReport } from '../../detectors/backtest/types.ts';
import { parsePolicy } from '../../platform/policy-file.ts';
import { builtInTrainer } from '../../training/backtest-trainer.ts';
import { DAY, scenario, T0 } from '../helpers/scenario-streams.ts';

const YEAR = 365 * DAY;
/** θ 9 → 7 after four years: fewer positives, and the model trained before it misses them. */
const CHANGE_AT = T0 + 4 * YEAR;

const policy = parsePolicy({
  name: 'daily-batch',
  version: '1',
  model: 'm',
  trigger: { kind: 'cost-aware', valuePerQualityUnit: 1, retrainCost: 150 },
  trainingWindow: { kind: 'fixed', duration: '1095d' },
}).policy;

function backtest(perNight: number, windowDays: number, extra: Partial<BacktestOptions> = {}): Promise<BacktestReport> {
  return runBacktest({
    rows: scenario({
      seed: 11,
      days: 6 * 365,
      perHour: perNight,
      batchHours: [2],
      theta: (t) => (t < CHANGE_AT ? 9 : 7),
    }),
    numeric: ['x1', 'x2', 'x3'],
    hasPrediction: false,
    policy,
    cadenceMs: windowDays * DAY,
    referenceWindowMs: 1095 * DAY,
    trainer: builtInTrainer(),
    costModel: { valuePerQualityUnit: 1, retrainCost: 150 },
    labelDelayMs: DAY,
    ...extra,
  });
}

describe('a daily batch model with a 1-day label delay', () => {
  it('one event a night, 30-day windows: every window is judged on realised quality pooled with the window before it', async () => {
    const r = await backtest(1, 30);
    // The history ends inside its last window: the full ones are all but that.
    const full = r.windows.slice(0, -1);
    expect(full.length).toBeGreaterThan(30);
    expect(full.every((w) => w.events === 30 && w.labelledAtClose === 29)).toBe(true);
    // The first window has no window before it; every later one borrows its predecessor's labels.
    const later = full.slice(1);
    for (const w of later) {
      expect(w.qualityUsed).toBe('realised');
      expect(w.qualityPooledWindows).toBe(2);
      expect(w.qualityUsedValue).toEqual(expect.any(Number));
      expect(w.qualityReason).toMatch(
        /^realised accuracy [0-9.]+ from 59 labelled events pooled over 2 windows since .*, this one and the window before it \(this window has 29 of 30 events labelled so far, < 30\)/,
      );
    }
    // The decisions carry the same words.
    for (const d of r.decisions.slice(1, -1))
      expect(d.reason).toMatch(/quality: realised accuracy [0-9.]+ from 59 labelled events pooled over 2 windows/);
  });

  it('under rule revision 5 the same history used the estimate on every window (the failure measured)', async () => {
    const r = await backtest(1, 30, { settings: { ruleRevision: 5 } });
    expect(r.windows.filter((w) => w.qualityUsed === 'realised')).toEqual([]);
    expect(r.windows.slice(0, -1).every((w) => /29 labelled events so far \(< 30\)/.test(w.qualityReason ?? ''))).toBe(
      true,
    );
  });

  it('three events a night, 7-day windows: each window pooled with the previous one (18 + 21 labels)', async () => {
    const r = await backtest(3, 7);
    const later = r.windows.slice(1, -1);
    expect(later.length).toBeGreaterThan(100);
    for (const w of later) {
      expect(w.qualityUsed).toBe('realised');
      expect(w.qualityReason).toMatch(
        / from 39 labelled events pooled over 2 windows .*this window has 18 of 21 events labelled so far, < 30/,
      );
    }
  });
});
