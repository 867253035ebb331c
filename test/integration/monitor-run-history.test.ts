import type { Client, Connection, WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHistoryBudget } from '../../detectors/monitor/schedule.ts';
import { listDecisions } from '../../platform/clickhouse/decisions-repository.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { parsePolicy } from '../../platform/policy-file.ts';
import { connectTemporal } from '../../platform/temporal.ts';
import { ZLIB_ENCODING, ZlibPayloadCodec } from '../../platform/temporal-payload-codec.ts';
import { monitorWorkflowId } from '../../workflows/messages.ts';
import type { ModelMonitorInput } from '../../workflows/monitor/input.ts';
import { replayHistory } from '../../workers/replay.ts';
import { runDaemonWorker } from '../helpers/daemon-worker.ts';
import { startMonitorUntilDecided } from '../helpers/monitor-input.ts';
import { localActivityTypeOf, patchMarkersOf } from '../helpers/patch-markers.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';

// A tick writes ~3.5–4.5 kB of history since the window read became a local activity (one marker, not an
// activity's three events and a workflow task): a budget of 12–24 kB a run and 12 ticks made two or three
// runs (CI saw two); 6–12 kB and 20 ticks made eight in a local run, 1–3 ticks each. With the decision
// record a local activity too a tick writes ~1.7–1.8 kB (a run's start ~3.6 kB): 6–12 kB and 20 ticks
// made five runs, 4–6 ticks each.
const BUDGET_BYTES = 12_000;
const TICKS = 20;

interface RunFacts {
  runId: string;
  bytes: number;
  ticks: number;
  upserts: number;
  /** `patched` markers the run recorded. */
  markers: string[];
  /** The runs before it, as its input says (absent in the first run's input). */
  runsBefore: number | null;
  /** The run's history as fetched. */
  history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
  /** The run's input and every activity argument and result as the history stores them: encoding and size. */
  payloads: { encoding: string; bytes: number }[];
}

/**
 * A monitor's run is bounded in history bytes (the `bounded-run-history` marker): the worker keeps
 * a cached run's payloads until the run ends, so the run continues-as-new once its history passes
 * `maxRunHistoryBytes`, and upserts its search attributes only when they change. Real Temporal dev
 * server, the daemon's worker, one monitor at a 1 s cadence with a 24 kB budget.
 */
describe('a monitor run bounded in history bytes (real Temporal)', () => {
  // Compression on (off by default): the test also checks what the codec writes and that a replay reads it.
  const config = testConfig({ temporal: { taskQueue: uniqueName('tq'), compressPayloads: true } });
  const modelId = uniqueName('bounded-run');
  let ch: ClickHouse;
  let temporal: { connection: Connection; client: Client };
  let stopWorker = async () => {};
  const runs: RunFacts[] = [];

  beforeAll(async () => {
    ch = await openClickHouse(config);
    await applyMigrations(ch.client);
    ({ stop: stopWorker } = await runDaemonWorker(config, ch.client));
    temporal = await connectTemporal(config);
    const { policy, ref } = parsePolicy({
      name: 'bounded',
      version: '1',
      model: modelId,
      trigger: { kind: 'threshold', metric: 'accuracy', threshold: 0.8, consecutiveWindows: 2 },
    });
    const input: ModelMonitorInput = {
      modelId,
      policy,
      policyRef: ref,
      cadence: '1s',
      settle: '0s',
      maxRunHistoryBytes: BUDGET_BYTES,
    };
    const workflowId = monitorWorkflowId(modelId);
    await startMonitorUntilDecided(
      { client: temporal.client, clickhouse: ch.client, taskQueue: config.temporal.taskQueue },
      input,
      TICKS,
      { timeoutMs: 240_000, pollMs: 500 },
    );
    await temporal.client.workflow.getHandle(workflowId).terminate('test over');
    // Every run, newest first, by the run each one continued from.
    let runId: string | undefined = (await temporal.client.workflow.getHandle(workflowId).describe()).runId;
    while (runId) {
      const handle: WorkflowHandle = temporal.client.workflow.getHandle(workflowId, runId);
      const description = await handle.describe();
      const history = await handle.fetchHistory();
      const events = history.events ?? [];
      const started = events[0]?.workflowExecutionStartedEventAttributes;
      const [payload] = await new ZlibPayloadCodec().decode(started?.input?.payloads ?? []);
      const startInput = payload?.data
        ? (JSON.parse(Buffer.from(payload.data).toString('utf8')) as ModelMonitorInput)
        : null;
      runs.push({
        runId,
        history,
        bytes: Number(description.raw.workflowExecutionInfo?.historySizeBytes ?? 0),
        // A tick's decision is recorded by a local activity, one marker each.
        ticks: events.filter((e) => localActivityTypeOf(e) === 'recordDecision').length,
        // The monitor's own upserts (the SDK upserts TemporalChangeVersion once a `patched` marker).
        upserts: events.filter(
          (e) => e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.HalflifeHealth,
        ).length,
        markers: patchMarkersOf(history),
        runsBefore: startInput?.carried?.runs ?? null,
        payloads: events
          .flatMap((e) => [
            ...(e.workflowExecutionStartedEventAttributes?.input?.payloads ?? []),
            ...(e.activityTaskScheduledEventAttributes?.input?.payloads ?? []),
            ...(e.activityTaskCompletedEventAttributes?.result?.payloads ?? []),
            // A local activity's result is its marker's (its argument is not in the history).
            ...(localActivityTypeOf(e) ? (e.markerRecordedEventAttributes?.details?.result?.payloads ?? []) : []),
          ])
          .map((p) => ({
            encoding: Buffer.from(p.metadata?.encoding ?? []).toString('utf8'),
            bytes: p.data?.byteLength ?? 0,
          })),
      });
      runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
    }
  }, 300_000);

  afterAll(async () => {
    await temporal?.connection.close();
    await stopWorker();
    await ch?.close();
  });

  it('continues as new once the history passes the budget, and never far past it', () => {
    const finished = runs.slice(1); // the newest was terminated mid-run
    expect(finished.length).toBeGreaterThanOrEqual(2);
    for (const run of finished) {
      expect(run.ticks, run.runId).toBeGreaterThanOrEqual(1);
      // The check comes after each tick: a run ends within one tick's history of its own budget,
      // the budget spread by run id so a fleet's runs do not all end at one tick.
      const budget = runHistoryBudget(BUDGET_BYTES, run.runId);
      expect(budget, run.runId).toBeGreaterThanOrEqual(BUDGET_BYTES / 2);
      expect(run.bytes, run.runId).toBeGreaterThanOrEqual(budget);
      expect(run.bytes, run.runId).toBeLessThan(budget + 20_000);
    }
  });

  it("stores every payload of 1 kB or more compressed by the daemon's payload codec", () => {
    const payloads = runs.flatMap((r) => r.payloads);
    const compressed = payloads.filter((p) => p.encoding === ZLIB_ENCODING);
    // Each continued run's input at least (the carried state, ~1.2–1.4 kB compressed). A tick's payloads
    // are small for an empty window: the read's result (~340 B) and the record's ({ stored }); the
    // decision record itself, ~2 kB of JSON, is a local activity's argument, not in the history.
    expect(compressed.length).toBeGreaterThanOrEqual(runs.length - 1);
    for (const p of payloads.filter((q) => q.encoding !== ZLIB_ENCODING)) {
      expect(p.encoding).toBe('json/plain');
      expect(p.bytes).toBeLessThan(1024);
    }
    // Each next run was started from its predecessor's input, and read it: the codec reads what it wrote.
    expect(runs.length).toBeGreaterThanOrEqual(3);
  });

  it('replays a finished run from its compressed history and re-derives each of its decisions', async () => {
    const run = runs[1]!;
    const outcome = await replayHistory(run.history, monitorWorkflowId(modelId));
    expect(outcome.error).toBeNull();
    expect(outcome.decisions).toHaveLength(run.ticks);
  }, 120_000);

  it('decides every window once and in order across its runs', async () => {
    const windows = (await listDecisions(ch.client, { modelId, limit: 1000 }))
      .reverse()
      .map((d) => (d.statistics as { window?: { start: number; end: number } } | null)?.window)
      .filter((w): w is { start: number; end: number } => w !== undefined);
    expect(windows.length).toBeGreaterThanOrEqual(TICKS);
    for (let k = 1; k < windows.length; k++) expect(windows[k]!.start, `window ${k}`).toBe(windows[k - 1]!.end);
  });

  it('hands each next run the count of runs before it', () => {
    // Oldest first: the first run was started without a carried state.
    expect(runs.map((r) => r.runsBefore).reverse()).toEqual(runs.map((_, k) => (k === 0 ? null : k)));
  });

  it('upserts its search attributes when they change, not at every tick', () => {
    const ticks = runs.reduce((n, r) => n + r.ticks, 0);
    const upserts = runs.reduce((n, r) => n + r.upserts, 0);
    // A record is stored before its workflow task completes: the last one stored may not be in the
    // history at the terminate.
    expect(ticks).toBeGreaterThanOrEqual(TICKS - 1);
    // One at each run's start, and one per change of health or stage (none expected here); a
    // monitor that upserts at every call makes several a tick.
    expect(upserts).toBeGreaterThanOrEqual(runs.length);
    expect(upserts).toBeLessThanOrEqual(runs.length * 2);
  });

  it("records one patch marker at a run's start for every feature up to 2026-12-06, not one per feature", () => {
    // 28 markers, each with the SDK's TemporalChangeVersion upsert, put ~20 kB at every run's start.
    // Markers added since are asked on their own, after it, and only where used (rule revision 9's,
    // opt-in; the window read and the decision record as local activities and text revision 3, every run).
    for (const run of runs)
      expect(run.markers, run.runId).toEqual([
        'monitor-markers-2026-12-06',
        'window-read-local-activity',
        'decision-record-local-activity',
        'decision-texts-revision-3',
      ]);
  });
});
