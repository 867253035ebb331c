import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURE = path.join(ROOT, 'test/fixtures/backtest/sea-abrupt.csv');
const POLICY = path.join(ROOT, 'test/fixtures/backtest/cost-aware.yaml');

function halflife(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/halflife.mjs'), 'backtest', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('halflife backtest (CLI)', () => {
  it('the committed fixture stays small', () => {
    expect(statSync(FIXTURE).size).toBeLessThan(300_000);
  });

  it('--json gives decisions, retrains, costs and windows', () => {
    const r = halflife('--data', FIXTURE, '--policy', POLICY, '--cadence', '6h', '--reference', '1d', '--json');
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
    const dir = mkdtempSync(path.join(os.tmpdir(), 'halflife-backtest-'));
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
});
