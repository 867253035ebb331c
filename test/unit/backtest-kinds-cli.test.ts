import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-dir.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURES = path.join(ROOT, 'test/fixtures/backtest-kinds');
const fixture = (name: string) => path.join(FIXTURES, name);

interface ComparisonJson {
  comparison: { rank: number; policy: string; retrains: number; true_cost: number }[];
  runs: {
    policy: { name: string };
    retrains: number;
    decisions: { kind: string; reason: string; time: string }[];
    windows: { quality: number | null; hindsight_quality: number | null; quality_used: string | null }[];
  }[];
}

function halflife(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/halflife.mjs'), 'backtest', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 170_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The cost-aware policy against never retraining on one fixture, 12-hour windows after a 1-day reference. */
function compare(kind: 'multiclass' | 'regression', history: 'shift' | 'stationary'): ComparisonJson {
  const r = halflife(
    '--kind',
    kind,
    '--data',
    fixture(`${kind}-${history}.csv`),
    '--policy',
    fixture(`${kind}-cost-aware.yaml`),
    '--policy',
    fixture(`${kind}-never.yaml`),
    '--cadence',
    '12h',
    '--reference',
    '1d',
    '--json',
    '--quiet',
  );
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as ComparisonJson;
}

const run = (out: ComparisonJson, name: string) => out.runs.find((r) => r.policy.name === name)!;
const cost = (out: ComparisonJson, name: string) => out.comparison.find((c) => c.policy.startsWith(name))!;

// Each test starts the CLI (a fresh Node process loading TypeScript): slow on a loaded machine.
describe('halflife backtest --kind multiclass|regression (CLI)', { timeout: 180_000 }, () => {
  it('the committed fixtures stay small', () => {
    for (const kind of ['multiclass', 'regression'])
      for (const history of ['shift', 'stationary'])
        expect(statSync(fixture(`${kind}-${history}.csv`)).size).toBeLessThan(120_000);
  });

  for (const kind of ['multiclass', 'regression'] as const) {
    const metric = kind === 'multiclass' ? 'log_loss' : 'rmse';
    it(`${kind}: after a concept change a retrain pays — the cost-aware policy retrains and costs less than never retraining`, () => {
      const out = compare(kind, 'shift');
      const costAware = run(out, `${kind}-cost-aware`);
      expect(costAware.retrains).toBeGreaterThanOrEqual(1);
      expect(cost(out, `${kind}-cost-aware`).true_cost).toBeLessThan(cost(out, `${kind}-never`).true_cost);
      // It retrains after the change (day 2), on the policy's metric.
      const retrain = costAware.decisions.find((d) => d.kind === 'retrain')!;
      expect(Date.parse(retrain.time)).toBeGreaterThan(Date.UTC(2026, 0, 7));
      expect(costAware.decisions.map((d) => d.reason).join('\n')).toContain(metric);
      // The retrained model's quality is back near the first concept's.
      const never = run(out, `${kind}-never`);
      const last = (r: typeof never) => r.windows.at(-1)!.hindsight_quality!;
      expect(last(costAware)).toBeGreaterThan(last(never) + 0.1);
      expect(costAware.windows.every((w) => w.quality_used === 'realised')).toBe(true);
    });

    it(`${kind}: a stationary history makes no retrain pay — the cost-aware policy does not retrain`, () => {
      const out = compare(kind, 'stationary');
      expect(run(out, `${kind}-cost-aware`).retrains).toBe(0);
      expect(cost(out, `${kind}-cost-aware`).true_cost).toBeCloseTo(cost(out, `${kind}-never`).true_cost, 6);
    });
  }

  it('labels arriving after each window closes: the label-free estimate stands in, or the reason says why not', () => {
    type Windows = {
      windows: {
        quality_used: string | null;
        estimated_quality: number | null;
        hindsight_quality: number;
        quality_reason: string;
      }[];
    };
    const delayed = (kind: 'multiclass' | 'regression'): Windows => {
      const r = halflife(
        '--kind',
        kind,
        '--data',
        fixture(`${kind}-stationary.csv`),
        '--policy',
        fixture(`${kind}-never.yaml`),
        '--cadence',
        '12h',
        '--reference',
        '2d',
        '--label-delay',
        '13h',
        '--json',
        '--quiet',
      );
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout) as Windows;
    };
    // Multiclass: CBPE fitted on the reference's 525 arrived labels (calibrated probabilities).
    const multiclass = delayed('multiclass').windows;
    expect(multiclass).toHaveLength(4);
    for (const w of multiclass) {
      expect(w.quality_used).toBe('estimated');
      expect(w.quality_reason).toMatch(
        /^estimated log_loss \d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\] \(quality \d\.\d{3}\), CBPE/,
      );
      // 180 events a window: the estimate misses the realised exp(−log loss) by sampling noise only.
      expect(Math.abs(w.estimated_quality! - w.hindsight_quality)).toBeLessThan(0.06);
    }
    // Regression: DLE needs 1,000 labelled reference events to be trusted; the reason says so.
    for (const w of delayed('regression').windows) {
      expect(w.quality_used).toBeNull();
      expect(w.quality_reason).toContain(
        'reference has 525 labelled events; at least 1000 are needed to learn the loss',
      );
    }
  });

  it('names a missing or malformed column, with the line and what would be right', () => {
    const dir = tempDir('backtest-kinds-');
    const lines = readFileSync(fixture('multiclass-shift.csv'), 'utf8').trim().split('\n').slice(0, 200);
    const write = (name: string, rows: string[]) => {
      const file = path.join(dir, name);
      writeFileSync(file, `${rows.join('\n')}\n`);
      return file;
    };
    const policy = fixture('multiclass-never.yaml');
    const args = (file: string, ...extra: string[]) => ['--data', file, '--policy', policy, '--quiet', ...extra];

    // One class's probability column missing.
    const withoutMid = write(
      'without-mid.csv',
      lines.map((l) =>
        l
          .split(',')
          .filter((_, i) => i !== 4)
          .join(','),
      ),
    );
    let r = halflife(...args(withoutMid, '--kind', 'multiclass', '--classes', 'low,mid,high'));
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('no probability column for class "mid" (column "p_mid")');

    // Probabilities that do not sum to 1.
    const badSum = write('bad-sum.csv', [lines[0]!, '2026-01-05T00:00:00Z,0.1,0.2,0.5,0.2,0.1,low', ...lines.slice(2)]);
    r = halflife(...args(badSum, '--kind', 'multiclass'));
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/line 2: the class probabilities \(p_low, p_mid, p_high\) sum to 0\.8/);

    // A label that is not one of the classes.
    const badLabel = write('bad-label.csv', [lines[0]!, lines[1]!.replace(/,[a-z]+$/, ',medium'), ...lines.slice(2)]);
    r = halflife(...args(badLabel, '--kind', 'multiclass'));
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('line 2, column "label": label "medium" is not one of the classes low, mid, high');

    // A regression label that is not a number, and a missing prediction column named by --prediction.
    const regression = readFileSync(fixture('regression-shift.csv'), 'utf8').trim().split('\n').slice(0, 200);
    const textLabel = write('text-label.csv', [
      regression[0]!,
      regression[1]!.replace(/,[^,]+$/, ',high'),
      ...regression.slice(2),
    ]);
    const regressionPolicy = fixture('regression-never.yaml');
    r = halflife('--data', textLabel, '--policy', regressionPolicy, '--kind', 'regression', '--quiet');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('line 2, column "label": label "high" is not a number');
    r = halflife('--data', textLabel, '--policy', regressionPolicy, '--kind', 'regression', '--prediction', 'y_hat');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('no column "y_hat" (--prediction)');
  });
});
