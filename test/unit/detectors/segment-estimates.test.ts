import { describe, expect, it } from 'vitest';
import { emptyOutcomeSums } from '../../../detectors/quality/outcome-sums.ts';
import type { CountedWindow } from '../../../detectors/drift/window-comparison.ts';
import { estimatedQuality } from '../../../detectors/monitor/outcome-estimate.ts';
import { initialMonitorState, monitorTick } from '../../../detectors/monitor/tick.ts';
import type { MonitorReference, MonitorState, WindowObservation } from '../../../detectors/monitor/types.ts';
import type { OutcomeEstimate } from '../../../detectors/quality/outcome-estimate.ts';
import { qualityInterval, qualityOfMetric } from '../../../detectors/quality/quality-metric.ts';
import { evaluateSegments } from '../../../detectors/segments/evaluate-segments.ts';
import { segmentOutcomeEstimate } from '../../../detectors/segments/segment-estimate.ts';
import {
  pairSegments,
  segmentPlanId,
  type SegmentCounts,
  type SegmentPolicy,
} from '../../../detectors/segments/types.ts';
import { parsePolicy } from '../../../platform/policy-file.ts';

/**
 * A multiclass or regression segment's label-free estimate (the window's estimator on the
 * segment's events, made by the window read) folded into the segment report: the policy's
 * metric as quality by the whole window's own transform, its interval, the method and the
 * estimator's source named; the segment SLO still holds realised quality only.
 */

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);
const fittedOn = { source: 'reference-events' as const, rows: 1500, version: 'v1' };

const counted = (rows: number): CountedWindow => ({
  rows,
  features: {},
  prediction: null,
  predictionClass: null,
  predictionValue: null,
  typeViolations: {},
});

function multiclassEstimate(logLoss: number, n: number, trustworthy = true): OutcomeEstimate {
  const band = 1 / Math.sqrt(n);
  return {
    kind: 'multiclass',
    method: 'CBPE',
    n,
    windowEvents: n,
    trustworthy,
    reasons: ['CBPE fitted on 1,500 labelled reference events of v1'],
    figures: {
      accuracy: { value: 0.8, interval: { lower: 0.78, upper: 0.82, level: 0.95 } },
      macro_f1: { value: 0.79, interval: { lower: 0.77, upper: 0.81, level: 0.95 } },
      log_loss: { value: logLoss, interval: { lower: logLoss - band, upper: logLoss + band, level: 0.95 } },
    },
    fittedOn,
  };
}

function regressionEstimate(rmse: number, n: number, windowEvents: number): OutcomeEstimate {
  return {
    kind: 'regression',
    method: 'DLE',
    n,
    windowEvents,
    trustworthy: true,
    reasons: [`DLE on a sample of ${n} of the segment's ${windowEvents} events`],
    figures: {
      mae: { value: rmse * 0.8, interval: { lower: rmse * 0.7, upper: rmse * 0.9, level: 0.95 } },
      rmse: { value: rmse, interval: { lower: rmse - 1, upper: rmse + 1, level: 0.95 } },
    },
    fittedOn,
  };
}

describe("a segment's label-free estimate as quality", () => {
  it("turns a multiclass segment's log loss into quality as the whole window's is, with the method and source named", () => {
    const estimate = multiclassEstimate(0.9, 400);
    const s = segmentOutcomeEstimate(estimate, 'log_loss', null)!;
    expect(s.metric).toBe('log_loss');
    expect(s.value).toBeCloseTo(Math.exp(-0.9), 12);
    expect(s.value).toBeCloseTo(qualityOfMetric('log_loss', 0.9), 12);
    // A higher log loss is lower quality: the interval's ends swap.
    const expected = qualityInterval('log_loss', { lower: 0.85, upper: 0.95 });
    expect(s.interval!.lower).toBeCloseTo(expected.lower, 12);
    expect(s.interval!.upper).toBeCloseTo(expected.upper, 12);
    expect(s.interval!.lower).toBeLessThan(s.value!);
    expect(s.figure!.value).toBe(0.9);
    expect(s.figure!.interval!.lower).toBeCloseTo(0.85, 12);
    expect(s.figure!.interval!.upper).toBeCloseTo(0.95, 12);
    expect(s.figure!.transform).toBe('quality = exp(−log loss)');
    expect(s).toMatchObject({ n: 400, trustworthy: true, method: 'CBPE', fittedOn });
    expect(s.reasons).toEqual(estimate.reasons);
    // The whole window's folding of the same estimate gives the same figures.
    const whole = estimatedQuality(estimate, { qualityMetric: 'log_loss', worthlessError: null });
    expect(s.value).toBe(whole.value);
    expect(s.figure).toEqual(whole.figure);
  });

  it("turns a regression segment's RMSE into quality against the worthless error", () => {
    const s = segmentOutcomeEstimate(regressionEstimate(8, 150, 420), 'rmse', 20)!;
    expect(s.value).toBeCloseTo(1 - 8 / 20, 12);
    expect(s.interval!.lower).toBeCloseTo(1 - 9 / 20, 12);
    expect(s.interval!.upper).toBeCloseTo(1 - 7 / 20, 12);
    expect(s).toMatchObject({ n: 150, method: 'DLE', fittedOn, trustworthy: true });
    expect(s.reasons).toContain("DLE on a sample of 150 of the segment's 420 events");
  });

  it('says so when the method does not estimate the metric, and gives nothing without an estimate', () => {
    const s = segmentOutcomeEstimate(regressionEstimate(8, 150, 150), 'r2', 20)!;
    expect(s).toMatchObject({ value: null, trustworthy: false, interval: null, method: 'DLE' });
    expect(s.reasons!.at(-1)).toBe('DLE does not estimate r2 (it estimates mae, rmse)');
    expect(segmentOutcomeEstimate(null, 'rmse', 20)).toBeNull();
  });
});

describe('segment reports with multiclass estimates', () => {
  const whole = { features: {}, prediction: null };
  const segment = (value: string, outcomeEstimate?: OutcomeEstimate | null): SegmentCounts => ({
    key: 'country',
    value,
    reference: counted(500),
    window: counted(500),
    labelled: null,
    outcomes: null,
    ...(outcomeEstimate !== undefined ? { outcomeEstimate } : {}),
  });

  it('shows each estimated segment, leaves a segment without one unestimated, and never breaches the SLO on an estimate', () => {
    const report = evaluateSegments(
      whole,
      [
        segment('DE', multiclassEstimate(2, 500)),
        segment('FR', multiclassEstimate(0.3, 500)),
        segment('IT', null),
        segment('US'),
      ],
      { minEvents: 100, slo: { min: Math.exp(-0.8), minEvents: 100, action: 'retrain' } },
      { qualityMetric: 'log_loss' },
    );
    const [de, fr, it, us] = report.segments;
    expect(de!.estimated!.value).toBeCloseTo(Math.exp(-2), 12);
    expect(fr!.estimated!.value).toBeCloseTo(Math.exp(-0.3), 12);
    expect(de!.estimated!.interval!.upper).toBeLessThan(Math.exp(-0.8));
    expect(it!.estimated).toBeNull();
    expect('estimated' in us!).toBe(false);
    // No labels: no realised quality, so no SLO breach however low the estimate.
    expect(de!.quality).toBeNull();
    expect(report.sloBreaches).toEqual([]);
    expect(de!.sloBreached).toBe(false);
  });

  it('carries the estimate from the window side when pairing segments with the reference', () => {
    const estimate = multiclassEstimate(0.5, 300);
    const paired = pairSegments({ id: 'plan', segments: [{ key: 'country', value: 'DE', counted: counted(300) }] }, [
      { key: 'country', value: 'DE', counted: counted(300), labelled: null, outcomeEstimate: estimate },
      { key: 'country', value: 'NL', counted: counted(20), labelled: null, outcomeEstimate: estimate },
    ]);
    expect(paired.map((p) => p.outcomeEstimate)).toEqual([estimate, estimate]);
  });
});

describe('the monitor tick with estimated regression segments', () => {
  const segmentsPolicy: SegmentPolicy = { keys: [{ feature: 'country' }], topK: 3, minEvents: 100 };
  const policy = parsePolicy({
    name: 'reg',
    version: '1',
    model: 'm',
    quality: { metric: 'rmse', worthlessError: 20 },
    trigger: { kind: 'manual' },
    segments: segmentsPolicy,
  }).policy;
  const reference: MonitorReference = {
    referenceId: 'ref-1',
    modelVersion: 'v1',
    features: {},
    prediction: null,
    cbpe: null,
  };

  it("reports the segment whose estimate drops while the whole window's holds, with the estimate's source", () => {
    const planId = segmentPlanId(reference.referenceId, segmentsPolicy);
    const observation: WindowObservation = {
      start: T0,
      end: T0 + HOUR,
      events: 1000,
      versions: [{ version: 'v1', events: 1000, trainedAt: T0 - HOUR }],
      deadLettered: 0,
      features: {},
      prediction: null,
      scoreHistogram: null,
      labelled: null,
      labelsArrivedBy: T0 + HOUR,
      lateLabelled: null,
      // No labels yet: the window's sums are empty.
      outcomes: emptyOutcomeSums({ kind: 'regression' }),
      outcomeEstimate: regressionEstimate(5, 1000, 1000),
      segments: {
        planId,
        reference: {
          id: planId,
          segments: [
            { key: 'country', value: 'DE', counted: counted(200) },
            { key: 'country', value: 'FR', counted: counted(800) },
          ],
        },
        window: [
          {
            key: 'country',
            value: 'DE',
            counted: counted(200),
            labelled: null,
            outcomes: null,
            outcomeEstimate: regressionEstimate(12, 200, 200),
          },
          {
            key: 'country',
            value: 'FR',
            counted: counted(800),
            labelled: null,
            outcomes: null,
            outcomeEstimate: regressionEstimate(4, 800, 800),
          },
        ],
      },
    };
    const state: MonitorState = { ...initialMonitorState('m'), version: 'v1', versionTrainedAt: T0 - HOUR };
    const tick = monitorTick(state, reference, observation, policy, T0 + HOUR);
    const estimated = tick.evaluation.quality.estimated!;
    expect(estimated.value).toBeCloseTo(1 - 5 / 20, 12);
    const segments = tick.evaluation.segments!.segments;
    const de = segments.find((s) => s.segment === 'country=DE')!.estimated!;
    const fr = segments.find((s) => s.segment === 'country=FR')!.estimated!;
    expect(de.value).toBeCloseTo(1 - 12 / 20, 12);
    expect(fr.value).toBeCloseTo(1 - 4 / 20, 12);
    expect(de.value!).toBeLessThan(estimated.value! - 0.3);
    // Named as the whole window's estimate is.
    expect(de).toMatchObject({ method: estimated.method, fittedOn: estimated.fittedOn, metric: 'rmse' });
  });
});
