import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LATEST_RULE_REVISION } from '../../detectors/policy/state.ts';
import { scenario } from '../helpers/scenario-streams.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURE = path.join(ROOT, 'test/fixtures/backtest/sea-abrupt.csv');
const POLICY = path.join(ROOT, 'test/fixtures/backtest/cost-aware.yaml');
const NEVER = path.join(ROOT, 'test/fixtures/backtest/never.yaml');
const PERIODIC = path.join(ROOT, 'test/fixtures/backtest/periodic-12h.yaml');

interface ComparisonJson {
  comparison: { rank: number; policy: string; retrains: number; true_cost: number; total_cost: number }[];
  runs: RunJson[];
}
interface RunJson {
  policy: { name: string };
  retrains: number;
  true_cost: number;
  true_cost_parts: { staleness: number; retrains: number; retrains_serving_nothing: number };
  decisions: {
    kind: string;
    reason: string;
    retrain?: { training_rows: number; validation_rows: number; new_version: string };
  }[];
  versions: { version: string; training_rows: number; validation_rows: number }[];
  windows: {
    quality: number | null;
    quality_used: string | null;
    quality_used_value?: number | null;
    quality_pooled_windows?: number;
    quality_reason?: string;
    labelled_at_close: number;
    data_quality: { broken: boolean; checks: unknown[] };
  }[];
}

function halflife(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/halflife.mjs'), 'backtest', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 150_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Each test starts the CLI (a fresh Node process loading TypeScript): on a loaded machine that
// alone can take longer than the unit project's 30 s default.
describe('halflife backtest (CLI)', { timeout: 180_000 }, () => {
  it('the committed fixture stays small', () => {
    expect(statSync(FIXTURE).size).toBeLessThan(300_000);
  });

  it('--json gives decisions, retrains, costs and windows', () => {
    // --quiet: a run that lasts over 2 s reports progress on stderr; nothing else may be written there.
    const r = halflife(
      '--data',
      FIXTURE,
      '--policy',
      POLICY,
      '--cadence',
      '6h',
      '--reference',
      '1d',
      '--json',
      '--quiet',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown> & {
      decisions: { time: string; kind: string; reason: string }[];
      windows: { start: string; end: string; quality: number | null; drift: unknown }[];
      retrains: number;
      total_cost: number;
      staleness_cost: number;
      retrain_cost: number;
    };
    expect(out.windows).toHaveLength(12); // 3 days after a 1-day reference, in 6-hour windows
    expect(out.decisions).toHaveLength(12);
    for (const d of out.decisions) {
      expect(Number.isNaN(Date.parse(d.time))).toBe(false);
      expect(['retrain', 'no-action', 'blocked', 'retrain-failed']).toContain(d.kind);
      expect(d.reason.length).toBeGreaterThan(0);
    }
    for (const w of out.windows) {
      expect(Date.parse(w.end) - Date.parse(w.start)).toBe(6 * 3_600_000);
      expect(w.quality).toBeGreaterThan(0.5);
      expect(w).toHaveProperty('drift');
    }
    // The concept changes halfway: the cost-aware policy retrains and pays for it.
    expect(out.retrains).toBeGreaterThanOrEqual(1);
    expect(out.decisions.filter((d) => d.kind === 'retrain')).toHaveLength(out.retrains);
    expect(out.retrain_cost).toBeCloseTo(out.retrains * (40 + 0.1 * 100), 6);
    expect(out.total_cost).toBeCloseTo(out.staleness_cost + out.retrain_cost, 5);
    expect(out.windows[0]).toMatchObject({ version: 'file' });
  });

  it('prints a readable summary by default', () => {
    const r = halflife('--data', FIXTURE, '--policy', POLICY, '--cadence', '6h');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/retrains: \d+/);
    expect(r.stdout).toMatch(/cost: staleness .* = total/);
    expect(r.stdout).toMatch(/quality over time/);
  });

  it('bad input exits 3 and names the file, line and column', () => {
    const dir = tempDir('halflife-backtest-');
    const bad = path.join(dir, 'bad.csv');
    writeFileSync(bad, 'timestamp,x1,label\n2026-01-05T00:00:00Z,1,0\nnot-a-time,2,1\n');
    const r = halflife('--data', bad, '--policy', POLICY, '--json');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${bad}, line 3, column "timestamp"`);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { kind: 'ValidationError' } });

    const missing = halflife('--data', FIXTURE, '--policy', POLICY, '--label', 'outcome');
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('no column "outcome" (--label)');

    const label = path.join(dir, 'label.csv');
    writeFileSync(label, 'timestamp,x1,label\n2026-01-05T00:00:00Z,1,yes\n');
    const l = halflife('--data', label, '--policy', POLICY);
    expect(l.code).toBe(3);
    expect(l.stderr).toContain('line 2, column "label"');

    const policy = path.join(dir, 'policy.yaml');
    writeFileSync(policy, 'name: p\nversion: 1\nmodel: m\ntrigger:\n  kind: periodic\n');
    const p = halflife('--data', FIXTURE, '--policy', policy);
    expect(p.code).toBe(3);
    expect(p.stderr).toContain('policy.trigger.every');
  });

  it('the fixture at its default cadence: realised quality from 35 labels a window, a retrain after the change, cheaper than never', () => {
    // Under rule revision 2 the 200-label minimum swapped in the label-free estimate, blind to the
    // concept change: 0 retrains while quality fell 0.90 → 0.69.
    const r = halflife('--data', FIXTURE, '--policy', POLICY, '--policy', NEVER, '--json', '--quiet');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as ComparisonJson;
    const costAware = out.runs.find((x) => x.policy.name === 'fixture-cost-aware') as RunJson;
    const never = out.runs.find((x) => x.policy.name === 'fixture-never') as RunJson;
    expect(costAware.windows.every((w) => w.quality_used === 'realised')).toBe(true);
    expect(costAware.retrains).toBeGreaterThanOrEqual(1);
    expect(costAware.true_cost).toBeLessThan(never.true_cost);
    expect(out.comparison[0]?.policy).toBe('fixture-cost-aware');
    expect(out.comparison.map((c) => c.rank)).toEqual([1, 2]);
  });

  it('--rule-revision replays an earlier rule; a revision that does not exist exits 2 (configuration) naming the range', () => {
    // Revision 2 left a window short of 200 labels to the label-free estimate; from revision 3 its 35 labels count.
    const r = halflife('--data', FIXTURE, '--policy', POLICY, '--rule-revision', '2', '--json', '--quiet');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as RunJson;
    expect(out.windows.some((w) => w.quality_used !== 'realised')).toBe(true);
    for (const bad of ['0', '8.5', String(LATEST_RULE_REVISION + 1)]) {
      const b = halflife('--data', FIXTURE, '--policy', POLICY, '--rule-revision', bad);
      expect(b.code, bad).toBe(2);
      expect(b.stderr).toContain(
        `--rule-revision ${bad}: give a revision of the cost-aware rule, a whole number from 1 to ${LATEST_RULE_REVISION}`,
      );
    }
  });

  it('compares several policies, from files or a directory, priced alike, and writes a chart', () => {
    const dir = tempDir('halflife-backtest-');
    const policies = path.join(dir, 'policies');
    mkdirSync(policies);
    for (const f of [POLICY, NEVER, PERIODIC]) copyFileSync(f, path.join(policies, path.basename(f)));
    writeFileSync(path.join(policies, 'README.txt'), 'not a policy');
    const plot = path.join(dir, 'chart.html');
    const r = halflife('--data', FIXTURE, '--policy', policies, '--plot', plot, '--quiet');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/3 policies on/);
    expect(r.stdout).toMatch(/ranked by true cost/);
    expect(r.stdout).toMatch(/fixture-periodic-12h v1 +periodic +\d+/);
    const html = readFileSync(plot, 'utf8');
    expect(html).toContain('uPlot');
    expect(html).toContain('fixture-periodic-12h v1 (periodic)');
    expect(html).not.toMatch(/<script[^>]+src=/); // self-contained

    const json = halflife('--data', FIXTURE, '--policy', policies, '--json', '--quiet');
    const out = JSON.parse(json.stdout) as ComparisonJson;
    expect(out.runs).toHaveLength(3);
    const costs = out.comparison.map((c) => c.true_cost);
    expect([...costs].sort((a, b) => a - b)).toEqual(costs);
    for (const run of out.runs) {
      // One meaning of training_rows: the rows fitted on, in decisions and versions alike.
      for (const d of run.decisions.filter((x) => x.kind === 'retrain')) {
        const v = run.versions.find((x) => x.version === d.retrain?.new_version);
        expect(v?.training_rows).toBe(d.retrain?.training_rows);
        expect(v?.validation_rows).toBe(d.retrain?.validation_rows);
      }
      // No doubled verdict ("retrain: retrain: …"): the kind is reported beside the reason.
      for (const d of run.decisions) expect(d.reason).not.toMatch(/^(retrain|no action|wait): /);
      for (const w of run.windows) expect(w.data_quality).toMatchObject({ broken: false, checks: expect.any(Array) });
    }
    // Priced alike, by the cost-aware policy's prices: 40 + 10% × 100 risk per retrain that served a window.
    for (const run of out.runs)
      expect(run.true_cost_parts.retrains).toBe((run.retrains - run.true_cost_parts.retrains_serving_nothing) * 50);
    const periodic = out.runs.find((x) => x.policy.name === 'fixture-periodic-12h') as RunJson;
    expect(periodic.retrains).toBe(6);
  });

  it('--label-delay: windows see only labels arrived by their close', () => {
    const r = halflife('--data', FIXTURE, '--policy', POLICY, '--label-delay', '2h', '--json', '--quiet');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as RunJson & { label_delay: string };
    expect(out.label_delay).toBe('2h');
    expect(out.windows.every((w) => w.labelled_at_close === 0)).toBe(true);
    // Or each label's own arrival time: here a column saying 2 hours, as the delay did.
    const dir = tempDir('halflife-backtest-');
    const withTimes = path.join(dir, 'label-times.csv');
    const [header, ...lines] = readFileSync(FIXTURE, 'utf8').trim().split('\n');
    writeFileSync(
      withTimes,
      [
        `${header},label_time`,
        ...lines.map((l) => `${l},${new Date(Date.parse(l.split(',')[0]!) + 2 * 3_600_000).toISOString()}`),
      ].join('\n'),
    );
    const timed = halflife('--data', withTimes, '--policy', POLICY, '--label-time', 'label_time', '--json', '--quiet');
    expect(timed.code, timed.stderr).toBe(0);
    const byColumn = JSON.parse(timed.stdout) as RunJson;
    expect(byColumn.windows.map((w) => w.quality)).toEqual(out.windows.map((w) => w.quality));
    expect(byColumn.decisions.map((d) => d.kind)).toEqual(out.decisions.map((d) => d.kind));
    const bad = halflife('--data', FIXTURE, '--policy', POLICY, '--label-delay', 'soon');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--label-delay "soon"');
  });

  it('a daily batch with a day’s label delay: --json windows say their quality was pooled with the window before', () => {
    // One event a night for five years, 30-day windows: each closes with 29 of its 30 labels.
    const dir = tempDir('halflife-backtest-');
    const data = path.join(dir, 'daily.csv');
    const rows = scenario({ seed: 12, days: 5 * 365, perHour: 1, batchHours: [2] });
    writeFileSync(
      data,
      [
        'timestamp,x1,x2,x3,label',
        ...rows.map((r) =>
          [new Date(r.time).toISOString(), r.features.x1, r.features.x2, r.features.x3, r.label].join(','),
        ),
      ].join('\n'),
    );
    const policy = path.join(dir, 'daily.yaml');
    writeFileSync(
      policy,
      [
        'name: daily-batch',
        'version: 1',
        'model: daily',
        'trigger: { kind: cost-aware, valuePerQualityUnit: 1, retrainCost: 150 }',
        'trainingWindow: { kind: fixed, duration: 1095d }',
      ].join('\n'),
    );
    const r = halflife(
      '--data',
      data,
      '--policy',
      policy,
      '--no-prediction',
      '--cadence',
      '30d',
      '--reference',
      '1095d',
      '--label-delay',
      '1d',
      '--json',
      '--quiet',
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as RunJson;
    const full = out.windows.slice(1, -1);
    expect(full.length).toBeGreaterThan(20);
    for (const w of full) {
      expect(w.labelled_at_close).toBe(29);
      expect(w.quality_used).toBe('realised');
      expect(w.quality_pooled_windows).toBe(2);
      expect(w.quality_used_value).toEqual(expect.any(Number));
      expect(w.quality_reason).toMatch(
        / from 59 labelled events pooled over 2 windows since .*this window has 29 of 30 events/,
      );
    }
    for (const d of out.decisions.slice(1, -1)) expect(d.reason).toMatch(/quality: realised accuracy [0-9.]+ from 59 /);
  });
});
