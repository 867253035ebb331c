import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../../detectors/random.ts';
import { multiclassLogLossContribution } from '../../detectors/quality/multiclass-log-loss.ts';
import { canaryCheck } from '../../operations/canary-check.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { declareModelKind } from '../../platform/clickhouse/model-kind-repository.ts';
import type { LabelRow, ScoringEventRow } from '../../platform/contracts.ts';
import { multiclassOutcome, regressionOutcome } from '../helpers/outcome-history.ts';
import { testConfig } from '../helpers/stack.ts';

const CLASSES = ['a', 'b', 'c'];
const SINCE = Date.UTC(2026, 5, 1);
const N = 300;

/** A version's canary events: multiclass vectors `sharpness` sure of the truth, or predictions off by N(0, sd). */
function events(modelId: string, version: string, kind: 'multiclass' | 'regression', quality: number, seed: number) {
  const random = new Random(seed);
  const rows: ScoringEventRow[] = [];
  const labels: LabelRow[] = [];
  const truths: number[] = [];
  const outputs: number[][] = [];
  for (let i = 0; i < N; i++) {
    const id = `${modelId}-${version}-${i}`;
    let truth: number;
    let probabilities: Record<string, number> = {};
    let value: number | null = null;
    if (kind === 'multiclass') {
      const outcome = multiclassOutcome(random, CLASSES.length, quality);
      truth = outcome.truth;
      probabilities = Object.fromEntries(CLASSES.map((c, k) => [c, outcome.probabilities[k]!]));
      outputs.push(outcome.probabilities);
    } else {
      const outcome = regressionOutcome(random, quality, { mean: 50, sd: 10 });
      truth = outcome.truth;
      value = outcome.prediction;
      outputs.push([value]);
    }
    truths.push(truth);
    rows.push({
      event_id: id,
      model_id: modelId,
      model_version: version,
      ts: SINCE + 1000 + i * 1000,
      subject_id: 's',
      num_features: { x: 1 },
      cat_features: {},
      missing_features: [],
      prediction_score: null,
      prediction_class: null,
      prediction_value: value,
      prediction_probabilities: probabilities,
      metadata: { latency_ms: '0.0100' },
      contract_version: 1,
      source: 'kafka',
      source_ref: 'test',
    });
    labels.push({
      event_id: id,
      label: kind === 'multiclass' ? (CLASSES[truth] as string) : String(truth),
      label_numeric: kind === 'multiclass' ? null : truth,
      label_ts: SINCE + 2000 + i * 1000,
      contract_version: 1,
      source: 'kafka',
      source_ref: 'test',
    });
  }
  const meanLoss =
    kind === 'multiclass'
      ? truths.reduce((s, y, i) => s + multiclassLogLossContribution(outputs[i]!, y), 0) / N
      : truths.reduce((s, y, i) => s + (y - outputs[i]![0]!) ** 2, 0) / N;
  return { rows, labels, meanLoss };
}

/**
 * The canary check of a multiclass and a regression model (chDB): with no score to compare, its
 * quality check is the log loss of the class probabilities, or the RMSE of the predictions, of
 * candidate and champion on their labelled canary events — computed in ClickHouse, equal to the
 * per-event losses summed here.
 */
describe('canary check of multiclass and regression models (chDB)', () => {
  let ch: ClickHouse;
  const expected = new Map<string, number>();

  beforeAll(async () => {
    ch = await openClickHouse(testConfig());
    await applyMigrations(ch.client);
    await declareModelKind(ch.client, 'mc', { kind: 'multiclass', classes: CLASSES }, 'test');
    await declareModelKind(ch.client, 'reg', { kind: 'regression' }, 'test');
    const repo = new ClickHouseIngestRepository(ch.client);
    const versions: [string, string, 'multiclass' | 'regression', number][] = [
      ['mc', 'v1', 'multiclass', 2.5],
      ['mc', 'v2', 'multiclass', 2.4],
      ['mc', 'v3', 'multiclass', 0.3],
      ['reg', 'v1', 'regression', 3],
      ['reg', 'v2', 'regression', 3.1],
      ['reg', 'v3', 'regression', 9],
    ];
    for (const [i, [model, version, kind, quality]] of versions.entries()) {
      const e = events(model, version, kind, quality, 100 + i);
      await repo.insertScoringEvents(e.rows);
      await repo.insertLabels(e.labels);
      expected.set(`${model}/${version}`, e.meanLoss);
    }
  });
  afterAll(async () => {
    await ch?.close();
  });

  for (const model of ['mc', 'reg'])
    it(`${model}: a candidate as good as the champion is healthy, a worse one is not; the losses are the events'`, async () => {
      const check = (candidateVersion: string) =>
        canaryCheck(ch.client, {
          modelId: model,
          candidateVersion,
          championVersion: 'v1',
          since: SINCE,
          minEvents: 100,
        });
      const good = await check('v2');
      expect(good.healthy, good.reasons.join('; ')).toBe(true);
      expect(good.loss?.kind).toBe(model === 'mc' ? 'multiclass' : 'regression');
      expect(good.loss?.candidate.labelled).toBe(N);
      expect(good.loss?.candidate.meanLoss).toBeCloseTo(expected.get(`${model}/v2`)!, 9);
      expect(good.loss?.champion?.meanLoss).toBeCloseTo(expected.get(`${model}/v1`)!, 9);
      expect(good.reasons.join(' ')).toMatch(model === 'mc' ? /log loss .* vs champion/ : /RMSE .* vs champion/);

      const bad = await check('v3');
      expect(bad.healthy).toBe(false);
      expect(bad.reasons.join(' ')).toMatch(
        model === 'mc' ? /log loss .* on labelled canary events/ : /RMSE .* \(more than 10% above\)/,
      );
      expect(bad.loss?.candidate.meanLoss).toBeCloseTo(expected.get(`${model}/v3`)!, 9);
    });
});
