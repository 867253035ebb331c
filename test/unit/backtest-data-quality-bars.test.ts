/**
 * A policy's `dataQuality` bars in `runBacktest` (what `halflife backtest` runs: the monitor's own
 * tick and policy): a population shifted toward a sensor's ceiling is shift under the default
 * bars and never blocks; with a stricter `stuckRunsP` the same history's interleaved repeats
 * count as a stuck value, the windows are broken and the retrains are blocked, naming the check.
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
const SHIFT_AT = T0 + DAY + 6 * HOUR;

const rows: BacktestRow[] = scenario({
  seed: 17,
  days: 2,
  perHour: 200,
  features: (t, r) => ({ x1: clipped(t < SHIFT_AT ? 6 : 10, r), x2: r.uniform(0, 10), x3: r.uniform(0, 10) }),
});

const backtest = (dataQuality?: Record<string, number>): Promise<BacktestReport> =>
  runBacktest({
    rows,
    numeric: ['x1', 'x2', 'x3'],
    hasPrediction: false,
    policy: parsePolicy({
      name: 'ceiling',
      version: '1',
      model: 'm',
      trigger: { kind: 'periodic', every: '5h' },
      guards: { cooldown: '1h', budget: { maxRetrains: 100, per: '7d' } },
      trainingWindow: { kind: 'fixed', duration: '6h' },
      ...(dataQuality ? { dataQuality } : {}),
    }).policy,
    cadenceMs: HOUR,
    referenceWindowMs: DAY,
    trainer: builtInTrainer(),
  });

const x1Checks = (r: BacktestReport) =>
  r.windows.flatMap((w) => w.dataQuality.checks.filter((c) => c.feature === 'x1').map((c) => c.check));

describe("a policy's data-quality bars in the backtest", () => {
  it(
    'a stricter stuckRunsP turns a shift toward a ceiling into a stuck value that blocks retrains',
    { timeout: 300_000 },
    async () => {
      const byDefault = await backtest();
      expect(x1Checks(byDefault)).toContain('frequent-value');
      expect(x1Checks(byDefault)).not.toContain('stuck-value');
      expect(byDefault.windows.filter((w) => w.dataQuality.broken)).toEqual([]);
      expect(byDefault.decisions.filter((d) => d.kind === 'blocked')).toEqual([]);

      const strict = await backtest({ stuckRunsP: 0.99 });
      expect(x1Checks(strict)).toContain('stuck-value');
      expect(strict.windows.some((w) => w.dataQuality.broken)).toBe(true);
      const blocked = strict.decisions.filter((d) => d.kind === 'blocked');
      expect(blocked.length).toBeGreaterThan(0);
      expect(blocked[0]!.reason).toMatch(/^data-quality guard: .*x1: value 10 in .*: stuck/);
    },
  );
});
