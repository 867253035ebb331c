/**
 * A challenger probe of a regression model in the ModelMonitor workflow, on the real stack
 * (time-skipping test server, chDB, the built-in ridge trainer and onnxruntime): the served
 * model ignores one of the two features that make the target, so its RMSE is flat and any fresh
 * model beats it. The cost-aware rule asks for a probe; a challenger is trained on the training
 * window (registered as a probe, never served), scores the champion's labelled events after it,
 * every pair is stored in `shadow_outcome_results` (source `probe`), and the gap — in RMSE as
 * quality, with its interval — says the challenger is better.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staggerOffsetMs, windowStartAt } from '../../detectors/monitor/schedule.ts';
import type { ProbeProvenance, ProbeResult } from '../../detectors/probes/types.ts';
import { Random } from '../../detectors/random.ts';
import { registerModel } from '../../operations/register-model.ts';
import { queryRows } from '../../platform/clickhouse/client.ts';
import { listDecisions, type DecisionRecord } from '../../platform/clickhouse/decisions-repository.ts';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { ClickHouseRegistryRepository } from '../../platform/clickhouse/registry-repository.ts';
import { parsePolicy } from '../../platform/policy-file.ts';
import { LocalArtifactStore } from '../../platform/registry/artifact-store.ts';
import { ingestHttp } from '../../workers/ingest/http.ts';
import { monitorWorkflowId } from '../../workflows/messages.ts';
import { timeWithRoomInWindows } from '../helpers/window-room.ts';
import { startMonitorHarness, type MonitorHarness } from '../helpers/monitor-harness.ts';
import { uniqueName } from '../helpers/stack.ts';

const HOUR = 3_600_000;
const EVENTS_PER_WINDOW = 400;
const WINDOWS = 10;
const TIMESTAMPS = { timestamps: { min: 0, maxAheadMs: 12 * HOUR } };

const probeOf = (d: DecisionRecord): ProbeProvenance | null =>
  ((d.details as { probe?: ProbeProvenance } | null)?.probe ?? null) as ProbeProvenance | null;
const resultsOf = (ds: DecisionRecord[]): ProbeResult[] =>
  ds.map(probeOf).flatMap((p) => (p?.result ? [p.result] : []));

/** y = 3·x1 + x2 + N(0, 1); the served model predicts 3·x1 (RMSE √2, a fresh model's 1). */
function window(modelId: string, start: number, seed: number) {
  const random = new Random(seed);
  const events: Record<string, unknown>[] = [];
  const labels: Record<string, unknown>[] = [];
  for (let i = 0; i < EVENTS_PER_WINDOW; i++) {
    const x1 = random.normal();
    const x2 = random.normal();
    const ts = start + Math.floor((i * HOUR) / EVENTS_PER_WINDOW);
    const id = `kp-${seed}-${i}`;
    events.push({
      event_id: id,
      model_id: modelId,
      model_version: 'v0',
      timestamp: ts,
      features: { x1, x2 },
      prediction: { value: 3 * x1 },
    });
    labels.push({ event_id: id, label: 3 * x1 + x2 + random.normal(), timestamp: ts + 60_000 });
  }
  return { events, labels };
}

describe('a regression model’s challenger probe in the monitor (time-skipping test server, chDB, onnxruntime)', () => {
  let harness: MonitorHarness;
  const modelId = uniqueName('kind-probe');
  let decisions: DecisionRecord[] = [];

  beforeAll(async () => {
    harness = await startMonitorHarness({ logLevel: process.env.PROBE_TEST_LOG === '1' ? 'info' : 'warn' });
    const { env, ch, config } = harness;
    const context = {
      clickhouse: ch.client,
      registry: new ClickHouseRegistryRepository(ch.client),
      artifacts: LocalArtifactStore.forDataDir(config.dataDir),
    };
    await registerModel(context, { modelId, kind: { kind: 'regression' }, actor: 'test' });
    const first = windowStartAt(
      await timeWithRoomInWindows(env, [modelId], HOUR),
      HOUR,
      staggerOffsetMs(modelId, HOUR),
    );
    const repo = new ClickHouseIngestRepository(ch.client);
    for (let w = 0; w < WINDOWS; w++) {
      const { events, labels } = window(modelId, first + w * HOUR, 40 + w);
      expect((await ingestHttp(repo, events, 'events', TIMESTAMPS)).accepted).toBe(EVENTS_PER_WINDOW);
      await ingestHttp(repo, labels, 'labels', TIMESTAMPS);
    }
    const policy = parsePolicy({
      name: 'regression-probes',
      version: '1',
      model: modelId,
      quality: { metric: 'rmse', worthlessError: 4 },
      trigger: { kind: 'cost-aware', valuePerQualityUnit: 1, retrainCost: 50 },
      // No retrain in this test: the probe is what it checks.
      guards: { cooldown: '1d', budget: { maxRetrains: 1, per: '30d' }, approval: { required: true, timeout: '48h' } },
      trainingWindow: { kind: 'fixed', duration: '2h' },
      // A wide prior on the gap: the value of knowing pays for a probe within the first hours.
      probes: { priorGap: 0.1 },
    });
    const worker = await harness.createWorker();
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('ModelMonitor', {
        workflowId: monitorWorkflowId(modelId),
        taskQueue: config.temporal.taskQueue,
        args: [{ modelId, policy: policy.policy, policyRef: policy.ref, cadence: '1h', settle: '5m' }],
      });
      // Until a probe finished (or the ingested windows ran out).
      for (let t = 0; t < WINDOWS; t++) {
        decisions = (await listDecisions(ch.client, { modelId, limit: 100 })).reverse();
        if (resultsOf(decisions).length > 0) break;
        await env.sleep(HOUR);
      }
      await handle.terminate('test over');
    });
  }, 600_000);

  afterAll(async () => {
    await harness?.teardown();
  });

  it('probes: a challenger trained on the training window scores the same events, pairs stored, the RMSE gap with its interval', async () => {
    const trail = decisions.map((d) => `${d.kind}: ${d.reason}`).join('\n');
    const started = decisions.filter((d) => probeOf(d)?.started?.challenger);
    expect(started.length, trail).toBeGreaterThanOrEqual(1);
    const first = probeOf(started[0]!)!.started!;
    expect(first.challenger!.trainingRows).toBeGreaterThan(300);
    const registry = new ClickHouseRegistryRepository(harness.ch.client);
    expect((await registry.requireVersion(modelId, first.challenger!.version)).stage).toBe('probe');
    // Scored beside the champion; every pair stored under the probe's evaluation.
    const scored = decisions
      .map(probeOf)
      .filter((p) => p?.scored?.id === first.id)
      .at(-1)?.scored;
    expect(scored, trail).toBeDefined();
    expect(scored!.metric).toBe('rmse');
    expect(scored!.events).toBeGreaterThanOrEqual(200);
    const [stored] = await queryRows<{ n: string; kinds: string[]; sse_champion: number; sse_challenger: number }>(
      harness.ch.client,
      `SELECT count() AS n, groupUniqArray(kind) AS kinds, sum(champion_loss) AS sse_champion, sum(candidate_loss) AS sse_challenger
       FROM shadow_outcome_results FINAL
       WHERE model_id = {m:String} AND evaluation_id = {e:String} AND source = 'probe' AND loss = 'squaredError'`,
      { m: modelId, e: scored!.evaluationId },
    );
    expect(Number(stored!.n)).toBe(scored!.events);
    expect(stored!.kinds).toEqual(['regression']);
    // The gap: the challenger is better on the same events, in RMSE as quality (1 − RMSE / 4).
    const result = resultsOf(decisions).find((r) => r.id === first.id)!;
    expect(result.metric).toBe('rmse');
    expect(result.verdict).toBe('challenger-better');
    expect(result.events).toBe(scored!.events);
    const n = result.events;
    expect(result.champion!).toBeCloseTo(1 - Math.sqrt(Number(stored!.sse_champion) / n) / 4, 9);
    expect(result.challenger!).toBeCloseTo(1 - Math.sqrt(Number(stored!.sse_challenger) / n) / 4, 9);
    // RMSE √2 against ~1: a gap near (√2 − 1) / 4 ≈ 0.10.
    expect(result.gap!).toBeGreaterThan(0.06);
    expect(result.gap!).toBeLessThan(0.14);
    expect(result.lower!).toBeGreaterThan(0);
    // The challenger never served.
    const history = await registry.stageHistory(modelId, first.challenger!.version);
    expect(history.every((e) => e.toStage === 'probe')).toBe(true);
  });
});
