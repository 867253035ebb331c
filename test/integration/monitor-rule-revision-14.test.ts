/**
 * Rule revision 14 in a running ModelMonitor, on the time-skipping test server with embedded
 * ClickHouse and the real trainer and onnxruntime: a monitor of the probe test's flat world
 * (monitor-probes.test.ts) asking for `ruleRevision: 14` records its own marker after the
 * consolidated one (and neither revision 9's nor 10's), its decisions say what the explore prior's
 * shortfall was counted against, and its history replays on this code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staggerOffsetMs, windowStartAt } from '../../detectors/monitor/schedule.ts';
import { listDecisions, type DecisionRecord } from '../../platform/clickhouse/decisions-repository.ts';
import { parsePolicy } from '../../platform/policy-file.ts';
import { replayHistory, type ReplayOutcome } from '../../workers/replay.ts';
import { monitorWorkflowId } from '../../workflows/messages.ts';
import { startMonitorHarness, type MonitorHarness } from '../helpers/monitor-harness.ts';
import { patchMarkersOf } from '../helpers/patch-markers.ts';
import { SimulatedProduction, withWorldTraffic } from '../helpers/world.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CADENCE = 6 * HOUR;
const DAYS = 2;

const CONSOLIDATED_MARKER = 'monitor-markers-2026-12-06';
const REVISION_14_MARKER = 'explore-shortfall-interval';
const WINDOW_READ_LOCAL_MARKER = 'window-read-local-activity';
const DECISION_RECORD_LOCAL_MARKER = 'decision-record-local-activity';

const counterOf = (d: { decisionId: string }): number => Number(d.decisionId.split('/').at(-1));
const inputsOf = (d: DecisionRecord): Record<string, unknown> =>
  (d.details as { inputs?: Record<string, unknown> } | null)?.inputs ?? {};

describe('ModelMonitor at rule revision 14 (time-skipping test server)', () => {
  let harness: MonitorHarness;
  const modelId = 'rev14-opted-in';
  let world: SimulatedProduction;
  let decisions: DecisionRecord[] = [];
  let firstRun: { runId: string; markers: string[]; replay: ReplayOutcome };

  beforeAll(async () => {
    harness = await startMonitorHarness();
    const { env, ch, config, activities } = harness;
    const epoch = windowStartAt(Date.now(), CADENCE, staggerOffsetMs(modelId, CADENCE));
    world = new SimulatedProduction(ch.client, {
      modelId,
      dataDir: config.dataDir,
      world: { seed: 23, thetaStart: 8, thetaPerDay: 0, epoch, labelNoise: 0.05, seedFromEpoch: true },
      eventsPerWindow: 1000,
      initialTheta: 8,
      initialVersion: 'v0',
      labelDelayMs: 60_000,
    });
    const worker = await harness.createWorker(withWorldTraffic(activities, new Map([[modelId, world]])));
    const policy = parsePolicy({
      name: 'flat-cost-aware',
      version: '1',
      model: modelId,
      trigger: { kind: 'cost-aware', valuePerQualityUnit: 1, retrainCost: 50 },
      guards: { cooldown: '1d', budget: { maxRetrains: 5, per: '30d' }, approval: { required: false } },
      trainingWindow: { kind: 'fixed', duration: '1d' },
      probes: { priorGap: 0.05, minPairedEvents: 200 },
    });
    const handle = await worker.runUntil(async () => {
      const started = await env.client.workflow.start('ModelMonitor', {
        workflowId: monitorWorkflowId(modelId),
        taskQueue: config.temporal.taskQueue,
        args: [
          {
            modelId,
            policy: policy.policy,
            policyRef: policy.ref,
            cadence: '6h',
            // One run holds every decision, so its replay re-derives all of them.
            maxTicksPerRun: 100,
            maxRunHistoryBytes: 64 * 1024 * 1024,
            retrain: { shadow: { mode: 'non-inferiority', margin: 0.02, lookback: '1d', maxEvents: 20_000 } },
            settings: { ruleRevision: 14 },
          },
        ],
      });
      // One cadence at a time: a single long sleep can lose its connection to the test server.
      for (let t = 0; t < (DAYS * DAY) / CADENCE + 1; t++) await env.sleep(CADENCE);
      await started.terminate('test over');
      return started;
    });
    const runId = handle.firstExecutionRunId;
    const history = await env.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
    firstRun = { runId, markers: patchMarkersOf(history), replay: await replayHistory(history, handle.workflowId) };
    decisions = (await listDecisions(ch.client, { modelId, limit: 1000 })).sort(
      (a, b) => a.decidedAt - b.decidedAt || counterOf(a) - counterOf(b),
    );
  }, 600_000);

  afterAll(async () => {
    await harness?.teardown(world);
  });

  it("records revision 14's marker after the consolidated one, and neither revision 9's nor 10's", () => {
    expect(firstRun.markers).toEqual([
      CONSOLIDATED_MARKER,
      REVISION_14_MARKER,
      WINDOW_READ_LOCAL_MARKER,
      DECISION_RECORD_LOCAL_MARKER,
    ]);
  });

  it('decides at revision 14 (recorded with each decision), pricing explore probes without revision 9’s sample', () => {
    const reasons = decisions.map((d) => `${d.kind}: ${d.reason}`).join('\n');
    expect(decisions.length, reasons).toBeGreaterThanOrEqual((DAYS * DAY) / CADENCE);
    for (const d of decisions) expect(inputsOf(d).ruleRevision, d.decisionId).toBe(14);
    const priced = decisions.filter((d) => typeof inputsOf(d).probeExploreValue === 'number');
    expect(priced.length, reasons).toBeGreaterThanOrEqual(1);
    for (const d of priced) expect(inputsOf(d).probeSampleEvents, d.decisionId).toBeUndefined();
    // This world's attainable level is v0's measured early life, so no shortfall against its own
    // fresh quality is priced: where one is, it says what it was counted against.
    for (const d of priced.filter((x) => inputsOf(x).probeShortfall !== undefined))
      expect(typeof inputsOf(d).probeRecentQualityUpper, d.decisionId).toBe('number');
  });

  it("replays revision 14's run on the current code, re-deriving each of its decisions", () => {
    expect(firstRun.replay.error).toBeNull();
    const recorded = decisions.filter((d) => d.runId === firstRun.runId);
    expect(recorded.length).toBeGreaterThanOrEqual((DAYS * DAY) / CADENCE);
    expect(firstRun.replay.decisions.map(({ decisionId, kind, reason }) => ({ decisionId, kind, reason }))).toEqual(
      recorded.map(({ decisionId, kind, reason }) => ({ decisionId, kind, reason })),
    );
  });
});
