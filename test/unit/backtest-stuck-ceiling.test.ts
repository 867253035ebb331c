/**
 * A sensor clipped at its maximum, through `runBacktest` (the monitor's own tick and policy): when
 * the population shifts toward the ceiling, the clipped value grows frequent but is hit between
 * varied readings — shift, never a block; when the sensor is pegged at its maximum for 6 hours,
 * the same value comes in one stretch — breakage, and the block names the runs. The event order
 * (`stuckValueOrder`, default on) is what tells them apart: without it the shift is blocked too.
 */
import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../detectors/backtest/engine.ts';
import type { BacktestReport, BacktestRow } from '../../detectors/backtest/types.ts';
import type { Random } from '../../detectors/random.ts';
import { parsePolicy } from '../../platform/policy-file.ts';
import { builtInTrainer } from '../../training/backtest-trainer.ts';
import { DAY, HOUR, scenario, T0 } from '../helpers/scenario-streams.ts';

const CEILING = 10;
/** x1 read to 0.01 and clipped at the sensor's maximum: the reference (mean 6) reaches it in ~0.4% of events. */
const clipped = (mean: number, r: Random) => Math.min(CEILING, Math.round(r.normal(mean, 1.5) * 100) / 100);
const SHIFT_AT = T0 + 2 * DAY;

function stream(pegged: { start: number; end: number } | null): BacktestRow[] {
  return scenario({
    seed: 17,
    days: 4,
    perHour: 200,
    features: (t, r) => ({
      x1: pegged && t >= pegged.start && t < pegged.end ? CEILING : clipped(pegged || t < SHIFT_AT ? 6 : 10, r),
      x2: r.uniform(0, 10),
      x3: r.uniform(0, 10),
    }),
  });
}

const policy = parsePolicy({
  name: 'ceiling',
  version: '1',
  model: 'm',
  trigger: { kind: 'periodic', every: '5h' },
  guards: { cooldown: '1h', budget: { maxRetrains: 100, per: '7d' } },
  trainingWindow: { kind: 'fixed', duration: '12h' },
}).policy;

const backtest = (rows: BacktestRow[], stuckValueOrder: boolean): Promise<BacktestReport> =>
  runBacktest({
    rows,
    numeric: ['x1', 'x2', 'x3'],
    hasPrediction: false,
    policy,
    cadenceMs: HOUR,
    referenceWindowMs: DAY,
    trainer: builtInTrainer(),
    settings: { stuckValueOrder },
  });

const blocked = (r: BacktestReport) => r.decisions.filter((d) => d.kind === 'blocked');
const x1Checks = (r: BacktestReport) =>
  r.windows.flatMap((w) => w.dataQuality.checks.filter((c) => c.feature === 'x1').map((c) => c.check));

describe('a sensor clipped at its maximum', () => {
  it(
    'a shift toward the ceiling is reported as a frequent value (shift) and never blocks a retrain',
    { timeout: 300_000 },
    async () => {
      const rows = stream(null);
      const ordered = await backtest(rows, true);
      expect(blocked(ordered)).toEqual([]);
      expect(ordered.windows.filter((w) => w.dataQuality.broken)).toEqual([]);
      // The value grew frequent after the shift (until retrains' references held it too), read as shift.
      const after = ordered.windows.filter((w) => w.start >= SHIFT_AT);
      expect(after.length).toBe(48);
      const frequent = after.filter((w) => w.dataQuality.checks.some((c) => c.check === 'frequent-value'));
      expect(frequent.length).toBeGreaterThanOrEqual(5);
      expect(x1Checks(ordered)).not.toContain('stuck-value');
      expect(frequent[0]!.dataQuality.checks.find((c) => c.check === 'frequent-value')!.detail).toMatch(
        /^x1: value 10 in \d+\.\d% of \d+ values .*the reference's largest value, its repeats interleaved with other values in \d+ runs where a random order gives .*: a ceiling or floor reached more often, shift$/,
      );
      expect(ordered.decisions.filter((d) => d.kind === 'retrain' && d.time >= SHIFT_AT).length).toBeGreaterThan(5);
      // Judged without the order (rule revision 4 alone), the same shift blocked retrains as a stuck value.
      const unordered = await backtest(rows, false);
      expect(x1Checks(unordered)).toContain('stuck-value');
      expect(blocked(unordered).length).toBeGreaterThan(0);
      expect(blocked(unordered)[0]!.reason).toMatch(/^data-quality guard: .*x1: value 10 in .*: stuck/);
    },
  );

  it(
    'the sensor pegged at its maximum for 6 hours is still a stuck value, blocking with its runs named',
    { timeout: 300_000 },
    async () => {
      const pegged = { start: T0 + 2 * DAY + 7 * HOUR + 20 * 60_000, end: T0 + 2 * DAY + 13 * HOUR + 20 * 60_000 };
      const report = await backtest(stream(pegged), true);
      const touched = report.windows.filter((w) => w.end > pegged.start && w.start < pegged.end);
      expect(touched.length).toBe(7);
      expect(touched.every((w) => w.dataQuality.broken)).toBe(true);
      expect(report.windows.filter((w) => w.dataQuality.broken)).toHaveLength(7);
      const stops = blocked(report);
      expect(stops.length).toBeGreaterThan(0);
      // The windows where it starts and ends hold a stretch of it beside varied readings: named with their runs.
      const edge = touched[0]!.dataQuality.checks.find((c) => c.check === 'stuck-value')!;
      expect(edge.detail).toMatch(
        /^x1: value 10 in \d+\.\d% of 200 values .*, its repeats in stretches in 2 runs where a random order gives [0-9.]+ \(z -\d+\.\d, p [0-9.e<-]+\): stuck$/,
      );
      for (const d of stops) expect(d.reason).toMatch(/^data-quality guard: .*x1: value 10 in .*stuck/);
    },
  );
});
