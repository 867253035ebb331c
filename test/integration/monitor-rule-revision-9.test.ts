/**
 * Rule revision 9 in a running ModelMonitor, on the time-skipping test server with embedded
 * ClickHouse and the real trainer and onnxruntime. Two monitors of the probe test's flat world in
 * which no fresh model beats v0 (monitor-probes.test.ts): one with the default settings (revision
 * 8), one asking for `ruleRevision: 9`. Their worlds share a seed and seed each window from its
 * place after the monitor's first window, so until a probe result the two decide on the same rows:
 * the default twin's explore value is the perfect-information value of the same decision.
 * Revision 9's run records its own marker after the consolidated one, records the sample its
 * exploring probe would read and prices it by that sample, and its history replays on this code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staggerOffsetMs, windowStartAt } from '../../detectors/monitor/schedule.ts';
import type { WindowSummary } from '../../detectors/policy/state.ts';
import { measuredPerEventVariance, sampleExploreValue } from '../../detectors/probes/sample-information.ts';
import { exploreValue } from '../../detectors/probes/schedule.ts';
import type { ProbeProvenance, ProbeResult } from '../../detectors/probes/types.ts';
import { listDecisions, type DecisionRecord } from '../../platform/clickhouse/decisions-repository.ts';
import { parsePolicy } from '../../platform/policy-file.ts';
import { replayHistory, type ReplayOutcome } from '../../workers/replay.ts';
import { monitorWorkflowId } from '../../workflows/messages.ts';
import type { ModelMonitorInput } from '../../workflows/monitor/input.ts';
import { startMonitorHarness, type MonitorHarness } from '../helpers/monitor-harness.ts';
import { patchMarkersOf } from '../helpers/patch-markers.ts';
import { SimulatedProduction, withWorldTraffic } from '../helpers/world.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CADENCE = 6 * HOUR;
const DAYS = 3;
const PRIOR_GAP = 0.05;
const MIN_PAIRED_EVENTS = 200;
const EVENTS_PER_WINDOW = 1000;

const CONSOLIDATED_MARKER = 'monitor-markers-2026-12-06';
const REVISION_9_MARKER = 'explore-sample-information';
const WINDOW_READ_LOCAL_MARKER = 'window-read-local-activity';
const DECISION_RECORD_LOCAL_MARKER = 'decision-record-local-activity';
const TEXTS_REVISION_3_MARKER = 'decision-texts-revision-3';

/** What a cost-aware decision records of the explore value and what it was priced on. */
interface ExploreRecord {
  decision: DecisionRecord;
  /** Relative to the monitor's first window: the same for both twins' decisions of the same rows. */
  windowOffset: number;
  window: WindowSummary;
  value: number;
  eventsServed: number;
  valuePerQualityUnit: number;
  hurdle: number;
  posterior: { mean: number; sd: number } | null;
  /** Revision 9's sample (absent at revision 8). */
  sample: { events: number; standardError: number | null; varianceSource: string } | null;
}

const probeOf = (d: DecisionRecord): ProbeProvenance | null =>
  (d.details as { probe?: ProbeProvenance } | null)?.probe ?? null;
const counterOf = (d: { decisionId: string }): number => Number(d.decisionId.split('/').at(-1));

function exploreRecordOf(d: DecisionRecord, epoch: number): ExploreRecord | null {
  const inputs = (d.details as { inputs?: Record<string, unknown> } | null)?.inputs ?? {};
  if (typeof inputs.probeExploreValue !== 'number') return null;
  const t = d.thresholds as {
    valuePerQualityUnit: number;
    retrainCost: number;
    deploymentRiskProbability: number;
    deploymentRiskCost: number;
  };
  const window = (d.statistics as { window: WindowSummary }).window;
  return {
    decision: d,
    windowOffset: window.start - epoch,
    window,
    value: inputs.probeExploreValue,
    eventsServed: (inputs.eventsPerHour as number) * (inputs.nowAgeHours as number),
    valuePerQualityUnit: t.valuePerQualityUnit,
    hurdle: t.retrainCost + t.deploymentRiskProbability * t.deploymentRiskCost,
    posterior:
      typeof inputs.probeGapPosteriorMean === 'number'
        ? { mean: inputs.probeGapPosteriorMean, sd: inputs.probeGapPosteriorSd as number }
        : null,
    sample:
      typeof inputs.probeSampleEvents === 'number'
        ? {
            events: inputs.probeSampleEvents,
            standardError: inputs.probeSampleStandardError as number | null,
            varianceSource: inputs.probeSampleVarianceSource as string,
          }
        : null,
  };
}

/** The half-normal prior's scale whose perfect-information value is `value` (exploreValue rises with the scale). */
function priorScaleOf(record: ExploreRecord, value: number): number {
  const valueAt = (s: number) => exploreValue({ ...record, priorGap: s });
  let low = 0;
  let high = 1;
  for (let i = 0; i < 200 && high - low > 1e-15; i++) {
    const mid = (low + high) / 2;
    if (valueAt(mid) < value) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

const expectRelativelyClose = (actual: number, expected: number, what: string) =>
  expect(Math.abs(actual - expected), `${what}: ${actual} against ${expected}`).toBeLessThanOrEqual(
    1e-6 * Math.max(1, Math.abs(expected)),
  );

describe('ModelMonitor at rule revision 9 (time-skipping test server)', () => {
  let harness: MonitorHarness;
  // Fixed ids: with windows seeded from their place after the epoch every run sees the same rows.
  const defaults = 'rev9-twin-default';
  const revision9 = 'rev9-twin-opted-in';
  const epochs = new Map<string, number>();
  const worlds = new Map<string, SimulatedProduction>();
  const decisions = new Map<string, DecisionRecord[]>();
  const firstRuns = new Map<string, { runId: string; markers: string[]; replay: ReplayOutcome }>();

  beforeAll(async () => {
    harness = await startMonitorHarness();
    const { env, ch, config, activities } = harness;
    const now = Date.now();
    for (const modelId of [defaults, revision9]) {
      // The monitor's first window starts here (its stagger offset within the cadence).
      const epoch = windowStartAt(now, CADENCE, staggerOffsetMs(modelId, CADENCE));
      epochs.set(modelId, epoch);
      worlds.set(
        modelId,
        new SimulatedProduction(ch.client, {
          modelId,
          dataDir: config.dataDir,
          // The probe test's world where v0 (θ = 8) learned the concept: probes explore, none beats it.
          world: { seed: 23, thetaStart: 8, thetaPerDay: 0, epoch, labelNoise: 0.05, seedFromEpoch: true },
          eventsPerWindow: EVENTS_PER_WINDOW,
          initialTheta: 8,
          initialVersion: 'v0',
          labelDelayMs: 60_000,
        }),
      );
    }
    const worker = await harness.createWorker(withWorldTraffic(activities, worlds));
    const inputOf = (modelId: string): ModelMonitorInput => {
      const policy = parsePolicy({
        name: 'flat-cost-aware',
        version: '1',
        model: modelId,
        trigger: { kind: 'cost-aware', valuePerQualityUnit: 1, retrainCost: 50 },
        guards: { cooldown: '1d', budget: { maxRetrains: 5, per: '30d' }, approval: { required: false } },
        trainingWindow: { kind: 'fixed', duration: '1d' },
        probes: { priorGap: PRIOR_GAP, minPairedEvents: MIN_PAIRED_EVENTS },
      });
      return {
        modelId,
        policy: policy.policy,
        policyRef: policy.ref,
        cadence: '6h',
        // One run holds every decision, so its replay re-derives all of them.
        maxTicksPerRun: 100,
        maxRunHistoryBytes: 64 * 1024 * 1024,
        retrain: { shadow: { mode: 'non-inferiority', margin: 0.02, lookback: '1d', maxEvents: 20_000 } },
        ...(modelId === revision9 ? { settings: { ruleRevision: 9 } } : {}),
      };
    };
    const handles = await worker.runUntil(async () => {
      const started = await Promise.all(
        [defaults, revision9].map((modelId) =>
          env.client.workflow.start('ModelMonitor', {
            workflowId: monitorWorkflowId(modelId),
            taskQueue: config.temporal.taskQueue,
            args: [inputOf(modelId)],
          }),
        ),
      );
      // One cadence at a time: a single long sleep can lose its connection to the test server.
      for (let t = 0; t < (DAYS * DAY) / CADENCE + 1; t++) await env.sleep(CADENCE);
      for (const h of started) await h.terminate('test over');
      return started;
    });
    for (const [k, modelId] of [defaults, revision9].entries()) {
      const handle = handles[k]!;
      const runId = handle.firstExecutionRunId;
      const history = await env.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
      firstRuns.set(modelId, {
        runId,
        markers: patchMarkersOf(history),
        replay: await replayHistory(history, handle.workflowId),
      });
      decisions.set(
        modelId,
        (await listDecisions(ch.client, { modelId, limit: 1000 })).sort(
          (a, b) => a.decidedAt - b.decidedAt || counterOf(a) - counterOf(b),
        ),
      );
    }
  }, 600_000);

  afterAll(async () => {
    await harness?.teardown(...worlds.values());
  });

  const exploresOf = (modelId: string): ExploreRecord[] =>
    (decisions.get(modelId) ?? []).flatMap((d) => exploreRecordOf(d, epochs.get(modelId)!) ?? []);
  const reasons = (modelId: string) => (decisions.get(modelId) ?? []).map((d) => `${d.kind}: ${d.reason}`).join('\n');

  it("records revision 9's marker after the consolidated one; a default monitor records the consolidated one only", () => {
    // Both read their windows and record their decisions by local activities, those markers asked after every other.
    expect(firstRuns.get(revision9)?.markers).toEqual([
      CONSOLIDATED_MARKER,
      REVISION_9_MARKER,
      WINDOW_READ_LOCAL_MARKER,
      DECISION_RECORD_LOCAL_MARKER,
      TEXTS_REVISION_3_MARKER,
    ]);
    expect(firstRuns.get(defaults)?.markers).toEqual([
      CONSOLIDATED_MARKER,
      WINDOW_READ_LOCAL_MARKER,
      DECISION_RECORD_LOCAL_MARKER,
      TEXTS_REVISION_3_MARKER,
    ]);
  });

  it('probes to explore at both revisions, and says what the probe can measure only at revision 9', () => {
    for (const modelId of [defaults, revision9]) {
      const started = (decisions.get(modelId) ?? []).filter((d) => probeOf(d)?.started?.plan.kind === 'explore');
      expect(started.length, reasons(modelId)).toBeGreaterThanOrEqual(1);
      for (const d of started) {
        const sample = exploreRecordOf(d, epochs.get(modelId)!)?.sample ?? null;
        // Why the probe was started (the decision's reason names the probe, its plan says why).
        const why = probeOf(d)!.started!.plan.reason;
        if (modelId === defaults) {
          expect(sample).toBeNull();
          expect(why).not.toMatch(/paired events measuring it to ±/);
        } else {
          expect(why).toContain(
            `a probe of ${sample!.events} paired events measuring it to ± ${sample!.standardError!.toFixed(3)}`,
          );
        }
      }
    }
    expect(exploresOf(defaults).every((r) => r.sample === null)).toBe(true);
    expect(exploresOf(revision9).every((r) => r.sample !== null)).toBe(true);
  });

  it("records the sample an exploring probe would read, with the variance the version's error rate or its last probe gives", () => {
    const explores = exploresOf(revision9);
    expect(explores.length, reasons(revision9)).toBeGreaterThanOrEqual(2);
    const results: ProbeResult[] = [];
    const sources = new Set<string>();
    for (const d of decisions.get(revision9) ?? []) {
      // A result recorded by this decision was in the state its trigger read.
      const result = probeOf(d)?.result;
      if (result) results.push(result);
      const r = exploreRecordOf(d, epochs.get(revision9)!);
      if (r === null) continue;
      const { events, standardError, varianceSource } = r.sample!;
      sources.add(varianceSource);
      const what = `${d.decisionId}: ${d.reason}`;
      // Every window brings ~1,000 labelled events: one window's labels are the probe's sample.
      expect(events, what).toBeGreaterThanOrEqual(MIN_PAIRED_EVENTS);
      expect(events, what).toBeGreaterThanOrEqual(r.window.labelled ?? 0);
      expect(events, what).toBeLessThanOrEqual(EVENTS_PER_WINDOW);
      expect(standardError, what).not.toBeNull();
      expect(standardError!, what).toBeGreaterThan(0);
      const variance = standardError! ** 2 * events;
      if (varianceSource === 'error rate') {
        // Twice the version's error rate in the window decided (realised: labels arrive a minute late).
        expect(r.window.quality?.source, what).toBe('realised');
        expectRelativelyClose(variance, 2 * (1 - r.window.quality!.value), what);
      } else {
        expect(varianceSource, what).toBe('probe');
        const measured = [...results]
          .reverse()
          .map(measuredPerEventVariance)
          .find((v) => v !== null);
        expect(measured, what).toBeDefined();
        expectRelativelyClose(variance, measured!, what);
      }
    }
    // Both: before the first probe's result, and after it.
    expect([...sources].sort()).toEqual(['error rate', 'probe']);
  });

  it("prices each explore below the default twin's perfect-information value, by the shrink its σ implies", () => {
    const twin = new Map(exploresOf(defaults).map((r) => [r.windowOffset, r]));
    // The twins decide on the same rows until a probe's result, which depends on the challenger each trained.
    const firstResultOffset = Math.min(
      ...[defaults, revision9].flatMap((modelId) =>
        (decisions.get(modelId) ?? [])
          .filter((d) => probeOf(d)?.result)
          .map((d) => (d.statistics as { window: WindowSummary }).window.start - epochs.get(modelId)!),
      ),
    );
    let paired = 0;
    let withPosterior = 0;
    for (const r of exploresOf(revision9)) {
      const what = `${r.decision.decisionId}: ${r.decision.reason}`;
      const sigma = r.sample!.standardError!;
      if (r.posterior !== null) {
        // The prior updated by this version's probes, as recorded (the prior's own scale no longer counts).
        withPosterior += 1;
        const priced = (standardError: number) =>
          sampleExploreValue({
            ...r,
            priorGap: PRIOR_GAP,
            standardError,
            posterior: { ...r.posterior!, measurements: 1 },
          });
        expectRelativelyClose(r.value, priced(sigma), what);
        // At σ = 0 the value of knowing the gap under the same posterior.
        expect(r.value, what).toBeLessThanOrEqual(priced(0));
        continue;
      }
      if (r.windowOffset >= firstResultOffset) continue;
      const same = twin.get(r.windowOffset);
      expect(same, what).toBeDefined();
      // The same decision: the same rows, hurdle and prior, the version's age differing by the
      // seconds the window's read took (the tick's clock is the workflow's, after the read).
      expect(Math.abs(same!.eventsServed / r.eventsServed - 1), what).toBeLessThan(1e-3);
      expect(same!.hurdle, what).toBe(r.hurdle);
      expect(same!.posterior, what).toBeNull();
      paired += 1;
      if (same!.value === 0) {
        expect(r.value, what).toBe(0);
        continue;
      }
      // The prior's scale s both priced (it follows from the windows' qualities, not the clock), read
      // off the twin's perfect-information value; at least the policy's prior gap.
      const scale = priorScaleOf(same!, same!.value);
      expect(scale, what).toBeGreaterThanOrEqual(PRIOR_GAP * (1 - 1e-9));
      // σ > 0 shrinks s to s² / √(s² + σ²): strictly less than knowing the gap, by exactly that shrink.
      expect(r.value, what).toBeLessThan(exploreValue({ ...r, priorGap: scale }));
      expectRelativelyClose(
        r.value,
        sampleExploreValue({ ...r, priorGap: scale, standardError: sigma, posterior: null }),
        what,
      );
    }
    expect(paired, reasons(revision9)).toBeGreaterThanOrEqual(1);
    expect(withPosterior, reasons(revision9)).toBeGreaterThanOrEqual(1);
  });

  it("replays revision 9's run on the current code, re-deriving each of its decisions", () => {
    for (const modelId of [revision9, defaults]) {
      const run = firstRuns.get(modelId)!;
      expect(run.replay.error, modelId).toBeNull();
      const recorded = (decisions.get(modelId) ?? []).filter((d) => d.runId === run.runId);
      expect(recorded.length).toBeGreaterThanOrEqual((DAYS * DAY) / CADENCE);
      expect(run.replay.decisions.map(({ decisionId, kind, reason }) => ({ decisionId, kind, reason }))).toEqual(
        recorded.map(({ decisionId, kind, reason }) => ({ decisionId, kind, reason })),
      );
    }
  });
});
