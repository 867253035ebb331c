// Per-segment quality pooled with the windows before it (rule revision 6, `segmentPooling`): a
// low-volume segment, short of its SLO's labelled minimum in every window, is judged on its own
// labels and the same segment's labels of the windows just before it — never across a version
// change, a segment plan change or broken data — and so is held to the SLO.
import { describe, expect, it } from 'vitest';
import type { CountedWindow } from '../../../detectors/drift/window-comparison.ts';
import { initialMonitorState } from '../../../detectors/monitor/tick.ts';
import {
  DEFAULT_MONITOR_SETTINGS,
  type MonitorReference,
  type MonitorState,
} from '../../../detectors/monitor/types.ts';
import { buildScoreHistogram } from '../../../detectors/quality/score-histogram.ts';
import { poolSegmentsWithEarlier, type SegmentLabelWindow } from '../../../detectors/segments/segment-pooling.ts';
import { tickSegments } from '../../../detectors/segments/tick-segments.ts';
import type { SegmentCounts, SegmentWindowCounts } from '../../../detectors/segments/types.ts';
import { parsePolicy } from '../../../platform/policy-file.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);
const PLAN = 'ref-1|10|metadata.channel';

const counted = (rows: number): CountedWindow => ({
  rows,
  features: {},
  prediction: null,
  predictionClass: null,
  predictionValue: null,
  typeViolations: {},
});

/** A segment's window whose n labelled events have the given accuracy at threshold 0.5. */
function segment(value: string, n: number, accuracy: number): SegmentWindowCounts {
  const labels: number[] = [];
  const scores: number[] = [];
  const correct = Math.round(n * accuracy);
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    labels.push(label);
    scores.push(i < correct === (label === 1) ? 0.8 : 0.2);
  }
  return {
    key: 'metadata.channel',
    value,
    counted: counted(n),
    labelled: { events: n, histogram: buildScoreHistogram(labels, scores) },
  };
}

const reference: MonitorReference = {
  referenceId: 'ref-1',
  modelVersion: 'v1',
  features: {},
  prediction: null,
  cbpe: null,
};
const policy = parsePolicy({
  name: 'seg',
  version: '1',
  model: 'm',
  trigger: { kind: 'periodic', every: '7d' },
  segments: { keys: [{ metadata: 'channel' }], slo: { min: 0.8, minEvents: 200, action: 'health' } },
}).policy;

/** Ticks of hourly windows: a small segment (80 labels at 0.6) beside a large one (1,000 at 0.9). */
function run(ticks: number, segmentPooling: boolean, version: (tick: number) => string = () => 'v1') {
  const state: MonitorState = initialMonitorState('m');
  const reports = [];
  for (let t = 0; t < ticks; t++) {
    const start = T0 + t * HOUR;
    const report = tickSegments(
      state,
      reference,
      {
        start,
        end: start + HOUR,
        events: 1080,
        versions: [{ version: version(t), events: 1080, trainedAt: T0 - HOUR }],
        deadLettered: 0,
        features: {},
        prediction: null,
        scoreHistogram: null,
        labelled: null,
        segments: {
          planId: PLAN,
          reference:
            t === 0
              ? {
                  id: PLAN,
                  segments: [
                    { key: 'metadata.channel', value: 'kiosk', counted: counted(500) },
                    { key: 'metadata.channel', value: 'web', counted: counted(5000) },
                  ],
                }
              : null,
          window: [segment('kiosk', 80, 0.6), segment('web', 1000, 0.9)],
        },
      },
      policy,
      { ...DEFAULT_MONITOR_SETTINGS, segmentPooling },
      {},
    );
    reports.push(report!);
  }
  return { reports, state };
}

describe('segment quality pooled with earlier windows', () => {
  it('without pooling a segment short of the SLO minimum in every window is never held to it', () => {
    const { reports, state } = run(4, false);
    for (const r of reports) {
      expect(r.sloBreaches).toEqual([]);
      expect(r.segments.find((s) => s.value === 'kiosk')!.quality).toMatchObject({ n: 80, value: 0.6 });
    }
    expect(state.segments?.labels).toBeUndefined();
  });

  it('with pooling it is judged on the fewest windows just before it that make the minimum, and breaches', () => {
    const { reports, state } = run(4, true);
    const kiosk = reports.map((r) => r.segments.find((s) => s.value === 'kiosk')!.quality!);
    // 80, then 160 labels: short even pooled, so each window stands alone and is not held to the SLO.
    expect(kiosk[0]).toMatchObject({ n: 80 });
    expect(kiosk[0]!.pooledWindows).toBeUndefined();
    expect(kiosk[1]).toMatchObject({ n: 80 });
    expect(reports[1]!.sloBreaches).toEqual([]);
    // 240 labels over 3 windows (the fewest that make 200): accuracy 0.6, its interval below 0.8.
    expect(kiosk[2]).toMatchObject({ n: 240, pooledWindows: 3 });
    expect(kiosk[2]!.value).toBeCloseTo(0.6, 10);
    expect(kiosk[3]).toMatchObject({ n: 240, pooledWindows: 3 });
    expect(reports[2]!.sloBreaches).toEqual([
      expect.objectContaining({ segment: 'metadata.channel=kiosk', n: 240, slo: 0.8 }),
    ]);
    // The large segment has its minimum alone: never pooled.
    expect(reports[3]!.segments.find((s) => s.value === 'web')!.quality).toMatchObject({ n: 1000 });
    expect(reports[3]!.segments.find((s) => s.value === 'web')!.quality!.pooledWindows).toBeUndefined();
    expect(state.segments?.sloBreaches.map((b) => b.segment)).toEqual(['metadata.channel=kiosk']);
    // The state keeps only the labels a later pool could use: the large segment's newest window,
    // the small one's newest windows that reach 200.
    const kept = state.segments!.labels!;
    expect(kept).toHaveLength(4);
    expect(kept.map((w) => Object.keys(w.segments).sort())).toEqual([
      [],
      ['metadata.channel=kiosk'],
      ['metadata.channel=kiosk'],
      ['metadata.channel=kiosk', 'metadata.channel=web'],
    ]);
  });

  it('never pools across a version change', () => {
    const { reports } = run(5, true, (t) => (t < 2 ? 'v1' : 'v2'));
    const kiosk = reports.map((r) => r.segments.find((s) => s.value === 'kiosk')!.quality!);
    expect(kiosk.map((q) => q.n)).toEqual([80, 80, 80, 80, 240]);
    expect(reports[3]!.sloBreaches).toEqual([]);
    expect(reports[4]!.sloBreaches).toHaveLength(1);
  });

  it('never pools a broken window, another segment plan or a segment without labels of its own', () => {
    const kiosk = (n: number): SegmentCounts => {
      const w = segment('kiosk', n, 0.6);
      return { key: w.key, value: w.value, reference: counted(500), window: w.counted, labelled: w.labelled };
    };
    const earlierLabels = (planId: string, broken: string[]): SegmentLabelWindow => ({
      start: T0,
      planId,
      version: 'v1',
      segments: { 'metadata.channel=kiosk': { labelled: 150, positives: new Array(50).fill(1), negatives: [] } },
      broken,
    });
    const current = { planId: PLAN, version: 'v1', broken: new Set<string>() };
    expect(poolSegmentsWithEarlier([kiosk(80)], current, [earlierLabels(PLAN, [])], 200).get(0)?.windows).toBe(2);
    expect(poolSegmentsWithEarlier([kiosk(80)], current, [earlierLabels('other-plan', [])], 200).size).toBe(0);
    expect(
      poolSegmentsWithEarlier([kiosk(80)], current, [earlierLabels(PLAN, ['metadata.channel=kiosk'])], 200).size,
    ).toBe(0);
    expect(
      poolSegmentsWithEarlier(
        [kiosk(80)],
        { ...current, broken: new Set(['metadata.channel=kiosk']) },
        [earlierLabels(PLAN, [])],
        200,
      ).size,
    ).toBe(0);
    const unlabelled: SegmentCounts = { ...kiosk(80), labelled: null };
    expect(poolSegmentsWithEarlier([unlabelled], current, [earlierLabels(PLAN, [])], 200).size).toBe(0);
  });
});
