import { describe, expect, it } from 'vitest';
import { addOutcome } from '../../../detectors/backtest/outcome-rows.ts';
import type { CountedWindow } from '../../../detectors/drift/window-comparison.ts';
import { initialMonitorState, monitorTick } from '../../../detectors/monitor/tick.ts';
import type { MonitorReference, MonitorState, WindowObservation } from '../../../detectors/monitor/types.ts';
import {
  addOutcomeSums,
  emptyOutcomeSums,
  realisedFromSums,
  type OutcomeSums,
} from '../../../detectors/quality/outcome-sums.ts';
import { qualityInterval, qualityOfMetric } from '../../../detectors/quality/quality-metric.ts';
import { Random } from '../../../detectors/random.ts';
import { evaluateSegments } from '../../../detectors/segments/evaluate-segments.ts';
import { segmentSloStatement } from '../../../detectors/segments/slo-rule.ts';
import { segmentPlanId, type SegmentCounts, type SegmentPolicy } from '../../../detectors/segments/types.ts';
import { parsePolicy } from '../../../platform/policy-file.ts';
import { multiclassRealisedCases, regressionOutcomeCases } from '../../helpers/outcome-fixtures.ts';

/**
 * Per-segment quality of multiclass and regression models: each segment's outcome sums (the
 * window's sums over its events, summed in ClickHouse) folded into the policy's metric by the
 * functions the whole window uses, turned into quality, held to the segment SLO.
 */

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);

const counted = (rows: number): CountedWindow => ({
  rows,
  features: {},
  prediction: null,
  predictionClass: null,
  predictionValue: null,
  typeViolations: {},
});
const whole = { features: {}, prediction: null };

const segment = (value: string, outcomes: OutcomeSums | null, events = 1000): SegmentCounts => ({
  key: 'country',
  value,
  reference: counted(events),
  window: counted(events),
  labelled: null,
  outcomes,
});

describe('per-segment multiclass quality, each segment against scikit-learn', () => {
  // Each scikit-learn case of the committed fixture is one segment of a window.
  const cases = multiclassRealisedCases();
  const segments = cases.map((c) => {
    const sums = emptyOutcomeSums({
      kind: 'multiclass',
      classes: Array.from({ length: c.classes }, (_, k) => `c${k}`),
    });
    c.truth.forEach((t, i) => addOutcome(sums, { prediction: c.probabilities[i]!, label: t }));
    return segment(c.name, sums, c.truth.length);
  });

  for (const metric of ['accuracy', 'macro_f1', 'log_loss'] as const) {
    it(`${metric}: each segment's figure is scikit-learn's on its events, turned into quality`, () => {
      const report = evaluateSegments(whole, segments, { minEvents: 1 }, { qualityMetric: metric });
      cases.forEach((c, i) => {
        const q = report.segments[i]!.quality!;
        expect(q.metric).toBe(metric);
        expect(q.n).toBe(c.truth.length);
        expect(q.figure!.value).toBeCloseTo(c.expected[metric], 10);
        expect(q.value).toBeCloseTo(qualityOfMetric(metric, c.expected[metric]), 10);
        if (metric === 'log_loss') {
          expect(q.figure!.transform).toBe('quality = exp(−log loss)');
          const [lower, upper] = c.expected.log_loss_interval;
          const expected = qualityInterval(metric, { lower: Math.max(0, lower), upper });
          expect(q.interval!.lower).toBeCloseTo(expected.lower, 10);
          expect(q.interval!.upper).toBeCloseTo(expected.upper, 10);
        }
      });
    });
  }

  it('gives a segment without labelled events no quality', () => {
    const report = evaluateSegments(whole, [segment('none', null)], { minEvents: 1 }, { qualityMetric: 'log_loss' });
    expect(report.segments[0]!.quality).toBeNull();
  });
});

describe('per-segment regression quality, each segment against scikit-learn', () => {
  const cases = regressionOutcomeCases();
  const segments = cases.map((c) => {
    const sums = emptyOutcomeSums({ kind: 'regression' });
    c.y_true.forEach((y, i) => addOutcome(sums, { prediction: c.y_pred[i]!, label: y }));
    return segment(c.name, sums, c.y_true.length);
  });
  const worthlessError = 50;

  for (const metric of ['mae', 'rmse', 'r2'] as const) {
    it(`${metric}: each segment's figure is scikit-learn's on its events, turned into quality`, () => {
      const report = evaluateSegments(whole, segments, { minEvents: 1 }, { qualityMetric: metric, worthlessError });
      cases.forEach((c, i) => {
        const q = report.segments[i]!.quality!;
        expect(q.figure!.value).toBeCloseTo(c.expected[metric], 9);
        expect(q.value).toBeCloseTo(qualityOfMetric(metric, c.expected[metric], worthlessError), 9);
        if (metric !== 'r2') {
          const [lower, upper] = c.expected[`${metric}_interval`];
          const expected = qualityInterval(metric, { lower, upper }, worthlessError);
          expect(q.interval!.lower).toBeCloseTo(expected.lower, 9);
          expect(q.interval!.upper).toBeCloseTo(expected.upper, 9);
        } else expect(q.interval).toBeNull();
      });
    });
  }
});

/** A regression segment's sums: predictions off by N(0, errorSd). */
function regressionSums(rng: Random, errorSd: number, n: number): OutcomeSums {
  const sums = emptyOutcomeSums({ kind: 'regression' });
  for (let i = 0; i < n; i++) {
    const y = rng.normal(100, 20);
    addOutcome(sums, { prediction: y + rng.normal(0, errorSd), label: y });
  }
  return sums;
}

/** A multiclass segment's sums: the model gives the true class `sharpness` more logit than the others. */
function multiclassSums(rng: Random, sharpness: number, n: number): OutcomeSums {
  const sums = emptyOutcomeSums({ kind: 'multiclass', classes: ['a', 'b', 'c'] });
  for (let i = 0; i < n; i++) {
    const t = rng.integer(0, 2);
    const exp = [0, 1, 2].map((k) => Math.exp(rng.normal() + (k === t ? sharpness : 0)));
    const total = exp.reduce((a, b) => a + b, 0);
    addOutcome(sums, { prediction: exp.map((e) => e / total), label: t });
  }
  return sums;
}

describe('the segment SLO on a regression and a multiclass segment', () => {
  const slo = { min: 0.5, minEvents: 200, action: 'retrain' as const };

  it('breaches only the degraded segment, naming the metric with the quality', () => {
    const rng = new Random(41);
    const counts = [
      segment('DE', regressionSums(rng, 14, 400)),
      segment('FR', regressionSums(rng, 4, 1500)),
      segment('US', regressionSums(rng, 4, 1500)),
      // Degraded as much, but too few labelled events to be held to the SLO.
      segment('IT', regressionSums(rng, 14, 100)),
    ];
    const report = evaluateSegments(
      whole,
      counts,
      { minEvents: 100, slo },
      { qualityMetric: 'rmse', worthlessError: 20 },
    );
    expect(report.sloBreaches.map((b) => b.segment)).toEqual(['country=DE']);
    const breach = report.sloBreaches[0]!;
    expect(breach.figure!.metric).toBe('rmse');
    expect(breach.value).toBeCloseTo(1 - breach.figure!.value / 20, 12);
    expect(segmentSloStatement(report.sloBreaches)).toMatch(/^country=DE at 0\.\d{3} \(rmse 1\d\.\d{3}, n=400, upper/);
    // The whole window (every segment's sums added) barely moves: its RMSE stays near the healthy segments'.
    const all = counts.map((c) => c.outcomes!).reduce(addOutcomeSums);
    const wholeRmse = realisedFromSums('rmse', all)!.value!;
    const de = report.segments.find((s) => s.segment === 'country=DE')!.quality!.figure!.value!;
    expect(wholeRmse).toBeLessThan(8);
    expect(de).toBeGreaterThan(12);
  });

  it('holds a multiclass segment to exp(−log loss)', () => {
    const rng = new Random(42);
    const report = evaluateSegments(
      whole,
      [segment('DE', multiclassSums(rng, 0.3, 500)), segment('FR', multiclassSums(rng, 3, 2000))],
      { minEvents: 100, slo: { ...slo, min: Math.exp(-0.8) } },
      { qualityMetric: 'log_loss' },
    );
    expect(report.sloBreaches.map((b) => b.segment)).toEqual(['country=DE']);
    expect(report.sloBreaches[0]!.figure!.metric).toBe('log_loss');
    expect(report.sloBreaches[0]!.figure!.value).toBeGreaterThan(0.8);
    expect(report.segments[1]!.sloBreached).toBe(false);
  });
});

describe('the monitor tick with a regression model segment below its SLO', () => {
  const segmentsPolicy: SegmentPolicy = {
    keys: [{ feature: 'country' }],
    topK: 3,
    minEvents: 100,
    slo: { min: 0.5, minEvents: 200, action: 'retrain' },
  };
  const policy = parsePolicy({
    name: 'reg',
    version: '1',
    model: 'm',
    quality: { metric: 'rmse', worthlessError: 20 },
    trigger: { kind: 'threshold', metric: 'rmse', direction: 'lower-is-better', threshold: 12 },
    guards: { cooldown: '1d', approval: { required: false } },
    segments: segmentsPolicy,
  }).policy;
  const reference: MonitorReference = {
    referenceId: 'ref-1',
    modelVersion: 'v1',
    features: {},
    prediction: null,
    cbpe: null,
  };

  it('names the segment in the trigger and the decision while the whole window holds its threshold', () => {
    const rng = new Random(43);
    const de = regressionSums(rng, 14, 400);
    const fr = regressionSums(rng, 4, 1600);
    const wholeSums = addOutcomeSums(de, fr);
    const planId = segmentPlanId(reference.referenceId, segmentsPolicy);
    const observation: WindowObservation = {
      start: T0,
      end: T0 + 6 * HOUR,
      events: 2000,
      versions: [{ version: 'v1', events: 2000, trainedAt: T0 - HOUR }],
      deadLettered: 0,
      features: {},
      prediction: null,
      scoreHistogram: null,
      labelled: null,
      labelsArrivedBy: T0 + 6 * HOUR,
      lateLabelled: null,
      outcomes: wholeSums,
      segments: {
        planId,
        reference: {
          id: planId,
          segments: [
            { key: 'country', value: 'DE', counted: counted(400) },
            { key: 'country', value: 'FR', counted: counted(1600) },
          ],
        },
        window: [
          { key: 'country', value: 'DE', counted: counted(400), labelled: null, outcomes: de },
          { key: 'country', value: 'FR', counted: counted(1600), labelled: null, outcomes: fr },
        ],
      },
    };
    const state: MonitorState = { ...initialMonitorState('m'), version: 'v1', versionTrainedAt: T0 - HOUR };
    const tick = monitorTick(state, reference, observation, policy, T0 + 6 * HOUR);
    // The whole window's RMSE is under the trigger's threshold …
    expect(tick.evaluation.quality.realised!.figure!.value!).toBeLessThan(12);
    // … while DE's quality, from its own sums, is below the segment SLO and fires the trigger.
    const report = tick.evaluation.segments!;
    const deResult = report.segments.find((s) => s.segment === 'country=DE')!;
    expect(deResult.quality!.metric).toBe('rmse');
    expect(deResult.quality!.figure!.value).toBeCloseTo(realisedFromSums('rmse', de)!.value!, 12);
    expect(report.sloBreaches.map((b) => b.segment)).toEqual(['country=DE']);
    expect(report.drivers[0]).toBe('country=DE');
    expect(tick.state.segments!.sloBreaches.map((b) => b.segment)).toEqual(['country=DE']);
    expect(tick.decision.kind).toBe('retrain');
    expect(tick.decision.reason).toContain('country=DE');
    expect(tick.decision.reason).toContain('rmse');
  });
});
