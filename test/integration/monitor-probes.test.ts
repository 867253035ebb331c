/**
 * Challenger probes in the ModelMonitor workflow (rule revision 4), on the time-skipping test
 * server with embedded ClickHouse and the real trainer and onnxruntime: two models whose quality
 * is flat. One learned the wrong concept (a fresh model beats it by ~0.1): its monitor probes,
 * measures the gap on the same events, and retrains. The other learned the right one (nothing
 * fresh beats it): its monitor probes and does not retrain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeProvenance, ProbeResult } from '../../detectors/probes/types.ts';
import { queryRows } from '../../platform/clickhouse/client.ts';
import { listDecisions, type DecisionRecord } from '../../platform/clickhouse/decisions-repository.ts';
import { ClickHouseRegistryRepository } from '../../platform/clickhouse/registry-repository.ts';
import { parsePolicy } from '../../platform/policy-file.ts';
import { monitorWorkflowId } from '../../workflows/messages.ts';
import type { ModelMonitorInput } from '../../workflows/monitor/input.ts';
import { staggerOffsetMs, windowStartAt } from '../../detectors/monitor/schedule.ts';
import { SimulatedProduction, withWorldTraffic } from '../helpers/world.ts';
import { startMonitorHarness, type MonitorHarness } from '../helpers/monitor-harness.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CADENCE = 6 * HOUR;
const DAYS = 6;

const probeOf = (d: DecisionRecord): ProbeProvenance | null =>
  ((d.details as { probe?: ProbeProvenance } | null)?.probe ?? null) as ProbeProvenance | null;
const results = (ds: DecisionRecord[]): ProbeResult[] => ds.map(probeOf).flatMap((p) => (p?.result ? [p.result] : []));

describe('ModelMonitor challenger probes (time-skipping test server)', () => {
  let harness: MonitorHarness;
  // Fixed ids and windows seeded from their place after the epoch: every run sees the same rows
  // (the time-skipping server and the data directory are this file's own).
  const beatable = 'probe-beatable';
  const optimal = 'probe-optimal';
  const worlds = new Map<string, SimulatedProduction>();
  const decisions = new Map<string, DecisionRecord[]>();

  beforeAll(async () => {
    // PROBE_TEST_LOG=1 logs every derived decision and training step (to see why a run went as it did).
    harness = await startMonitorHarness({ logLevel: process.env.PROBE_TEST_LOG === '1' ? 'info' : 'warn' });
    const { env, ch, config, activities } = harness;
    const now = Date.now();
    // A flat world: the concept does not move. The hand-made v1 scores with θ = 8; the truth is
    // θ = 10 for the beatable model (v1 is wrong on ~18% of the space) and θ = 8 for the optimal one.
    for (const [modelId, theta] of [
      [beatable, 10],
      [optimal, 8],
    ] as const)
      worlds.set(
        modelId,
        new SimulatedProduction(ch.client, {
          modelId,
          dataDir: config.dataDir,
          world: {
            seed: 23,
            thetaStart: theta,
            thetaPerDay: 0,
            // The monitor's first window starts here (its stagger offset within the cadence).
            epoch: windowStartAt(now, CADENCE, staggerOffsetMs(modelId, CADENCE)),
            labelNoise: 0.05,
            seedFromEpoch: true,
          },
          eventsPerWindow: 1000,
          initialTheta: 8,
          // Not a registry name: the versions halflife registers (probes included) never share it.
          initialVersion: 'v0',
          labelDelayMs: 60_000,
        }),
      );
    const worker = await harness.createWorker(withWorldTraffic(activities, worlds));
    const inputOf = (modelId: string): ModelMonitorInput => {
      const policy = parsePolicy({
        name: 'flat-cost-aware',
        version: '1',
        model: modelId,
        trigger: { kind: 'cost-aware', valuePerQualityUnit: 1, retrainCost: 50 },
        guards: { cooldown: '1d', budget: { maxRetrains: 5, per: '30d' }, approval: { required: false } },
        trainingWindow: { kind: 'fixed', duration: '1d' },
        // The team expects gaps of a few points: probes explore within the first day (the default
        // prior would wait until the version has served longer than a noisy decay fit takes to fire).
        probes: { priorGap: 0.05 },
      });
      return {
        modelId,
        policy: policy.policy,
        policyRef: policy.ref,
        cadence: '6h',
        maxTicksPerRun: 10,
        retrain: { shadow: { mode: 'non-inferiority', margin: 0.02, lookback: '1d', maxEvents: 20_000 } },
      };
    };
    await worker.runUntil(async () => {
      const handles = await Promise.all(
        [beatable, optimal].map((modelId) =>
          env.client.workflow.start('ModelMonitor', {
            workflowId: monitorWorkflowId(modelId),
            taskQueue: config.temporal.taskQueue,
            args: [inputOf(modelId)],
          }),
        ),
      );
      // One cadence at a time: a single long sleep call can lose its connection to the test server
      // (keepalive GOAWAY) and leave time locked.
      for (let t = 0; t < (DAYS * DAY) / CADENCE + 1; t++) await env.sleep(CADENCE);
      for (const h of handles) await h.terminate('test over');
    });
    for (const modelId of [beatable, optimal])
      decisions.set(modelId, (await listDecisions(ch.client, { modelId, limit: 1000 })).reverse());
  }, 900_000);

  afterAll(async () => {
    await harness?.teardown(...worlds.values());
  });

  it('a flat but beatable model: the monitor probes, measures the gap on the same events, then retrains', async () => {
    const ds = decisions.get(beatable) ?? [];
    const started = ds.filter((d) => probeOf(d)?.started?.challenger);
    expect(started.length, ds.map((d) => `${d.kind}: ${d.reason}`).join('\n')).toBeGreaterThanOrEqual(1);
    const first = probeOf(started[0]!)!.started!;
    // The challenger trained on the decision's training window, with lineage, and is registered as a probe.
    expect(started[0]!.lineageId).toBe(first.challenger!.lineageId);
    expect(first.challenger!.trainingRows).toBeGreaterThan(500);
    expect(first.cost).toBeCloseTo(0.05 * 50, 9);
    expect(first.costSource).toMatch(/auto/);
    const registry = new ClickHouseRegistryRepository(harness.ch.client);
    const challenger = await registry.requireVersion(beatable, first.challenger!.version);
    expect(challenger.stage).toBe('probe');
    expect(challenger.createdBy).toMatch(/^probe:/);
    // Scored in shadow on the champion's events: per-event results stored under the probe's evaluation.
    const scored = ds
      .map(probeOf)
      .filter((p) => p?.scored?.id === first.id)
      .at(-1)?.scored;
    expect(scored?.events).toBeGreaterThanOrEqual(200);
    const [stored] = await queryRows<{ n: string }>(
      harness.ch.client,
      `SELECT count() AS n FROM shadow_results FINAL WHERE model_id = {m:String} AND evaluation_id = {e:String} AND source = 'probe'`,
      { m: beatable, e: scored!.evaluationId },
    );
    expect(Number(stored!.n)).toBe(scored!.events);
    // The measured gap: the challenger is better on the same events, and its interval says so.
    const result = results(ds).find((r) => r.id === first.id)!;
    expect(result.verdict).toBe('challenger-better');
    expect(result.events).toBe(scored!.events);
    expect(result.lower!).toBeGreaterThan(0.03);
    expect(result.gap!).toBeGreaterThan(result.lower!);
    // The gap is the rule's evidence: the retrain that follows cites it.
    const resultAt = ds.find((d) => probeOf(d)?.result?.id === first.id)!.decidedAt;
    const retrain = ds.find((d) => d.kind === 'retrain');
    expect(retrain, ds.map((d) => `${d.kind}: ${d.reason}`).join('\n')).toBeDefined();
    expect(retrain!.decidedAt).toBeGreaterThanOrEqual(resultAt);
    expect(retrain!.reason).toMatch(/challenger trained on the latest training window beat it/);
    expect((retrain!.details as { inputs: { probeId: string } }).inputs.probeId).toBe(first.id);
    expect(ds.some((d) => d.kind === 'promote')).toBe(true);
    // The probe's challenger never served: it never left its stage, and the promoted version is another.
    const events = await registry.stageHistory(beatable, first.challenger!.version);
    expect(events.every((e) => e.toStage === 'probe')).toBe(true);
    expect((await registry.productionVersion(beatable))?.version).not.toBe(first.challenger!.version);
  });

  it('a model no fresh model beats: the monitor probes and does not retrain', () => {
    const ds = decisions.get(optimal) ?? [];
    const started = ds.filter((d) => probeOf(d)?.started?.challenger);
    expect(started.length, ds.map((d) => `${d.kind}: ${d.reason}`).join('\n')).toBeGreaterThanOrEqual(1);
    const finished = results(ds);
    expect(finished.length).toBeGreaterThanOrEqual(1);
    for (const r of finished) {
      expect(r.verdict).not.toBe('challenger-better');
      expect(r.events).toBeGreaterThanOrEqual(200);
    }
    expect(ds.filter((d) => d.kind === 'retrain')).toEqual([]);
  });
});
