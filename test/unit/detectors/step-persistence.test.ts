import { describe, expect, it } from 'vitest';
import { lossPersistence, PERSISTENCE_MIN_PAIRS } from '../../../detectors/economics/persistence.ts';
import type { QualityWindow } from '../../../detectors/economics/staleness.ts';
import { stepStaleness } from '../../../detectors/economics/staleness.ts';
import { evaluatePolicy } from '../../../detectors/policy/index.ts';
import type { PolicyState, WindowSummary } from '../../../detectors/policy/index.ts';
import { H, hourly, NOW, sampled } from '../../helpers/hourly-quality.ts';
import { costAwarePolicy } from '../../helpers/policies.ts';

/** Rule revision 5: a step priced for as long as the model's own quality excursions last. */

/** A true accuracy of 0.9 with a drop to 0.7 for one window in every six: excursions that revert at once. */
const bouncing = (n: number): number[] => Array.from({ length: n }, (_, i) => (i % 6 === 3 ? 0.7 : 0.9));

describe('lossPersistence: how long the model’s quality excursions last', () => {
  it('stationary sampling noise shows no excursions: no estimate, the version’s age stands', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const p = lossPersistence(hourly(sampled(Array(60).fill(0.9), seed)), { retrainTimes: [], currentStepAt: null });
      expect(p.hours).toBeNull();
      expect(p.pairs).toBe(59);
      expect(p.reason).toContain('sampling noise');
    }
  });

  it('a smooth decline is ageing, not wandering: detrended, it shows none either', () => {
    const declining = Array.from({ length: 60 }, (_, i) => 0.92 - 0.003 * i);
    expect(lossPersistence(hourly(sampled(declining, 7)), { retrainTimes: [], currentStepAt: null }).hours).toBeNull();
  });

  it('excursions that revert within a window: a time scale of a window or two', () => {
    const p = lossPersistence(hourly(sampled(bouncing(60), 11)), { retrainTimes: [], currentStepAt: null });
    expect(p.dispersion as number).toBeGreaterThan(5);
    expect(p.hours as number).toBeGreaterThan(1);
    expect(p.hours as number).toBeLessThan(2);
    expect(p.reason).toContain('returns');
  });

  it('excursions that last several windows give a longer time scale than those that revert at once', () => {
    const slow = Array.from({ length: 60 }, (_, i) => (i % 12 < 4 ? 0.7 : 0.9));
    const quick = lossPersistence(hourly(sampled(bouncing(60), 12)), { retrainTimes: [], currentStepAt: null });
    const long = lossPersistence(hourly(sampled(slow, 12)), { retrainTimes: [], currentStepAt: null });
    expect(long.hours as number).toBeGreaterThan((quick.hours as number) + 1);
  });

  it('the step being judged and each earlier version’s own step are not wandering', () => {
    // Two versions, each flat then stepped down for its last windows (the step the rule retrained on).
    const v1 = sampled([...Array(20).fill(0.9), ...Array(4).fill(0.7)], 21);
    const v2 = sampled([...Array(20).fill(0.9), ...Array(3).fill(0.7)], 22);
    const windows = hourly([...v1, ...v2]);
    const retrainAt = (windows[24] as QualityWindow).start;
    const stepAt = (windows[44] as QualityWindow).start;
    const p = lossPersistence(windows, { retrainTimes: [retrainAt], currentStepAt: stepAt });
    expect(p.hours).toBeNull();
    expect(p.windows).toBe(36); // 20 + 20 before the steps, less the 2 windows before each where an onset may lie
    // Taken as one version with no step given, the same windows are wandering that lasts.
    expect(lossPersistence(windows, { retrainTimes: [], currentStepAt: null }).dispersion as number).toBeGreaterThan(5);
  });

  it('a change whose onset takes two windows to show is not wandering either', () => {
    const windows = hourly(sampled([...Array(30).fill(0.9), 0.85, 0.8, 0.7, 0.7, 0.7], 61));
    const stepAt = (windows[32] as QualityWindow).start;
    expect(lossPersistence(windows, { retrainTimes: [], currentStepAt: stepAt }).hours).toBeNull();
  });

  it('too little history is no estimate', () => {
    const p = lossPersistence(hourly(sampled(bouncing(PERSISTENCE_MIN_PAIRS), 3)), {
      retrainTimes: [],
      currentStepAt: null,
    });
    expect(p.pairs).toBe(PERSISTENCE_MIN_PAIRS - 1);
    expect(p.hours).toBeNull();
    expect(p.reason).toContain('too little history');
  });
});

describe('stepStaleness with the persistence estimate', () => {
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
  it('prices the step for the excursions’ time scale when shorter than the version’s age', () => {
    expect(stepStaleness(step, options)?.expectedHours).toBeCloseTo(48, 9);
    const short = stepStaleness(step, { ...options, persistenceHours: 1.5 });
    expect(short?.expectedHours).toBeCloseTo(2, 9); // the step has already lasted 2 h
    expect(short?.change?.persistenceHours).toBe(1.5);
    expect(short?.description).toContain('excursions last about 1.5 h');
    expect(stepStaleness(step, { ...options, persistenceHours: 100 })?.expectedHours).toBeCloseTo(48, 9);
    expect(stepStaleness(step, { ...options, persistenceHours: null })?.expectedHours).toBeCloseTo(48, 9);
  });
});

describe('cost-aware trigger, rule revision 5 against revision 4', () => {
  const policy = costAwarePolicy();
  const summaries = (qualities: readonly number[]): WindowSummary[] =>
    hourly(qualities).map((w) => ({
      start: w.start,
      end: w.end,
      events: w.events,
      quality: { metric: 'accuracy', value: w.quality as number, source: 'realised' },
    }));
  const at = (qualities: readonly number[], revision: number): PolicyState => ({
    windows: summaries(qualities),
    lastRetrainAt: NOW - qualities.length * H,
    versionTrainedAt: NOW - qualities.length * H,
    freshQuality: 0.9,
    ruleRevision: revision,
  });

  it('stationary noise: no retrain at either revision', () => {
    const noise = sampled(Array(48).fill(0.9), 31);
    for (const revision of [4, 5]) expect(evaluatePolicy(policy, at(noise, revision), NOW).kind).toBe('no-action');
  });

  it('a step after a history of excursions that revert is priced for their time scale: no retrain; revision 4 retrains', () => {
    // 48 h of a model at 0.85 that swings up or down for a window and comes back, then the latest two windows down.
    const swinging = Array.from({ length: 48 }, (_, i) => (i % 6 === 1 ? 0.95 : i % 6 === 4 ? 0.75 : 0.85));
    const windows = sampled([...swinging, 0.65, 0.65], 41);
    const state = (revision: number): PolicyState => ({ ...at(windows, revision), freshQuality: 0.85 });
    const old = evaluatePolicy(policy, state(4), NOW);
    expect(old.economics?.rule).toBe('step');
    expect(old.economics?.shouldRetrain).toBe(true);
    expect(old.inputs.stepExpectedHours).toBeCloseTo(48, 9);
    const d = evaluatePolicy(policy, state(5), NOW);
    expect(d.inputs.ruleRevision).toBe(5);
    expect(d.inputs.stepExpectedHours).toBeCloseTo(2, 9); // the excursions' scale is shorter than the step's own age
    expect(d.inputs.stepValue as number).toBeLessThan(150);
    expect(d.economics?.shouldRetrain).toBe(false);
    expect(d.kind).toBe('no-action');
  });

  it('a persistent step after a steady history is priced as before: both revisions retrain', () => {
    const windows = sampled([...Array(48).fill(0.9), 0.7, 0.7, 0.7, 0.7], 51);
    const old = evaluatePolicy(policy, at(windows, 4), NOW);
    const d = evaluatePolicy(policy, at(windows, 5), NOW);
    expect(old.kind).toBe('retrain');
    expect(d.kind).toBe('retrain');
    expect(d.inputs.stepExpectedHours).toBeCloseTo(old.inputs.stepExpectedHours as number, 9);
    expect(d.inputs.stepValue).toBeCloseTo(old.inputs.stepValue as number, 9);
  });
});
