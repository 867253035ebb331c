import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../detectors/backtest/engine.ts';
import type { BacktestRow } from '../../detectors/backtest/types.ts';
import { nextPeriodStart, periodStart } from '../../detectors/backtest/windowing.ts';
import type { RetrainPolicy } from '../../detectors/policy/types.ts';
import { Random } from '../../detectors/random.ts';
import { builtInTrainer } from '../../training/backtest-trainer.ts';
import { thresholdOption, windowingOption } from '../../cli/commands/backtest.ts';
import { policyWith } from '../helpers/policies.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5); // a Monday

/**
 * A served model's history on a 0.01 score grid with threshold 0.65: calibrated scores for two
 * weeks, then they crowd towards 0.5 (covariate shift the estimate sees: fewer confident predictions).
 */
function history(seed: number, perHour: number, hours: number): BacktestRow[] {
  const random = new Random(seed);
  const rows: BacktestRow[] = [];
  for (let i = 0; i < perHour * hours; i++) {
    const time = T0 + Math.floor((i * HOUR) / perHour);
    const shifted = time >= T0 + 14 * 24 * HOUR;
    const raw = random.next();
    const s = Math.round((shifted ? 0.5 + (raw - 0.5) * 0.4 : raw) * 100) / 100;
    rows.push({ time, features: { x: s + random.normal(0, 0.1) }, prediction: s, label: random.bernoulli(s) ? 1 : 0 });
  }
  return rows;
}

const never: RetrainPolicy = policyWith(
  { kind: 'manual' },
  {
    name: 'never',
    guards: { budget: { maxRetrains: 1, per: '7d' } },
    trainingWindow: { kind: 'fixed', duration: '12h' },
  },
);

describe('backtest: the label-free estimate beside realised, and windows by rows or calendar period', () => {
  it('reports per window the estimate at the model’s threshold with its interval, realised at that threshold, and an alert on the shifted windows', async () => {
    const rows = history(1, 40, 28 * 24);
    const report = await runBacktest({
      rows,
      numeric: ['x'],
      hasPrediction: true,
      policy: never,
      cadenceMs: 24 * HOUR,
      referenceWindowMs: 7 * 24 * HOUR,
      windowing: { kind: 'period', period: 'day' },
      decisionThreshold: 0.65,
      trainer: builtInTrainer(),
    });
    expect(report.windows).toHaveLength(21);
    const estimates = report.windows.map((w) => w.estimate!);
    for (const e of estimates) {
      expect(e.threshold).toBe(0.65);
      expect(e.lower).toBeLessThan(e.value);
      expect(e.upper).toBeGreaterThan(e.value);
      expect(Math.abs(e.value - (e.realised as number))).toBeLessThan(0.07);
    }
    const errors = estimates.map((e) => Math.abs(e.value - (e.realised as number)));
    expect(errors.reduce((a, b) => a + b, 0) / errors.length).toBeLessThan(0.02);
    // Realised at 0.65 is what the estimate is held to: recomputed from the rows here.
    const day = report.windows[0]!;
    const inDay = rows.filter((r) => r.time >= day.start && r.time < day.end);
    const correct = inDay.filter((r) => ((r.prediction as number) >= 0.65 ? 1 : 0) === r.label).length;
    expect(day.estimate!.realised).toBeCloseTo(correct / inDay.length, 12);
    // The calibrated week raises no alert; the shifted days do (upper bound below the reference band).
    expect(report.windows.slice(0, 7).every((w) => w.estimate!.alert === null)).toBe(true);
    const shifted = report.windows.slice(7);
    expect(shifted.filter((w) => w.estimate!.alert !== null).length).toBeGreaterThanOrEqual(shifted.length - 1);
    expect(shifted[3]!.estimate!.alert).toMatch(/below the reference band/);
  });

  it('cuts windows of N rows, each ending at the next row, and calendar weeks and months in UTC', async () => {
    const rows = history(2, 10, 10 * 24);
    const report = await runBacktest({
      rows,
      numeric: ['x'],
      hasPrediction: true,
      policy: never,
      cadenceMs: HOUR,
      referenceWindowMs: 3 * 24 * HOUR,
      windowing: { kind: 'rows', rows: 300 },
      trainer: builtInTrainer(),
    });
    const after = rows.filter((r) => r.time >= T0 + 3 * 24 * HOUR);
    expect(report.windows.map((w) => w.events)).toEqual([
      ...new Array(Math.floor(after.length / 300)).fill(300),
      ...(after.length % 300 > 0 ? [after.length % 300] : []),
    ]);
    expect(report.windows[1]!.start).toBe(after[300]!.time);
    expect(report.windows[0]!.estimate!.threshold).toBe(0.5);

    expect(periodStart('week', Date.UTC(2026, 0, 11, 23))).toBe(Date.UTC(2026, 0, 5));
    expect(nextPeriodStart('week', Date.UTC(2026, 0, 5))).toBe(Date.UTC(2026, 0, 12));
    expect(nextPeriodStart('month', Date.UTC(2026, 0, 31, 12))).toBe(Date.UTC(2026, 1, 1));
    expect(nextPeriodStart('month', Date.UTC(2026, 11, 3))).toBe(Date.UTC(2027, 0, 1));
  });

  it('says how to fix a bad --window-rows, --window-period or --decision-threshold', () => {
    expect(() => windowingOption({ windowRows: '0' }, HOUR)).toThrow(
      /--window-rows 0: give a whole number .*e\.g\. --window-rows 5000/,
    );
    expect(() => windowingOption({ windowRows: '2.5' }, HOUR)).toThrow(/whole number of rows/);
    expect(() => windowingOption({ windowPeriod: 'fortnight' }, HOUR)).toThrow(
      /give one of day, week, month .*--cadence/,
    );
    expect(() => windowingOption({ windowRows: '10', windowPeriod: 'day' }, HOUR)).toThrow(
      /give one way to cut windows/,
    );
    expect(windowingOption({}, HOUR)).toEqual({ kind: 'duration', ms: HOUR });
    expect(windowingOption({ windowPeriod: 'month' }, HOUR)).toEqual({ kind: 'period', period: 'month' });
    expect(() => thresholdOption('1.5')).toThrow(/--decision-threshold 1\.5: .*between 0 and 1 \(e\.g\. 0\.65\)/);
    expect(() => thresholdOption('')).toThrow(/between 0 and 1/);
    expect(thresholdOption('0.65')).toBe(0.65);
    expect(thresholdOption(undefined)).toBeNull();
  });
});
