import type { Client, Connection, WorkflowHandle } from '@temporalio/client';
import type { temporal as proto } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDecisions } from '../../platform/clickhouse/decisions-repository.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { connectTemporal } from '../../platform/temporal.ts';
import { monitorWorkflowId } from '../../workflows/messages.ts';
import { replayHistory } from '../../workers/replay.ts';
import { runDaemonWorker } from '../helpers/daemon-worker.ts';
import { startMonitorUntilDecided, watchingMonitorInput } from '../helpers/monitor-input.ts';
import { localActivityTypeOf, patchMarkersOf } from '../helpers/patch-markers.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';

const TICKS = 4;

type HistoryEvent = proto.api.history.v1.IHistoryEvent;

/** The local-activity markers of `events` by activity type, in order (null for other events). */
const localActivityTypes = (events: HistoryEvent[]) => events.map(localActivityTypeOf);

/**
 * A new monitor reads each window and records each decision through local activities (the
 * `window-read-local-activity` and `decision-record-local-activity` markers): both run in the
 * workflow task the timer woke, each recorded as a marker, so a tick is one workflow task and the
 * server schedules, dispatches and completes no activity at all. Real Temporal dev server, the
 * daemon's worker, one monitor at a 1 s cadence.
 */
describe('the window read and the decision record as local activities (real Temporal)', () => {
  const config = testConfig({ temporal: { taskQueue: uniqueName('tq') } });
  const modelId = uniqueName('local-read');
  let ch: ClickHouse;
  let temporal: { connection: Connection; client: Client };
  let stopWorker = async () => {};
  let history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
  let events: HistoryEvent[] = [];

  beforeAll(async () => {
    ch = await openClickHouse(config);
    await applyMigrations(ch.client);
    ({ stop: stopWorker } = await runDaemonWorker(config, ch.client));
    temporal = await connectTemporal(config);
    const input = watchingMonitorInput(modelId, 'local-read', { cadence: '1s' });
    const handle = await startMonitorUntilDecided(
      { client: temporal.client, clickhouse: ch.client, taskQueue: config.temporal.taskQueue },
      input,
      TICKS,
    );
    await handle.terminate('test over');
    history = await handle.fetchHistory();
    events = history.events ?? [];
  }, 180_000);

  afterAll(async () => {
    await temporal?.connection.close();
    await stopWorker();
    await ch?.close();
  });

  it("records both markers after the consolidated one at the run's start (then text revision 3's, asked last)", () => {
    expect(patchMarkersOf(history)).toEqual([
      'monitor-markers-2026-12-06',
      'window-read-local-activity',
      'decision-record-local-activity',
      'decision-texts-revision-3',
    ]);
  });

  it('records each window read and each decision as local-activity markers and schedules no activity', () => {
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes)).toEqual([]);
    const types = localActivityTypes(events);
    const records = types.filter((type) => type === 'recordDecision').length;
    const reads = types.filter((type) => type === 'collectWindow').length;
    // A decision stored before the terminate whose workflow task did not complete is not in the history.
    expect(records).toBeGreaterThanOrEqual(TICKS - 1);
    // One read a recorded decision (a read whose record was not yet in the history at the terminate may add one).
    expect(reads).toBeGreaterThanOrEqual(records);
    expect(reads).toBeLessThanOrEqual(records + 1);
    // A local activity that failed or timed out records a failure in its marker: none did.
    expect(events.filter((e) => e.markerRecordedEventAttributes?.failure)).toEqual([]);
  });

  it('reads, decides and records a tick in one workflow task: the read marker, then the record marker', () => {
    const types = localActivityTypes(events);
    types.forEach((type, k) => {
      if (type === 'recordDecision') expect(types[k - 1], `event ${k}`).toBe('collectWindow');
    });
    // A workflow task a fired timer, and the run's first (no task for a read's or a record's result).
    const completedTasks = events.filter((e) => e.workflowTaskCompletedEventAttributes).length;
    const firedTimers = events.filter((e) => e.timerFiredEventAttributes).length;
    expect(firedTimers).toBeGreaterThanOrEqual(TICKS - 1);
    expect(completedTasks).toBeLessThanOrEqual(firedTimers + 1);
  });

  it('replays the run and re-derives each decision its history records, as stored', async () => {
    const recorded = localActivityTypes(events).filter((type) => type === 'recordDecision').length;
    const outcome = await replayHistory(history, monitorWorkflowId(modelId));
    expect(outcome.error).toBeNull();
    expect(outcome.decisions).toHaveLength(recorded);
    const stored = (await listDecisions(ch.client, { modelId, limit: 1000 })).reverse();
    const ofRecord = ({ decisionId, kind, reason }: { decisionId: string; kind: string; reason: string }) => ({
      decisionId,
      kind,
      reason,
    });
    expect(outcome.decisions.map(ofRecord)).toEqual(stored.slice(0, recorded).map(ofRecord));
  }, 120_000);

  it('decides every window once and in order', async () => {
    const windows = (await listDecisions(ch.client, { modelId, limit: 1000 }))
      .reverse()
      .map((d) => (d.statistics as { window?: { start: number; end: number } } | null)?.window)
      .filter((w): w is { start: number; end: number } => w !== undefined);
    expect(windows.length).toBeGreaterThanOrEqual(TICKS);
    for (let k = 1; k < windows.length; k++) expect(windows[k]!.start, `window ${k}`).toBe(windows[k - 1]!.end);
    // One row a decision id (a record run again by its workflow task replaces its earlier attempt).
    const ids = (await listDecisions(ch.client, { modelId, limit: 1000 })).map((d) => d.decisionId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
