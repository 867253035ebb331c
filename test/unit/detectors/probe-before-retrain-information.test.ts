import { describe, expect, it } from 'vitest';
import { evaluatePolicy } from '../../../detectors/policy/index.ts';
import type { PolicyState, WindowSummary } from '../../../detectors/policy/index.ts';
import {
  beforeRetrainSampleValue,
  posteriorExploreValue,
  type GapPosterior,
  type ProbeResult,
} from '../../../detectors/probes/index.ts';
import { Random } from '../../../detectors/random.ts';
import { costAwarePolicy, REVIEWED_GUARDS } from '../../helpers/policies.ts';
import { probeResult } from '../../helpers/probe-results.ts';

/** Rule revision 10: a probe before a retrain of a version whose gap is measured is worth what it adds. */

const H = 3_600_000;
const NOW = Date.parse('2026-03-04T12:00:00Z');

/** Flights at C = 150: ~13,000 flights served, the gap measured at 0 ± 0.005, a new probe reading ±0.005. */
const FLIGHTS = {
  valuePerQualityUnit: 1,
  eventsServed: 13_000,
  hurdle: 150,
  posterior: { mean: 0, sd: 0.005, measurements: 1 } as GapPosterior,
  standardError: 0.005,
};

/**
 * Monte Carlo of the value of a probe: g from the posterior N(m, τ²), the probe reads g + N(0, σ²), the
 * decision follows E[g | reading] (normal-normal), less the better choice without the probe.
 */
function monteCarlo(k: number, hurdle: number, p: GapPosterior, sigma: number, draws: number, seed: number): number {
  const random = new Random(seed);
  const shrink = (p.sd * p.sd) / (p.sd * p.sd + sigma * sigma);
  let sum = 0;
  for (let i = 0; i < draws; i++) {
    const g = random.normal(p.mean, p.sd);
    const reading = g + random.normal(0, sigma);
    sum += Math.max(0, k * (p.mean + (reading - p.mean) * shrink) - hurdle);
  }
  return sum / draws - Math.max(0, k * p.mean - hurdle);
}

describe('the value of a probe before a retrain, given what was measured', () => {
  it('is 0 for a probe that measures nothing and the value of perfect information at σ = 0', () => {
    expect(beforeRetrainSampleValue({ ...FLIGHTS, standardError: Number.POSITIVE_INFINITY }).value).toBe(0);
    const long = { ...FLIGHTS, eventsServed: 200_000 };
    const perfect = beforeRetrainSampleValue({ ...long, standardError: 0 });
    // E[max(0, k·g − C)] under the signed normal: half the half-normal form (the same N(0, τ²) folded).
    const halfNormal = posteriorExploreValue(1, 200_000, 150, long.posterior);
    expect(Math.abs(perfect.value / (halfNormal / 2) - 1)).toBeLessThan(0.01);
    expect(perfect.retrainNow).toBe(-150);
  });

  it('falls as the probe’s standard error grows, and grows with the version’s life', () => {
    const sigmas = [0, 0.001, 0.003, 0.005, 0.01, 0.03];
    const long = { ...FLIGHTS, eventsServed: 100_000 };
    const values = sigmas.map((standardError) => beforeRetrainSampleValue({ ...long, standardError }).value);
    for (let i = 1; i < values.length; i++) expect(values[i], `σ ${sigmas[i]}`).toBeLessThan(values[i - 1] as number);
    const lives = [13_000, 50_000, 100_000, 300_000];
    const byLife = lives.map((eventsServed) => beforeRetrainSampleValue({ ...FLIGHTS, eventsServed }).value);
    for (let i = 1; i < byLife.length; i++)
      expect(byLife[i], `${lives[i]} events`).toBeGreaterThan(byLife[i - 1] as number);
  });

  it('a measurement that settles the choice leaves a new probe nearly nothing, either way', () => {
    // Flights 2015: a gap put at 0 ± 0.005 on a version of ~13,000 flights, C = 150 (needs 0.012).
    const keep = beforeRetrainSampleValue(FLIGHTS);
    expect(keep.retrainNow).toBe(-150);
    expect(keep.value).toBeLessThan(0.5);
    // A gap measured at 0.05 ± 0.005: retraining clearly pays, a probe could only confirm it.
    const retrain = beforeRetrainSampleValue({ ...FLIGHTS, posterior: { mean: 0.05, sd: 0.005, measurements: 1 } });
    expect(retrain.retrainNow).toBeCloseTo(13_000 * 0.05 - 150, 9);
    expect(retrain.value).toBeLessThan(1e-6);
    // On the fence (k·m = C): worth the most, k·s'·φ(0).
    const fence = beforeRetrainSampleValue({
      ...FLIGHTS,
      posterior: { mean: 150 / 13_000, sd: 0.005, measurements: 1 },
    });
    const scale = 0.005 ** 2 / Math.sqrt(2 * 0.005 ** 2);
    expect(fence.value).toBeCloseTo((13_000 * scale) / Math.sqrt(2 * Math.PI), 6);
  });

  it('matches a seeded Monte Carlo of E[max(0, k·E[g | ĝ] − C)] − max(0, k·m − C)', () => {
    for (const [k, mean, sd, sigma] of [
      [60_000, 0, 0.005, 0.005],
      [100_000, -0.004, 0.006, 0.01],
      [20_000, 0.01, 0.008, 0.004],
      [200_000, 0.002, 0.003, 0.003],
    ] as const) {
      const posterior = { mean, sd, measurements: 1 };
      const closed = beforeRetrainSampleValue({ ...FLIGHTS, eventsServed: k, posterior, standardError: sigma }).value;
      const simulated = monteCarlo(k, 150, posterior, sigma, 1_000_000, 21);
      expect(closed, `k ${k}, m ${mean}`).toBeGreaterThan(1);
      expect(Math.abs(closed / simulated - 1), `k ${k}, m ${mean}, sd ${sd}, σ ${sigma}`).toBeLessThan(0.03);
    }
  });
});

/** `n` hourly windows of 300 labelled events ending at NOW, flat at 0.71. */
function flat(n: number): WindowSummary[] {
  return Array.from({ length: n }, (_, i) => ({
    start: NOW - (n - i) * H,
    end: NOW - (n - i - 1) * H,
    events: 300,
    labelled: 300,
    dataQualityOk: true,
    drift: null,
    quality: { metric: 'accuracy', value: 0.71, source: 'realised' as const },
  }));
}

/**
 * A version at 0.71 that was fresh at 0.8 (so the trigger fires), `ageHours` old at 300 events an hour,
 * with one finished probe of it whose hold has run out (it started when the version was 5 h old).
 */
function stale(revision: number, ageHours: number, probe: Partial<ProbeResult>): PolicyState {
  return {
    ruleRevision: revision,
    windows: flat(48),
    freshQuality: 0.8,
    versionTrainedAt: NOW - ageHours * H,
    lastRetrainAt: NOW - ageHours * H,
    recentVersions: [],
    probes: {
      version: 'file',
      inFlight: null,
      results: [
        probeResult(NOW, {
          startedAt: NOW - 21 * H,
          completedAt: NOW - 20 * H,
          versionAgeHours: 5,
          plan: { kind: 'before-retrain', value: 75, cost: 34.5, worthwhileGap: 0.015, reason: 'r' },
          ...probe,
        }),
      ],
      retrainOutcomes: { helped: 0, didNotHelp: 0 },
    },
  };
}

describe('the cost-aware trigger at rule revision 10', () => {
  const policy = costAwarePolicy({ guards: REVIEWED_GUARDS });
  // The hold of a "no better" probe (gap 0 ± 0.01 on 300 events) has run out.
  const noBetter = { verdict: 'no-better' as const, gap: 0, lower: -0.01, upper: 0.01 };

  it('skips a probe the version’s measured gap leaves nothing to find, and keeps the version; revision 8 probes', () => {
    const eight = evaluatePolicy(policy, stale(8, 48, noBetter), NOW);
    expect(eight.probe?.kind).toBe('before-retrain');
    expect(eight.kind).toBe('no-action');
    const ten = evaluatePolicy(policy, stale(10, 48, noBetter), NOW);
    expect(ten.probe).toBeUndefined();
    expect(ten.kind).toBe('no-action');
    expect(ten.reason).toContain('no fresh model expected to pay');
    expect(ten.inputs.probeRetrainNowValue as number).toBeLessThan(0);
    expect(ten.inputs.probeBeforeRetrainValue as number).toBeLessThan(ten.inputs.probeCost as number);
    expect(ten.inputs.probeSampleVarianceSource).toBe('probe');
    // Nothing measured of this version: revision 10 decides as 8 does.
    const other = { version: 'v0', id: 'v0@1' };
    expect(evaluatePolicy(policy, stale(10, 48, { ...noBetter, ...other }), NOW).probe?.kind).toBe('before-retrain');
  });

  it('buys it when the version has served long enough for a gap the measurement allows to pay', () => {
    // 2,000 h × 300 events: a gap of 0.00025 pays C = 150; 0 ± 0.005 does not rule that out.
    const ten = evaluatePolicy(policy, stale(10, 2000, noBetter), NOW);
    expect(ten.probe?.kind).toBe('before-retrain');
    expect(ten.probe!.value).toBeGreaterThan(ten.probe!.cost);
    expect(ten.probe!.reason).toContain("this version's probes measured the gap");
  });

  it('prices the probe on the labels recent windows brought while the latest window’s are still due', () => {
    // The latest window has no labels yet: priced on its 0 alone, the probe would measure nothing.
    const state = stale(10, 2000, noBetter);
    const windows = (state.windows ?? []).map((w, i, all) =>
      i === all.length - 1 ? { ...w, labelled: 0, quality: null } : w,
    );
    const ten = evaluatePolicy(policy, { ...state, windows }, NOW);
    expect(ten.inputs.probeSampleEvents).toBe(300);
    expect(ten.probe?.kind).toBe('before-retrain');
  });

  it('retrains without a new probe when the measured gap already pays; revision 8 probes first', () => {
    // Inconclusive, its estimate above the gap the retrain needs: 0.02 (−0.001 to 0.041).
    const above = { verdict: 'inconclusive' as const, gap: 0.02, lower: -0.001, upper: 0.041, challenger: 0.73 };
    expect(evaluatePolicy(policy, stale(8, 48, above), NOW).probe?.kind).toBe('before-retrain');
    const ten = evaluatePolicy(policy, stale(10, 48, above), NOW);
    expect(ten.kind).toBe('retrain');
    expect(ten.probe).toBeUndefined();
    expect(ten.inputs.probeRetrainNowValue as number).toBeGreaterThan(0);
    // The decision says why it did not probe first, as a hold would.
    expect(ten.reason).toContain("no probe first: this version's probes measured the gap");
  });

  it('a credible step after the measurement lapses it: the step is new evidence, priced as revision 8 does', () => {
    const windows = flat(48).map((w, i) =>
      i >= 40 ? { ...w, quality: { metric: 'accuracy', value: 0.55, source: 'realised' as const } } : w,
    ) as WindowSummary[];
    const state = { ...stale(10, 48, { ...noBetter, completedAt: NOW - 30 * H, startedAt: NOW - 31 * H }), windows };
    const ten = evaluatePolicy(policy, state, NOW);
    expect(ten.inputs.probeBeforeRetrainValue).toBeUndefined();
    expect(ten.probe?.kind).toBe('before-retrain');
  });
});
