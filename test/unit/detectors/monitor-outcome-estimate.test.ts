import { describe, expect, it } from 'vitest';
import { initialMonitorState, monitorTick } from '../../../detectors/monitor/tick.ts';
import type { WindowObservation } from '../../../detectors/monitor/types.ts';
import {
  calibratedClassProbabilities,
  estimateMulticlassCbpe,
  fitMulticlassCbpe,
} from '../../../detectors/quality/cbpe-multiclass.ts';
import {
  calibrationTable,
  estimateMulticlassFromSums,
  multiclassEstimationSums,
} from '../../../detectors/quality/cbpe-multiclass-sums.ts';
import { multiclassLogLossContribution } from '../../../detectors/quality/multiclass-log-loss.ts';
import {
  multiclassOutcomeEstimate,
  unavailableOutcomeEstimate,
  type OutcomeEstimate,
} from '../../../detectors/quality/outcome-estimate.ts';
import {
  emptyOutcomeSums,
  type MulticlassSums,
  type RegressionOutcomeSums,
} from '../../../detectors/quality/outcome-sums.ts';
import { Random } from '../../../detectors/random.ts';
import { knownShiftClassEvents } from '../../../synthetic/index.ts';
import { parsePolicy } from '../../../platform/policy-file.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);
const CLASSES = ['a', 'b', 'c'];

const events = (n: number, shift: number, temperature: number, seed: number) =>
  knownShiftClassEvents(new Random(seed), n, shift, temperature);

const argmax = (row: readonly number[]) => row.reduce((best, p, k) => (p > (row[best] as number) ? k : best), 0);

describe('multiclass CBPE from a window’s sums', () => {
  const reference = events(5000, 0, 2, 1);
  const model = fitMulticlassCbpe(reference.truth, reference.probabilities);
  const window = events(3000, 1.2, 2, 2);

  it('recalibrates some classes (the table carries isotonic steps with interpolation)', () => {
    const table = calibrationTable(model);
    expect(table.kind).toContain(2);
    const isotonic = table.kind.indexOf(2);
    expect(table.upper[isotonic]!.length).toBeGreaterThan(1);
    expect(table.lower[isotonic]!.length).toBe(table.upper[isotonic]!.length);
  });

  it('gives the row-wise estimator’s accuracy (with its interval) and macro-F1', () => {
    const rows = estimateMulticlassCbpe(model, window.probabilities);
    const sums = estimateMulticlassFromSums(model, multiclassEstimationSums(model, window.probabilities));
    expect(sums.n).toBe(3000);
    expect(sums.accuracy.value).toBeCloseTo(rows.accuracy.value!, 12);
    expect(sums.accuracy.interval!.lower).toBeCloseTo(rows.accuracy.interval!.lower, 12);
    expect(sums.accuracy.interval!.upper).toBeCloseTo(rows.accuracy.interval!.upper, 12);
    expect(sums.macroF1.value).toBeCloseTo(rows.macroF1.value!, 12);
    // The column-multinomial draws spread at least as much as per-event draws (up to Monte Carlo noise).
    const width = (i: { lower: number; upper: number }) => i.upper - i.lower;
    expect(width(sums.macroF1.interval!)).toBeGreaterThan(0.9 * width(rows.macroF1.interval!));
    expect(sums.macroF1.interval!.lower).toBeLessThan(sums.macroF1.value!);
    expect(sums.macroF1.interval!.upper).toBeGreaterThan(sums.macroF1.value!);
  });

  it('estimates the log loss as its expectation under the calibrated probabilities', () => {
    let expected = 0;
    window.probabilities.forEach((p) => {
      const q = calibratedClassProbabilities(model, p);
      q.forEach((qt, t) => (expected += qt * multiclassLogLossContribution(p, t)));
    });
    const estimate = estimateMulticlassFromSums(model, multiclassEstimationSums(model, window.probabilities));
    expect(estimate.logLoss.value).toBeCloseTo(expected / 3000, 12);
  });

  it('follows the realised metrics under covariate shift, each inside its interval', () => {
    const realisedAccuracy = window.truth.filter((t, i) => t === argmax(window.probabilities[i]!)).length / 3000;
    let realisedLoss = 0;
    window.probabilities.forEach((p, i) => (realisedLoss += multiclassLogLossContribution(p, window.truth[i]!)));
    realisedLoss /= 3000;
    const referenceAccuracy =
      reference.truth.filter((t, i) => t === argmax(reference.probabilities[i]!)).length / reference.truth.length;
    const estimate = estimateMulticlassFromSums(model, multiclassEstimationSums(model, window.probabilities));
    // The shift moved accuracy by more than the interval's half-width, and the estimate moved with it.
    const half = (estimate.accuracy.interval!.upper - estimate.accuracy.interval!.lower) / 2;
    expect(Math.abs(realisedAccuracy - referenceAccuracy)).toBeGreaterThan(2 * half);
    expect(realisedAccuracy).toBeGreaterThan(estimate.accuracy.interval!.lower);
    expect(realisedAccuracy).toBeLessThan(estimate.accuracy.interval!.upper);
    expect(realisedLoss).toBeGreaterThan(estimate.logLoss.interval!.lower);
    expect(realisedLoss).toBeLessThan(estimate.logLoss.interval!.upper);
  });

  it('refuses sums of another number of classes, naming both', () => {
    const sums = multiclassEstimationSums(model, window.probabilities);
    expect(() => estimateMulticlassFromSums(model, { ...sums, predicted: [1, 2] })).toThrow(/2 classes.*fitted on 3/);
  });
});

const noLabels = (): MulticlassSums => ({
  kind: 'multiclass',
  classes: CLASSES,
  confusion: CLASSES.map(() => CLASSES.map(() => 0)),
  lossN: 0,
  lossSum: 0,
  lossSquares: 0,
  unknownClass: 0,
});

const noRegressionLabels = (): RegressionOutcomeSums =>
  emptyOutcomeSums({ kind: 'regression' }) as RegressionOutcomeSums;

function observation(
  outcomes: WindowObservation['outcomes'],
  outcomeEstimate: WindowObservation['outcomeEstimate'],
): WindowObservation {
  return {
    start: T0,
    end: T0 + HOUR,
    events: 1000,
    versions: [{ version: 'v1', events: 1000, trainedAt: T0 }],
    deadLettered: 0,
    features: {},
    prediction: null,
    scoreHistogram: null,
    labelled: null,
    labelsArrivedBy: T0 + HOUR,
    lateLabelled: null,
    outcomes,
    lateOutcomes: null,
    ...(outcomeEstimate === undefined ? {} : { outcomeEstimate }),
  };
}

const multiclassPolicy = parsePolicy({
  name: 'mc',
  version: '1',
  model: 'm',
  quality: { metric: 'log_loss' },
  trigger: { kind: 'threshold', metric: 'log_loss', direction: 'lower-is-better', threshold: 0.9 },
}).policy;

describe('the estimate in a tick', () => {
  const reference = events(5000, 0, 2, 1);
  const model = fitMulticlassCbpe(reference.truth, reference.probabilities);
  const window = events(1000, 1.2, 2, 3);
  const estimate = multiclassOutcomeEstimate(
    estimateMulticlassFromSums(model, multiclassEstimationSums(model, window.probabilities)),
    1000,
  );

  it('stands in for realised quality while labels are scarce: the policy’s metric as quality, with its interval', () => {
    const tick = monitorTick(
      initialMonitorState('m'),
      null,
      observation(noLabels(), estimate),
      multiclassPolicy,
      T0 + 2 * HOUR,
    );
    const q = tick.evaluation.quality;
    const loss = estimate.figures.log_loss!;
    expect(q.used).toBe('estimated');
    expect(q.estimated).toMatchObject({ method: 'CBPE', trustworthy: true, n: 1000 });
    expect(q.estimated!.value).toBeCloseTo(Math.exp(-loss.value!), 12);
    expect(q.estimated!.figure).toMatchObject({ value: loss.value, transform: 'quality = exp(−log loss)' });
    // A loss's bounds swap in quality units.
    expect(q.estimated!.interval!.lower).toBeCloseTo(Math.exp(-loss.interval!.upper), 12);
    expect(q.estimated!.interval!.upper).toBeCloseTo(Math.exp(-loss.interval!.lower), 12);
    expect(tick.evaluation.window.quality).toMatchObject({ metric: 'log_loss', source: 'estimated' });
    expect(q.reason).toMatch(
      /^estimated log_loss \d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\] \(quality \d\.\d{3}\), CBPE: 0 labelled/,
    );
    // The decision's reasons speak of the estimate too (the threshold trigger compares its quality).
    expect(tick.state.points.at(-1)).toMatchObject({ source: 'estimated' });
  });

  it("records what the estimator was fitted on: a trained version's held-out snapshot rows", () => {
    const fittedOn = { source: 'validation-holdout' as const, rows: 1240, version: 'v3', snapshotId: 'snap-1' };
    const tick = monitorTick(
      initialMonitorState('m'),
      null,
      observation(noLabels(), { ...estimate, fittedOn }),
      multiclassPolicy,
      T0 + 2 * HOUR,
    );
    expect(tick.evaluation.quality.used).toBe('estimated');
    expect(tick.evaluation.quality.estimated!.fittedOn).toEqual(fittedOn);
    // An estimate that does not say (a run recorded before) records nothing.
    const before = monitorTick(
      initialMonitorState('m'),
      null,
      observation(noLabels(), estimate),
      multiclassPolicy,
      T0 + 2 * HOUR,
    );
    expect(before.evaluation.quality.estimated).not.toHaveProperty('fittedOn');
  });

  it('says why there is no estimate when none could be made', () => {
    const none = unavailableOutcomeEstimate('multiclass', 1000, [
      'no CBPE estimator: the reference has no labelled events with probabilities of version v1',
    ]);
    const tick = monitorTick(
      initialMonitorState('m'),
      null,
      observation(noLabels(), none),
      multiclassPolicy,
      T0 + 2 * HOUR,
    );
    expect(tick.evaluation.quality.used).toBeNull();
    expect(tick.evaluation.quality.reason).toMatch(/no trustworthy label-free estimate \(no CBPE estimator: .*v1/);
  });

  it('a regression policy on R² gets no estimate: DLE estimates MAE and RMSE only', () => {
    const dle: OutcomeEstimate = {
      kind: 'regression',
      method: 'DLE',
      n: 500,
      windowEvents: 1000,
      trustworthy: true,
      reasons: [],
      figures: {
        mae: { value: 4, interval: { lower: 3.5, upper: 4.5, level: 0.95 } },
        rmse: { value: 5, interval: { lower: 4.4, upper: 5.6, level: 0.95 } },
      },
    };
    const r2 = parsePolicy({
      name: 'r',
      version: '1',
      model: 'm',
      quality: { metric: 'r2' },
      trigger: { kind: 'threshold', metric: 'r2', direction: 'higher-is-better', threshold: 0.5 },
    }).policy;
    const tick = monitorTick(initialMonitorState('m'), null, observation(noRegressionLabels(), dle), r2, T0 + 2 * HOUR);
    expect(tick.evaluation.quality.used).toBeNull();
    expect(tick.evaluation.quality.estimated!.reasons).toContain('DLE does not estimate r2 (it estimates mae, rmse)');
    const rmse = parsePolicy({
      name: 'r',
      version: '1',
      model: 'm',
      quality: { metric: 'rmse', worthlessError: 20 },
      trigger: { kind: 'threshold', metric: 'rmse', direction: 'lower-is-better', threshold: 8 },
    }).policy;
    const used = monitorTick(
      initialMonitorState('m'),
      null,
      observation(noRegressionLabels(), dle),
      rmse,
      T0 + 2 * HOUR,
    );
    expect(used.evaluation.quality.used).toBe('estimated');
    expect(used.evaluation.quality.estimated!.value).toBeCloseTo(1 - 5 / 20, 12);
    expect(used.evaluation.quality.estimated!.interval).toMatchObject({ lower: 1 - 5.6 / 20, upper: 1 - 4.4 / 20 });
    expect(used.evaluation.quality.reason).toMatch(/^estimated rmse 5\.000 \[4\.400, 5\.600\] \(quality 0\.750\), DLE/);
  });
});
