import { describe, expect, it } from 'vitest';
import { lossPersistence, PERSISTENCE_MIN_PAIRS } from '../../../detectors/economics/persistence.ts';
import { stepStaleness } from '../../../detectors/economics/staleness.ts';
import { evaluatePolicy } from '../../../detectors/policy/index.ts';
import type { PolicyState } from '../../../detectors/policy/index.ts';
import { describeEconomics } from '../../../detectors/texts/economics-statement.ts';
import { H, hourly, NOW, sampled } from '../../helpers/hourly-quality.ts';
import { costAwarePolicy } from '../../helpers/policies.ts';

/**
 * Rule revision 7: while the window history is too short to tell a step that lasts from an
 * excursion that reverts, a step is priced for as long again as it has lasted, not for the
 * version's age (a file's model that served 243 days before monitoring started had its first
 * two-window dip priced over 264 days on the California housing data).
 */

describe('lossPersistence says what its history showed', () => {
  const options = { retrainTimes: [], currentStepAt: null };
  it('too few window pairs, sampling noise, excursions that revert', () => {
    expect(lossPersistence(hourly(sampled(Array(PERSISTENCE_MIN_PAIRS).fill(0.9), 1)), options).basis).toBe(
      'too-little-history',
    );
    expect(lossPersistence(hourly(sampled(Array(60).fill(0.9), 2)), options).basis).toBe('sampling-noise');
    const bouncing = Array.from({ length: 60 }, (_, i) => (i % 6 === 3 ? 0.7 : 0.9));
    const p = lossPersistence(hourly(sampled(bouncing, 3)), options);
    expect(p.basis).toBe('excursions');
    expect(p.hours).not.toBeNull();
  });
});

describe('stepStaleness without a measured persistence (rule revision 7)', () => {
  const step = { at: NOW - 2 * H, before: 0.9, after: 0.7, z: 12 };
  const options = {
    attainable: 0.9,
    attainableSe: 0.005,
    eventsAfter: 600,
    versionStart: NOW - 50 * H,
    now: NOW,
    eventsPerHour: 300,
    valuePerQualityUnit: 1,
  };
  const unmeasured = { pairs: 3, minPairs: PERSISTENCE_MIN_PAIRS };

  it('prices the step for as long again as it has lasted, not the version’s 48 h before it', () => {
    const aged = stepStaleness(step, options);
    const lasted = stepStaleness(step, { ...options, unmeasuredPersistence: unmeasured });
    expect(aged?.expectedHours).toBeCloseTo(48, 9);
    expect(lasted?.expectedHours).toBeCloseTo(2, 9);
    expect(lasted?.lossRate).toBeCloseTo(aged?.lossRate as number, 12);
    expect(lasted?.value).toBeCloseTo(((aged?.value as number) * 2) / 48, 9);
    expect(lasted?.change?.unmeasuredPersistence).toEqual({ ...unmeasured, lastedHours: 2 });
    expect(lasted?.description).toContain(
      'too little history to tell whether its steps last (3 consecutive window pairs',
    );
    expect(aged?.change?.unmeasuredPersistence).toBeUndefined();
  });

  it('a measured persistence decides instead (revision 5’s estimate stands)', () => {
    const both = stepStaleness(step, { ...options, persistenceHours: 10, unmeasuredPersistence: unmeasured });
    expect(both?.expectedHours).toBeCloseTo(10, 9);
    expect(both?.change?.unmeasuredPersistence).toBeUndefined();
  });

  it('a step that has lasted longer than the version had served is priced for as long again as it has lasted', () => {
    const long = { ...step, at: NOW - 30 * H };
    const lasted = stepStaleness(long, { ...options, versionStart: NOW - 40 * H, unmeasuredPersistence: unmeasured });
    expect(lasted?.expectedHours).toBeCloseTo(30, 9);
  });
});

describe('cost-aware trigger, rule revision 7 against revision 6, on a short history', () => {
  const policy = costAwarePolicy();
  // A file's model trained 200 h before monitoring started, five steady windows, then a drop.
  const state = (qualities: readonly number[], revision: number): PolicyState => ({
    windows: hourly(qualities).map((w) => ({
      start: w.start,
      end: w.end,
      events: w.events,
      quality: { metric: 'accuracy', value: w.quality as number, source: 'realised' },
    })),
    lastRetrainAt: null,
    versionTrainedAt: NOW - (qualities.length + 200) * H,
    freshQuality: 0.9,
    ruleRevision: revision,
  });

  it('a two-window dip: revision 6 prices it over the version’s 205 h and wants a retrain; revision 7 waits', () => {
    const windows = sampled([0.9, 0.9, 0.9, 0.9, 0.9, 0.75, 0.75], 61);
    const old = evaluatePolicy(policy, state(windows, 6), NOW);
    expect(old.economics?.rule).toBe('step');
    expect(old.economics?.shouldRetrain).toBe(true);
    expect(old.inputs.stepExpectedHours).toBeCloseTo(205, 9);
    const d = evaluatePolicy(policy, state(windows, 7), NOW);
    expect(d.inputs.ruleRevision).toBe(7);
    expect(d.inputs.stepExpectedHours).toBeCloseTo(2, 9);
    expect(d.inputs.stepValue as number).toBeLessThan(150);
    expect(d.economics?.shouldRetrain).toBe(false);
    expect(d.kind).toBe('no-action');
    expect(d.economics?.step?.change?.unmeasuredPersistence).toEqual({
      pairs: 0,
      minPairs: PERSISTENCE_MIN_PAIRS,
      lastedHours: 2,
    });
  });

  it('a step that lasts is retrained once it has cost about a retrain', () => {
    const windows = sampled([0.9, 0.9, 0.9, 0.9, 0.9, 0.7, 0.7, 0.7, 0.7], 62);
    const d = evaluatePolicy(policy, state(windows, 7), NOW);
    expect(d.inputs.stepExpectedHours).toBeCloseTo(4, 9);
    expect(d.inputs.stepValue as number).toBeGreaterThan(150);
    expect(d.kind).toBe('retrain'); // here the loss paid since the step decides first (cumulative rule)
    expect(d.economics?.step?.description).toContain('priced for as long again as it has lasted (4.0 h)');
    // Where the step rule decides, its statement names the evidence the step was priced on.
    const asStep = { ...(d.economics as NonNullable<typeof d.economics>), rule: 'step' as const };
    const text = describeEconomics(asStep).text;
    expect(text).toContain('over the 4 h it is expected to last');
    expect(text).toContain('too little history to tell whether its steps last (0 consecutive window pairs');
    expect(text).toContain('priced for as long again as it has lasted (4 h), not the version');
  });

  it('a step after a history long enough to measure is priced as under revision 6', () => {
    const windows = sampled([...Array(48).fill(0.9), 0.7, 0.7, 0.7, 0.7], 63);
    const old = evaluatePolicy(policy, state(windows, 6), NOW);
    const d = evaluatePolicy(policy, state(windows, 7), NOW);
    expect(d.kind).toBe(old.kind);
    expect(d.inputs.stepExpectedHours).toBeCloseTo(old.inputs.stepExpectedHours as number, 9);
    expect(d.inputs.stepValue).toBeCloseTo(old.inputs.stepValue as number, 9);
  });
});
