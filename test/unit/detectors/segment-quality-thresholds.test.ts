// A segment's data quality is judged at the thresholds its whole window is judged at: the
// policy's `dataQuality` bars and the rule revision's (monitor/quality-thresholds.ts), through
// the monitor's tick (and so `halflife backtest`).
import { describe, expect, it } from 'vitest';
import { numericReferenceProfile } from '../../../detectors/drift/profiles.ts';
import type { CountedWindow } from '../../../detectors/drift/window-comparison.ts';
import { windowQualityThresholds } from '../../../detectors/monitor/quality-thresholds.ts';
import { initialMonitorState, monitorTick } from '../../../detectors/monitor/tick.ts';
import {
  DEFAULT_MONITOR_SETTINGS,
  type MonitorReference,
  type WindowObservation,
} from '../../../detectors/monitor/types.ts';
import { Random } from '../../../detectors/random.ts';
import { parsePolicy } from '../../../platform/policy-file.ts';
import { oneFeatureWindow } from '../../helpers/one-feature-window.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);
const PLAN = 'ref-1|10|metadata.channel';
const random = new Random(2026_12_06_2);

const readings = (n: number) => Array.from({ length: n }, () => Math.round(random.normal(20, 6) * 100) / 100);
const referenceValues = readings(5000);
const profile = numericReferenceProfile(referenceValues, 20);
const reference: MonitorReference = {
  referenceId: 'ref-1',
  modelVersion: 'v1',
  features: { x: profile },
  prediction: null,
  cbpe: null,
};

const counted = (values: (number | null)[]): CountedWindow => oneFeatureWindow(values, profile);

/** A window of 400 events, all in segment `channel=web`, whose `x` went missing in 8% of them. */
function observation(): WindowObservation {
  const values = readings(400).map((v, i) => (i % 25 < 2 ? null : v));
  return {
    start: T0,
    end: T0 + HOUR,
    events: values.length,
    versions: [{ version: 'v1', events: values.length, trainedAt: T0 - 24 * HOUR }],
    deadLettered: 0,
    features: {},
    prediction: null,
    scoreHistogram: null,
    labelled: null,
    segments: {
      planId: PLAN,
      reference: {
        id: PLAN,
        segments: [{ key: 'metadata.channel', value: 'web', counted: counted(referenceValues.slice(0, 1000)) }],
      },
      window: [{ key: 'metadata.channel', value: 'web', counted: counted(values), labelled: null }],
    },
  };
}

const policyWith = (dataQuality?: Record<string, number>) =>
  parsePolicy({
    name: 'segment-bars',
    version: '1',
    model: 'm',
    trigger: { kind: 'periodic', every: '7d' },
    segments: { keys: [{ metadata: 'channel' }] },
    ...(dataQuality ? { dataQuality } : {}),
  }).policy;

const segmentOf = (dataQuality?: Record<string, number>) =>
  monitorTick(initialMonitorState('m'), reference, observation(), policyWith(dataQuality), T0 + HOUR).evaluation
    .segments!.segments[0]!;

describe('the thresholds a window and its segments are judged at', () => {
  it('revisions 1–2 take the policy bars alone; 3 adds the evidence rows; 4 and later tell a grown value the reference had from a stuck one', () => {
    const bars = { missing_rate_increase: 0.1 };
    expect(windowQualityThresholds({ ruleRevision: 2, stuckValueOrder: true }, bars, 300)).toEqual(bars);
    expect(windowQualityThresholds({ ruleRevision: 3, stuckValueOrder: true }, bars, 300)).toEqual({
      ...bars,
      min_rows: 300,
    });
    expect(windowQualityThresholds({ ruleRevision: 4 }, bars, 300)).toEqual({
      ...bars,
      min_rows: 300,
      stuck_shift_aware: true,
    });
    expect(windowQualityThresholds(DEFAULT_MONITOR_SETTINGS, bars, 300)).toEqual({
      ...bars,
      min_rows: 300,
      stuck_shift_aware: true,
      stuck_order_aware: true,
    });
  });
});

describe("a segment's data quality in the monitor's tick", () => {
  it("is broken by a missing-rate rise under the detector's defaults, and not under a policy whose bar is above it", () => {
    const byDefault = segmentOf();
    expect(byDefault.judged).toBe(true);
    expect(byDefault.dataQuality).toEqual({
      broken: true,
      breakage: [expect.stringMatching(/^x: missing rate 0\.080 vs reference 0\.000$/)],
    });
    expect(segmentOf({ missingRateIncrease: 0.1 }).dataQuality).toEqual({ broken: false, breakage: [] });
  });
});
