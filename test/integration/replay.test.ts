import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { loadHistoryFile, replayHistory } from '../../workers/replay.ts';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../replay');
const historyFile = (name: string) => path.join(dir, 'histories', name);

describe('replaying recorded workflow histories against the current code', () => {
  it('re-derives every recorded monitor decision, in order', async () => {
    const recorded = JSON.parse(readFileSync(historyFile('model-monitor.decisions.json'), 'utf8')) as {
      decisionId: string;
      kind: string;
      reason: string;
    }[];
    const outcome = await replayHistory(
      loadHistoryFile(historyFile('model-monitor.json')),
      'halflife-monitor-replay-model',
    );
    expect(outcome.error).toBeNull();
    expect(outcome.ok).toBe(true);
    expect(outcome.decisions.map(({ decisionId, kind, reason }) => ({ decisionId, kind, reason }))).toEqual(recorded);
    // The recording covers the interesting paths: an approval asked for and given, a retrain.
    expect(recorded.map((d) => d.kind)).toEqual(
      expect.arrayContaining(['no-action', 'approval-requested', 'approve', 'retrain']),
    );
  });

  it('re-derives a rule revision 3 run: labels 8 h late fill in earlier windows; a retrain after approval', async () => {
    const recorded = JSON.parse(readFileSync(historyFile('model-monitor-r3.decisions.json'), 'utf8')) as {
      decisionId: string;
      kind: string;
      reason: string;
    }[];
    const outcome = await replayHistory(
      loadHistoryFile(historyFile('model-monitor-r3.json')),
      'halflife-monitor-replay-model',
    );
    expect(outcome.error).toBeNull();
    expect(outcome.decisions.map(({ decisionId, kind, reason }) => ({ decisionId, kind, reason }))).toEqual(recorded);
    expect(recorded.map((d) => d.kind)).toEqual(expect.arrayContaining(['no-action', 'approval-requested', 'retrain']));
    expect(recorded.filter((d) => /late labels \(\d+\) updated/.test(d.reason)).length).toBeGreaterThan(20);
  });

  it('re-derives a rule revision 4 run: a challenger probe trained, scored in shadow, its gap read, then a retrain', async () => {
    const recorded = JSON.parse(readFileSync(historyFile('model-monitor-probes.decisions.json'), 'utf8')) as {
      decisionId: string;
      kind: string;
      reason: string;
    }[];
    const outcome = await replayHistory(
      loadHistoryFile(historyFile('model-monitor-probes.json')),
      'halflife-monitor-replay-model',
    );
    expect(outcome.error).toBeNull();
    expect(outcome.decisions.map(({ decisionId, kind, reason }) => ({ decisionId, kind, reason }))).toEqual(recorded);
    const started = recorded.findIndex((d) =>
      /challenger probe started: v\d+ trained on \d+ labelled rows/.test(d.reason),
    );
    const finished = recorded.findIndex((d) => /challenger probe \S+ finished: challenger-better/.test(d.reason));
    const retrain = recorded.findIndex((d) => d.kind === 'retrain');
    expect(started).toBeGreaterThanOrEqual(0);
    expect(finished).toBeGreaterThan(started);
    expect(retrain).toBeGreaterThanOrEqual(finished);
  });

  it('re-derives a run on the consolidated marker: one patch marker, a probe, a retrain', async () => {
    const recorded = JSON.parse(readFileSync(historyFile('model-monitor-markers.decisions.json'), 'utf8')) as {
      decisionId: string;
      kind: string;
      reason: string;
    }[];
    const history = loadHistoryFile(historyFile('model-monitor-markers.json'));
    // The run stands on one marker for every feature of the monitor up to 2026-12-06.
    const markers = (history.events ?? []).filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch');
    expect(markers).toHaveLength(1);
    const outcome = await replayHistory(history, 'halflife-monitor-replay-model');
    expect(outcome.error).toBeNull();
    expect(outcome.decisions.map(({ decisionId, kind, reason }) => ({ decisionId, kind, reason }))).toEqual(recorded);
    expect(recorded.map((d) => d.kind)).toEqual(expect.arrayContaining(['no-action', 'retrain']));
    expect(recorded.some((d) => /challenger/.test(d.reason))).toBe(true);
  });

  it('replays the retrain child and every committed history with Worker.runReplayHistories', async () => {
    const histories = [
      'model-monitor.json',
      'model-monitor-r3.json',
      'model-monitor-probes.json',
      'model-monitor-markers.json',
      'retrain.json',
    ].map((name) => ({
      workflowId: name,
      history: loadHistoryFile(historyFile(name)),
    }));
    const { workflowBundle } = await import('../../workers/temporal-worker.ts');
    const results = [];
    for await (const result of Worker.runReplayHistories(
      {
        workflowBundle: await workflowBundle(),
        sinks: { decisions: { derived: { fn: () => {}, callDuringReplay: true } } },
      },
      histories,
    )) {
      results.push(result);
    }
    expect(results).toHaveLength(5);
    for (const result of results) expect(result.error, result.workflowId).toBeUndefined();
  });

  it('catches a nondeterministic change and says where the history diverged', async () => {
    const drifted = await bundleWorkflowCode({
      workflowsPath: path.join(dir, 'drifted-workflows.ts'),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
    });
    let error: unknown;
    try {
      await Worker.runReplayHistory(
        { workflowBundle: drifted, sinks: { decisions: { derived: { fn: () => {}, callDuringReplay: true } } } },
        loadHistoryFile(historyFile('model-monitor.json')),
        'halflife-monitor-replay-model',
      );
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('DeterminismViolationError');
    expect((error as Error).message).toMatch(/nondetermin/i);
    // What `halflife replay` reports: the kind and the event where replay diverged.
    const outcome = await replayHistory(
      loadHistoryFile(historyFile('model-monitor.json')),
      'halflife-monitor-replay-model',
      () => {},
      drifted,
    );
    expect(outcome).toMatchObject({ ok: false, error: { kind: 'nondeterminism', eventId: expect.any(Number) } });
  });
});
