import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitMulticlassCbpe, type MulticlassCbpeModel } from '../../detectors/quality/cbpe-multiclass.ts';
import {
  calibrationTable,
  estimateMulticlassFromSums,
  multiclassEstimationSums as sumsOfRows,
} from '../../detectors/quality/cbpe-multiclass-sums.ts';
import { estimateDle, fitDle } from '../../detectors/quality/dle.ts';
import { Random } from '../../detectors/random.ts';
import { knownShiftClassEvent } from '../../synthetic/index.ts';
import { outcomeWindowEstimate, type OutcomeEstimatorCache } from '../../operations/outcome-estimate.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import {
  labelledProbabilityRows,
  multiclassEstimationSums,
  sampleRegressionRows,
} from '../../platform/clickhouse/outcome-estimation-repository.ts';
import type { StoredReference } from '../../platform/clickhouse/reference-repository.ts';
import {
  storeValidationOutputs,
  type ValidationOutputRow,
} from '../../platform/clickhouse/validation-outputs-repository.ts';
import type { LabelRow, ScoringEventRow } from '../../platform/contracts.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';
import { scoringEventRow } from '../helpers/stored-rows.ts';

/**
 * The label-free estimators' reads (embedded chDB) against the detectors on the same rows: a
 * multiclass window's calibrated probability sums, computed in SQL with every kind of calibrator
 * (isotonic interpolated between steps, isotonic as steps, Platt, identity), equal the sums of the
 * rows; the estimate from them equals the one from the rows; a regression window's DLE estimate
 * through the operation (fitted on the reference's labelled rows, on a sample of the window) equals
 * DLE fitted and applied to the same rows directly.
 */

const HOUR = 3_600_000;
const REFERENCE = { start: Date.UTC(2025, 7, 1), end: Date.UTC(2025, 7, 1) + 6 * HOUR };
const WINDOW = { start: REFERENCE.end, end: REFERENCE.end + 6 * HOUR };
const CLASSES = ['cat', 'dog', 'bird'];

function base(modelId: string, id: string, ts: number): ScoringEventRow {
  return scoringEventRow({ event_id: id, model_id: modelId, ts, prediction_score: null });
}

const label = (id: string, truth: string | number): LabelRow => ({
  event_id: id,
  label: String(truth),
  label_numeric: typeof truth === 'number' ? truth : null,
  label_ts: REFERENCE.start,
  contract_version: 1,
  source: 'test',
  source_ref: '',
});

/** Over-confident softmax of two features (truth drawn from the un-sharpened softmax). */
const multiclassRows = (n: number, shift: number, random: Random) =>
  Array.from({ length: n }, () => knownShiftClassEvent(random, shift, 2));

/** A regression model whose error grows with |x| and depends on a category. */
function regressionRows(n: number, shift: number, random: Random) {
  return Array.from({ length: n }, () => {
    const x = random.normal(shift, 1);
    const colour = random.next() < 0.5 ? 'red' : 'blue';
    const y = 10 * x + random.normal(0, 1);
    const spread = 1 + 2 * Math.abs(x) + (colour === 'red' ? 2 : 0);
    return { x, colour, y, prediction: y + random.normal(0, spread) };
  });
}

describe('label-free estimation reads of multiclass and regression windows (embedded chDB)', () => {
  let ch: ClickHouse;
  const multiclassModel = uniqueName('mc-est');
  const regressionModel = uniqueName('reg-est');
  const random = new Random(23);
  const mcReference = multiclassRows(1500, 0, random);
  const mcWindow = multiclassRows(800, 1, random);
  const regReference = regressionRows(1500, 0, random);
  const regWindow = regressionRows(900, 1, random);
  const at = (window: { start: number; end: number }, i: number, n: number) =>
    window.start + Math.floor(((window.end - window.start) * i) / n);

  beforeAll(async () => {
    ch = await openClickHouse(testConfig());
    await applyMigrations(ch.client);
    const repository = new ClickHouseIngestRepository(ch.client);
    const mcEvent = (prefix: string, window: typeof WINDOW, rows: typeof mcReference) =>
      rows.map((r, i): ScoringEventRow => ({
        ...base(multiclassModel, `${prefix}-${i}`, at(window, i, rows.length)),
        prediction_probabilities: Object.fromEntries(CLASSES.map((c, k) => [c, r.probabilities[k]!])),
      }));
    const regEvent = (prefix: string, window: typeof WINDOW, rows: typeof regReference) =>
      rows.map((r, i): ScoringEventRow => ({
        ...base(regressionModel, `${prefix}-${i}`, at(window, i, rows.length)),
        num_features: { x: r.x },
        cat_features: { colour: r.colour },
        prediction_value: r.prediction,
      }));
    await repository.insertScoringEvents([
      ...mcEvent('mc-ref', REFERENCE, mcReference),
      ...mcEvent('mc-win', WINDOW, mcWindow),
      ...regEvent('reg-ref', REFERENCE, regReference),
      ...regEvent('reg-win', WINDOW, regWindow),
    ]);
    await repository.insertLabels([
      ...mcReference.map((r, i) => label(`mc-ref-${i}`, CLASSES[r.truth]!)),
      ...regReference.map((r, i) => label(`reg-ref-${i}`, r.y)),
    ]);
  }, 120_000);

  afterAll(async () => {
    await ch?.close();
  });

  it('reads the labelled reference rows: true class and probability vector of each', async () => {
    const rows = await labelledProbabilityRows(
      ch.client,
      { modelId: multiclassModel, modelVersion: 'v1', ...REFERENCE },
      CLASSES,
      10_000,
    );
    expect(rows).toHaveLength(1500);
    const byVector = new Map(mcReference.map((r) => [r.probabilities.join(','), r.truth]));
    for (const r of rows) expect(byVector.get(r.probabilities.join(','))).toBe(r.truth);
  });

  it('sums calibrated probabilities in SQL as the detectors do, for every kind of calibrator', async () => {
    const fitted = fitMulticlassCbpe(
      mcReference.map((r) => r.truth),
      mcReference.map((r) => r.probabilities),
    );
    const isotonic = fitted.perClass.find((m) => m.calibrator.kind === 'isotonic');
    expect(isotonic).toBeDefined();
    const steps = isotonic!.calibrator;
    if (steps.kind !== 'isotonic') throw new Error('unreachable');
    // One class per calibrator kind: isotonic interpolated, isotonic steps only, Platt; then identity.
    const variants: MulticlassCbpeModel[] = [
      {
        ...fitted,
        perClass: [
          { ...fitted.perClass[0]!, calibrator: steps },
          {
            ...fitted.perClass[1]!,
            calibrator: { kind: 'isotonic', upperScores: steps.upperScores, values: steps.values },
          },
          { ...fitted.perClass[2]!, calibrator: { kind: 'platt', slope: 0.7, intercept: -0.2 } },
        ],
      },
      { ...fitted, perClass: fitted.perClass.map((m) => ({ ...m, calibrator: { kind: 'identity' as const } })) },
    ];
    for (const model of variants) {
      const { sums, unknownPredicted } = await multiclassEstimationSums(
        ch.client,
        { modelId: multiclassModel, ...WINDOW },
        CLASSES,
        calibrationTable(model),
      );
      expect(unknownPredicted).toBe(0);
      const direct = sumsOfRows(
        model,
        mcWindow.map((r) => r.probabilities),
      );
      expect(sums.predicted).toEqual(direct.predicted);
      sums.expectedConfusion.forEach((row, t) =>
        row.forEach((x, p) => expect(x).toBeCloseTo(direct.expectedConfusion[t]![p]!, 8)),
      );
      expect(sums.correctVariance).toBeCloseTo(direct.correctVariance, 8);
      expect(sums.expectedLoss).toBeCloseTo(direct.expectedLoss, 8);
      expect(sums.lossVariance).toBeCloseTo(direct.lossVariance, 8);
      const fromSql = estimateMulticlassFromSums(model, sums);
      const fromRows = estimateMulticlassFromSums(model, direct);
      expect(fromSql.accuracy.value).toBeCloseTo(fromRows.accuracy.value!, 10);
      expect(fromSql.macroF1.value).toBeCloseTo(fromRows.macroF1.value!, 10);
      expect(fromSql.logLoss.value).toBeCloseTo(fromRows.logLoss.value!, 10);
    }
  });

  it('estimates a multiclass window through the operation, the estimator fitted once per reference', async () => {
    const cache: OutcomeEstimatorCache = new Map();
    const reference = storedReference(multiclassModel, {});
    const request = {
      reference,
      version: 'v1',
      kind: { kind: 'multiclass' as const, classes: CLASSES },
      window: { modelId: multiclassModel, ...WINDOW },
      windowEvents: 800,
    };
    const estimate = await outcomeWindowEstimate(ch.client, request, cache);
    expect(estimate).toMatchObject({ kind: 'multiclass', method: 'CBPE', n: 800, windowEvents: 800 });
    const model = fitMulticlassCbpe(
      mcReference.map((r) => r.truth),
      mcReference.map((r) => r.probabilities),
    );
    const direct = estimateMulticlassFromSums(
      model,
      sumsOfRows(
        model,
        mcWindow.map((r) => r.probabilities),
      ),
    );
    expect(estimate.figures.accuracy!.value).toBeCloseTo(direct.accuracy.value!, 8);
    expect(estimate.figures.log_loss!.value).toBeCloseTo(direct.logLoss.value!, 8);
    expect(cache.size).toBe(1);
    await outcomeWindowEstimate(ch.client, request, cache);
    expect(cache.size).toBe(1);
    // A version with no labelled reference events has no estimator, and says so.
    const none = await outcomeWindowEstimate(ch.client, { ...request, version: 'v9' }, cache);
    expect(none).toMatchObject({ trustworthy: false, figures: {} });
    expect(none.reasons[0]).toMatch(/no CBPE estimator: the reference has no labelled events .* of version v9/);
  });

  it('estimates a regression window by DLE on a sample of its rows, as DLE on those rows directly', async () => {
    const reference = storedReference(regressionModel, {
      colour: { kind: 'categorical', counts: { blue: 700, red: 800 }, missing: 0 },
      x: { kind: 'numeric' } as unknown as StoredReference['features'][string],
    });
    const estimate = await outcomeWindowEstimate(
      ch.client,
      {
        reference,
        version: 'v1',
        kind: { kind: 'regression' },
        window: { modelId: regressionModel, ...WINDOW },
        windowEvents: 900,
      },
      new Map(),
      { sampleRows: 600 },
    );
    expect(estimate).toMatchObject({ kind: 'regression', method: 'DLE', n: 600, windowEvents: 900 });
    expect(estimate.reasons).toContain("DLE on a sample of 600 of the window's 900 events");
    // The same fit and the same sample, directly: features [x, colour code] with blue = 0, red = 1.
    const encode = (x: number, colour: string) => [x, colour === 'blue' ? 0 : 1];
    const model = fitDle(
      {
        features: regReference.map((r) => encode(r.x, r.colour)),
        predictions: regReference.map((r) => r.prediction),
      },
      regReference.map((r) => r.y),
      { categoricalFeatures: [1] },
    );
    const sample = await sampleRegressionRows(
      ch.client,
      { modelId: regressionModel, ...WINDOW },
      { numeric: ['x'], categorical: ['colour'] },
      600,
    );
    const direct = estimateDle(model, {
      features: sample.map((r) => encode(r.numeric[0]!, r.categorical[0]!)),
      predictions: sample.map((r) => r.prediction),
    });
    // Rows reach the fit in another order (by hash), so the trees may differ in the last digits.
    expect(estimate.figures.mae!.value).toBeCloseTo(direct.mae.value!, 6);
    expect(estimate.figures.rmse!.value).toBeCloseTo(direct.rmse.value!, 6);
    // The shift (larger |x|) raised the error above the reference's, and the estimate saw it.
    const referenceMae = regReference.reduce((s, r) => s + Math.abs(r.y - r.prediction), 0) / regReference.length;
    const windowMae = regWindow.reduce((s, r) => s + Math.abs(r.y - r.prediction), 0) / regWindow.length;
    expect(windowMae).toBeGreaterThan(referenceMae * 1.2);
    expect(Math.abs(estimate.figures.mae!.value! - windowMae)).toBeLessThan(0.1 * windowMae);
  });

  it("a DLE fit whose thread dies is the estimate's reason, not an error, and is fitted again on the next window", async () => {
    const reference = storedReference(regressionModel, {
      colour: { kind: 'categorical', counts: { blue: 700, red: 800 }, missing: 0 },
      x: { kind: 'numeric' } as unknown as StoredReference['features'][string],
    });
    const request = {
      reference,
      version: 'v1',
      kind: { kind: 'regression' as const },
      window: { modelId: regressionModel, ...WINDOW },
      windowEvents: 900,
    };
    const cache: OutcomeEstimatorCache = new Map();
    const exits = new URL('../fixtures/dle-fit-thread/exit-worker.mjs', import.meta.url);
    const failed = await outcomeWindowEstimate(ch.client, request, cache, {
      sampleRows: 600,
      dleFitThread: { workerUrl: exits },
    });
    expect(failed).toMatchObject({ kind: 'regression', method: 'DLE', n: 0, trustworthy: false, figures: {} });
    expect(failed.reasons).toEqual([
      "no DLE estimator: the DLE fit's thread exited with code 3 before answering; it is fitted again on the next window",
    ]);
    await expect.poll(() => cache.size).toBe(0);
    const next = await outcomeWindowEstimate(ch.client, request, cache, { sampleRows: 600 });
    expect(next).toMatchObject({ kind: 'regression', method: 'DLE', n: 600 });
    expect(next.figures.mae!.value).toBeGreaterThan(0);
    expect(cache.size).toBe(1);
  });

  /** Outputs of `version` on held-out rows, as validation stores them: the reference events' own. */
  function heldOut(modelId: string, version: string, n: number, multiclass: boolean): ValidationOutputRow[] {
    return Array.from({ length: n }, (_, i) => {
      const mc = mcReference[i]!;
      const reg = regReference[i]!;
      return {
        model_id: modelId,
        model_version: version,
        snapshot_id: `snap-${version}`,
        event_id: multiclass ? `mc-ref-${i}` : `reg-ref-${i}`,
        label: multiclass ? CLASSES[mc.truth]! : String(reg.y),
        label_numeric: multiclass ? null : reg.y,
        prediction_probabilities: multiclass
          ? Object.fromEntries(CLASSES.map((c, k) => [c, mc.probabilities[k]!]))
          : {},
        prediction_value: multiclass ? null : reg.prediction,
        scored_at: REFERENCE.end,
      };
    });
  }

  it('fits a version without labelled events of its own on its held-out rows scored at validation, and says so', async () => {
    // v2 served none of the reference's events; validation stored its outputs on 1,500 held-out
    // rows — here the same rows and outputs as v1's own events, so both estimators must agree.
    await storeValidationOutputs(ch.client, [
      ...heldOut(multiclassModel, 'v2', 1500, true),
      ...heldOut(regressionModel, 'v2', 1500, false),
      ...heldOut(regressionModel, 'v3', 300, false),
    ]);
    const mcRequest = {
      reference: storedReference(multiclassModel, {}),
      kind: { kind: 'multiclass' as const, classes: CLASSES },
      window: { modelId: multiclassModel, ...WINDOW },
      windowEvents: 800,
    };
    const own = await outcomeWindowEstimate(ch.client, { ...mcRequest, version: 'v1' }, new Map());
    const fromHoldout = await outcomeWindowEstimate(ch.client, { ...mcRequest, version: 'v2' }, new Map());
    expect(own.fittedOn).toEqual({ source: 'reference-events', rows: 1500, version: 'v1' });
    expect(fromHoldout.fittedOn).toEqual({
      source: 'validation-holdout',
      rows: 1500,
      version: 'v2',
      snapshotId: 'snap-v2',
    });
    expect(fromHoldout.reasons).toContain(
      'CBPE fitted on 1,500 held-out snapshot rows scored by v2 at validation (snapshot snap-v2): the version has no labelled events of its own in its reference yet',
    );
    expect(fromHoldout.trustworthy).toBe(own.trustworthy);
    for (const metric of ['accuracy', 'macro_f1', 'log_loss'] as const)
      expect(fromHoldout.figures[metric]!.value).toBeCloseTo(own.figures[metric]!.value!, 12);

    const regRequest = {
      reference: storedReference(regressionModel, {
        colour: { kind: 'categorical', counts: { blue: 700, red: 800 }, missing: 0 },
        x: { kind: 'numeric' } as unknown as StoredReference['features'][string],
      }),
      kind: { kind: 'regression' as const },
      window: { modelId: regressionModel, ...WINDOW },
      windowEvents: 900,
    };
    const ownDle = await outcomeWindowEstimate(ch.client, { ...regRequest, version: 'v1' }, new Map(), {
      sampleRows: 600,
    });
    // The held-out rows' features are their events' own, read from scoring_events by event id.
    const holdoutDle = await outcomeWindowEstimate(ch.client, { ...regRequest, version: 'v2' }, new Map(), {
      sampleRows: 600,
    });
    expect(holdoutDle.fittedOn).toMatchObject({ source: 'validation-holdout', rows: 1500, version: 'v2' });
    expect(holdoutDle.trustworthy).toBe(true);
    expect(holdoutDle.figures.mae!.value).toBeCloseTo(ownDle.figures.mae!.value!, 10);
    expect(holdoutDle.figures.rmse!.value).toBeCloseTo(ownDle.figures.rmse!.value!, 10);

    // Fewer held-out rows than DLE needs: an estimate that is not trusted, and says why.
    const few = await outcomeWindowEstimate(ch.client, { ...regRequest, version: 'v3' }, new Map(), {
      sampleRows: 600,
    });
    expect(few).toMatchObject({ trustworthy: false, fittedOn: { source: 'validation-holdout', rows: 300 } });
    expect(few.reasons).toContain("the version's 300 held-out rows are fewer than the 1,000 DLE needs to be trusted");
  });

  function storedReference(modelId: string, features: StoredReference['features']): StoredReference {
    return {
      referenceId: `ref-${modelId}`,
      modelId,
      modelVersion: 'v1',
      createdAt: REFERENCE.start,
      ...REFERENCE,
      nBins: 10,
      maxCategories: 50,
      features,
      prediction: null,
    } as StoredReference;
  }
});
