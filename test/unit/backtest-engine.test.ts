import { describe, expect, it } from 'vitest';
import { builtInTrainer } from '../../training/backtest-trainer.ts';
import { runBacktest } from '../../detectors/backtest/engine.ts';
import { BacktestInputError } from '../../detectors/backtest/input-error.ts';
import type { BacktestOptions, BacktestRow } from '../../detectors/backtest/types.ts';
import type { PolicyTrigger, RetrainPolicy } from '../../detectors/policy/types.ts';
import { seaStream, take } from '../../synthetic/index.ts';
import { costAwareTrigger, policyWith } from '../helpers/policies.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);
const PER_HOUR = 250;

/** SEA stream, 12 h reference + 3 days; the concept moves θ 9 → 7 after 30 h, so a frozen model loses ~15 points. */
function stream(seed: number, withPrediction = false): BacktestRow[] {
  const n = (12 + 72) * PER_HOUR;
  return take(
    seaStream({ seed, schedule: { initial: 1, changes: [{ position: 30 * PER_HOUR, concept: 2 }] }, noise: 0.1 }),
    n,
  ).map((e, i) => {
    const [x1, x2, x3] = e.features as [number, number, number];
    return {
      time: T0 + Math.floor((i * HOUR) / PER_HOUR),
      features: { x1, x2, x3 },
      prediction: withPrediction ? 1 / (1 + Math.exp(-1.5 * (9 - x1 - x2))) : null,
      label: e.label,
    };
  });
}

function policy(trigger: PolicyTrigger, guards: Partial<RetrainPolicy['guards']> = {}): RetrainPolicy {
  return policyWith(trigger, {
    name: `test-${trigger.kind}`,
    model: 'sea',
    guards,
    trainingWindow: { kind: 'fixed', duration: '12h' },
  });
}

const costAware = costAwareTrigger({ retrainCost: 100 });

function options(
  rows: BacktestOptions['rows'],
  p: RetrainPolicy,
  extra: Partial<BacktestOptions> = {},
): BacktestOptions {
  return {
    rows,
    numeric: ['x1', 'x2', 'x3'],
    hasPrediction: false,
    policy: p,
    cadenceMs: HOUR,
    referenceWindowMs: 12 * HOUR,
    trainer: builtInTrainer(),
    costModel: { valuePerQualityUnit: 1, retrainCost: 100 },
    ...extra,
  };
}

describe('runBacktest', () => {
  const rows = stream(3);

  it('cost-aware: retrains after the concept change and quality recovers; cheaper than never retraining', async () => {
    const report = await runBacktest(options(rows, policy(costAware)));
    const never = await runBacktest(options(rows, policy({ kind: 'manual' })));
    expect(report.windows).toHaveLength(72);
    expect(report.retrains).toBeGreaterThanOrEqual(1);
    const firstRetrain = report.decisions.find((d) => d.kind === 'retrain');
    // The change is at 30 h, i.e. 18 h into the monitored period: no retrain before it.
    expect(firstRetrain!.time).toBeGreaterThan(T0 + 30 * HOUR);
    const mean = (ws: typeof report.windows) => ws.reduce((s, w) => s + (w.quality ?? 0), 0) / ws.length;
    const lastDay = report.windows.slice(-24);
    const neverLastDay = never.windows.slice(-24);
    expect(mean(lastDay)).toBeGreaterThan(mean(neverLastDay) + 0.05);
    expect(report.versions.at(-1)!.version).toBe(`v${report.retrains + 1}`);
    expect(report.totalCost!).toBeLessThan(never.totalCost!);
    expect(report.totalCost).toBeCloseTo(report.stalenessCost! + report.retrainCost!, 9);
    expect(report.retrainCost).toBe(100 * report.retrains);
  });

  it('manual never retrains', async () => {
    const report = await runBacktest(options(rows, policy({ kind: 'manual' })));
    expect(report.retrains).toBe(0);
    expect(report.decisions.every((d) => d.kind === 'no-action')).toBe(true);
    expect(new Set(report.windows.map((w) => w.version))).toEqual(new Set(['v1']));
    expect(report.retrainCost).toBe(0);
  });

  it('periodic retrains on its schedule', async () => {
    const report = await runBacktest(options(rows, policy({ kind: 'periodic', every: '12h' })));
    const times = report.decisions.filter((d) => d.kind === 'retrain').map((d) => (d.time - (T0 + 12 * HOUR)) / HOUR);
    expect(times).toEqual([12, 24, 36, 48, 60, 72]);
    const retrains = report.decisions.filter((d) => d.kind === 'retrain');
    for (const d of retrains) {
      expect(d.retrain?.windowRows).toBe(12 * PER_HOUR);
      // Every row is labelled: fitted + held out = the window; a fifth is held out.
      expect((d.retrain?.trainingRows ?? 0) + (d.retrain?.validationRows ?? 0)).toBe(12 * PER_HOUR);
      expect(d.retrain?.validationRows).toBe((12 * PER_HOUR) / 5);
      // training_rows means the same in decisions and versions: the rows the model was fitted on.
      const version = report.versions.find((v) => v.version === d.retrain?.newVersion);
      expect(version?.trainingRows).toBe(d.retrain?.trainingRows);
      expect(version?.validationRows).toBe(d.retrain?.validationRows);
    }
    // The retrain at the close of the last window serves nothing: flagged, and true cost does not charge it.
    expect(retrains.at(-1)?.retrain?.servesNothing).toBe(true);
    expect(retrains.slice(0, -1).some((d) => d.retrain?.servesNothing)).toBe(false);
    expect(report.trueCostParts?.retrainsServingNothing).toBe(1);
    expect(report.trueCostParts?.retrains).toBe(100 * (retrains.length - 1));
    expect(report.retrainCost).toBe(100 * retrains.length);
  });

  it('is deterministic: the same input gives an identical report, from an array or an async iterator', async () => {
    const a = await runBacktest(options(rows, policy(costAware)));
    const b = await runBacktest(options(stream(3), policy(costAware)));
    async function* iterate() {
      for (const r of rows) yield r;
    }
    const c = await runBacktest(options(iterate(), policy(costAware)));
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(JSON.stringify(c)).toBe(JSON.stringify(a));
  });

  it("with a prediction column the file's scores serve until the first retrain", async () => {
    const report = await runBacktest(
      options(stream(3, true), policy({ kind: 'periodic', every: '36h' }), { hasPrediction: true }),
    );
    expect(report.versions[0]).toMatchObject({ version: 'file', source: 'file' });
    expect(report.windows[0]!.version).toBe('file');
    // Periodic counts the file's model age from the start of the history (12 h before monitoring).
    expect(report.decisions.find((d) => d.kind === 'retrain')!.time).toBe(T0 + 36 * HOUR);
    expect(report.windows.at(-1)!.version).not.toBe('file');
  });

  it('reports drift per window and no costs without a cost model', async () => {
    const report = await runBacktest(options(rows, policy({ kind: 'manual' }), { costModel: null }));
    expect(report.totalCost).toBeNull();
    expect(report.windows.every((w) => w.drift !== null && w.stalenessCost === null)).toBe(true);
  });

  it('rejects out-of-order rows and histories that end inside the reference period', async () => {
    const shuffled = [rows[0]!, rows[2]!, rows[1]!, ...rows.slice(3)];
    await expect(runBacktest(options(shuffled, policy({ kind: 'manual' })))).rejects.toThrow(
      /row 3: rows must be in time order/,
    );
    await expect(runBacktest(options(rows.slice(0, 100), policy({ kind: 'manual' })))).rejects.toThrow(
      BacktestInputError,
    );
    await expect(runBacktest(options([], policy({ kind: 'manual' })))).rejects.toThrow(/no rows/);
  });
});
