import { describe, expect, it } from 'vitest';
import {
  attainableQuality,
  cleanTrainingAt,
  localiseStep,
  netStalenessCost,
  startedBelowAttainable,
} from '../../../detectors/economics/staleness.ts';
import type { QualityWindow } from '../../../detectors/economics/staleness.ts';
import { earlyQualityByVersion } from '../../../detectors/monitor/tick.ts';
import { evaluatePolicy } from '../../../detectors/policy/index.ts';
import type { PolicyState, WindowSummary } from '../../../detectors/policy/index.ts';
import { costAwarePolicy } from '../../helpers/policies.ts';

const H = 3_600_000;
const NOW = Date.parse('2026-03-04T12:00:00Z');
const qw = (qualities: number[], events = 300): QualityWindow[] =>
  qualities.map((quality, i) => ({
    start: NOW - (qualities.length - i) * H,
    end: NOW - (qualities.length - i - 1) * H,
    events,
    quality,
  }));

describe('attainable quality (staleness against what a fresh version reaches)', () => {
  it('is the median of recent versions, so one version trained across a change does not move it', () => {
    const a = attainableQuality(
      [
        { version: 'v1', quality: 0.9, events: 900 },
        { version: 'v2', quality: 0.84, events: 900 },
        { version: 'v3', quality: 0.89, events: 900 },
      ],
      0.84,
    );
    expect(a).toEqual({ value: 0.89, source: 'versions', versions: 3 });
  });
  it('falls back to the fresh quality given, and ignores versions with too few events', () => {
    expect(attainableQuality([{ version: 'v1', quality: 0.99, events: 10 }], 0.85)).toEqual({
      value: 0.85,
      source: 'fresh-quality',
      versions: 0,
    });
    expect(attainableQuality([], null).source).toBe('none');
  });
  it('early quality per version pools the first three realised points, the version in service last', () => {
    const early = earlyQualityByVersion(
      [
        { version: 'v2', ageHours: 1, quality: 0.8, weight: 100, source: 'realised' },
        { version: 'v1', ageHours: 1, quality: 0.9, weight: 100, source: 'realised' },
        { version: 'v1', ageHours: 2, quality: 0.8, weight: 300, source: 'realised' },
        { version: 'v1', ageHours: 3, quality: 0.7, weight: 100, source: 'estimated' },
        { version: 'v1', ageHours: 4, quality: 0.9, weight: 100, source: 'realised' },
        { version: 'v1', ageHours: 5, quality: 0.1, weight: 100, source: 'realised' },
      ],
      'v2',
    );
    expect(early.map((v) => v.version)).toEqual(['v1', 'v2']);
    expect(early[0]?.quality).toBeCloseTo((0.9 * 100 + 0.8 * 300 + 0.9 * 100) / 500, 12);
    expect(early[0]?.events).toBe(500);
  });
});

describe('net staleness cost (signed, so noise does not accumulate)', () => {
  it('windows above attainable offset windows below it', () => {
    expect(netStalenessCost(qw([0.92, 0.88, 0.9]), { attainable: 0.9, valuePerQualityUnit: 1 })).toBeCloseTo(0, 9);
    expect(netStalenessCost(qw([0.8, 0.8]), { attainable: 0.9, valuePerQualityUnit: 2 })).toBeCloseTo(2 * 300 * 0.2, 9);
    expect(netStalenessCost(qw([0.8, 0.8]), { attainable: 0.9, valuePerQualityUnit: 1, sinceMs: NOW - H })).toBeCloseTo(
      30,
      9,
    );
  });
});

describe('step localisation', () => {
  it('finds an abrupt drop at the window it started, one window after it', () => {
    const ws = qw([0.9, 0.89, 0.91, 0.9, 0.9, 0.9, 0.78]);
    const step = localiseStep(ws);
    expect(step?.at).toBe(ws[6]?.start);
    expect(step?.after).toBeCloseTo(0.78, 9);
  });
  it('does not call a smooth decline or noise a step', () => {
    expect(
      localiseStep(
        qw(
          Array.from({ length: 48 }, (_, i) => 0.6 + 0.3 * Math.exp((-Math.LN2 * i) / 24)),
          1000,
        ),
      ),
    ).toBeNull();
    expect(localiseStep(qw([0.9, 0.88, 0.91, 0.89, 0.9, 0.87, 0.9]))).toBeNull();
    expect(localiseStep(qw([0.9, 0.7]))).toBeNull();
  });
  it('a version that started below attainable is told from noise', () => {
    expect(startedBelowAttainable({ version: 'v', quality: 0.84, events: 900 }, 0.89)).toBe(true);
    expect(startedBelowAttainable({ version: 'v', quality: 0.88, events: 900 }, 0.89)).toBe(false);
  });
  it('waits for the training window to clear the step, but not for long windows', () => {
    expect(cleanTrainingAt(NOW - 2 * H, 4 * H, NOW)).toBe(NOW + 2 * H);
    expect(cleanTrainingAt(NOW - 5 * H, 4 * H, NOW)).toBeNull();
    expect(cleanTrainingAt(NOW - 2 * H, 30 * 24 * H, NOW)).toBeNull();
  });
});

describe('cost-aware trigger with the new evidence', () => {
  const policy = costAwarePolicy();
  const windows = (qualities: number[]): WindowSummary[] =>
    qw(qualities).map((w) => ({
      start: w.start,
      end: w.end,
      events: w.events,
      quality: { metric: 'accuracy', value: w.quality as number, source: 'realised' },
    }));
  const at = (qualities: number[], extra: Partial<PolicyState> = {}): PolicyState => ({
    windows: windows(qualities),
    lastRetrainAt: NOW - qualities.length * H,
    versionTrainedAt: NOW - qualities.length * H,
    freshQuality: 0.9,
    ...extra,
  });

  it('does not retrain on sampling noise around the fresh level (the clipped sum did)', () => {
    const noisy = Array.from({ length: 40 }, (_, i) => 0.9 + (i % 2 === 0 ? 0.02 : -0.02));
    const d = evaluatePolicy(policy, at(noisy), NOW);
    expect(d.kind).toBe('no-action');
    expect(d.inputs.accumulatedStalenessCost).toBeCloseTo(0, 6);
  });

  it('retrains a version that started below the attainable quality of recent versions', () => {
    const recentVersions = [
      { version: 'v1', quality: 0.9, events: 900 },
      { version: 'v2', quality: 0.9, events: 900 },
      { version: 'v3', quality: 0.84, events: 900 },
    ];
    const d = evaluatePolicy(
      policy,
      at(
        Array.from({ length: 14 }, () => 0.84),
        { freshQuality: 0.84, recentVersions },
      ),
      NOW,
    );
    expect(d.inputs.startedBelowAttainable).toBe(true);
    expect(d.inputs.attainableQuality).toBeCloseTo(0.9, 9);
    expect(d.kind).toBe('retrain');
    // Against its own validation quality it would look fresh.
    expect(
      evaluatePolicy(
        policy,
        at(
          Array.from({ length: 14 }, () => 0.84),
          { freshQuality: 0.84 },
        ),
        NOW,
      ).kind,
    ).toBe('no-action');
  });

  it('after a step down waits until the training window no longer holds the old concept, then retrains', () => {
    const before = Array.from({ length: 20 }, () => 0.9);
    const early = evaluatePolicy(policy, at([...before, 0.7, 0.7, 0.7]), NOW);
    expect(early.inputs.stepChangeAt).toBe(NOW - 3 * H);
    expect(early.economics?.shouldRetrain).toBe(true);
    expect(early.kind).toBe('no-action');
    expect(early.inputs.cleanTrainingAt).toBe(NOW + H);
    // The decision says first what holds the retrain, then why it will come.
    expect(early.reason).toMatch(
      /^waiting for a training window clean of the step at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: clean from .* UTC; staleness accumulated since the last retrain \d+ > retrain 150 \+ risk 0;/,
    );
    const clean = evaluatePolicy(policy, at([...before, 0.7, 0.7, 0.7, 0.7]), NOW);
    expect(clean.kind).toBe('retrain');
    expect(clean.economics?.rule).toBe('cumulative');
  });
});
