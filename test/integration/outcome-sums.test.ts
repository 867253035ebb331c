import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multiclassConfusion } from '../../detectors/quality/multiclass-f1.ts';
import { multiclassLogLoss, multiclassLogLossContribution } from '../../detectors/quality/multiclass-log-loss.ts';
import {
  realisedFromSums,
  type MulticlassSums,
  type RegressionOutcomeSums,
} from '../../detectors/quality/outcome-sums.ts';
import { regressionQuality } from '../../detectors/quality/regression.ts';
import { Random } from '../../detectors/random.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { lateOutcomeSums, outcomeSums } from '../../platform/clickhouse/outcome-sums-repository.ts';
import type { LabelRow, ScoringEventRow } from '../../platform/contracts.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';

/**
 * A multiclass and a regression model's windows summed in SQL (embedded chDB), against the
 * detectors' functions on the same rows: the confusion counts and log-loss sums, the error and
 * target sums, labels cut at the window's arrival instant, classes the model does not list
 * counted apart.
 */

const HOUR = 3_600_000;
const START = Date.UTC(2025, 6, 1);
const END = START + 24 * HOUR;
const ARRIVED_BY = END + 6 * HOUR;
const CLASSES = ['cat', 'dog', 'bird'];

interface MulticlassEvent {
  id: string;
  ts: number;
  probabilities: number[] | null;
  predictedClass: string | null;
  truth: string;
  labelTs: number;
}

interface RegressionEvent {
  id: string;
  ts: number;
  prediction: number;
  truth: number;
  labelTs: number;
}

function base(modelId: string, id: string, ts: number): Omit<ScoringEventRow, 'prediction_class' | 'prediction_value'> {
  return {
    event_id: id,
    model_id: modelId,
    model_version: 'v1',
    ts,
    subject_id: '',
    num_features: { x: 1 },
    cat_features: {},
    missing_features: [],
    prediction_score: null,
    metadata: {},
    contract_version: 1,
    source: 'test',
    source_ref: '',
  };
}

describe('outcome sums of multiclass and regression windows (embedded chDB)', () => {
  let ch: ClickHouse;
  const multiclassModel = uniqueName('mc');
  const regressionModel = uniqueName('reg');
  const random = new Random(11);

  const multiclass: MulticlassEvent[] = Array.from({ length: 900 }, (_, i) => {
    const raw = CLASSES.map(() => random.uniform(0.05, 1));
    const total = raw.reduce((a, b) => a + b, 0);
    const probabilities = raw.map((p) => p / total);
    const truth = i % 97 === 0 ? 'fish' : (CLASSES[random.integer(0, 2)] as string);
    const ts = START + Math.floor((i * 24 * HOUR) / 900);
    return {
      id: `mc-${i}`,
      ts,
      // Every seventh event sends only its class; every thirteenth both (its class then counts).
      probabilities: i % 7 === 0 ? null : probabilities,
      predictedClass: i % 7 === 0 || i % 13 === 0 ? (CLASSES[(i >> 1) % 3] as string) : null,
      truth,
      // A fifth of the labels arrive after the decision time.
      labelTs: ts + (i % 5 === 0 ? 40 * HOUR : HOUR),
    };
  });
  const regression: RegressionEvent[] = Array.from({ length: 700 }, (_, i) => {
    const truth = random.normal(50, 12);
    const ts = START + Math.floor((i * 24 * HOUR) / 700);
    return {
      id: `reg-${i}`,
      ts,
      prediction: truth + random.normal(2, 5),
      truth,
      labelTs: ts + (i % 4 === 0 ? 40 * HOUR : HOUR),
    };
  });

  beforeAll(async () => {
    ch = await openClickHouse(testConfig());
    await applyMigrations(ch.client);
    const repository = new ClickHouseIngestRepository(ch.client);
    await repository.insertScoringEvents([
      ...multiclass.map((e): ScoringEventRow => ({
        ...base(multiclassModel, e.id, e.ts),
        prediction_class: e.predictedClass,
        prediction_value: null,
        ...(e.probabilities
          ? { prediction_probabilities: Object.fromEntries(CLASSES.map((c, k) => [c, e.probabilities![k]!])) }
          : {}),
      })),
      ...regression.map((e): ScoringEventRow => ({
        ...base(regressionModel, e.id, e.ts),
        prediction_class: null,
        prediction_value: e.prediction,
      })),
    ]);
    const label = (id: string, truth: string | number, labelTs: number): LabelRow => ({
      event_id: id,
      label: String(truth),
      label_numeric: typeof truth === 'number' ? truth : null,
      label_ts: labelTs,
      contract_version: 1,
      source: 'test',
      source_ref: '',
    });
    await repository.insertLabels([
      ...multiclass.map((e) => label(e.id, e.truth, e.labelTs)),
      ...regression.map((e) => label(e.id, e.truth, e.labelTs)),
    ]);
  }, 120_000);

  afterAll(async () => {
    await ch?.close();
  });

  const read = () =>
    outcomeSums(ch.client, [
      {
        modelId: multiclassModel,
        start: START,
        end: END,
        kind: { kind: 'multiclass', classes: CLASSES },
        labelsArrivedBy: ARRIVED_BY,
      },
      { modelId: regressionModel, start: START, end: END, kind: { kind: 'regression' }, labelsArrivedBy: ARRIVED_BY },
    ]);

  it('sums the confusion counts and the log loss as the detectors do on the arrived labels', async () => {
    const [sums] = (await read()) as [MulticlassSums];
    const arrived = multiclass.filter((e) => e.labelTs < ARRIVED_BY);
    const known = arrived.filter((e) => CLASSES.includes(e.truth));
    const predicted = (e: MulticlassEvent): number =>
      e.predictedClass !== null
        ? CLASSES.indexOf(e.predictedClass)
        : e.probabilities!.indexOf(Math.max(...e.probabilities!));
    expect(sums.unknownClass).toBe(arrived.length - known.length);
    expect(sums.unknownClass).toBeGreaterThan(0);
    expect(sums.confusion).toEqual(
      multiclassConfusion(
        known.map((e) => CLASSES.indexOf(e.truth)),
        known.map(predicted),
        3,
      ),
    );
    const withProbabilities = known.filter((e) => e.probabilities !== null);
    expect(sums.lossN).toBe(withProbabilities.length);
    const losses = withProbabilities.map((e) =>
      multiclassLogLossContribution(e.probabilities!, CLASSES.indexOf(e.truth)),
    );
    expect(sums.lossSum).toBeCloseTo(
      losses.reduce((a, b) => a + b, 0),
      8,
    );
    expect(sums.lossSquares).toBeCloseTo(
      losses.reduce((a, b) => a + b * b, 0),
      8,
    );
    const direct = multiclassLogLoss(
      withProbabilities.map((e) => CLASSES.indexOf(e.truth)),
      withProbabilities.map((e) => e.probabilities!),
    );
    const fromSql = realisedFromSums('log_loss', sums)!;
    expect(fromSql.value).toBeCloseTo(direct.value!, 12);
    expect(fromSql.interval!.lower).toBeCloseTo(direct.interval!.lower, 12);
    expect(fromSql.interval!.upper).toBeCloseTo(direct.interval!.upper, 12);
  });

  it('sums the errors and the target as the detectors do on the arrived labels', async () => {
    const [, sums] = (await read()) as [MulticlassSums, RegressionOutcomeSums];
    const arrived = regression.filter((e) => e.labelTs < ARRIVED_BY);
    expect(sums.n).toBe(arrived.length);
    const direct = regressionQuality(
      arrived.map((e) => e.truth),
      arrived.map((e) => e.prediction),
    );
    expect(realisedFromSums('mae', sums)!.value).toBeCloseTo(direct.mae.value!, 9);
    expect(realisedFromSums('rmse', sums)!.value).toBeCloseTo(direct.rmse.value!, 9);
    expect(realisedFromSums('r2', sums)!.value).toBeCloseTo(direct.r2.value!, 9);
    const errors = arrived.map((e) => e.truth - e.prediction);
    expect(sums.sumFourthPowerError).toBeCloseTo(
      errors.reduce((a, e) => a + e ** 4, 0),
      3,
    );
  });

  it('labels arriving after the decision are summed per earlier window, as the detectors sum them', async () => {
    const halves = [
      { start: START, end: START + 12 * HOUR },
      { start: START + 12 * HOUR, end: END },
    ];
    const arrived = { start: ARRIVED_BY, end: END + 48 * HOUR };
    const late = await lateOutcomeSums(
      ch.client,
      multiclassModel,
      { kind: 'multiclass', classes: CLASSES },
      halves,
      arrived,
    );
    expect(late.map((l) => l.start)).toEqual(halves.map((h) => h.start));
    late.forEach(({ start, sums }, k) => {
      const rows = multiclass.filter(
        (e) => e.ts >= start && e.ts < halves[k]!.end && e.labelTs >= ARRIVED_BY && CLASSES.includes(e.truth),
      );
      const predicted = (e: MulticlassEvent): number =>
        e.predictedClass !== null
          ? CLASSES.indexOf(e.predictedClass)
          : e.probabilities!.indexOf(Math.max(...e.probabilities!));
      expect((sums as MulticlassSums).confusion).toEqual(
        multiclassConfusion(
          rows.map((e) => CLASSES.indexOf(e.truth)),
          rows.map(predicted),
          3,
        ),
      );
    });
    const lateRegression = await lateOutcomeSums(ch.client, regressionModel, { kind: 'regression' }, halves, arrived);
    const rows = regression.filter((e) => e.labelTs >= ARRIVED_BY);
    expect(lateRegression.reduce((n, l) => n + (l.sums as RegressionOutcomeSums).n, 0)).toBe(rows.length);
    const first = rows.filter((e) => e.ts < halves[0]!.end);
    const direct = regressionQuality(
      first.map((e) => e.truth),
      first.map((e) => e.prediction),
    );
    expect(realisedFromSums('rmse', lateRegression[0]!.sums)!.value).toBeCloseTo(direct.rmse.value!, 9);
  });

  it('a window before its labels arrive has no labelled events', async () => {
    const [mc, reg] = await outcomeSums(ch.client, [
      {
        modelId: multiclassModel,
        start: START,
        end: END,
        kind: { kind: 'multiclass', classes: CLASSES },
        labelsArrivedBy: START,
      },
      { modelId: regressionModel, start: START, end: END, kind: { kind: 'regression' }, labelsArrivedBy: START },
    ]);
    expect((mc as MulticlassSums).confusion.flat().every((x) => x === 0)).toBe(true);
    expect((reg as RegressionOutcomeSums).n).toBe(0);
  });
});
