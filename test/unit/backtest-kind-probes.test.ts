/**
 * Challenger probes of multiclass and regression models in the backtest (runOutcomeBacktest): a
 * served model that is flat but beaten by any fresh model gets a probe and then a retrain; one no
 * fresh model beats gets neither a retrain nor a probe every few windows.
 */
import { describe, expect, it } from 'vitest';
import { runOutcomeBacktest } from '../../detectors/backtest/outcome-engine.ts';
import type { OutcomeKind } from '../../detectors/quality/outcome-sums.ts';
import type { OutcomeBacktestRow } from '../../detectors/backtest/outcome-types.ts';
import type { BacktestReport } from '../../detectors/backtest/types.ts';
import type { RetrainPolicy } from '../../detectors/policy/types.ts';
import { Random } from '../../detectors/random.ts';
import { parsePolicy } from '../../platform/policy-file.ts';
import { builtInMulticlassTrainer, builtInRegressionTrainer } from '../../training/backtest-trainer.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 0, 5);

/**
 * A stationary history, 100 events an hour, every one labelled: y = 3·x1 + x2 + N(0, 1). The file's
 * prediction is `served(x1, x2)`: the true line (no fresh model beats it) or one blind to x2 (any
 * fresh model beats it, by as much on day 6 as on day 1: flat, never decaying).
 */
function regressionHistory(days: number, served: (x1: number, x2: number) => number, seed: number) {
  const random = new Random(seed);
  const rows: OutcomeBacktestRow[] = [];
  for (let i = 0; i < days * 24 * 100; i++) {
    const x1 = random.normal();
    const x2 = random.normal();
    rows.push({
      time: T0 + i * 36_000,
      features: { x1, x2 },
      prediction: served(x1, x2),
      label: 3 * x1 + x2 + random.normal(),
    });
  }
  return rows;
}

/** Three classes by the sign of x1 + x2 and of x1 − x2; the served model may see only x1. */
function multiclassHistory(days: number, seesX2: boolean, seed: number) {
  const random = new Random(seed);
  const rows: OutcomeBacktestRow[] = [];
  const softmax = (z: number[]) => {
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  };
  const logits = (x1: number, x2: number, w2: number) => [2 * (x1 + w2 * x2), 2 * (x1 - w2 * x2), 0];
  for (let i = 0; i < days * 24 * 100; i++) {
    const x1 = random.normal();
    const x2 = random.normal();
    const p = softmax(logits(x1, x2, 1));
    const u = random.uniform();
    const label = u < (p[0] as number) ? 0 : u < (p[0] as number) + (p[1] as number) ? 1 : 2;
    rows.push({
      time: T0 + i * 36_000,
      features: { x1, x2 },
      prediction: softmax(logits(x1, x2, seesX2 ? 1 : 0)),
      label,
    });
  }
  return rows;
}

function policy(quality: object, extra: Record<string, unknown> = {}): RetrainPolicy {
  return parsePolicy({
    name: 'kind-probes',
    version: '1',
    model: 'm',
    quality,
    trigger: { kind: 'cost-aware', valuePerQualityUnit: 1, retrainCost: 100 },
    guards: { cooldown: '6h', budget: { maxRetrains: 10, per: '7d' } },
    trainingWindow: { kind: 'fixed', duration: '12h' },
    ...extra,
  }).policy;
}

function backtest(kind: OutcomeKind, rows: OutcomeBacktestRow[], p: RetrainPolicy): Promise<BacktestReport> {
  return runOutcomeBacktest({
    kind,
    rows,
    numeric: ['x1', 'x2'],
    hasPrediction: true,
    policy: p,
    cadenceMs: HOUR,
    referenceWindowMs: DAY,
    trainer: kind.kind === 'multiclass' ? builtInMulticlassTrainer(kind.classes) : builtInRegressionTrainer(),
    costModel: { valuePerQualityUnit: 1, retrainCost: 100 },
  });
}

const retrains = (r: BacktestReport) => r.decisions.filter((d) => d.kind === 'retrain');
const results = (r: BacktestReport) => r.windows.flatMap((w) => (w.probe?.result ? [w.probe.result] : []));

const REGRESSION: OutcomeKind = { kind: 'regression' };
const MULTICLASS: OutcomeKind = { kind: 'multiclass', classes: ['a', 'b', 'c'] };

describe('challenger probes of regression and multiclass models in the backtest', () => {
  for (const metric of ['rmse', 'mae'] as const)
    it(`regression (${metric}): a flat model a fresh one beats gets a probe, its gap in ${metric} as quality, then a retrain`, async () => {
      const rows = regressionHistory(6, (x1) => 3 * x1, 11);
      const quality = { metric, worthlessError: 4 };
      const r = await backtest(REGRESSION, rows, policy(quality));
      const found = results(r);
      expect(r.probes).toBeGreaterThanOrEqual(1);
      const better = found.find((x) => x.verdict === 'challenger-better');
      expect(better).toBeDefined();
      expect(better!.metric).toBe(metric);
      // The served model misses x2's variance of 1: RMSE √2 against 1 (quality 1 − 1.41/4 ≈ 0.65 against 0.75);
      // MAE √(2·2/π) ≈ 1.13 against √(2/π) ≈ 0.80 (quality ≈ 0.72 against 0.80).
      const expectedGap =
        metric === 'rmse' ? (Math.SQRT2 - 1) / 4 : (Math.sqrt(4 / Math.PI) - Math.sqrt(2 / Math.PI)) / 4;
      expect(better!.gap!).toBeGreaterThan(expectedGap - 0.03);
      expect(better!.gap!).toBeLessThan(expectedGap + 0.03);
      expect(better!.lower!).toBeGreaterThan(0);
      const atResult = r.windows.find((w) => w.probe?.result === better)!;
      // The retrain follows the probe (the rule now prices staleness against the challenger's level).
      // (the probe holds the retrain a noisy forecast asks for before it: "probe first")
      const first = retrains(r)[0];
      expect(first).toBeDefined();
      expect(first!.time).toBeGreaterThanOrEqual(atResult.end);
      expect(first!.reason).toMatch(/challenger/);
    });

  it('regression: a model no fresh model beats gets neither a retrain nor endless probes', async () => {
    const rows = regressionHistory(8, (x1, x2) => 3 * x1 + x2, 12);
    const r = await backtest(REGRESSION, rows, policy({ metric: 'rmse', worthlessError: 4 }));
    expect(retrains(r)).toHaveLength(0);
    const found = results(r);
    expect(found.length).toBeGreaterThanOrEqual(1);
    expect(found.every((x) => x.verdict !== 'challenger-better')).toBe(true);
    expect(found.some((x) => x.verdict === 'no-better')).toBe(true);
    // Each probe that found nothing holds the next off for as long again as the version had served.
    expect(r.probes).toBeLessThanOrEqual(4);
    const starts = r.windows.filter((w) => w.probe?.started).map((w) => w.end);
    for (let i = 2; i < starts.length; i++)
      expect((starts[i] as number) - (starts[i - 1] as number)).toBeGreaterThanOrEqual(
        (starts[i - 1] as number) - (starts[i - 2] as number),
      );
  });

  it('multiclass (log loss): a flat model blind to one feature gets a probe and then a retrain; the right model neither', async () => {
    const quality = { metric: 'log_loss' };
    const blind = await backtest(MULTICLASS, multiclassHistory(6, false, 21), policy(quality));
    const better = results(blind).find((x) => x.verdict === 'challenger-better');
    expect(better).toBeDefined();
    expect(better!.metric).toBe('log_loss');
    const atResult = blind.windows.find((w) => w.probe?.result === better)!;
    expect(retrains(blind).some((d) => d.time >= atResult.end)).toBe(true);

    const right = await backtest(MULTICLASS, multiclassHistory(8, true, 22), policy(quality));
    expect(retrains(right)).toHaveLength(0);
    expect(results(right).every((x) => x.verdict !== 'challenger-better')).toBe(true);
    expect(right.probes).toBeLessThanOrEqual(4);
  });
});
