import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staggerOffsetMs } from '../../detectors/monitor/schedule.ts';
import { plural } from '../../detectors/texts/format.ts';
import { listDecisions, type DecisionRecord } from '../../platform/clickhouse/decisions-repository.ts';
import { parsePolicy } from '../../platform/policy-file.ts';
import { monitorWorkflowId } from '../../workflows/messages.ts';
import type { ModelMonitorInput } from '../../workflows/monitor/input.ts';
import type { LateWindows } from '../../workflows/monitor/state.ts';
import { uniqueName } from '../helpers/stack.ts';
import { timeWithRoomInWindows } from '../helpers/window-room.ts';
import { startMonitorHarness, type MonitorHarness } from '../helpers/monitor-harness.ts';

const HOUR = 3_600_000;
/** How long ClickHouse is "down" after the monitors start. */
const OUTAGE = 5.5 * HOUR;
/** Longest retry interval of the monitor's activities (workflows/monitor/state.ts), plus slack. */
const RETRY_GAP = 3 * 60_000;

/**
 * A fleet's monitors tick at their own offsets within the cadence (not all in the same second),
 * and a monitor that wakes with several windows due evaluates them as one coalesced window and
 * says so in its decision (older ones skipped, also said) instead of working through them one by
 * one. Time-skipping test server; the windows are empty (no traffic is needed to be scheduled).
 */
describe('ModelMonitor schedules (time-skipping test server)', () => {
  let harness: MonitorHarness;
  const fleet = Array.from({ length: 4 }, (_, i) => uniqueName(`fleet-${i}`));
  const late = uniqueName('late');
  let startedAt = 0;
  const decisionsOf = async (modelId: string) =>
    (await listDecisions(harness.ch.client, { modelId, limit: 100 })).reverse().filter((d) => d.kind === 'no-action');
  /** Windows due after the first one's end when its read succeeds: when the outage ends, or up to a retry later. */
  const dueAfterOutage = (firstEnd: number, after: number) =>
    Math.floor((startedAt + OUTAGE + after - firstEnd) / HOUR);
  const windowOf = (d: DecisionRecord) => (d.statistics as { window: { start: number; end: number } }).window;

  beforeAll(async () => {
    harness = await startMonitorHarness();
    const { env, config, activities } = harness;
    const input = (modelId: string, settings: ModelMonitorInput['settings'] = {}): ModelMonitorInput => {
      const policy = parsePolicy({
        name: 'schedule',
        version: '1',
        model: modelId,
        trigger: { kind: 'threshold', metric: 'accuracy', threshold: 0.8, consecutiveWindows: 2 },
      });
      return { modelId, policy: policy.policy, policyRef: policy.ref, cadence: '1h', settle: '0s', settings };
    };
    // Ten minutes left in every model's first window, so all of them start in the window holding startedAt.
    startedAt = await timeWithRoomInWindows(env, [...fleet, late], HOUR, 10 * 60_000);
    // ClickHouse "down" for the first five and a half cadences: the first tick's read keeps failing
    // and retrying, and the monitors' windows pile up behind it.
    const downUntil = startedAt + OUTAGE;
    const flaky = {
      ...activities,
      collectWindow: async (request: Parameters<typeof activities.collectWindow>[0]) => {
        if ((await env.currentTimeMs()) < downUntil) throw new Error('ClickHouse is unavailable (test)');
        return activities.collectWindow(request);
      },
    };
    const worker = await harness.createWorker(flaky);
    await worker.runUntil(async () => {
      const handles = [];
      for (const modelId of [...fleet, late])
        handles.push(
          await env.client.workflow.start('ModelMonitor', {
            workflowId: monitorWorkflowId(modelId),
            taskQueue: config.temporal.taskQueue,
            args: [input(modelId, modelId === late ? { maxCoalescedWindows: 3 } : {})],
          }),
        );
      await env.sleep(8 * HOUR);
      for (const h of handles) await h.terminate('test over');
    });
  }, 300_000);

  afterAll(async () => {
    await harness?.teardown();
  });

  it("cuts each model's windows at its own offset within the cadence", async () => {
    const offsets = fleet.map((id) => staggerOffsetMs(id, HOUR));
    expect(new Set(offsets).size).toBe(fleet.length);
    for (const [i, modelId] of fleet.entries()) {
      const decisions = await decisionsOf(modelId);
      expect(decisions.length).toBeGreaterThanOrEqual(2);
      const windows = decisions.map(windowOf);
      // The first window is the one holding the start, cut at the model's offset; the rest follow it.
      expect(windows[0]!.start).toBeLessThanOrEqual(startedAt);
      expect(startedAt - windows[0]!.start).toBeLessThan(HOUR);
      for (const w of windows) expect((((w.start - offsets[i]!) % HOUR) + HOUR) % HOUR).toBe(0);
      for (let k = 1; k < windows.length; k++) expect(windows[k]!.start).toBe(windows[k - 1]!.end);
    }
  });

  it('evaluates the windows that piled up as one coalesced window, and says so', async () => {
    for (const modelId of fleet) {
      // The first window's read failed until ClickHouse came back, 5.5 h after the start; by then
      // four or five more were due (as its offset put the first window's end).
      const [first, coalesced, ...rest] = await decisionsOf(modelId);
      expect(windowOf(first!).end - windowOf(first!).start).toBe(HOUR);
      const lateWindows = (coalesced!.details as { lateWindows?: LateWindows }).lateWindows;
      const due = lateWindows!.coalesced;
      expect(due).toBeGreaterThanOrEqual(dueAfterOutage(windowOf(first!).end, 0));
      expect(due).toBeLessThanOrEqual(dueAfterOutage(windowOf(first!).end, RETRY_GAP));
      expect(lateWindows?.skipped).toBeNull();
      expect(coalesced!.reason).toMatch(
        new RegExp(`^the monitor fell behind: ${due} due windows of 1 h coalesced into one`),
      );
      expect(windowOf(coalesced!)).toMatchObject({
        start: windowOf(first!).end,
        end: windowOf(first!).end + due * HOUR,
      });
      // Back on time afterwards: one window per cadence, nothing coalesced.
      expect(rest.length).toBeGreaterThanOrEqual(1);
      for (const d of rest) {
        expect(windowOf(d).end - windowOf(d).start).toBe(HOUR);
        expect((d.details as { lateWindows?: LateWindows }).lateWindows).toBeUndefined();
      }
    }
  });

  it('skips the windows older than it may coalesce, and says which', async () => {
    const [first, coalesced] = await decisionsOf(late);
    const lateWindows = (coalesced!.details as { lateWindows: LateWindows }).lateWindows;
    const due = 3 + (lateWindows.skipped?.windows ?? 0);
    expect(due).toBeGreaterThanOrEqual(dueAfterOutage(windowOf(first!).end, 0));
    expect(due).toBeLessThanOrEqual(dueAfterOutage(windowOf(first!).end, RETRY_GAP));
    expect(lateWindows.coalesced).toBe(3);
    expect(lateWindows.skipped).toEqual({
      start: windowOf(first!).end,
      end: windowOf(coalesced!).start,
      windows: due - 3,
    });
    expect(windowOf(coalesced!).end - windowOf(coalesced!).start).toBe(3 * HOUR);
    expect(coalesced!.reason).toContain(`${plural(due - 3, 'older window')} skipped`);
  });
});
