import { describe, expect, it } from 'vitest';
import { evaluateRetrainEconomics } from '../../../detectors/economics/retrain-economics.ts';
import { cumulativeYardstick, STEP_RULE_MIN_Z, stepStaleness } from '../../../detectors/economics/staleness.ts';
import type { StepChange } from '../../../detectors/economics/staleness.ts';
import { fitDecay } from '../../../detectors/decay/fit.ts';
import { evaluatePolicy } from '../../../detectors/policy/index.ts';
import type { PolicyState, WindowSummary } from '../../../detectors/policy/index.ts';
import { costAwarePolicy } from '../../helpers/policies.ts';

/** Rule revision 2 of the cost-aware trigger: the step rule and the cumulative yardstick. */

const H = 3_600_000;
const NOW = Date.parse('2026-03-04T12:00:00Z');

describe('stepStaleness: a step down priced for as long as it is expected to last', () => {
  const step: StepChange = { at: NOW - 3 * H, before: 0.9, after: 0.8, z: 8 };
  const options = {
    attainable: 0.9,
    attainableSe: 0.005,
    eventsAfter: 900,
    versionStart: NOW - 23 * H,
    now: NOW,
    eventsPerHour: 300,
    valuePerQualityUnit: 1,
  };

  it('loss one standard error low × events an hour × the longer of the age at the step and the step’s age', () => {
    const e = stepStaleness(step, options);
    const se = Math.sqrt((0.8 * 0.2) / 900 + 0.005 ** 2);
    expect(e?.lossRate).toBeCloseTo(0.1 - se, 12);
    expect(e?.expectedHours).toBeCloseTo(20, 12);
    expect(e?.value).toBeCloseTo(300 * (0.1 - se) * 20, 9);
    expect(e?.description).toContain('served 20.0 h before it');
    // A step older than the concept before it: it has already lasted longer.
    expect(
      stepStaleness({ ...step, at: NOW - 30 * H }, { ...options, versionStart: NOW - 32 * H })?.expectedHours,
    ).toBeCloseTo(30, 12);
  });

  it('needs a step of at least STEP_RULE_MIN_Z standard errors and a loss that survives its error', () => {
    expect(STEP_RULE_MIN_Z).toBe(6);
    expect(stepStaleness({ ...step, z: 5.9 }, options)).toBeNull();
    expect(stepStaleness({ ...step, after: 0.89 }, options)).toBeNull();
  });

  it('works the other way round for lower-is-better metrics', () => {
    const e = stepStaleness(
      { ...step, before: 0.1, after: 0.2 },
      { ...options, attainable: 0.1, direction: 'lower-is-better' },
    );
    expect(e?.lossRate).toBeGreaterThan(0.08);
  });
});

describe('cumulativeYardstick: what the cumulative rule measures staleness against', () => {
  it('the version’s own early life when nothing says it is stale and it started below the attainable median', () => {
    expect(cumulativeYardstick(0.9, { version: 'v', quality: 0.87, events: 900 }, false)).toBe(0.87);
    expect(cumulativeYardstick(0.9, { version: 'v', quality: 0.93, events: 900 }, false)).toBe(0.9);
    expect(cumulativeYardstick(0.1, { version: 'v', quality: 0.13, events: 900 }, false, 'lower-is-better')).toBe(0.13);
  });
  it('the attainable quality after a step, for a version that started low, or without early life', () => {
    expect(cumulativeYardstick(0.9, { version: 'v', quality: 0.87, events: 900 }, true)).toBe(0.9);
    expect(cumulativeYardstick(0.9, null, false)).toBe(0.9);
    expect(cumulativeYardstick(null, { version: 'v', quality: 0.87, events: 900 }, false)).toBeNull();
  });
});

describe('evaluateRetrainEconomics with a priced step', () => {
  const fit = fitDecay([]);
  const base = {
    fit,
    horizonHours: 168,
    eventsPerHour: 300,
    valuePerQualityUnit: 1,
    retrainCost: 150,
    accumulatedStalenessCost: 40,
  };
  const step = { value: 400, lossRate: 0.05, expectedHours: 26.7, description: 'quality stepped down' };

  it('retrains by the step rule when the cumulative rule would still wait', () => {
    const e = evaluateRetrainEconomics({ ...base, step });
    expect(e.shouldRetrain).toBe(true);
    expect(e.rule).toBe('step');
    expect(e.netBenefit).toBeCloseTo(250, 9);
    expect(e.step).toEqual(step);
    expect(e.reason).toContain('400 > retrain 150');
  });
  it('waits when the priced step is below the hurdle, and never applies under rule "forecast"', () => {
    expect(evaluateRetrainEconomics({ ...base, step: { ...step, value: 149 } }).shouldRetrain).toBe(false);
    expect(evaluateRetrainEconomics({ ...base, step, rule: 'forecast' }).shouldRetrain).toBe(false);
  });
  it('revision 1 (no step given) leaves the result as it was', () => {
    const e = evaluateRetrainEconomics(base);
    expect(e.shouldRetrain).toBe(false);
    expect('step' in e).toBe(false);
  });
});

describe('cost-aware trigger, rule revision 2 against revision 1', () => {
  const policy = costAwarePolicy();
  const windows = (qualities: number[]): WindowSummary[] =>
    qualities.map((value, i) => ({
      start: NOW - (qualities.length - i) * H,
      end: NOW - (qualities.length - i - 1) * H,
      events: 300,
      quality: { metric: 'accuracy', value, source: 'realised' },
    }));
  const at = (qualities: number[], extra: Partial<PolicyState> = {}): PolicyState => ({
    windows: windows(qualities),
    lastRetrainAt: NOW - qualities.length * H,
    versionTrainedAt: NOW - qualities.length * H,
    freshQuality: 0.9,
    ...extra,
  });
  const served = Array.from({ length: 30 }, () => 0.9);

  it('a step 8 points down after 30 h of service retrains once the training window is clean; revision 1 still waits', () => {
    const four = at([...served, 0.82, 0.82, 0.82, 0.82]);
    const d = evaluatePolicy(policy, { ...four, ruleRevision: 2 }, NOW);
    expect(d.kind).toBe('retrain');
    expect(d.economics?.rule).toBe('step');
    expect(d.inputs.ruleRevision).toBe(2);
    expect(d.inputs.stepExpectedHours).toBeCloseTo(30, 9);
    expect(d.inputs.stepValue as number).toBeGreaterThan(150);
    // Revision 1: the cumulative evidence since the step (4 windows × 300 × 0.08, one standard error low) is below 150.
    const old = evaluatePolicy(policy, { ...four, ruleRevision: 1 }, NOW);
    expect(old.kind).toBe('no-action');
    expect(old.economics?.rule).toBe('cumulative');
    expect(old.inputs.stepValue).toBeUndefined();
  });

  it('two windows after the step the step rule wants a retrain, but the training window still holds the old concept', () => {
    const d = evaluatePolicy(policy, at([...served, 0.82, 0.82]), NOW);
    expect(d.economics?.shouldRetrain).toBe(true);
    expect(d.kind).toBe('no-action');
    expect(d.inputs.cleanTrainingAt).toBe(NOW + 2 * H);
  });

  it('a version flat below the median of earlier versions (a harder concept) is not retrained for it; revision 1 retrains it', () => {
    const recentVersions = [
      { version: 'v1', quality: 0.9, events: 900 },
      { version: 'v2', quality: 0.9, events: 900 },
      { version: 'v3', quality: 0.87, events: 900 },
    ];
    const flat = at(
      Array.from({ length: 40 }, () => 0.87),
      { freshQuality: 0.87, recentVersions },
    );
    const d = evaluatePolicy(policy, flat, NOW);
    expect(d.inputs.startedBelowAttainable).toBe(false);
    expect(d.inputs.attainableQuality).toBeCloseTo(0.9, 12);
    expect(d.inputs.stalenessYardstick).toBeCloseTo(0.87, 12);
    expect(d.kind).toBe('no-action');
    expect(evaluatePolicy(policy, { ...flat, ruleRevision: 1 }, NOW).kind).toBe('retrain');
  });
});
