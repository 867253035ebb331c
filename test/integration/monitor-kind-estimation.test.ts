import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staggerOffsetMs, windowStartAt } from '../../detectors/monitor/schedule.ts';
import type { WindowEvaluation } from '../../detectors/monitor/types.ts';
import { realisedFromSums } from '../../detectors/quality/outcome-sums.ts';
import { Random } from '../../detectors/random.ts';
import { listDecisions, type DecisionRecord } from '../../platform/clickhouse/decisions-repository.ts';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { outcomeSums } from '../../platform/clickhouse/outcome-sums-repository.ts';
import { parsePolicy } from '../../platform/policy-file.ts';
import { ingestHttp } from '../../workers/ingest/http.ts';
import { monitorWorkflowId } from '../../workflows/messages.ts';
import { knownShiftClassEvent } from '../../synthetic/index.ts';
import { OUTCOME_CLASSES, registerOutcomeModels } from '../helpers/outcome-history.ts';
import { uniqueName } from '../helpers/stack.ts';
import { startMonitorHarness, type MonitorHarness } from '../helpers/monitor-harness.ts';
import { timeWithRoomInWindows } from '../helpers/window-room.ts';

const HOUR = 3_600_000;
/** Window 0 is labelled and becomes the reference; windows 1–3 shift further each time and their labels are withheld. */
const WINDOWS = 4;
const REFERENCE_EVENTS = 1500;
const WINDOW_EVENTS = 800;
const TIMESTAMPS = { timestamps: { min: 0, maxAheadMs: 10 * HOUR } };
/** Spread of x1 per window: the classes are told apart by x1, so a narrower spread puts events near the boundary. */
const MULTICLASS_SPREAD = [2, 1, 0.6, 0.3];
/** Mean of x per window: the regression model's error grows with |x|. */
const REGRESSION_MEAN = [0, 0.8, 1.4, 2];

type Labels = { event_id: string; label: string | number; timestamp: number }[];

/**
 * Multiclass events whose served probabilities are calibrated (the true class is drawn from
 * them: the known-shift classes at temperature 1): the shift, a narrowing spread of x1, is
 * covariate only, which CBPE can see.
 */
function multiclassWindow(modelId: string, start: number, w: number) {
  const random = new Random(100 + w);
  const n = w === 0 ? REFERENCE_EVENTS : WINDOW_EVENTS;
  const events: Record<string, unknown>[] = [];
  const labels: Labels = [];
  for (let i = 0; i < n; i++) {
    const { x1, x2, truth, probabilities } = knownShiftClassEvent(random, 0, 1, MULTICLASS_SPREAD[w]!);
    const ts = start + Math.floor((i * HOUR) / (2 * n));
    const id = `mc-${w}-${i}`;
    events.push({
      event_id: id,
      model_id: modelId,
      model_version: 'v1',
      timestamp: ts,
      features: { x1, x2 },
      prediction: { probabilities: Object.fromEntries(OUTCOME_CLASSES.map((c, k) => [c, probabilities[k]!])) },
    });
    labels.push({ event_id: id, label: OUTCOME_CLASSES[truth]!, timestamp: ts + 60_000 });
  }
  return { events, labels };
}

/** Regression events whose error spread is 1 + 3|x| (+2 in the south): the shift moves x outwards. */
function regressionWindow(modelId: string, start: number, w: number) {
  const random = new Random(200 + w);
  const n = w === 0 ? REFERENCE_EVENTS : WINDOW_EVENTS;
  const events: Record<string, unknown>[] = [];
  const labels: Labels = [];
  for (let i = 0; i < n; i++) {
    const x = random.normal(REGRESSION_MEAN[w]!, w === 0 ? 1.5 : 0.7);
    const region = random.next() < 0.5 ? 'north' : 'south';
    const truth = 50 + 10 * x + random.normal(0, 2);
    const spread = 1 + 3 * Math.abs(x) + (region === 'south' ? 2 : 0);
    const ts = start + Math.floor((i * HOUR) / (2 * n));
    const id = `reg-${w}-${i}`;
    events.push({
      event_id: id,
      model_id: modelId,
      model_version: 'v1',
      timestamp: ts,
      features: { x, region },
      prediction: { value: truth + random.normal(0, spread) },
    });
    labels.push({ event_id: id, label: truth, timestamp: ts + 60_000 });
  }
  return { events, labels };
}

/**
 * A multiclass and a regression model through the ModelMonitor workflow on the real stack
 * (time-skipping test server, chDB, HTTP ingest). The first window is labelled and becomes the
 * reference; the next three drift further and their labels are withheld. The window read fits
 * the label-free estimator on the reference (multiclass CBPE from the window's calibrated
 * probability sums; DLE on the window's rows) and the tick uses its estimate as quality. Once
 * the monitors are stopped the withheld labels arrive and ClickHouse computes each window's
 * realised metric: the estimates follow it.
 */
describe('label-free estimates of multiclass and regression models through the monitor (time-skipping test server)', () => {
  let harness: MonitorHarness;
  const multiclassModel = uniqueName('mc-est');
  const regressionModel = uniqueName('reg-est');
  const starts = new Map<string, number>();
  const withheld = new Map<string, Labels>();
  let decisions = new Map<string, DecisionRecord[]>();
  /** The realised metric of each window, from the labels that arrived after the monitor decided. */
  const realised = new Map<string, number[]>();

  beforeAll(async () => {
    harness = await startMonitorHarness();
    const { env, ch, config } = harness;
    await registerOutcomeModels(harness, { multiclass: multiclassModel, regression: regressionModel });

    const startedAt = await timeWithRoomInWindows(env, [multiclassModel, regressionModel], HOUR);
    const repo = new ClickHouseIngestRepository(ch.client);
    for (const modelId of [multiclassModel, regressionModel]) {
      const first = windowStartAt(startedAt, HOUR, staggerOffsetMs(modelId, HOUR));
      starts.set(modelId, first);
      const held: Labels = [];
      for (let w = 0; w < WINDOWS; w++) {
        const { events, labels } =
          modelId === multiclassModel
            ? multiclassWindow(modelId, first + w * HOUR, w)
            : regressionWindow(modelId, first + w * HOUR, w);
        const stored = await ingestHttp(repo, events, 'events', TIMESTAMPS);
        expect(stored.rejected).toEqual([]);
        if (w === 0) await ingestHttp(repo, labels, 'labels', TIMESTAMPS);
        else held.push(...labels);
      }
      withheld.set(modelId, held);
    }
    // Threshold triggers that the shift does not reach: the monitors only observe.
    const policies = [
      parsePolicy({
        name: 'multiclass',
        version: '1',
        model: multiclassModel,
        quality: { metric: 'accuracy' },
        trigger: { kind: 'threshold', metric: 'accuracy', direction: 'higher-is-better', threshold: 0.05 },
      }),
      parsePolicy({
        name: 'regression',
        version: '1',
        model: regressionModel,
        quality: { metric: 'mae', worthlessError: 40 },
        trigger: { kind: 'threshold', metric: 'mae', direction: 'lower-is-better', threshold: 39 },
      }),
    ];
    const worker = await harness.createWorker();
    await worker.runUntil(async () => {
      const handles = await Promise.all(
        policies.map((p) =>
          env.client.workflow.start('ModelMonitor', {
            workflowId: monitorWorkflowId(p.policy.model),
            taskQueue: config.temporal.taskQueue,
            args: [{ modelId: p.policy.model, policy: p.policy, policyRef: p.ref, cadence: '1h', settle: '0s' }],
          }),
        ),
      );
      // Wait until every window has been decided on, not for a time.
      for (;;) {
        decisions = new Map(
          await Promise.all(
            [multiclassModel, regressionModel].map(
              async (m) => [m, (await listDecisions(ch.client, { modelId: m, limit: 50 })).reverse()] as const,
            ),
          ),
        );
        if ([...decisions.values()].every((ds) => evaluatedOf(ds).length >= WINDOWS)) break;
        await env.sleep(HOUR / 2);
      }
      await Promise.all(handles.map((h) => h.terminate('test over')));
    });

    // The withheld labels arrive; each window's realised metric is summed from them in ClickHouse.
    for (const modelId of [multiclassModel, regressionModel]) {
      await ingestHttp(repo, withheld.get(modelId)!, 'labels', TIMESTAMPS);
      const kind =
        modelId === multiclassModel
          ? { kind: 'multiclass' as const, classes: OUTCOME_CLASSES }
          : { kind: 'regression' as const };
      const first = starts.get(modelId)!;
      // One window a call: a batch holds one window per model.
      const sums = [];
      for (let w = 0; w < WINDOWS; w++) {
        const [windowSums] = await outcomeSums(ch.client, [
          { modelId, kind, start: first + w * HOUR, end: first + (w + 1) * HOUR },
        ]);
        sums.push(windowSums!);
      }
      realised.set(
        modelId,
        sums.map((s) => realisedFromSums(modelId === multiclassModel ? 'accuracy' : 'mae', s)!.value!),
      );
    }
  }, 600_000);

  afterAll(async () => {
    await harness?.teardown();
  });

  function evaluatedOf(ds: readonly DecisionRecord[]): DecisionRecord[] {
    return ds.filter((d) => (d.statistics as Partial<WindowEvaluation>)?.quality !== undefined);
  }

  /** Each window's decision, by window (the first decision per window start). */
  function windowDecisions(modelId: string): DecisionRecord[] {
    const first = starts.get(modelId)!;
    return Array.from({ length: WINDOWS }, (_, w) =>
      evaluatedOf(decisions.get(modelId) ?? []).find(
        (d) => (d.statistics as WindowEvaluation).window.start === first + w * HOUR,
      )!,
    );
  }

  it('multiclass: CBPE estimates accuracy where labels are withheld, following the realised accuracy', () => {
    const ds = windowDecisions(multiclassModel);
    const truth = realised.get(multiclassModel)!;
    const q0 = (ds[0]!.statistics as WindowEvaluation).quality;
    expect(q0.used).toBe('realised');
    expect(q0.realised!.value).toBeCloseTo(truth[0]!, 12);
    for (let w = 1; w < WINDOWS; w++) {
      const q = (ds[w]!.statistics as WindowEvaluation).quality;
      expect(q.metric).toBe('accuracy');
      expect(q.used).toBe('estimated');
      expect(q.realised).toBeNull();
      expect(q.estimated).toMatchObject({ method: 'CBPE', n: WINDOW_EVENTS, trustworthy: true });
      expect(q.reason).toMatch(
        /^estimated accuracy 0\.\d{3} \[0\.\d{3}, 0\.\d{3}\] \(quality 0\.\d{3}\), CBPE: 0 labelled/,
      );
      expect(ds[w]!.reason).toMatch(/accuracy|quality/);
      // The probabilities are calibrated and the shift is covariate only, so the estimate misses the
      // realised accuracy only by the sampling noise its 95% interval measures; 1.5 half-widths
      // (≈ 3 standard errors, about 0.045 at 800 events) leaves no room for a systematic error.
      const interval = q.estimated!.interval!;
      const tolerance = 1.5 * ((interval.upper - interval.lower) / 2);
      expect(Math.abs(q.estimated!.value! - truth[w]!)).toBeLessThan(tolerance);
    }
    // The shift moved accuracy by more than the tolerance, and the estimate moved with it.
    const last = (ds[WINDOWS - 1]!.statistics as WindowEvaluation).quality.estimated!;
    expect(truth[0]! - truth[WINDOWS - 1]!).toBeGreaterThan(0.1);
    expect(q0.realised!.value! - last.value!).toBeGreaterThan(0.1);
  });

  it('regression: DLE estimates MAE where labels are withheld, following the realised MAE', () => {
    const ds = windowDecisions(regressionModel);
    const truth = realised.get(regressionModel)!;
    const q0 = (ds[0]!.statistics as WindowEvaluation).quality;
    expect(q0.used).toBe('realised');
    for (let w = 1; w < WINDOWS; w++) {
      const q = (ds[w]!.statistics as WindowEvaluation).quality;
      expect(q.metric).toBe('mae');
      expect(q.used).toBe('estimated');
      expect(q.estimated).toMatchObject({ method: 'DLE', n: WINDOW_EVENTS, trustworthy: true });
      const figure = q.estimated!.figure!;
      expect(figure.transform).toBe('quality = 1 − mae / 40 (clipped to [0, 1])');
      expect(q.estimated!.value).toBeCloseTo(1 - figure.value! / 40, 12);
      expect(q.reason).toMatch(/^estimated mae \d+\.\d+ \[\d+\.\d+, \d+\.\d+\] \(quality 0\.\d{3}\), DLE/);
      // Sampling noise (the 95% interval) plus the loss model's own error, allowed 10% of the MAE:
      // the trees learn |e| from 1,500 reference rows and extrapolate nothing (every window stays
      // inside the reference's range of x).
      const interval = figure.interval!;
      const tolerance = (interval.upper - interval.lower) / 2 + 0.1 * figure.value!;
      expect(Math.abs(figure.value! - truth[w]!)).toBeLessThan(tolerance);
    }
    const last = (ds[WINDOWS - 1]!.statistics as WindowEvaluation).quality.estimated!.figure!;
    // The shift raised the MAE by more than the tolerance (≈ 40%), and the estimate rose with it.
    expect(truth[WINDOWS - 1]! / truth[0]!).toBeGreaterThan(1.3);
    expect(last.value! / truth[0]!).toBeGreaterThan(1.3);
  });
});
