import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CategoricalProfile } from '../../../detectors/drift/profiles.ts';
import type { CountedWindow } from '../../../detectors/drift/window-comparison.ts';
import { assessHealth, type HealthInputs } from '../../../detectors/monitor/health.ts';
import { monitorHealthInputs } from '../../../detectors/monitor/health-inputs.ts';
import { initialMonitorState } from '../../../detectors/monitor/tick.ts';
import type { MonitorState } from '../../../detectors/monitor/types.ts';
import { evaluatePolicy } from '../../../detectors/policy/evaluate.ts';
import type { DecisionValue } from '../../../detectors/policy/state.ts';
import type { RetrainPolicy } from '../../../detectors/policy/types.ts';
import { estimationGrouping, groupScores } from '../../../detectors/quality/cbpe-groups.ts';
import { estimateCbpe, fitCbpe } from '../../../detectors/quality/cbpe.ts';
import { buildScoreHistogram } from '../../../detectors/quality/score-histogram.ts';
import { Random } from '../../../detectors/random.ts';
import { evaluateSegments } from '../../../detectors/segments/evaluate-segments.ts';
import { withSegmentSlo } from '../../../detectors/segments/slo-rule.ts';
import type { SegmentCounts } from '../../../detectors/segments/types.ts';
import { parsePolicy } from '../../../platform/policy-file.ts';

interface Fixture {
  min_events: number;
  segments: {
    key: string;
    value: string;
    rows_reference: number;
    rows_window: number;
    reference: Record<string, Record<string, number>>;
    window: Record<string, Record<string, number>>;
  }[];
  tests: { segment: string; feature: string; pvalue: number; pvalue_adjusted: number }[];
}

const fixture = JSON.parse(
  readFileSync(new URL('../../fixtures/segments/segments_bh.json', import.meta.url), 'utf8'),
) as Fixture;

const counted = (rows: number, features: Record<string, Record<string, number>>): CountedWindow => ({
  rows,
  features: Object.fromEntries(
    Object.entries(features).map(([name, counts]) => [
      name,
      { kind: 'categorical', counts, missing: 0 } satisfies CategoricalProfile,
    ]),
  ),
  prediction: null,
  predictionClass: null,
  predictionValue: null,
  typeViolations: {},
});

const featureNames = Object.keys(fixture.segments[0]!.reference);
const whole = {
  features: Object.fromEntries(
    featureNames.map((n) => [n, { kind: 'categorical', counts: {}, missing: 0 } satisfies CategoricalProfile]),
  ),
  prediction: null,
};
const segments: SegmentCounts[] = fixture.segments.map((s) => ({
  key: s.key,
  value: s.value,
  reference: counted(s.rows_reference, s.reference),
  window: counted(s.rows_window, s.window),
  labelled: null,
}));

describe('segments: drift per segment, Benjamini–Hochberg across segments × features', () => {
  const report = evaluateSegments(whole, segments, { minEvents: fixture.min_events });

  it('adjusts every (segment, feature) p-value as scipy false_discovery_control does over the whole family', () => {
    expect(report.multipleTesting.tests).toBe(fixture.tests.length);
    for (const t of fixture.tests) {
      const column = report.segments
        .find((s) => s.segment === t.segment)!
        .drift!.columns.find((c) => c.name === t.feature)!;
      expect(column.test).toBe('chi2');
      expect(column.pvalue).toBeCloseTo(t.pvalue, 10);
      expect(Math.abs(column.pvalue_adjusted! - t.pvalue_adjusted)).toBeLessThan(1e-9 * Math.max(1, t.pvalue_adjusted));
    }
  });

  it('names the shifted segment and its shifted features, and only those', () => {
    const expected = fixture.tests.filter((t) => t.pvalue_adjusted < 0.05).map((t) => `${t.segment}:${t.feature}`);
    const found = report.segments.flatMap((s) => (s.drift?.drifted ?? []).map((f) => `${s.segment}:${f}`));
    expect(found.sort()).toEqual(expected.sort());
    expect(report.drifted).toEqual(['country=FR']);
    expect(report.drivers).toEqual(['country=FR']);
  });

  it('leaves a segment with too few events unjudged and out of the family', () => {
    const small = report.segments.find((s) => s.value === 'IT')!;
    expect(small.judged).toBe(false);
    expect(small.drift).toBeNull();
    expect(small.note).toContain('60 events in the window');
  });
});

/** A segment whose labelled events have the given accuracy at threshold 0.5. */
function labelledSegment(value: string, n: number, accuracy: number): SegmentCounts {
  const labels: number[] = [];
  const scores: number[] = [];
  const correct = Math.round(n * accuracy);
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    labels.push(label);
    const right = i < correct;
    scores.push(right === (label === 1) ? 0.8 : 0.2);
  }
  const rows = counted(n, {});
  return {
    key: 'channel',
    value,
    reference: rows,
    window: rows,
    labelled: { events: n, histogram: buildScoreHistogram(labels, scores) },
  };
}

describe('segment SLO', () => {
  const slo = { min: 0.8, minEvents: 200, action: 'retrain' as const };

  it('breaches only a segment with enough labelled events whose whole interval is below the SLO', () => {
    const report = evaluateSegments(
      whole,
      [
        labelledSegment('web', 1000, 0.7),
        labelledSegment('app', 1000, 0.9),
        labelledSegment('pos', 100, 0.5),
        labelledSegment('kiosk', 400, 0.78),
      ],
      { minEvents: 100, slo },
    );
    expect(report.sloBreaches.map((b) => b.segment)).toEqual(['channel=web']);
    const web = report.segments.find((s) => s.value === 'web')!;
    expect(web.quality!.value).toBeCloseTo(0.7, 10);
    expect(web.quality!.interval!.upper).toBeLessThan(0.8);
    // 0.78 on 400 events: its interval reaches above 0.8, so noise alone does not breach.
    expect(report.segments.find((s) => s.value === 'kiosk')!.sloBreached).toBe(false);
    expect(report.drivers[0]).toBe('channel=web');
  });

  it('fires the trigger with action "retrain" and only names the segments with "health"', () => {
    const breaches = [{ segment: 'channel=web', value: 0.7, upper: 0.73, n: 1000, slo: 0.8 }];
    const quiet = { fired: false, reason: 'quality holds', inputs: {} as Record<string, DecisionValue> };
    const fired = withSegmentSlo(quiet, { keys: [{ feature: 'channel' }], topK: 10, minEvents: 100, slo }, breaches);
    expect(fired.fired).toBe(true);
    expect(fired.reason).toContain('channel=web');
    expect(fired.inputs.segmentSloBreaches).toBe('channel=web');
    const named = withSegmentSlo(
      quiet,
      { keys: [{ feature: 'channel' }], topK: 10, minEvents: 100, slo: { ...slo, action: 'health' } },
      breaches,
    );
    expect(named.fired).toBe(false);
    expect(named.reason).toContain('channel=web');
    expect(withSegmentSlo(quiet, undefined, breaches)).toBe(quiet);
  });

  it('reaches the policy decision through the guards', () => {
    const policy: RetrainPolicy = parsePolicy({
      name: 'p',
      version: '1',
      model: 'm',
      trigger: { kind: 'manual' },
      segments: { keys: [{ feature: 'channel' }], slo: { min: 0.8, action: 'retrain' } },
    }).policy;
    const breaches = [{ segment: 'channel=web', value: 0.7, upper: 0.73, n: 1000, slo: 0.8 }];
    const now = Date.UTC(2026, 0, 5, 12);
    const decided = evaluatePolicy(policy, { segmentSloBreaches: breaches }, now);
    expect(decided.kind).toBe('retrain');
    expect(decided.trigger.reason).toContain('channel=web');
    const cooling = evaluatePolicy(policy, { segmentSloBreaches: breaches, lastRetrainAt: now - 60_000 }, now);
    expect(cooling.kind).toBe('blocked');
    expect(cooling.blockedBy).toBe('cooldown');
    expect(evaluatePolicy(policy, {}, now).kind).toBe('no-action');
  });
});

describe('segments policy section', () => {
  it('applies the documented defaults and keeps the hash of a policy without segments', () => {
    const loaded = parsePolicy({
      name: 'p',
      version: '1',
      model: 'm',
      trigger: { kind: 'manual' },
      segments: { keys: [{ metadata: 'channel' }] },
    });
    expect(loaded.policy.segments).toEqual({ keys: [{ metadata: 'channel' }], topK: 10, minEvents: 100 });
    const plain = parsePolicy({ name: 'p', version: '1', model: 'm', trigger: { kind: 'manual' } });
    expect(plain.policy.segments).toBeUndefined();
  });

  it('says what is wrong with a bad segment key', () => {
    expect(() =>
      parsePolicy({
        name: 'p',
        version: '1',
        model: 'm',
        trigger: { kind: 'manual' },
        segments: { keys: [{ column: 'x' }] },
      }),
    ).toThrow(/feature: <categorical feature>|metadata/);
    expect(() =>
      parsePolicy({
        name: 'p',
        version: '1',
        model: 'm',
        trigger: { kind: 'manual' },
        segments: { keys: [{ feature: 'c' }], topK: 0 },
      }),
    ).toThrow(/at least 1/);
  });
});

describe('segment SLO in the health rule', () => {
  const healthy: HealthInputs = {
    paused: false,
    evaluated: true,
    dataQualityOk: true,
    quality: { value: 0.9, lower: 0.88, upper: 0.92 },
    target: { value: 0.85, source: 'slo' },
    timeToBreachHours: null,
    breachWarningHours: 24,
    datasetDrift: false,
    ingest: null,
    ingestLagLimitSeconds: 60,
    servingDisagreement: null,
  };

  it('marks the model degraded for a segment below its SLO while the whole window holds up, naming the segment', () => {
    expect(assessHealth(healthy).health).toBe('healthy');
    const breached = assessHealth({ ...healthy, segmentSloBreaches: ['country=DE'] });
    expect(breached.health).toBe('degraded');
    expect(breached.findings[0]!.reason).toContain('country=DE');
  });

  it('takes the breaches from the monitor state the tick left', () => {
    const state: MonitorState = {
      ...initialMonitorState('m'),
      segments: {
        reference: null,
        sloBreaches: [{ segment: 'country=DE', value: 0.6, upper: 0.65, n: 600, slo: 0.8 }],
      },
    };
    const inputs = monitorHealthInputs(state, {
      settings: { qualitySlo: null, qualityMetric: 'accuracy' },
      policy: { trigger: { kind: 'manual' } },
      cadenceMs: 3_600_000,
      settleMs: 0,
    });
    expect(inputs.segmentSloBreaches).toEqual(['country=DE']);
  });
});

describe('estimated quality per segment', () => {
  const random = new Random(15_001);
  // A reference where scores are calibrated: label 1 with probability = score (grid scores, ties included).
  const referenceScores = Array.from({ length: 4000 }, () => Math.round(random.next() * 100) / 100);
  const referenceLabels = referenceScores.map((s) => (random.next() < s ? 1 : 0));
  const model = fitCbpe(referenceLabels, referenceScores, { threshold: 0.6 });
  const grouping = estimationGrouping(model);
  // One segment scored near the extremes (confident: high accuracy), one near the threshold.
  const confident = Array.from({ length: 500 }, () => Math.round((random.next() < 0.5 ? 0.05 : 0.9) * 100) / 100);
  const unsure = Array.from({ length: 400 }, () => Math.round((0.5 + 0.2 * random.next()) * 100) / 100);
  const segment = (value: string, scores: number[]): SegmentCounts => ({
    key: 'country',
    value,
    reference: counted(300, {}),
    window: counted(scores.length, {}),
    labelled: null,
    estimation: { groups: groupScores(grouping, scores), outside: 0 },
  });
  const counts = [segment('DE', confident), segment('FR', unsure)];

  it('estimates each segment from its own score groups as CBPE does from its scores', () => {
    for (const metric of ['accuracy', 'auc'] as const) {
      const report = evaluateSegments(
        whole,
        counts,
        { minEvents: 100 },
        { qualityMetric: metric, estimator: { model, grouping } },
      );
      for (const [i, scores] of [confident, unsure].entries()) {
        const rows = estimateCbpe(model, scores);
        const estimated = report.segments[i]!.estimated!;
        const expected = metric === 'auc' ? rows.rocAuc : rows.accuracy;
        expect(estimated.metric).toBe(metric);
        expect(estimated.n).toBe(scores.length);
        expect(estimated.value).toBeCloseTo(expected!, 9);
        expect(estimated.interval).not.toBeNull();
      }
      if (metric === 'accuracy')
        expect(report.segments[0]!.estimated!.value!).toBeGreaterThan(report.segments[1]!.estimated!.value! + 0.2);
    }
  });

  it('leaves estimates out without an estimator, and the SLO on realised quality', () => {
    const report = evaluateSegments(whole, counts, {
      minEvents: 100,
      slo: { min: 0.99, minEvents: 10, action: 'health' },
    });
    expect(report.segments.every((s) => s.estimated === undefined)).toBe(true);
    const estimated = evaluateSegments(
      whole,
      counts,
      { minEvents: 100, slo: { min: 0.99, minEvents: 10, action: 'health' } },
      { estimator: { model, grouping } },
    );
    // Estimated accuracy below 0.99 breaches nothing: the SLO holds realised quality, and there are no labels.
    expect(estimated.sloBreaches).toEqual([]);
    expect(estimated.segments[1]!.estimated!.value!).toBeLessThan(0.99);
  });
});
