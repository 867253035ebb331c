import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staggerOffsetMs, windowStartAt } from '../../detectors/monitor/schedule.ts';
import type { WindowEvaluation } from '../../detectors/monitor/types.ts';
import { Random } from '../../detectors/random.ts';
import { getDecision, listDecisions, type DecisionRecord } from '../../platform/clickhouse/decisions-repository.ts';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { parsePolicy } from '../../platform/policy-file.ts';
import { ingestHttp } from '../../workers/ingest/http.ts';
import { approveUpdate, monitorWorkflowId, retrainWorkflowId } from '../../workflows/messages.ts';
import {
  multiclassOutcome,
  OUTCOME_CLASSES,
  regressionOutcome,
  registerOutcomeModels,
} from '../helpers/outcome-history.ts';
import { uniqueName } from '../helpers/stack.ts';
import { timeWithRoomInWindows } from '../helpers/window-room.ts';
import { startMonitorHarness, type MonitorHarness } from '../helpers/monitor-harness.ts';

const HOUR = 3_600_000;
const EVENTS_PER_WINDOW = 400;
/** Windows 0–1 as trained; from window 2 the inputs shift and the models' quality falls. */
const WINDOWS = 4;
const SHIFTED_FROM = 2;
const TIMESTAMPS = { timestamps: { min: 0, maxAheadMs: 10 * HOUR } };

/**
 * A multiclass window: the model's logit for the true class is `sharpness` above the others
 * (lower after the shift: it tells the classes apart less well). Ids are fixed, so every run
 * sees the same events.
 */
function multiclassEvents(modelId: string, start: number, sharpness: number, seed: number) {
  const random = new Random(seed);
  const events: Record<string, unknown>[] = [];
  const labels: Record<string, unknown>[] = [];
  for (let i = 0; i < EVENTS_PER_WINDOW; i++) {
    const outcome = multiclassOutcome(random, OUTCOME_CLASSES.length, sharpness);
    const probabilities = Object.fromEntries(OUTCOME_CLASSES.map((c, k) => [c, outcome.probabilities[k]!]));
    const ts = start + Math.floor((i * HOUR) / (2 * EVENTS_PER_WINDOW));
    events.push({
      event_id: `mc-${seed}-${i}`,
      model_id: modelId,
      model_version: 'v1',
      timestamp: ts,
      features: { x: random.normal() },
      prediction: { probabilities },
    });
    // Labels arrive within the window, before its decision.
    labels.push({ event_id: `mc-${seed}-${i}`, label: OUTCOME_CLASSES[outcome.truth], timestamp: ts + 10 * 60_000 });
  }
  return { events, labels };
}

/** A regression window: predictions off by N(0, errorSd). */
function regressionEvents(modelId: string, start: number, errorSd: number, seed: number) {
  const random = new Random(seed);
  const events: Record<string, unknown>[] = [];
  const labels: Record<string, unknown>[] = [];
  for (let i = 0; i < EVENTS_PER_WINDOW; i++) {
    const outcome = regressionOutcome(random, errorSd);
    const ts = start + Math.floor((i * HOUR) / (2 * EVENTS_PER_WINDOW));
    events.push({
      event_id: `reg-${seed}-${i}`,
      model_id: modelId,
      model_version: 'v1',
      timestamp: ts,
      features: { x: random.normal() },
      prediction: { value: outcome.prediction },
    });
    labels.push({ event_id: `reg-${seed}-${i}`, label: outcome.truth, timestamp: ts + 10 * 60_000 });
  }
  return { events, labels };
}

/**
 * A multiclass and a regression model through the ModelMonitor workflow on the real stack
 * (time-skipping test server, chDB, HTTP ingest): each declared at registration, its events
 * (class-probability vectors; numeric predictions) and labels ingested, a bad probability vector
 * dead-lettered with its reason. The monitor sums each window's outcomes in ClickHouse, tracks
 * the policy's metric (log loss; RMSE) as quality, and once the shift has held the threshold
 * trigger for two windows asks for a retrain; every decision's provenance names the metric, its
 * figure, how quality was derived from it, and that it was realised.
 */
describe('multiclass and regression models through the monitor (time-skipping test server)', () => {
  let harness: MonitorHarness;
  const multiclassModel = uniqueName('mc');
  const regressionModel = uniqueName('reg');
  let decisions = new Map<string, DecisionRecord[]>();
  const approvedDecisions = new Map<string, DecisionRecord>();
  let rejected: { index: number; reason: string }[] = [];

  beforeAll(async () => {
    harness = await startMonitorHarness();
    const { env, ch, config } = harness;
    await registerOutcomeModels(harness, { multiclass: multiclassModel, regression: regressionModel });

    const startedAt = await timeWithRoomInWindows(env, [multiclassModel, regressionModel], HOUR);
    const repo = new ClickHouseIngestRepository(ch.client);
    const starts = new Map<string, number>();
    for (const modelId of [multiclassModel, regressionModel]) {
      const first = windowStartAt(startedAt, HOUR, staggerOffsetMs(modelId, HOUR));
      starts.set(modelId, first);
      for (let w = 0; w < WINDOWS; w++) {
        const shifted = w >= SHIFTED_FROM;
        const { events, labels } =
          modelId === multiclassModel
            ? multiclassEvents(modelId, first + w * HOUR, shifted ? 0.6 : 3, 10 + w)
            : regressionEvents(modelId, first + w * HOUR, shifted ? 14 : 4, 20 + w);
        const bad =
          modelId === multiclassModel && w === 0
            ? [{ ...events[0]!, event_id: 'bad-sum', prediction: { probabilities: { low: 0.5, mid: 0.2, high: 0.1 } } }]
            : [];
        const stored = await ingestHttp(repo, [...events, ...bad], 'events', TIMESTAMPS);
        rejected = [...rejected, ...stored.rejected];
        expect(stored.accepted).toBe(EVENTS_PER_WINDOW);
        await ingestHttp(repo, labels, 'labels', TIMESTAMPS);
      }
    }
    const policies = [
      parsePolicy({
        name: 'multiclass',
        version: '1',
        model: multiclassModel,
        quality: { metric: 'log_loss' },
        trigger: {
          kind: 'threshold',
          metric: 'log_loss',
          direction: 'lower-is-better',
          threshold: 0.7,
          consecutiveWindows: 2,
        },
        guards: { approval: { required: true, timeout: '48h' } },
      }),
      parsePolicy({
        name: 'regression',
        version: '1',
        model: regressionModel,
        quality: { metric: 'rmse', worthlessError: 20 },
        trigger: {
          kind: 'threshold',
          metric: 'rmse',
          direction: 'lower-is-better',
          threshold: 8,
          consecutiveWindows: 2,
        },
        guards: { approval: { required: true, timeout: '48h' } },
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
      // Each monitor asks for approval once the shifted windows have held the trigger: wait for that, not for a time.
      for (;;) {
        decisions = new Map(
          await Promise.all(
            [multiclassModel, regressionModel].map(
              async (m) => [m, (await listDecisions(ch.client, { modelId: m, limit: 20 })).reverse()] as const,
            ),
          ),
        );
        if ([...decisions.values()].every((ds) => ds.some((d) => d.kind === 'approval-requested'))) break;
        await env.sleep(HOUR / 2);
      }
      // A person approves: the monitor asks the policy again, without a new window.
      for (const handle of handles) {
        const { decisionId } = await handle.executeUpdate(approveUpdate, { args: [{ actor: 'test-approver' }] });
        const modelId = policies.find((p) => monitorWorkflowId(p.policy.model) === handle.workflowId)!.policy.model;
        approvedDecisions.set(modelId, (await getDecision(ch.client, decisionId))!);
      }
      await Promise.all(handles.map((h) => h.terminate('test over')));
      // The retrains the approvals started are not this test's: stop them.
      for (const modelId of [multiclassModel, regressionModel])
        await env.client.workflow
          .getHandle(retrainWorkflowId(modelId, 1))
          .terminate('test over')
          .catch(() => undefined);
    });
  }, 300_000);

  afterAll(async () => {
    await harness?.teardown();
  });

  const evaluated = (modelId: string) =>
    (decisions.get(modelId) ?? []).filter((d) => (d.statistics as Partial<WindowEvaluation>)?.quality !== undefined);
  const qualityOf = (d: DecisionRecord) => (d.statistics as WindowEvaluation).quality;

  it('dead-letters a probability vector that does not sum to 1, naming why', () => {
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.reason).toContain('prediction.probabilities');
    expect(rejected[0]!.reason).toContain('must sum to 1');
  });

  it('the multiclass monitor tracks exp(−log loss), realised from the window sums, and asks for a retrain after the shift', () => {
    const ds = evaluated(multiclassModel);
    expect(ds.length).toBeGreaterThanOrEqual(WINDOWS);
    const figures = ds.slice(0, WINDOWS).map((d) => {
      const q = qualityOf(d);
      expect(q.metric).toBe('log_loss');
      expect(q.used).toBe('realised');
      expect(q.realised!.n).toBe(EVENTS_PER_WINDOW);
      expect(q.realised!.figure!.transform).toBe('quality = exp(−log loss)');
      expect(q.realised!.value).toBeCloseTo(Math.exp(-q.realised!.figure!.value!), 12);
      // The reason names the pooled value as the quality it is, not as a log loss.
      expect(d.reason).toContain(`realised quality ${q.realised!.value!.toFixed(4)} (from log_loss) from`);
      return q.realised!.figure!.value!;
    });
    expect(figures.slice(0, SHIFTED_FROM).every((f) => f < 0.7)).toBe(true);
    expect(figures.slice(SHIFTED_FROM).every((f) => f > 0.7)).toBe(true);
    const kinds = (decisions.get(multiclassModel) ?? []).map((d) => d.kind);
    expect(kinds.indexOf('approval-requested')).toBeGreaterThan(kinds.indexOf('no-action'));
    expect(kinds.filter((k) => k === 'no-action').length).toBeGreaterThanOrEqual(SHIFTED_FROM + 1);
  });

  it('the regression monitor tracks 1 − RMSE / 20 from the window sums and asks for a retrain after the shift', () => {
    const ds = evaluated(regressionModel);
    const figures = ds.slice(0, WINDOWS).map((d) => {
      const q = qualityOf(d);
      expect(q.metric).toBe('rmse');
      expect(q.used).toBe('realised');
      expect(q.realised!.figure!.transform).toBe('quality = 1 − rmse / 20 (clipped to [0, 1])');
      expect(q.realised!.value).toBeCloseTo(1 - q.realised!.figure!.value! / 20, 12);
      // The interval is around the value, in quality units.
      expect(q.realised!.interval!.lower).toBeLessThan(q.realised!.value!);
      expect(q.realised!.interval!.upper).toBeGreaterThan(q.realised!.value!);
      return q.realised!.figure!.value!;
    });
    expect(figures.slice(0, SHIFTED_FROM).every((f) => f < 8)).toBe(true);
    expect(figures.slice(SHIFTED_FROM).every((f) => f > 8)).toBe(true);
    expect((decisions.get(regressionModel) ?? []).some((d) => d.kind === 'approval-requested')).toBe(true);
  });
  it("a person's approval re-asks the policy in the model's metric, as the windows did: the retrain starts", () => {
    // Re-asked in accuracy with the thresholds in the metrics' own units (log loss 0.7, RMSE 8),
    // quality (≤ 1) never breached them: the approval was recorded and nothing retrained.
    for (const modelId of [multiclassModel, regressionModel]) {
      const approved = approvedDecisions.get(modelId);
      expect(approved?.kind).toBe('retrain');
      expect(approved?.actor).toBe('test-approver');
      expect(approved?.reason).toContain('quality');
    }
  });
});
