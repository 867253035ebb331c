import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latencySamplesByRun, p99 } from '../../detectors/promotion/guardrails.ts';
import { Random } from '../../detectors/random.ts';
import { queryRows } from '../../platform/clickhouse/client.ts';
import { listDecisions } from '../../platform/clickhouse/decisions-repository.ts';
import { declareModelKind, type ModelKindDeclaration } from '../../platform/clickhouse/model-kind-repository.ts';
import {
  liveOutcomePairs,
  livePairCount,
  shadowOutcomeEvaluations,
  shadowOutcomePairs,
} from '../../platform/clickhouse/shadow-outcome-repository.ts';
import { createKafka, createProducer } from '../../platform/kafka.ts';
import { shadowModelId } from '../../platform/registry/shadow.ts';
import { connectTemporal } from '../../platform/temporal.ts';
import { DEFAULT_RETRAIN_SETTINGS, type RetrainInput, type RetrainResult } from '../../workflows/retrain.ts';
import { waitUntil } from '../helpers/kafka.ts';
import { OUTCOME_CLASSES, seedFeatureHistory, truthFromFeatures } from '../helpers/outcome-history.ts';
import { runTemporalWorker, startServingStack, type ServingStack } from '../helpers/serving-stack.ts';
import { uniqueName } from '../helpers/stack.ts';
import { T0 } from './training-fixtures.ts';

const HISTORY = 1200;
const MIN_PAIRS = 100;
/**
 * Latency samples the guardrail needs from each side: one per scorer run (the traffic sends 20
 * requests at a time, so MIN_PAIRS pairs come from about MIN_PAIRS / 20 runs). Enough for the
 * ratios these tests judge, far from either side of the limit.
 */
const MIN_LATENCY_RUNS = 4;
/**
 * The latency guardrail these retrains are judged by (challenger p99 / champion p99, each side's
 * onnxruntime time in the same batches): far above two equal models' ratio (about 1; up to ~2 on
 * this loaded machine) and far below the slow challenger's (its ~1 ms a row against a ridge
 * model's hundredths of a millisecond), so neither verdict rests on the machine's load.
 */
const LATENCY_LIMIT = 10;
/** A command trainer whose regression model is ridge plus 64 dead-weight [512, 512] products a row (~1 ms). */
const SLOW_TRAINER = {
  kind: 'command' as const,
  command: [path.resolve('node_modules/.bin/tsx'), path.resolve('test/fixtures/slow-trainer/slow-ridge.ts')],
  params: { alpha: 30, width: 512, depth: 64 },
};

/**
 * The live shadow of a multiclass and a regression challenger on the real stack (Temporal dev
 * server, Kafka, chDB, the reference scorer with onnxruntime-node): v1 is trained and served; the
 * retrain of v2 publishes it in shadow, the scorer scores every request with both, labels arrive
 * on Kafka for the champion's events, and once enough pairs are labelled the verdict rests on the
 * live pairs — the decision says so and how many — and every pair is stored with what each side
 * served. A retrain whose shadow sees no labels in its wait falls back to a replay and says why.
 */
describe('the live shadow of multiclass and regression challengers', () => {
  let stack: ServingStack;
  let stopWorker: () => Promise<void>;
  const models = {
    multiclass: {
      id: uniqueName('mc-live'),
      kind: { kind: 'multiclass', classes: OUTCOME_CLASSES } satisfies ModelKindDeclaration,
    },
    regression: { id: uniqueName('reg-live'), kind: { kind: 'regression' } satisfies ModelKindDeclaration },
  };
  const quality = {
    multiclass: { metric: 'log_loss' as const },
    regression: { metric: 'rmse' as const, worthlessError: 8 },
  };

  beforeAll(async () => {
    stack = await startServingStack({ temporal: { taskQueue: uniqueName('shadow-live-tq') } });
    stopWorker = await runTemporalWorker(stack);
    for (const [i, m] of Object.values(models).entries()) {
      await declareModelKind(stack.ch.client, m.id, m.kind, 'test');
      // The history v1 trains on, in the features the serving stack's traffic sends (f1, f2, f3 and a region).
      await seedFeatureHistory(stack.ch.client, {
        modelId: m.id,
        kind: m.kind.kind,
        events: HISTORY,
        random: new Random(i + 1),
        start: T0,
        eventId: (e) => `${m.id}-h${e}`,
      });
    }
  });
  afterAll(async () => {
    await stopWorker?.();
    await stack?.stop();
  });

  async function startRetrain(
    kind: keyof typeof models,
    championVersion: string | null,
    live: { maxWait: string; pollEvery: string } | undefined,
    trainer?: RetrainInput['settings']['trainer'],
  ) {
    const { client, connection } = await connectTemporal(stack.config);
    const retrainId = uniqueName('retrain');
    const input: RetrainInput = {
      retrainId,
      modelId: models[kind].id,
      championVersion,
      trainingWindow: { kind: 'fixed', start: T0, end: T0 + HISTORY * 1000 },
      decisionId: 'test-decision',
      policy: { name: 'kinds', version: '1', hash: '0'.repeat(64) },
      actor: 'system',
      settings: {
        ...DEFAULT_RETRAIN_SETTINGS,
        // A milder penalty than v1's default: a different model, not a worse one.
        trainer: trainer ?? {
          kind: 'builtin',
          params: championVersion === null ? {} : kind === 'multiclass' ? { l2: 3 } : { alpha: 30 },
        },
        shadow: {
          mode: 'non-inferiority',
          margin: kind === 'multiclass' ? 0.1 : 0.5,
          lookback: '1d',
          maxEvents: 20_000,
          minEvents: MIN_PAIRS,
          guardrails: { maxLatencyP99Ratio: LATENCY_LIMIT, minLatencySamples: MIN_LATENCY_RUNS },
          ...(live ? { live } : {}),
        },
      },
      quality: quality[kind],
    };
    const handle = await client.workflow.start('Retrain', {
      workflowId: retrainId,
      taskQueue: stack.config.temporal.taskQueue,
      args: [input],
    });
    return {
      result: (async () => {
        try {
          return (await handle.result()) as RetrainResult;
        } finally {
          await connection.close();
        }
      })(),
    };
  }

  /** Labels for the champion's live events as they land, from the same truth, through Kafka. */
  function labelLiveEvents(since: number): { stop: () => Promise<number> } {
    const producer = createProducer(createKafka(stack.config, { clientId: 'test-labeller' }));
    const random = new Random(99);
    const sent = new Set<string>();
    let running = true;
    const loop = (async () => {
      await producer.connect();
      while (running) {
        for (const m of Object.values(models)) {
          const rows = await queryRows<{ event_id: string; f: Record<string, number> }>(
            stack.ch.client,
            `SELECT event_id, num_features AS f FROM scoring_events
             WHERE model_id = {m:String} AND source = 'kafka' AND ingested_at > fromUnixTimestamp64Milli({since:Int64})`,
            { m: m.id, since },
          );
          const fresh = rows.filter((r) => !sent.has(r.event_id));
          if (fresh.length === 0) continue;
          const now = Date.now();
          await producer.send({
            topic: stack.config.kafka.labelsTopic,
            acks: -1,
            messages: fresh.map((r) => {
              sent.add(r.event_id);
              const f = { f1: r.f.f1 ?? 0, f2: r.f.f2 ?? 0, f3: r.f.f3 ?? 0 };
              const label = truthFromFeatures(m.kind.kind, f, random);
              return {
                key: r.event_id,
                value: JSON.stringify({
                  event_id: r.event_id,
                  label: m.kind.kind === 'regression' ? Number(label) : label,
                  timestamp: now,
                }),
              };
            }),
          });
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    return {
      async stop() {
        running = false;
        await loop;
        await producer.disconnect();
        return sent.size;
      },
    };
  }

  it(
    'the verdict rests on the pairs both versions scored live, every pair stored with what each side served',
    { timeout: 420_000 },
    async () => {
      const kinds = ['multiclass', 'regression'] as const;
      const began = Date.now();
      const phase = (what: string) => stack.log.warn({ elapsedMs: Date.now() - began }, `live shadow test: ${what}`);
      // v1: trained on the history and served.
      const firsts = await Promise.all(kinds.map(async (k) => (await startRetrain(k, null, undefined)).result));
      for (const first of firsts) expect(first.outcome, first.reason).toBe('promoted');
      phase('v1 promoted');

      // v2: published in shadow beside v1 until enough live pairs are labelled.
      const seconds = await Promise.all(kinds.map((k) => startRetrain(k, 'v1', { maxWait: '5m', pollEvery: '2s' })));
      const settled = Promise.all(seconds.map((r) => r.result));
      for (const k of kinds)
        await waitUntil(
          `${k}: v2 in shadow beside v1`,
          () => stack.scorer.routing(models[k].id)?.shadow.includes('v2') ?? false,
          120_000,
          200,
        );
      phase('v2 in shadow');
      const since = Date.now();
      stack.startTraffic(kinds.map((k) => models[k].id));
      const labeller = labelLiveEvents(since - 1000);
      let results: RetrainResult[];
      try {
        results = await settled;
      } finally {
        await stack.stopTraffic();
        await labeller.stop();
      }
      phase('v2 decided');

      for (const [i, k] of kinds.entries()) {
        const modelId = models[k].id;
        const result = results[i]!;
        expect(result.outcome, result.reason).toBe('promoted');
        expect(result.version).toBe('v2');
        const [promotion] = (await listDecisions(stack.ch.client, { modelId, kinds: ['promote'] })).filter(
          (d) => d.modelVersion === 'v2',
        );
        const provenance = (promotion!.statistics as { shadowSource: Record<string, unknown> }).shadowSource as {
          evaluationId: string;
          n: number;
          source: string;
          live: {
            used: boolean;
            labelledPairs: number;
            minEvents: number;
            reason: string;
            window: { start: number; end: number };
          };
        };
        expect(provenance.source).toBe('live');
        expect(provenance.live.used).toBe(true);
        expect(provenance.live.labelledPairs).toBeGreaterThanOrEqual(MIN_PAIRS);
        expect(provenance.live.reason).toMatch(/labelled live pairs .*rests on the events both versions scored live/);
        expect(provenance.n).toBe(result.verdict!.statistics.n);
        expect(provenance.n).toBeGreaterThanOrEqual(MIN_PAIRS);
        expect(result.verdict!.statistics.metric).toBe(k === 'multiclass' ? 'logLoss' : 'squaredError');

        // Every stored pair is what the scorer served for that request: the champion's production
        // event (v1) and the challenger's shadow event (v2), with the label that arrived.
        const pairs = await shadowOutcomePairs(stack.ch.client, modelId, provenance.evaluationId, 100_000);
        expect(pairs).toHaveLength(provenance.n);
        const served = await queryRows<{
          event_id: string;
          model_id: string;
          model_version: string;
          probabilities: Record<string, number>;
          value: number | null;
        }>(
          stack.ch.client,
          `SELECT event_id, model_id, model_version, prediction_probabilities AS probabilities, prediction_value AS value
         FROM scoring_events FINAL WHERE model_id IN {ids:Array(String)} AND event_id IN {events:Array(String)}`,
          { ids: [modelId, shadowModelId(modelId)], events: pairs.map((p) => p.event_id) },
        );
        const side = (id: string, shadow: boolean) =>
          served.find((s) => s.event_id === id && s.model_id === (shadow ? shadowModelId(modelId) : modelId))!;
        const labels = await queryRows<{ event_id: string; label: string }>(
          stack.ch.client,
          `SELECT event_id, argMax(label, label_ts) AS label FROM labels WHERE event_id IN {events:Array(String)} GROUP BY event_id`,
          { events: pairs.map((p) => p.event_id) },
        );
        const labelOf = new Map(labels.map((l) => [l.event_id, l.label]));
        let differ = 0;
        for (const p of pairs) {
          const champion = side(p.event_id, false);
          const challenger = side(p.event_id, true);
          expect([champion.model_version, challenger.model_version]).toEqual(['v1', 'v2']);
          if (k === 'multiclass') {
            expect(p.champion_probabilities).toEqual(champion.probabilities);
            expect(p.candidate_probabilities).toEqual(challenger.probabilities);
            expect(p.label_class).toBe(labelOf.get(p.event_id));
            expect(p.champion_loss).toBeCloseTo(-Math.log(champion.probabilities[p.label_class]!), 9);
            expect(p.candidate_loss).toBeCloseTo(-Math.log(challenger.probabilities[p.label_class]!), 9);
            if (champion.probabilities.mid !== challenger.probabilities.mid) differ++;
          } else {
            expect(p.champion_value).toBe(Number(champion.value));
            expect(p.candidate_value).toBe(Number(challenger.value));
            expect(p.label_value).toBeCloseTo(Number(labelOf.get(p.event_id)), 9);
            expect(p.champion_loss).toBeCloseTo((p.label_value! - p.champion_value!) ** 2, 9);
            expect(p.candidate_loss).toBeCloseTo((p.label_value! - p.candidate_value!) ** 2, 9);
            if (p.champion_value !== p.candidate_value) differ++;
          }
        }
        // Two different models scored these events.
        expect(differ).toBeGreaterThan(pairs.length / 2);
        // The verdict's figures are the stored pairs' mean losses.
        const [evaluation] = (await shadowOutcomeEvaluations(stack.ch.client, modelId)).filter(
          (e) => e.evaluation_id === provenance.evaluationId,
        );
        expect(evaluation).toMatchObject({ source: 'live', kind: k, candidate: 'v2', champion: 'v1' });
        const improvement = result.verdict!.statistics.improvement!;
        expect(Number(evaluation!.loss_champion)).toBeCloseTo(improvement.champion, 9);
        expect(Number(evaluation!.loss_candidate)).toBeCloseTo(improvement.challenger, 9);
        expect(stack.scorer.routing(modelId)).toEqual({ live: [{ version: 'v2', share: 1 }], shadow: [] });

        // The latency guardrail was judged, on the latencies the scorer served each side with,
        // and an equal challenger passes it.
        const guardrails = result.verdict!.statistics.guardrails;
        expect(guardrails.notEvaluated.filter((why) => why.startsWith('latency'))).toEqual([]);
        expect(guardrails.violations).toEqual([]);
        const latencies = await servedLatencies(modelId, provenance.evaluationId);
        expect(guardrails.championLatencyP99Ms).toBeCloseTo(p99(latencies.champion), 9);
        expect(guardrails.challengerLatencyP99Ms).toBeCloseTo(p99(latencies.challenger), 9);
        expect(guardrails.latencyP99Ratio).toBeGreaterThan(0);
        expect(guardrails.latencyP99Ratio).toBeLessThan(LATENCY_LIMIT);
        phase(`${k}: latency p99 ratio ${guardrails.latencyP99Ratio!.toFixed(2)} (an equal challenger)`);

        // The scorer runs the wait counted in SQL are the latency samples the verdict counts
        // (one per run), and the wait ended with enough of them on each side.
        const liveQuery = {
          modelId,
          shadowModelId: shadowModelId(modelId),
          championVersion: 'v1',
          candidateVersion: 'v2',
          window: provenance.live.window,
          trainingSnapshotId: result.lineageId!,
        };
        const counted = await livePairCount(stack.ch.client, liveQuery);
        const livePairRows = await liveOutcomePairs(stack.ch.client, { ...liveQuery, limit: 1_000_000 });
        const latencyOf = (ms: string) => (ms === '' ? Number.NaN : Number(ms));
        expect(counted).toEqual({
          labelledPairs: livePairRows.length,
          latencyRuns: {
            champion: latencySamplesByRun(
              livePairRows.map((r) => latencyOf(r.champion_latency)),
              livePairRows.map((r) => r.champion_latency_run),
            ).length,
            candidate: latencySamplesByRun(
              livePairRows.map((r) => latencyOf(r.candidate_latency)),
              livePairRows.map((r) => r.candidate_latency_run),
            ).length,
          },
        });
        expect(counted.latencyRuns.champion).toBeGreaterThanOrEqual(MIN_LATENCY_RUNS);
        expect(counted.latencyRuns.candidate).toBeGreaterThanOrEqual(MIN_LATENCY_RUNS);
      }
    },
  );

  /**
   * The per-row latencies each side was served with, as the evaluation stored them with its pairs,
   * one per scorer run (the run each event's latency was measured in, from its served metadata).
   */
  async function servedLatencies(modelId: string, evaluationId: string) {
    const rows = await queryRows<{
      champion: number;
      challenger: number;
      champion_run: string;
      challenger_run: string;
    }>(
      stack.ch.client,
      `SELECT r.champion_latency_ms AS champion, r.candidate_latency_ms AS challenger,
              e.metadata['latency_run'] AS champion_run, s.metadata['latency_run'] AS challenger_run
       FROM (SELECT event_id, champion_latency_ms, candidate_latency_ms FROM shadow_outcome_results FINAL
             WHERE model_id = {m:String} AND evaluation_id = {e:String}) AS r
       INNER JOIN (SELECT event_id, metadata FROM scoring_events FINAL WHERE model_id = {m:String}) AS e ON e.event_id = r.event_id
       INNER JOIN (SELECT event_id, metadata FROM scoring_events FINAL WHERE model_id = {shadow:String}) AS s ON s.event_id = r.event_id`,
      { m: modelId, shadow: shadowModelId(modelId), e: evaluationId },
    );
    const perRun = (side: 'champion' | 'challenger') => {
      const runs = new Map<string, number>();
      for (const r of rows) {
        const run = side === 'champion' ? r.champion_run : r.challenger_run;
        expect(run).not.toBe('');
        // The events of one run carry its one measurement.
        if (runs.has(run)) expect(runs.get(run)).toBe(Number(r[side]));
        runs.set(run, Number(r[side]));
      }
      return [...runs.values()];
    };
    const champion = perRun('champion');
    const challenger = perRun('challenger');
    // Runs scored several events each: counted per event, they would have been repeated samples.
    expect(champion.length).toBeLessThan(rows.length);
    expect(challenger.length).toBeLessThan(rows.length);
    return { champion, challenger };
  }

  it('falls back to a replay when too few live pairs are labelled by the end of the wait, and says so', async () => {
    const modelId = models.regression.id;
    const result = await (await startRetrain('regression', 'v2', { maxWait: '3s', pollEvery: '1s' })).result;
    expect(result.version).toBe('v3');
    // An equal challenger on the replay: the next test's champion.
    expect(result.outcome, result.reason).toBe('promoted');
    const [decision] = (await listDecisions(stack.ch.client, { modelId })).filter((d) => d.modelVersion === 'v3');
    const statistics = decision!.statistics as {
      shadow?: { statistics: { source: string; live: { used: boolean; labelledPairs: number; reason: string } } };
      shadowSource?: { source: string; live: { used: boolean; labelledPairs: number; reason: string } };
    };
    const shadow = statistics.shadow?.statistics ?? statistics.shadowSource!;
    expect(shadow.source).toBe('replay');
    expect(shadow.live.used).toBe(false);
    expect(shadow.live.labelledPairs).toBeLessThan(MIN_PAIRS);
    expect(shadow.live.reason).toMatch(/replayed stored events instead/);
    // The replay's pairs are stored too, as a replay.
    const evaluations = await shadowOutcomeEvaluations(stack.ch.client, modelId);
    expect(evaluations.some((e) => e.source === 'replay' && e.candidate === 'v3' && Number(e.n) >= MIN_PAIRS)).toBe(
      true,
    );
  });
  it(
    'rejects a live challenger that predicts as well but runs genuinely slower, on its latency alone',
    { timeout: 420_000 },
    async () => {
      const modelId = models.regression.id;
      const retrain = await startRetrain('regression', 'v3', { maxWait: '5m', pollEvery: '2s' }, SLOW_TRAINER);
      await waitUntil(
        'v4 in shadow beside v3',
        () => stack.scorer.routing(modelId)?.shadow.includes('v4') ?? false,
        120_000,
        200,
      );
      const since = Date.now();
      stack.startTraffic([modelId]);
      const labeller = labelLiveEvents(since - 1000);
      let result: RetrainResult;
      try {
        result = await retrain.result;
      } finally {
        await stack.stopTraffic();
        await labeller.stop();
      }
      expect(result.version).toBe('v4');
      expect(result.outcome, result.reason).toBe('rejected');
      const statistics = result.verdict!.statistics;
      // The verdict rests on the live pairs, and their quality alone clears the non-inferiority bar.
      expect(statistics.n).toBeGreaterThanOrEqual(MIN_PAIRS);
      expect(statistics.improvement!.lower).toBeGreaterThan(statistics.bar);
      // The latency guardrail alone rejects it.
      expect(statistics.guardrails.violations).toHaveLength(1);
      expect(statistics.guardrails.violations[0]).toMatch(/^latency p99 .*\(limit 10x\)$/);
      expect(statistics.guardrails.latencyP99Ratio).toBeGreaterThan(LATENCY_LIMIT);
      stack.log.warn(
        { ratio: statistics.guardrails.latencyP99Ratio, n: statistics.n },
        'live shadow test: latency p99 ratio of the slow challenger',
      );
      expect(result.verdict!.reasons).toEqual([`guardrail failed: ${statistics.guardrails.violations[0]}`]);
      const [rejection] = (await listDecisions(stack.ch.client, { modelId, kinds: ['reject'] })).filter(
        (d) => d.modelVersion === 'v4',
      );
      expect(rejection!.reason).toMatch(/guardrail failed: latency p99/);
      const evaluation = (await shadowOutcomeEvaluations(stack.ch.client, modelId)).find(
        (e) => e.candidate === 'v4' && e.source === 'live',
      );
      const served = await servedLatencies(modelId, evaluation!.evaluation_id);
      expect(statistics.guardrails.challengerLatencyP99Ms).toBeCloseTo(p99(served.challenger), 9);
      // Taken out of serving; the champion serves on.
      await waitUntil('v4 out of shadow', () => (stack.scorer.routing(modelId)?.shadow.length ?? 1) === 0, 60_000, 200);
      expect(stack.scorer.routing(modelId)).toEqual({ live: [{ version: 'v3', share: 1 }], shadow: [] });
    },
  );
});
