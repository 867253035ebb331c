// A segment's stuck-value check against its own reference (issue #12): a feature stuck inside one
// segment (one country's pipeline writing 0) is that segment's breakage while the other segments
// and the whole window are fine; a segment whose most frequent value only grew within what its own
// reference had is not broken; and runs started before the marker judge no segment's stuck value.
import { describe, expect, it } from 'vitest';
import { numericReferenceProfile, numericWindowCounts, topValueOf } from '../../../detectors/drift/profiles.ts';
import { valueRuns } from '../../../detectors/drift/value-runs.ts';
import {
  windowQualityCounts,
  type CountedWindow,
  type ReferenceProfiles,
  type TopValue,
} from '../../../detectors/drift/window-comparison.ts';
import { initialMonitorState, monitorTick } from '../../../detectors/monitor/tick.ts';
import {
  DEFAULT_MONITOR_SETTINGS,
  type MonitorReference,
  type MonitorSettings,
  type WindowObservation,
} from '../../../detectors/monitor/types.ts';
import { segmentStuckCandidates } from '../../../detectors/segments/segment-stuck-candidates.ts';
import type { SegmentReferenceTopValue } from '../../../detectors/segments/types.ts';
import { Random } from '../../../detectors/random.ts';
import { parsePolicy } from '../../../platform/policy-file.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);
const PLAN = 'ref-1|10|metadata.country';
const random = new Random(2026_12_06_12);

/** Continuous readings (two decimals: a value repeats a handful of times in thousands). */
const readings = (n: number, mean: number) =>
  Array.from({ length: n }, () => Math.round(random.normal(mean, 6) * 100) / 100);
/** Small counts where 7 is the most frequent value, about 37% of them. */
const counts = (n: number, sevens = 0.3) =>
  Array.from({ length: n }, () => (random.next() < sevens ? 7 : random.integer(0, 9)));
/** Readings that are 0 half the time (a feature most of DE's events do not use). */
const halfZero = (n: number) => readings(n, 10).map((v) => (random.next() < 0.5 ? 0 : v));

interface Side {
  x: number[];
  y: number[];
}
const referenceOf: Record<'DE' | 'FR', Side> = {
  DE: { x: readings(2000, 20), y: halfZero(2000) },
  FR: { x: readings(2000, 30), y: counts(2000) },
};
const wholeReference = {
  x: [...referenceOf.DE.x, ...referenceOf.FR.x],
  y: [...referenceOf.DE.y, ...referenceOf.FR.y],
};
const profiles = {
  x: numericReferenceProfile(wholeReference.x, 20),
  y: numericReferenceProfile(wholeReference.y, 20),
};
const reference: MonitorReference = {
  referenceId: 'ref-1',
  modelVersion: 'v1',
  features: profiles,
  prediction: null,
  cbpe: null,
};
const referenceProfiles: ReferenceProfiles = {
  features: profiles,
  prediction: null,
  predictionClass: null,
  predictionValue: null,
  cappedCategorical: [],
  rowCount: wholeReference.x.length,
};

const counted = (side: Side): CountedWindow => ({
  rows: side.x.length,
  features: { x: numericWindowCounts(side.x, profiles.x.cuts), y: numericWindowCounts(side.y, profiles.y.cuts) },
  prediction: null,
  predictionClass: null,
  predictionValue: null,
  typeViolations: {},
});
const baselineOf = (side: Side): Record<string, SegmentReferenceTopValue | null> => ({
  x: topValueOf(side.x),
  y: topValueOf(side.y),
});
/** The window's exact most frequent value with its runs in event order, as the read counts it. */
const topOf = (values: number[]): TopValue => {
  const top = topValueOf(values)!;
  return { ...top, runs: valueRuns(values, top.value) };
};

/**
 * A window of 400 DE and 1,600 FR events. DE's `x` is written as 0 by its pipeline for 45% of the
 * window, in one stretch; FR's `y` is at its own most frequent value 7 a little more often
 * (`sevens` of its events, then a tenth of the rest).
 */
function windowOf(sevens: number): Record<'DE' | 'FR', Side> {
  const deX = readings(400, 20).map((v, i) => (i >= 100 && i < 280 ? 0 : v));
  return { DE: { x: deX, y: halfZero(400) }, FR: { x: readings(1600, 30), y: counts(1600, sevens) } };
}

/** `every`: the segments' top values of every numeric feature, not only their candidates'. */
function observationOf(window: Record<'DE' | 'FR', Side>, every = false): WindowObservation {
  const whole: Side = { x: [...window.DE.x, ...window.FR.x], y: [...window.DE.y, ...window.FR.y] };
  const wholeCounted = counted(whole);
  const segments = (['DE', 'FR'] as const).map((value) => {
    const countedWindow = counted(window[value]);
    // The features the read counts exactly: the segment's candidates, picked as the activity picks them.
    const candidates = every
      ? ['x', 'y']
      : segmentStuckCandidates(
          reference,
          {
            reference: counted(referenceOf[value]),
            referenceTopValues: baselineOf(referenceOf[value]),
            window: countedWindow,
          },
          100,
        );
    return {
      key: 'metadata.country',
      value,
      counted: countedWindow,
      labelled: null,
      topValues: Object.fromEntries(candidates.map((name) => [name, topOf(window[value][name as keyof Side])])),
    };
  });
  return {
    start: T0,
    end: T0 + HOUR,
    events: whole.x.length,
    versions: [{ version: 'v1', events: whole.x.length, trainedAt: T0 - 24 * HOUR }],
    deadLettered: 0,
    features: wholeCounted.features,
    prediction: null,
    // The whole window's candidates are counted exactly too (every numeric feature here, to be sure).
    quality: windowQualityCounts(referenceProfiles, wholeCounted, { x: topOf(whole.x), y: topOf(whole.y) }),
    scoreHistogram: null,
    labelled: null,
    segments: {
      planId: PLAN,
      reference: {
        id: PLAN,
        segments: (['DE', 'FR'] as const).map((value) => ({
          key: 'metadata.country',
          value,
          counted: counted(referenceOf[value]),
          topValues: baselineOf(referenceOf[value]),
        })),
      },
      window: segments,
    },
  };
}

const policy = parsePolicy({
  name: 'segment-stuck',
  version: '1',
  model: 'm',
  trigger: { kind: 'periodic', every: '7d' },
  segments: { keys: [{ metadata: 'country' }] },
}).policy;

const tick = (observation: WindowObservation, settings: MonitorSettings = DEFAULT_MONITOR_SETTINGS) =>
  monitorTick(initialMonitorState('m'), reference, observation, policy, T0 + HOUR, settings).evaluation;

describe("a segment's stuck-value check against its own reference", () => {
  it('finds the feature stuck inside one segment, while the other segment and the whole window are fine', () => {
    const evaluation = tick(observationOf(windowOf(0.3)));
    const [de, fr] = evaluation.segments!.segments;
    expect(de!.segment).toBe('metadata.country=DE');
    expect(de!.dataQuality?.broken).toBe(true);
    expect(de!.dataQuality?.breakage).toEqual([
      expect.stringMatching(/^x: value 0 in 45\.0% of 400 values .*: stuck$/),
    ]);
    expect(fr!.dataQuality).toEqual({ broken: false, breakage: [] });
    expect(evaluation.segments!.broken).toEqual(['metadata.country=DE']);
    // 180 zeros among 2,000 events: 9% of the whole window, under the stuck bar.
    expect(evaluation.dataQuality.broken).toBe(false);
  });

  it('does not call a segment broken whose most frequent value only grew within its own reference', () => {
    // FR's 7 from ~37% of its reference to ~51%: a rise its own past explains. Against the whole
    // reference (whose most frequent value is DE's 0, ~28%) the same 7 would have risen past the bar.
    const window = windowOf(0.46);
    const share = topValueOf(window.FR.y)!;
    const baseline = baselineOf(referenceOf.FR).y!;
    expect([share.value, baseline.value, profiles.y.topValue]).toEqual([7, 7, 0]);
    expect(share.share - baseline.share).toBeLessThan(0.2);
    expect(share.share - profiles.y.topShare!).toBeGreaterThan(0.2);
    // Every feature's top value counted, so the check itself judges FR's y (not the candidate
    // filter), with and without the event order.
    for (const settings of [DEFAULT_MONITOR_SETTINGS, { ...DEFAULT_MONITOR_SETTINGS, stuckValueOrder: false }]) {
      const evaluation = tick(observationOf(window, true), settings);
      expect(evaluation.segments!.segments[1]!.dataQuality).toEqual({ broken: false, breakage: [] });
      expect(evaluation.segments!.broken).toEqual(['metadata.country=DE']);
    }
  });

  it('is not made for runs started before the marker: the stuck segment goes unjudged, as it did', () => {
    const evaluation = tick(observationOf(windowOf(0.3)), { ...DEFAULT_MONITOR_SETTINGS, segmentStuckValues: false });
    expect(evaluation.segments!.segments[0]!.dataQuality).toEqual({ broken: false, breakage: [] });
    expect(evaluation.segments!.broken).toEqual([]);
  });
});

describe('segment stuck-value candidates', () => {
  it('are the features whose largest bin could hold a stuck value above the segment’s own baseline', () => {
    const window = windowOf(0.3);
    const candidatesOf = (value: 'DE' | 'FR') =>
      segmentStuckCandidates(
        reference,
        {
          reference: counted(referenceOf[value]),
          referenceTopValues: baselineOf(referenceOf[value]),
          window: counted(window[value]),
        },
        100,
      );
    expect(candidatesOf('DE')).toEqual(['x']);
    expect(candidatesOf('FR')).toEqual([]);
    // Without a baseline there is nothing to compare with; a segment too small to judge is not counted.
    expect(
      segmentStuckCandidates(
        reference,
        { reference: counted(referenceOf.DE), referenceTopValues: undefined, window: counted(window.DE) },
        100,
      ),
    ).toEqual([]);
    expect(
      segmentStuckCandidates(
        reference,
        {
          reference: counted(referenceOf.DE),
          referenceTopValues: baselineOf(referenceOf.DE),
          window: counted(window.DE),
        },
        401,
      ),
    ).toEqual([]);
  });
});
