import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDecisions, type DecisionRecord } from '../../platform/clickhouse/decisions-repository.ts';
import { parsePolicy } from '../../platform/policy-file.ts';
import { monitorWorkflowId } from '../../workflows/messages.ts';
import type { ModelMonitorInput } from '../../workflows/monitor/input.ts';
import { sleepInSteps } from '../helpers/time-skipping.ts';
import { staggerOffsetMs, windowStartAt } from '../../detectors/monitor/schedule.ts';
import { SimulatedProduction } from '../helpers/world.ts';
import { startMonitorHarness, type MonitorHarness } from '../helpers/monitor-harness.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const EVENTS_PER_DAY = 60;
const THRESHOLD = 0.8;

/**
 * A daily batch model end to end (time-skipping test server, real chDB): 60 events a day, their
 * labels a day later. The monitor counts only labels that had arrived when a day closed, so each
 * day is measured by the late labels that arrive during the next one; with 60 events a window,
 * realised quality is used (the policy's minimum is 30, not 200). The concept drifts; the
 * threshold policy (realised quality only) retrains, and shadow evaluation on the low volume
 * (its minimum lowered to 100 paired events) promotes the new version.
 */
describe('a daily batch model with labels a day late (40 simulated days)', () => {
  let harness: MonitorHarness;
  let world: SimulatedProduction;
  // A fixed id (this file's own test server and data directory): its stagger offset, the windows'
  // rows (seeded from their place after the epoch) and the holdout split are the same every run.
  const modelId = 'batch-daily';
  let decisions: DecisionRecord[] = [];

  beforeAll(async () => {
    harness = await startMonitorHarness();
    const { env, ch, config, activities } = harness;
    const start = windowStartAt(Date.now(), DAY, staggerOffsetMs(modelId, DAY));
    world = new SimulatedProduction(ch.client, {
      modelId,
      dataDir: config.dataDir,
      world: { seed: 3, thetaStart: 8, thetaPerDay: 0.15, epoch: start, seedFromEpoch: true, labelNoise: 0.03 },
      eventsPerWindow: EVENTS_PER_DAY,
      initialTheta: 8,
      labelDelayMs: 26 * HOUR,
    });
    const live = {
      ...activities,
      collectWindow: async (input: Parameters<typeof activities.collectWindow>[0]) => {
        await world.emit(input.start, input.end);
        return activities.collectWindow(input);
      },
    };
    const policy = parsePolicy({
      name: 'batch-floor',
      version: '1',
      model: modelId,
      trigger: {
        kind: 'threshold',
        metric: 'accuracy',
        threshold: THRESHOLD,
        consecutiveWindows: 2,
        acceptEstimated: false,
      },
      guards: { cooldown: '5d', budget: { maxRetrains: 10, per: '30d' } },
      trainingWindow: { kind: 'fixed', duration: '10d' },
    });
    const input: ModelMonitorInput = {
      modelId,
      policy: policy.policy,
      policyRef: policy.ref,
      cadence: '1d',
      settle: '1h',
      retrain: {
        shadow: { mode: 'non-inferiority', margin: 0.02, lookback: '10d', maxEvents: 20_000, minEvents: 100 },
      },
    };
    const worker = await harness.createWorker(live);
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('ModelMonitor', {
        workflowId: monitorWorkflowId(modelId),
        taskQueue: config.temporal.taskQueue,
        args: [input],
      });
      await sleepInSteps(env, 40 * DAY + 2 * HOUR, DAY);
      await handle.terminate('test over');
    });
    decisions = (await listDecisions(ch.client, { modelId, limit: 1000 })).reverse();
  }, 600_000);

  afterAll(async () => {
    await harness?.teardown(world);
  });

  const ticks = () => decisions.filter((d) => ['no-action', 'retrain', 'blocked'].includes(d.kind));
  const timeline = () =>
    decisions
      .map(
        (d) =>
          `${new Date(d.decidedAt).toISOString().slice(0, 13)} ${d.modelVersion} ${d.kind}: ${d.reason.slice(0, 220)}`,
      )
      .join('\n');
  const inputs = (d: DecisionRecord) => (d.details as { inputs: Record<string, unknown> }).inputs;
  const quality = (d: DecisionRecord) =>
    (d.statistics as { quality: { used: string | null; reason?: string } }).quality;

  it('decides every day; a day has no labels when it closes, and its late labels measure it the next day', () => {
    const t = ticks();
    expect(t.length).toBeGreaterThanOrEqual(39);
    // No labels when a day closes: nothing yet, or (once a reference has enough labels) the label-free estimate.
    for (const d of t)
      expect(quality(d).reason).toMatch(/^(no|estimated) accuracy .*0 labelled events so far \(< 30\)/);
    // From the second day on, the days before are filled in by their late labels (60 a day).
    const filled = t.slice(1).filter((d) => /late labels \((5\d|60)\) updated [12] earlier window/.test(d.reason));
    expect(
      filled.length,
      t
        .slice(1)
        .filter((d) => !filled.includes(d))
        .map((d) => d.reason.slice(-120))
        .join('\n'),
    ).toBeGreaterThanOrEqual(t.length - 3);
    // The threshold trigger reads that realised quality (it does not accept estimates).
    const measured = t.slice(2).filter((d) => inputs(d).latestSource === 'realised');
    // Except for the two days after each retrain, before the new version's first labels arrive.
    const retrains = t.filter((d) => d.kind === 'retrain').length;
    expect(measured.length).toBeGreaterThanOrEqual(t.length - 2 - 2 * retrains);
  });

  it('retrains when realised quality falls, and the low-volume shadow evaluation promotes the new version', () => {
    const retrain = decisions.find((d) => d.kind === 'retrain');
    expect(
      retrain,
      ticks()
        .map((d) => `${d.kind} ${d.reason.slice(0, 160)}`)
        .join('\n'),
    ).toBeDefined();
    expect(inputs(retrain!).latestValue as number).toBeLessThan(THRESHOLD);
    const outcome = decisions.find(
      (d) =>
        ['promote', 'reject', 'training-failed'].includes(d.kind) &&
        (d.details as { requestedBy?: string }).requestedBy === retrain!.decisionId,
    );
    expect(outcome?.kind, timeline()).toBe('promote');
    // The new version is measured above the floor once its own labels arrive (a day late): over its
    // first three measured days, as one day's 58 labels put a single reading ±0.04 around the truth.
    const after = ticks().filter((d) => d.decidedAt > outcome!.decidedAt && inputs(d).latestSource === 'realised');
    expect(after.length).toBeGreaterThanOrEqual(3);
    const firstDays = after.slice(0, 3).map((d) => inputs(d).latestValue as number);
    expect(firstDays.reduce((a, b) => a + b, 0) / firstDays.length, timeline()).toBeGreaterThan(THRESHOLD);
  });
});
