import { describe, expect, it } from 'vitest';
import { fitDecay } from '../../../detectors/decay/fit.ts';
import { populationRate } from '../../../detectors/decay/population.ts';
import type { QualityObservation } from '../../../detectors/decay/types.ts';
import { fitVersionDecay, initialMonitorState, policyStateOf } from '../../../detectors/monitor/tick.ts';
import { DEFAULT_MONITOR_SETTINGS, type MonitorState } from '../../../detectors/monitor/types.ts';

/** Rule revision 2 of the decay fit: serially correlated windows and the population rate prior. */

/** Deterministic ±`size` wiggle (a fixed pattern, no randomness): mean zero over each 4 points, no run. */
const wiggle = (i: number, size = 0.01): number => [size, -size, -size, size][i % 4] as number;
const series = (qualities: number[], events = 300): QualityObservation[] =>
  qualities.map((quality, i) => ({ ageHours: i + 1, quality, weight: events }));

describe('serialCorrelation: a run of low windows is weaker evidence of a trend than its count says', () => {
  // 30 windows at 0.9, then four in a row 3 points lower (all models score low for a few hours).
  const dip = series([
    ...Array.from({ length: 30 }, (_, i) => 0.9 + wiggle(i, 0.005)),
    ...Array.from({ length: 4 }, (_, i) => 0.87 + wiggle(i, 0.003)),
  ]);

  it('the plain fit calls the dip a significant linear decay; with serialCorrelation it is no trend', () => {
    const plain = fitDecay(dip);
    expect(plain.model).not.toBe('none');
    const robust = fitDecay(dip, { serialCorrelation: true });
    expect(robust.model).toBe('none');
    expect(robust.reason).toContain('no significant decreasing trend');
    expect(robust.slopeSeInflation as number).toBeGreaterThan(1.8);
    expect(plain.slopeSeInflation).toBeUndefined();
  });

  it('leaves a steady decline with alternating noise alone (negative lag-1 correlation: no inflation)', () => {
    const decline = series(Array.from({ length: 24 }, (_, i) => 0.92 - 0.004 * i + (i % 2 === 0 ? 0.01 : -0.01)));
    const fit = fitDecay(decline, { serialCorrelation: true });
    expect(fit.model).not.toBe('none');
    expect(fit.slopeSeInflation).toBe(1);
  });
});

describe('populationRate: how fast earlier versions aged, before any step', () => {
  const decaying = (version: string, rate: number) => ({
    version,
    observations: series(Array.from({ length: 20 }, (_, i) => 0.92 + rate * (i + 1) + wiggle(i, 0.005))),
  });
  const stepped = (version: string) => ({
    version,
    observations: series([...Array.from({ length: 30 }, (_, i) => 0.9 + wiggle(i)), 0.75, 0.76, 0.74, 0.75, 0.75]),
  });

  it('pools versions that age steadily; the prior stays at least twice as wide as the mean rate', () => {
    const p = populationRate([decaying('v1', -0.004), decaying('v2', -0.005), decaying('v3', -0.0045)]);
    expect(p.prior?.versions).toBe(3);
    expect(p.prior?.slopePerHour as number).toBeLessThan(-0.0038);
    expect(p.prior?.slopePerHour as number).toBeGreaterThan(-0.0052);
    expect(p.prior?.sd as number).toBeGreaterThanOrEqual(2 * Math.abs(p.prior?.slopePerHour as number) - 1e-12);
  });

  it('cuts each version at its step: versions that only ever stepped give a prior near zero, as narrow as minSd', () => {
    const p = populationRate([stepped('v1'), stepped('v2')]);
    expect(p.versions.map((v) => v.stepAtAgeHours)).toEqual([31, 31]);
    expect(p.versions.every((v) => v.points === 30)).toBe(true);
    expect(Math.abs(p.prior?.slopePerHour as number)).toBeLessThan(0.0003);
    expect(p.prior?.sd).toBeCloseTo(0.0005, 12);
  });

  it('has no prior without a version of four points', () => {
    expect(populationRate([{ version: 'v1', observations: series([0.9, 0.89, 0.88]) }]).prior).toBeNull();
  });
});

describe('fitDecay with a rate prior', () => {
  // A long-lived version drifting down half a point over 40 h: a slope of ~ −0.00012/h.
  const slow = series(
    Array.from({ length: 40 }, (_, i) => 0.9 - 0.00015 * i + wiggle(i, 0.004)),
    1000,
  );

  it('a population that does not age holds a small slope near zero and records what it did', () => {
    const own = fitDecay(slow);
    expect(own.model).toBe('linear');
    const held = fitDecay(slow, { ratePrior: { slopePerHour: 0, sd: 0.0001, versions: 3 } });
    expect(Math.abs(held.slopePerHour ?? 0)).toBeLessThan(Math.abs(own.slopePerHour as number));
    expect(held.ratePrior).toEqual({ slopePerHour: 0, sd: 0.0001, versions: 3 });
    expect(held.ownSlopePerHour).toBeCloseTo(own.slopePerHour as number, 12);
  });

  it('a wide prior hardly moves a version’s own evidence', () => {
    const own = fitDecay(slow);
    const wide = fitDecay(slow, { ratePrior: { slopePerHour: -0.01, sd: 0.02, versions: 3 } });
    expect(wide.slopePerHour as number).toBeCloseTo(own.slopePerHour as number, 5);
  });
});

describe('monitor tick: the rule revision reaches the fit and the policy', () => {
  const points = (version: string, qualities: number[]) =>
    qualities.map((quality, i) => ({ version, ageHours: i + 1, quality, weight: 300, source: 'realised' as const }));
  const state: MonitorState = {
    ...initialMonitorState('m'),
    version: 'v2',
    versionTrainedAt: 0,
    points: [
      ...points(
        'v1',
        Array.from({ length: 30 }, (_, i) => 0.9 + wiggle(i)),
      ),
      ...points(
        'v2',
        Array.from({ length: 20 }, (_, i) => 0.9 - 0.002 * i + wiggle(i)),
      ),
    ],
  };

  it('revisions 2 to 10 (8 the default) fit with serial correlation and the population rate; revision 1 as before', () => {
    const v2 = fitVersionDecay(state, { ...DEFAULT_MONITOR_SETTINGS, ruleRevision: 2 }, 20);
    expect(v2?.slopeSeInflation).toBeDefined();
    expect(v2?.ratePrior?.versions).toBe(1);
    expect(fitVersionDecay(state, DEFAULT_MONITOR_SETTINGS, 20)).toEqual(v2);
    const v1 = fitVersionDecay(state, { ...DEFAULT_MONITOR_SETTINGS, ruleRevision: 1 }, 20);
    expect(v1?.slopeSeInflation).toBeUndefined();
    expect(v1?.ratePrior).toBeUndefined();
    expect(policyStateOf(state).ruleRevision).toBe(8);
    expect(policyStateOf(state, { ruleRevision: 9 }).ruleRevision).toBe(9);
    expect(policyStateOf(state, { ruleRevision: 10 }).ruleRevision).toBe(10);
    expect(policyStateOf(state, { ruleRevision: 1 }).ruleRevision).toBe(1);
  });
});
