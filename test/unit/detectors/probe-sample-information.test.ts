import { describe, expect, it } from 'vitest';
import { evaluatePolicy } from '../../../detectors/policy/index.ts';
import type { PolicyState, WindowSummary } from '../../../detectors/policy/index.ts';
import {
  DEFAULT_PROBES,
  exploreValue,
  measuredPerEventVariance,
  pairedGapStandardError,
  plannedProbeSample,
  posteriorExploreValue,
  preposteriorScale,
  sampleExploreValue,
  unmeasuredPerEventVariance,
  type ProbeResult,
} from '../../../detectors/probes/index.ts';
import { Random } from '../../../detectors/random.ts';
import { costAwarePolicy, REVIEWED_GUARDS } from '../../helpers/policies.ts';
import { probeResult } from '../../helpers/probe-results.ts';

/** Rule revision 9: an exploring probe is worth what a probe of its size can measure. */

const H = 3_600_000;
const NOW = Date.parse('2026-03-04T12:00:00Z');

/** Employment's second probe: 144,000 events served, C = 150, the policy's prior 0.005, accuracy ~0.71. */
const BASE = { valuePerQualityUnit: 1, eventsServed: 144_000, hurdle: 150, priorGap: 0.005 };
const VARIANCE = unmeasuredPerEventVariance(0.71);

const result = (over: Partial<ProbeResult>): ProbeResult => probeResult(NOW, over);

/**
 * Monte Carlo of the value of sample information under a normal prior N(mean, sd²): g drawn from
 * it, the probe's measurement g + N(0, σ²), the decision on the posterior mean E[g | measurement]
 * = mean + (measurement − mean)·sd² / (sd² + σ²). Returns E[max(0, k·E[g|m] − C)] and the chance
 * the posterior mean is ≥ 0 (the truncation's mass).
 */
function monteCarlo(
  k: number,
  hurdle: number,
  mean: number,
  sd: number,
  standardError: number,
  draws: number,
  seed: number,
): { value: number; positive: number } {
  const random = new Random(seed);
  const shrink = (sd * sd) / (sd * sd + standardError * standardError);
  let sum = 0;
  let positive = 0;
  for (let i = 0; i < draws; i++) {
    const g = random.normal(mean, sd);
    const measured = g + random.normal(0, standardError);
    const posteriorMean = mean + (measured - mean) * shrink;
    sum += Math.max(0, k * posteriorMean - hurdle);
    if (posteriorMean >= 0) positive++;
  }
  return { value: sum / draws, positive: positive / draws };
}

describe('the value of sample information', () => {
  it('the preposterior scale is s² / √(s² + σ²): s when σ = 0, 0 when σ = ∞', () => {
    expect(preposteriorScale(0.02, 0)).toBe(0.02);
    expect(preposteriorScale(0.02, Number.POSITIVE_INFINITY)).toBe(0);
    expect(preposteriorScale(0.02, 0.02)).toBeCloseTo(0.02 / Math.SQRT2, 12);
    expect(preposteriorScale(0, 0.01)).toBe(0);
    expect(pairedGapStandardError(0.5, 200)).toBeCloseTo(0.05, 12);
    expect(pairedGapStandardError(0.5, 0)).toBe(Number.POSITIVE_INFINITY);
  });

  it('falls monotonically as the probe’s paired events fall, and is 0 for a probe that measures nothing', () => {
    const sizes = [1e9, 1e6, 100_000, 20_000, 5_000, 1_000, 300, 100, 30, 1];
    const values = sizes.map((n) =>
      sampleExploreValue({ ...BASE, standardError: pairedGapStandardError(VARIANCE, n) }),
    );
    for (let i = 1; i < values.length; i++)
      expect(values[i], `${sizes[i]} events`).toBeLessThan(values[i - 1] as number);
    expect(values.at(-1)).toBeLessThan(1e-6);
    expect(sampleExploreValue({ ...BASE, standardError: pairedGapStandardError(VARIANCE, 0) })).toBe(0);
    expect(sampleExploreValue({ ...BASE, standardError: Number.POSITIVE_INFINITY })).toBe(0);
  });

  it('equals revision 8’s value of perfect information as the events grow, exactly at σ = 0', () => {
    const perfect = exploreValue(BASE);
    expect(perfect).toBeGreaterThan(400);
    expect(sampleExploreValue({ ...BASE, standardError: 0 })).toBe(perfect);
    const huge = sampleExploreValue({ ...BASE, standardError: pairedGapStandardError(VARIANCE, 1e12) });
    expect(Math.abs(huge / perfect - 1)).toBeLessThan(1e-4);
    // With a posterior (revision 8's standing probes) too.
    const posterior = { mean: -0.004, sd: 0.003, measurements: 1 };
    const updated = posteriorExploreValue(1, 600_000, 150, posterior);
    expect(updated).toBeGreaterThan(0);
    expect(sampleExploreValue({ ...BASE, eventsServed: 600_000, standardError: 0, posterior })).toBe(updated);
  });

  it('with the half-normal prior, matches a seeded Monte Carlo of E[max(0, k·E[g | measurement] − C)]', () => {
    // The half-normal prior is N(0, s²) folded onto g ≥ 0: for C ≥ 0 its value is twice the normal prior's.
    for (const [events, scale, standardError] of [
      [144_000, 0.005, 0.005],
      [144_000, 0.005, 0.02],
      [20_000, 0.02, 0.01],
      [20_000, 0.02, 0.044],
    ] as const) {
      const closed = sampleExploreValue({ ...BASE, eventsServed: events, priorGap: scale, standardError });
      const simulated = 2 * monteCarlo(events, 150, 0, scale, standardError, 400_000, 12).value;
      expect(closed, `${events} events, s ${scale}, σ ${standardError}`).toBeGreaterThan(1);
      expect(Math.abs(closed / simulated - 1), `${events} events, s ${scale}, σ ${standardError}`).toBeLessThan(0.03);
    }
  });

  it('under a standing posterior, matches the Monte Carlo kept to a posterior mean ≥ 0', () => {
    for (const [mean, sd, standardError] of [
      [0.004, 0.006, 0.01],
      [-0.003, 0.006, 0.005],
    ] as const) {
      const posterior = { mean, sd, measurements: 1 };
      const integrated = sampleExploreValue({ ...BASE, eventsServed: 60_000, standardError, posterior });
      const { value, positive } = monteCarlo(60_000, 150, mean, sd, standardError, 400_000, 34);
      expect(Math.abs(integrated / (value / positive) - 1), `mean ${mean}`).toBeLessThan(0.03);
    }
  });
});

describe('the sample a probe would read its gap on', () => {
  it('windows needed for the minimum paired events × the labelled events a window brings', () => {
    const inputs = { minPairedEvents: 200, maxWindows: 4, results: [], quality: 0.7 };
    expect(plannedProbeSample({ ...inputs, labelledPerWindow: 300 }).events).toBe(300);
    expect(plannedProbeSample({ ...inputs, labelledPerWindow: 70 }).events).toBe(210);
    // Windows of 30 labels: the probe reads after its 4 windows, on 120 events.
    const small = plannedProbeSample({ ...inputs, labelledPerWindow: 30 });
    expect(small.events).toBe(120);
    expect(small.varianceSource).toBe('error rate');
    expect(small.perEventVariance).toBeCloseTo(0.6, 12);
    expect(small.standardError).toBeCloseTo(Math.sqrt(0.6 / 120), 12);
    expect(plannedProbeSample({ ...inputs, labelledPerWindow: 0 }).standardError).toBe(Number.POSITIVE_INFINITY);
  });

  it('the variance comes from the newest finished probe with an interval, else twice the error rate (at most 1)', () => {
    // 300 events, interval ±0.02 at 95%: se 0.0102, per-event variance 0.0312 (the models mostly agree).
    const measured = result({});
    expect(measuredPerEventVariance(measured)).toBeCloseTo((0.02 / 1.959964) ** 2 * 300, 9);
    expect(measuredPerEventVariance(result({ events: 20 }))).toBeNull();
    expect(measuredPerEventVariance(result({ gap: null, lower: null, upper: null }))).toBeNull();
    const sample = plannedProbeSample({
      minPairedEvents: 200,
      maxWindows: 4,
      labelledPerWindow: 300,
      results: [
        result({ lower: -0.05, upper: 0.05, id: 'old' }),
        measured,
        result({ gap: null, lower: null, upper: null }),
      ],
      quality: 0.7,
    });
    expect(sample.varianceSource).toBe('probe');
    expect(sample.perEventVariance).toBeCloseTo(measuredPerEventVariance(measured) as number, 12);
    expect(unmeasuredPerEventVariance(0.2)).toBe(1);
    expect(unmeasuredPerEventVariance(null)).toBe(1);
    expect(unmeasuredPerEventVariance(0.95)).toBeCloseTo(0.1, 12);
  });
});

/** `n` hourly windows of `events` (all labelled) ending at NOW, flat at `quality`. */
function flat(n: number, events: number, quality: number): WindowSummary[] {
  return Array.from({ length: n }, (_, i) => ({
    start: NOW - (n - i) * H,
    end: NOW - (n - i - 1) * H,
    events,
    labelled: events,
    dataQualityOk: true,
    drift: null,
    quality: { metric: 'accuracy', value: quality, source: 'realised' as const },
  }));
}

/** A flat version deployed 480 h ago at 300 events an hour (144,000 served). */
function flatModel(revision: number, results: ProbeResult[] = []): PolicyState {
  return {
    ruleRevision: revision,
    windows: flat(48, 300, 0.71),
    freshQuality: 0.71,
    versionTrainedAt: NOW - 480 * H,
    lastRetrainAt: NOW - 480 * H,
    recentVersions: [],
    probes: { version: 'file', inFlight: null, results, retrainOutcomes: { helped: 0, didNotHelp: 0 } },
  };
}

describe('the cost-aware trigger at rule revision 9', () => {
  const policy = costAwarePolicy({ guards: REVIEWED_GUARDS });

  it('does not explore with a probe of 300 events that measures the gap to ±0.044 when the prior is 0.005; revision 8 does', () => {
    const eight = evaluatePolicy(policy, flatModel(8), NOW);
    expect(eight.probe?.kind).toBe('explore');
    expect(eight.inputs.probeSampleEvents).toBeUndefined();
    const nine = evaluatePolicy(policy, flatModel(9), NOW);
    expect(nine.probe).toBeUndefined();
    expect(nine.inputs.probeSampleEvents).toBe(300);
    expect(nine.inputs.probeSampleVarianceSource).toBe('error rate');
    expect(nine.inputs.probeSampleStandardError as number).toBeCloseTo(Math.sqrt(0.58 / 300), 9);
    expect(nine.inputs.probeExploreValue as number).toBeLessThan((eight.inputs.probeExploreValue as number) / 50);
  });

  it('explores when the probe scores enough paired events to resolve the prior’s gaps', () => {
    const patient = costAwarePolicy({
      guards: REVIEWED_GUARDS,
      probes: { ...DEFAULT_PROBES, minPairedEvents: 20_000, maxWindows: 100 },
    });
    const nine = evaluatePolicy(patient, flatModel(9), NOW);
    expect(nine.probe?.kind).toBe('explore');
    expect(nine.inputs.probeSampleEvents).toBe(67 * 300);
    expect(nine.probe?.reason).toContain('a probe of 20100 paired events measuring it to ± 0.005');
    const eight = evaluatePolicy(patient, flatModel(8), NOW);
    expect(nine.probe!.value).toBeLessThan(eight.probe!.value);
    expect(nine.probe!.value).toBeGreaterThan(eight.probe!.value / 3);
  });

  it('a finished probe’s measured variance replaces the error-rate bound', () => {
    // Another version's probe measured the two models disagreeing on ~3% of events.
    const before = result({ version: 'v0', id: 'v0@1', completedAt: NOW - 600 * H, startedAt: NOW - 601 * H });
    const nine = evaluatePolicy(policy, flatModel(9, [before]), NOW);
    expect(nine.inputs.probeSampleVarianceSource).toBe('probe');
    expect(nine.inputs.probeSampleStandardError as number).toBeCloseTo(
      Math.sqrt((measuredPerEventVariance(before) as number) / 300),
      9,
    );
    const bound = evaluatePolicy(policy, flatModel(9), NOW);
    expect(nine.inputs.probeExploreValue as number).toBeGreaterThan(bound.inputs.probeExploreValue as number);
  });
});
