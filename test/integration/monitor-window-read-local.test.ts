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
import { patchMarkersOf } from '../helpers/patch-markers.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';

const TICKS = 4;

type HistoryEvent = proto.api.history.v1.IHistoryEvent;

/** The activity type a local activity's marker names (the SDK's `core_local_activity` marker, its `data` JSON). */
function localActivityTypeOf(event: HistoryEvent): string | null {
  const marker = event.markerRecordedEventAttributes;
  if (marker?.markerName !== 'core_local_activity') return null;
  const data = marker.details?.data?.payloads?.[0]?.data;
  if (!data) return '?';
  const parsed = JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string; activityType?: string };
  return parsed.activity_type ?? parsed.activityType ?? '?';
}

/**
 * A new monitor reads each window through a local activity (the `window-read-local-activity`
 * marker): the read runs in the workflow task that asks for it and is recorded as a marker, so the
 * server schedules, dispatches and completes no `collectWindow` activity. Real Temporal dev server,
 * the daemon's worker, one monitor at a 1 s cadence.
 */
describe('the window read as a local activity (real Temporal)', () => {
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

  it("records the marker after the consolidated one at the run's start", () => {
    expect(patchMarkersOf(history)).toEqual(['monitor-markers-2026-12-06', 'window-read-local-activity']);
  });

  it('records each window read as a local-activity marker and schedules no collectWindow activity', () => {
    const scheduled = events.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
    const ticks = scheduled.filter((name) => name === 'recordDecision').length;
    expect(ticks).toBeGreaterThanOrEqual(TICKS);
    expect(scheduled).not.toContain('collectWindow');
    const localReads = events.map(localActivityTypeOf).filter((type) => type === 'collectWindow');
    // One read a decided window (a read whose decision was not yet recorded at the terminate may add one).
    expect(localReads.length).toBeGreaterThanOrEqual(ticks);
    expect(localReads.length).toBeLessThanOrEqual(ticks + 1);
    // A read that heartbeated as a regular activity does would have failed or timed out: none did.
    expect(events.filter((e) => e.markerRecordedEventAttributes?.failure)).toEqual([]);
  });

  it('replays the run and re-derives each of its decisions from the recorded reads', async () => {
    // Decisions whose record completed before the terminate (the sink runs after it); ids are Longs.
    const records = new Set(
      events
        .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'recordDecision')
        .map((e) => String(e.eventId)),
    );
    const decided = events.filter((e) =>
      records.has(String(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? '')),
    ).length;
    expect(decided).toBeGreaterThanOrEqual(TICKS - 1);
    const outcome = await replayHistory(history, monitorWorkflowId(modelId));
    expect(outcome.error).toBeNull();
    // The last record's completion may have had no completed workflow task before the terminate.
    expect(outcome.decisions.length).toBeGreaterThanOrEqual(decided - 1);
    const stored = (await listDecisions(ch.client, { modelId, limit: 1000 })).reverse();
    const ofRecord = ({ decisionId, kind, reason }: { decisionId: string; kind: string; reason: string }) => ({
      decisionId,
      kind,
      reason,
    });
    expect(outcome.decisions.map(ofRecord)).toEqual(stored.slice(0, outcome.decisions.length).map(ofRecord));
  }, 120_000);

  it('decides every window once and in order', async () => {
    const windows = (await listDecisions(ch.client, { modelId, limit: 1000 }))
      .reverse()
      .map((d) => (d.statistics as { window?: { start: number; end: number } } | null)?.window)
      .filter((w): w is { start: number; end: number } => w !== undefined);
    expect(windows.length).toBeGreaterThanOrEqual(TICKS);
    for (let k = 1; k < windows.length; k++) expect(windows[k]!.start, `window ${k}`).toBe(windows[k - 1]!.end);
  });
});
