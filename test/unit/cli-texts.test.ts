import { describe, expect, it } from 'vitest';
import { renderDecisionList, renderStatuses } from '../../cli/decision-tables.ts';
import { renderDecision } from '../../cli/explain.ts';
import { table, wrapText } from '../../cli/output.ts';
import { fitDecay } from '../../detectors/decay/index.ts';
import { evaluatePolicy } from '../../detectors/policy/index.ts';
import type { PolicyState } from '../../detectors/policy/index.ts';
import type { DecisionRecord } from '../../platform/clickhouse/decisions-repository.ts';
import type { MonitorStatus } from '../../workflows/messages.ts';
import { demoPolicy } from '../helpers/policies.ts';

const H = 3_600_000;
const NOW = Date.UTC(2026, 11, 4, 17, 45, 9);
const INSTANT = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/;

const POLICY = demoPolicy({ trigger: { traffic: { kind: 'fixed', eventsPerHour: 14_400 } } });

/** A decision record as the monitor stores it, from the real policy on a declining version. */
function recorded(textRevision: number): DecisionRecord {
  const start = NOW - 8 * 30_000;
  const qualities = [0.95, 0.948, 0.944, 0.94, 0.931, 0.925, 0.918, 0.91];
  const state: PolicyState = {
    textRevision,
    windows: qualities.map((q, i) => ({
      start: start + i * 30_000,
      end: start + (i + 1) * 30_000,
      events: 120,
      quality: { metric: 'accuracy', value: q, source: 'realised' as const },
    })),
    decay: fitDecay(qualities.map((q, i) => ({ ageHours: ((i + 1) * 30_000) / H, quality: q, weight: 120 }))),
    versionTrainedAt: start,
    lastRetrainAt: start,
    freshQuality: 0.95,
  };
  const d = evaluatePolicy(POLICY, state, NOW);
  return {
    decisionId: `wf/run/${textRevision}`,
    modelId: 'm',
    modelVersion: 'v1',
    workflowId: 'wf',
    runId: 'run',
    decidedAt: NOW,
    kind: d.kind,
    actor: 'system',
    reason: d.reason,
    policy: { name: 'p', version: '1', hash: 'a'.repeat(64) },
    statistics: { decay: state.decay, economics: d.economics },
    thresholds: d.thresholds,
    windows: null,
    trainingWindow: d.trainingWindow,
    lineageId: '',
    details: { trigger: d.trigger, guards: d.guardsApplied, inputs: d.inputs },
  };
}

describe('CLI tables wrap, never cut', () => {
  it('wraps a long cell at spaces inside the width, keeping every word', () => {
    const words = Array.from({ length: 60 }, (_, i) => `word${i}`);
    const out = table(['kind', 'reason'], [['no-action', words.join(' ')]], { wrap: [1], width: 60 });
    const lines = out.split('\n');
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(60);
    expect(
      lines
        .slice(1)
        .map((l) => l.slice('no-action  '.length).trim())
        .join(' '),
    ).toBe(words.join(' '));
    expect(wrapText('a-very-long-token-without-spaces', 5)).toEqual(['a-very-long-token-without-spaces']);
    // Piped output (no terminal width): one line per row, whole.
    expect(table(['reason'], [[words.join(' ')]], { wrap: [0], width: null }).split('\n')[1]).toBe(words.join(' '));
  });
});

describe('halflife decisions / monitor status / explain read one way', () => {
  it('lists decisions with the whole reason, the stored prefixes of older records removed, times in one format', () => {
    const legacy = recorded(1);
    const current = recorded(2);
    expect(legacy.reason).toMatch(/^no action: wait: /);
    const out = renderDecisionList([current, legacy], 120);
    const lines = out.split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(120);
    expect(out).not.toMatch(/no action: |wait: /);
    expect(lines[1]).toMatch(
      new RegExp(`^${INSTANT.source}\\s+m\\s+v1\\s+no-action\\s+system\\s+wf/run/2\\s+restarting the version`),
    );
    // The whole reason is there, across its wrapped lines.
    const reasonColumn = lines[1]!.indexOf('restarting');
    const next = lines.findIndex((l, i) => i > 1 && !l.startsWith(' '));
    const firstRow = lines.slice(1, next);
    const text = firstRow.map((l) => l.slice(reasonColumn).trim()).join(' ');
    expect(text).toBe(current.reason);
  });

  it('shows a monitor half-life only with the evidence, and its last decision whole', () => {
    const status: MonitorStatus = {
      modelId: 'm',
      health: 'healthy',
      stage: 'monitoring',
      version: 'v2',
      versionTrainedAt: NOW - H,
      policy: { name: 'p', version: '1', hash: 'h' },
      ticks: 3,
      nextTickAt: NOW + 30_000,
      lastWindow: null,
      lastDecision: { decisionId: 'd', kind: 'no-action', reason: 'no action: wait: ' + 'x '.repeat(80), at: NOW },
      decay: fitDecay([
        { ageHours: 0.02, quality: 0.942, weight: 120 },
        { ageHours: 0.03, quality: 0.936, weight: 120 },
      ]),
      retrain: null,
      approval: { status: 'not-required', expiresAt: null },
      paused: false,
    };
    expect(status.decay?.halfLifeHours).not.toBeNull(); // a straight line has one; it is not shown
    const out = renderStatuses([status], 120);
    expect(out.split('\n')[1]).toMatch(
      /^m\s+healthy\s+monitoring\s+v2\s+—\s+—\s+—\s+2026-12-04 17:45:39 UTC\s+no-action, 2026-12-04 17:45:09 UTC\s+x x/,
    );
    expect(out).not.toContain('no action:');
    expect((out.match(/\bx\b/g) ?? []).length).toBe(80);
  });

  it('explains a decision with the economics statement and no half-life from a straight line', () => {
    const out = renderDecision(recorded(2));
    expect(out).toMatch(/^Why: restarting the version now is worth [\d.]+ ≤ retrain 60 \+ risk 10;/m);
    expect(out).toMatch(
      /^ {2}economics: wait \(forecast rule\): restarting the version now is worth [\d.]+ ≤ retrain 60 \+ risk 10$/m,
    );
    expect(out).toMatch(/^ {4}- forecast rule on the linear decay fit at age 4 min/m);
    expect(out).toMatch(/^ {2}decay: linear, no half-life reported \(a straight-line fit has no half-life of its own/m);
    expect(out).toMatch(new RegExp(`decided ${INSTANT.source} by system`));
    expect(out).not.toMatch(/\dZ\b/);
    // An older record reads the same way (its stored reason cleaned).
    expect(renderDecision(recorded(1))).toMatch(/^Why: staleness now costs [\d.]+\/h against a cycle average/m);
  });
});

describe('halflife explain: a decision with a challenger probe', () => {
  it('names the probe, its challenger and training window, the events compared, gap, interval and cost', () => {
    const base = recorded(2);
    const out = renderDecision({
      ...base,
      lineageId: 'snap-probe',
      details: {
        ...(base.details as object),
        probe: {
          started: {
            id: 'v1@1',
            plan: { kind: 'explore', value: 12, cost: 3, worthwhileGap: 0.01, reason: 'probe: worth 12' },
            trainingWindow: { start: NOW - 24 * H, end: NOW },
            challenger: { version: 'v4', lineageId: 'snap-probe', trainingRows: 2_400 },
            cost: 3,
            costSource: 'auto: 0.05 × retrain cost',
          },
        },
      },
    });
    const lines = out.split('\n');
    const at = lines.indexOf('Challenger probe:');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toMatch(
      new RegExp(
        `^ {2}probe v1@1 started \\(explore\\): challenger v4 trained on the training window ${INSTANT.source} → ${INSTANT.source} on 2400 labelled rows \\(lineage snap-probe\\), registered as a probe, never served; cost 3 \\(auto: 0\\.05 × retrain cost\\)$`,
      ),
    );
    expect(lines[at + 2]).toBe('    why: probe: worth 12');
    // Without a probe there is no such section.
    expect(renderDecision(base)).not.toContain('Challenger probe:');
  });
});
