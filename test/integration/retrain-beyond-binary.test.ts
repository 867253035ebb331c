import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../../detectors/random.ts';
import { queryRows } from '../../platform/clickhouse/client.ts';
import { listDecisions } from '../../platform/clickhouse/decisions-repository.ts';
import { declareModelKind } from '../../platform/clickhouse/model-kind-repository.ts';
import { connectTemporal } from '../../platform/temporal.ts';
import { DEFAULT_RETRAIN_SETTINGS, type RetrainInput, type RetrainResult } from '../../workflows/retrain.ts';
import { waitUntil } from '../helpers/kafka.ts';
import { OUTCOME_CLASSES, seedFeatureHistory } from '../helpers/outcome-history.ts';
import { runTemporalWorker, startServingStack, type ServingStack } from '../helpers/serving-stack.ts';
import { uniqueName } from '../helpers/stack.ts';
import { T0 } from './training-fixtures.ts';

const EVENTS = 1500;

/**
 * A multiclass and a regression model through the Retrain workflow on the real stack (Temporal dev
 * server, Kafka, chDB, the reference scorer with onnxruntime-node): each declared at registration;
 * the built-in trainer of its kind (multinomial logistic; ridge) trains v1, which is promoted and
 * served; v2, trained again on the same window, passes the paired shadow test on per-event loss
 * (log loss; squared error for RMSE) against v1 and is promoted, and the scorer's events carry its
 * class-probability vectors or numeric predictions; v3, trained with a penalty that makes it worse,
 * is rejected by the shadow test with the interval in the decision's provenance.
 */
describe('multiclass and regression models: train → shadow → promote, served by the scorer', () => {
  let stack: ServingStack;
  let stopWorker: () => Promise<void>;
  const multiclass = uniqueName('mc-retrain');
  const regression = uniqueName('reg-retrain');
  const quality = {
    [multiclass]: { metric: 'log_loss' as const },
    [regression]: { metric: 'rmse' as const, worthlessError: 8 },
  };

  beforeAll(async () => {
    stack = await startServingStack({ temporal: { taskQueue: uniqueName('retrain-kinds-tq') } });
    stopWorker = await runTemporalWorker(stack);
    await declareModelKind(stack.ch.client, multiclass, { kind: 'multiclass', classes: OUTCOME_CLASSES }, 'test');
    await declareModelKind(stack.ch.client, regression, { kind: 'regression' }, 'test');
    // Labelled events in the features the serving stack's traffic sends (f1, f2, f3 and a region).
    for (const [modelId, kind, seed] of [
      [multiclass, 'multiclass', 1],
      [regression, 'regression', 2],
    ] as const)
      await seedFeatureHistory(stack.ch.client, { modelId, kind, events: EVENTS, random: new Random(seed), start: T0 });
  });
  afterAll(async () => {
    await stopWorker?.();
    await stack?.stop();
  });

  async function retrain(
    modelId: string,
    championVersion: string | null,
    params: Record<string, unknown>,
  ): Promise<{ retrainId: string; result: RetrainResult }> {
    const { client, connection } = await connectTemporal(stack.config);
    const retrainId = uniqueName('retrain');
    const input: RetrainInput = {
      retrainId,
      modelId,
      championVersion,
      trainingWindow: { kind: 'fixed', start: T0, end: T0 + EVENTS * 1000 },
      decisionId: 'test-decision',
      policy: { name: 'kinds', version: '1', hash: '0'.repeat(64) },
      actor: 'system',
      settings: {
        ...DEFAULT_RETRAIN_SETTINGS,
        trainer: { kind: 'builtin', params },
        shadow: { mode: 'non-inferiority', margin: 0.01, lookback: '1d', maxEvents: 20_000, minEvents: 100 },
      },
      quality: quality[modelId],
    };
    try {
      const result = (await client.workflow.execute('Retrain', {
        workflowId: retrainId,
        taskQueue: stack.config.temporal.taskQueue,
        args: [input],
      })) as RetrainResult;
      return { retrainId, result };
    } finally {
      await connection.close();
    }
  }

  for (const kind of ['multiclass', 'regression'] as const) {
    it(`${kind}: v1 promoted and served, v2 promoted after the paired shadow test, a worse v3 rejected with its interval`, async () => {
      const modelId = kind === 'multiclass' ? multiclass : regression;
      const worse = kind === 'multiclass' ? { l2: 400 } : { alpha: 4000 };

      const first = await retrain(modelId, null, {});
      expect(first.result.outcome, first.result.reason).toBe('promoted');
      expect(first.result.version).toBe('v1');
      const v1 = await stack.registry.requireVersion(modelId, 'v1');
      expect(v1.trainer).toBe(
        kind === 'multiclass' ? 'builtin:multinomial-logistic-regression' : 'builtin:ridge-regression',
      );
      // Numeric features only; the categorical region is named as left out.
      expect(v1.features).toEqual({ numeric: ['f1', 'f2', 'f3'], categorical: [] });
      expect(v1.metrics.ignoredCategoricalFeatures).toEqual(['region']);
      // The fresh quality is the policy's metric as quality: exp(−log loss), or 1 − RMSE / 8.
      expect(first.result.freshQuality).toBeGreaterThan(kind === 'multiclass' ? 0.5 : 0.7);
      expect(first.result.freshQuality).toBeLessThanOrEqual(1);
      // Validation kept v1's outputs on its snapshot's held-out rows: its label-free estimator's rows until it has labels.
      const [kept] = await queryRows<{ n: string; snapshots: string[] }>(
        stack.ch.client,
        `SELECT count() AS n, groupUniqArray(snapshot_id) AS snapshots FROM validation_outputs FINAL
         WHERE model_id = {m:String} AND model_version = 'v1'`,
        { m: modelId },
      );
      expect(Number(kept!.n)).toBeGreaterThan(200);
      expect(kept!.snapshots).toEqual([first.result.lineageId]);

      const second = await retrain(modelId, 'v1', {});
      expect(second.result.outcome, second.result.reason).toBe('promoted');
      expect(second.result.version).toBe('v2');
      const shadowStats = second.result.verdict!.statistics;
      expect(shadowStats.metric).toBe(kind === 'multiclass' ? 'logLoss' : 'squaredError');
      expect(shadowStats.n).toBeGreaterThanOrEqual(100);
      expect(shadowStats.improvement!.lower).toBeGreaterThan(-0.01);
      expect(stack.scorer.routing(modelId)?.live).toEqual([{ version: 'v2', share: 1 }]);
      // The promotion names the replayed evaluation it rests on, as a live one's does: its stored pairs.
      const promotion = (await listDecisions(stack.ch.client, { modelId, limit: 50 })).find(
        (d) => d.kind === 'promote' && d.modelVersion === 'v2',
      );
      const source = (promotion!.statistics as { shadowSource?: { evaluationId: string; n: number; source: string } })
        .shadowSource;
      expect(source).toMatchObject({ source: 'replay', n: shadowStats.n });
      const [pairs] = await queryRows<{ n: string }>(
        stack.ch.client,
        `SELECT count() AS n FROM shadow_outcome_results FINAL WHERE model_id = {m:String} AND evaluation_id = {e:String}`,
        { m: modelId, e: source!.evaluationId },
      );
      expect(Number(pairs!.n)).toBe(shadowStats.n);

      // The scorer serves v2 with onnxruntime and its events reach ClickHouse in the contract the monitor reads.
      const since = Date.now();
      stack.startTraffic([modelId]);
      try {
        await waitUntil(
          `scoring events of ${modelId} v2`,
          async () => ((await stack.versionsSince(modelId, since)).v2 ?? 0) >= 20,
          60_000,
          500,
        );
      } finally {
        await stack.stopTraffic();
      }
      const [served] = await queryRows<{
        probabilities: Record<string, number>;
        predicted: string | null;
        value: number | null;
        score: number | null;
      }>(
        stack.ch.client,
        `SELECT prediction_probabilities AS probabilities, prediction_class AS predicted, prediction_value AS value, prediction_score AS score
         FROM scoring_events WHERE model_id = {m:String} AND model_version = 'v2' AND source = 'kafka' LIMIT 1`,
        { m: modelId },
      );
      expect(served).toBeDefined();
      expect(served!.score).toBeNull();
      if (kind === 'multiclass') {
        expect(Object.keys(served!.probabilities).sort()).toEqual([...OUTCOME_CLASSES].sort());
        const total = Object.values(served!.probabilities).reduce((a, b) => a + b, 0);
        expect(Math.abs(total - 1)).toBeLessThan(1e-6);
        const best = Object.entries(served!.probabilities).sort((a, b) => b[1] - a[1])[0]![0];
        expect(served!.predicted).toBe(best);
      } else {
        expect(Number.isFinite(served!.value)).toBe(true);
      }

      const third = await retrain(modelId, 'v2', worse);
      expect(third.result.outcome, third.result.reason).toBe('rejected');
      expect(third.result.reason).toMatch(
        /shadow evaluation: reject: .*95% CI .* the whole interval is below the non-inferiority margin/,
      );
      const improvement = third.result.verdict!.statistics.improvement!;
      expect(improvement.upper).toBeLessThan(-0.01);
      expect(improvement.challenger).toBeGreaterThan(improvement.champion);
      const [rejection] = await listDecisions(stack.ch.client, { modelId, kinds: ['reject'] });
      expect(rejection).toBeDefined();
      const provenance = rejection!.statistics as {
        shadow: { verdict: { statistics: { improvement: { lower: number; upper: number; level: number } } } };
      };
      expect(provenance.shadow.verdict.statistics.improvement).toMatchObject({
        lower: improvement.lower,
        upper: improvement.upper,
        level: 0.95,
      });
      expect((await stack.registry.requireVersion(modelId, 'v3')).stage).toBe('rejected');
      expect(stack.scorer.routing(modelId)?.live).toEqual([{ version: 'v2', share: 1 }]);
    });
  }
});
