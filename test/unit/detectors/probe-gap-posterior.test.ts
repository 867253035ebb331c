import { describe, expect, it } from 'vitest';
import { evaluatePolicy } from '../../../detectors/policy/index.ts';
import type { PolicyState, WindowSummary } from '../../../detectors/policy/index.ts';
import {
  estimateBelowWorthwhile,
  exploreValue,
  gapMeasurementOf,
  gapPosterior,
  posteriorExploreValue,
  probeEvidence,
  standingGapMeasurements,
  type ProbeResult,
  type ProbeView,
} from '../../../detectors/probes/index.ts';
import { costAwarePolicy, REVIEWED_GUARDS } from '../../helpers/policies.ts';
import { probeResult } from '../../helpers/probe-results.ts';

/** Rule revision 8: what finished probes measured updates the explore prior, and an inconclusive estimate below the bar holds. */

const H = 3_600_000;
const NOW = Date.parse('2026-03-04T12:00:00Z');
const POLICY = costAwarePolicy({ guards: REVIEWED_GUARDS });

const result = (over: Partial<ProbeResult>): ProbeResult => probeResult(NOW, over);

/** `n` hourly windows of 300 events ending at `end`, flat at `quality`. */
function flat(n: number, end: number, quality: number, drift: (i: number) => boolean = () => false): WindowSummary[] {
  return Array.from({ length: n }, (_, i) => ({
    start: end - (n - i) * H,
    end: end - (n - i - 1) * H,
    events: 300,
    labelled: 300,
    dataQualityOk: true,
    drift: drift(i) ? { datasetDrift: true, driftedShare: 1, features: {} } : null,
    quality: { metric: 'accuracy', value: quality, source: 'realised' as const },
  })) as WindowSummary[];
}

/** A model deployed 480 h ago (144,000 events served, employment's second probe), flat at 0.71, with the given probes of its version. */
function flatModel(revision: number, extra: Partial<PolicyState>, probes: Partial<ProbeView>): PolicyState {
  return {
    ruleRevision: revision,
    windows: flat(48, NOW, 0.71),
    freshQuality: 0.71,
    versionTrainedAt: NOW - 480 * H,
    lastRetrainAt: NOW - 480 * H,
    recentVersions: [],
    ...extra,
    probes: { version: 'file', inFlight: null, results: [], retrainOutcomes: { helped: 0, didNotHelp: 0 }, ...probes },
  };
}

describe('the gap posterior', () => {
  it('with nothing measured, its explore value is the half-normal prior’s closed form', () => {
    for (const [events, hurdle, scale] of [
      [70_308, 150, 0.005],
      [145_433, 1500, 0.005],
      [20_000, 150, 0.02],
    ] as const) {
      const closed = exploreValue({ valuePerQualityUnit: 1, eventsServed: events, hurdle, priorGap: scale });
      const integrated = posteriorExploreValue(1, events, hurdle, { mean: 0, sd: scale, measurements: 0 });
      expect(integrated).toBeGreaterThan(0);
      expect(Math.abs(integrated / closed - 1)).toBeLessThan(0.005);
    }
  });

  it('a measurement is weighted by its precision; the standard error comes from the interval', () => {
    const worse = gapMeasurementOf(result({ gap: -0.019, lower: -0.031, upper: -0.007, events: 2644 }));
    expect(worse?.standardError).toBeCloseTo(0.024 / (2 * 1.959964), 6);
    const posterior = gapPosterior(0.005, [worse!]);
    const p0 = 1 / 0.005 ** 2;
    const p1 = 1 / worse!.standardError ** 2;
    expect(posterior.mean).toBeCloseTo((p1 * -0.019) / (p0 + p1), 12);
    expect(posterior.sd).toBeCloseTo(1 / Math.sqrt(p0 + p1), 12);
    expect(posterior.sd).toBeLessThan(0.005);
  });

  it('two models that agreed on every event measure the gap to √3 / n, not to zero', () => {
    const same = gapMeasurementOf(result({ gap: 0, lower: 0, upper: 0, events: 261 }));
    expect(same?.standardError).toBeCloseTo(Math.sqrt(3) / 261, 12);
    expect(gapMeasurementOf(result({ gap: null, lower: null, upper: null, verdict: 'inconclusive' }))).toBeNull();
  });

  it('only probes of the version in service, on data that has not moved since, stand', () => {
    const view = (results: ProbeResult[]): ProbeView => ({
      version: 'file',
      inFlight: null,
      results,
      retrainOutcomes: { helped: 0, didNotHelp: 0 },
    });
    const mine = result({});
    expect(standingGapMeasurements(view([mine, { ...mine, version: 'v0' }]), {})).toHaveLength(1);
    // A window with dataset drift after the probe ended: the measurement is about data that has gone.
    const drifted = flat(4, NOW, 0.71, (i) => i === 3);
    expect(standingGapMeasurements(view([mine]), { windows: drifted })).toHaveLength(0);
    expect(standingGapMeasurements(view([mine]), { windows: flat(4, NOW - 2 * H, 0.71, () => true) })).toHaveLength(1);
    expect(standingGapMeasurements(view([mine]), { changePointAt: NOW })).toHaveLength(0);
    expect(standingGapMeasurements(view([mine]), { changePointAt: NOW - 3 * H })).toHaveLength(1);
  });
});

describe('the cost-aware trigger at rule revision 8', () => {
  // Employment (2016): a probe found the challenger worse by 0.019 (−0.031 to −0.007) on 2,644 events.
  const worse = result({
    gap: -0.019,
    lower: -0.031,
    upper: -0.007,
    events: 2644,
    completedAt: NOW - 241 * H,
    startedAt: NOW - 242 * H,
    versionAgeHours: 230,
  });

  it('a probe that found the challenger worse lowers what the next explore is worth; a second lowers it again', () => {
    const seven = evaluatePolicy(POLICY, flatModel(7, {}, { results: [worse] }), NOW);
    expect(seven.probe?.kind).toBe('explore');
    const eight = evaluatePolicy(POLICY, flatModel(8, {}, { results: [worse] }), NOW);
    // The prior keeps g ≥ 0, so "worse" reads as "near 0": the posterior's tail is sd² / |mean| wide.
    expect(eight.inputs.probeGapPosteriorMean as number).toBeLessThan(0);
    expect(eight.inputs.probeExploreValue as number).toBeLessThan((seven.inputs.probeExploreValue as number) / 3);
    const again = { ...worse, id: 'file@again', completedAt: NOW - 240 * H };
    const twice = evaluatePolicy(POLICY, flatModel(8, {}, { results: [worse, again] }), NOW);
    expect(twice.inputs.probeExploreValue as number).toBeLessThan(eight.inputs.probeExploreValue as number);
  });

  it('at a retrain price the posterior tail does not reach, it does not probe again; revision 7 does', () => {
    const dear = costAwarePolicy({ guards: REVIEWED_GUARDS, trigger: { retrainCost: 1000 } });
    const state = (revision: number) =>
      flatModel(revision, { versionTrainedAt: NOW - 800 * H, lastRetrainAt: NOW - 800 * H }, { results: [worse] });
    expect(evaluatePolicy(dear, state(7), NOW).probe?.kind).toBe('explore');
    const eight = evaluatePolicy(dear, state(8), NOW);
    expect(eight.probe).toBeUndefined();
    expect(eight.inputs.probeExploreValue as number).toBeLessThan(50);
  });

  it('once the data moved after it, the measurement no longer stands and the prior decides again', () => {
    const drifted = flat(48, NOW, 0.71, (i) => i === 40);
    const eight = evaluatePolicy(POLICY, flatModel(8, { windows: drifted }, { results: [worse] }), NOW);
    expect(eight.probe?.kind).toBe('explore');
    expect(eight.inputs.probeGapPosteriorMean).toBeUndefined();
  });

  it('flat but beatable: a probe that measured a positive gap it could not confirm makes the next probe worth more', () => {
    const hint = result({
      verdict: 'inconclusive',
      gap: 0.01,
      lower: -0.01,
      upper: 0.03,
      completedAt: NOW - 241 * H,
      startedAt: NOW - 242 * H,
      versionAgeHours: 230,
    });
    const eight = evaluatePolicy(POLICY, flatModel(8, {}, { results: [hint] }), NOW);
    const seven = evaluatePolicy(POLICY, flatModel(7, {}, { results: [hint] }), NOW);
    expect(eight.probe?.kind).toBe('explore');
    expect(eight.probe!.value).toBeGreaterThan(seven.probe!.value);
    expect(eight.probe!.reason).toContain('updated by 1 probe(s) of this version');
  });

  it('an inconclusive probe whose estimate is below the gap a retrain needs holds the retrain; revision 7 retrains', () => {
    // Flights (2015-08-10): gap 0 on 289 events, interval ±0.0096, the retrain needed 0.0015.
    const unsure = result({
      verdict: 'inconclusive',
      gap: 0.0,
      lower: -0.0096,
      upper: 0.0096,
      plan: { kind: 'before-retrain', value: 118, cost: 11, worthwhileGap: 0.015, reason: 'r' },
      versionAgeHours: 400,
    });
    const stale = { freshQuality: 0.8 };
    const seven = evaluatePolicy(POLICY, flatModel(7, stale, { results: [unsure] }), NOW);
    expect(seven.kind).toBe('retrain');
    const eight = evaluatePolicy(POLICY, flatModel(8, stale, { results: [unsure] }), NOW);
    expect(eight.kind).toBe('no-action');
    expect(eight.reason).toContain('measured a gap below the one a retrain needs');
    expect(eight.inputs.probeHeldUntil).toBe(NOW - H + 400 * H);
    // An estimate above the bar, unconfirmed, still lets the trigger decide as without the probe.
    const above = { ...unsure, gap: 0.02, lower: -0.004, upper: 0.044 };
    expect(evaluatePolicy(POLICY, flatModel(8, stale, { results: [above] }), NOW).kind).toBe('retrain');
  });

  it('the hold reads the estimate only when asked to (revision 8), and never for a verdict other than inconclusive', () => {
    const view = (r: ProbeResult): ProbeView => ({
      version: 'file',
      inFlight: null,
      results: [r],
      retrainOutcomes: { helped: 0, didNotHelp: 0 },
    });
    const unsure = result({ verdict: 'inconclusive', gap: 0.001, lower: -0.02, upper: 0.022, versionAgeHours: 10 });
    expect(estimateBelowWorthwhile(unsure)).toBe(true);
    expect(probeEvidence(view(unsure), NOW, {}, false).heldUntil).toBeNull();
    expect(probeEvidence(view(unsure), NOW, {}, true).heldUntil).toBe(NOW - H + 10 * H);
    expect(estimateBelowWorthwhile(result({ verdict: 'no-better', gap: 0.001 }))).toBe(false);
  });

  it('a probe before a retrain needs at least the gap at which the version’s life pays for the retrain', () => {
    // Stale over its life (0.71 against a fresh 0.8), but the latest window shows no loss.
    const windows = flat(48, NOW, 0.71).map((w, i) =>
      i === 47 ? { ...w, quality: { metric: 'accuracy', value: 0.82, source: 'realised' as const } } : w,
    ) as WindowSummary[];
    const state = (revision: number) => flatModel(revision, { freshQuality: 0.8, windows }, {});
    const seven = evaluatePolicy(POLICY, state(7), NOW);
    const eight = evaluatePolicy(POLICY, state(8), NOW);
    expect(seven.probe?.kind).toBe('before-retrain');
    expect(eight.probe?.kind).toBe('before-retrain');
    expect(seven.probe?.worthwhileGap).toBe(0);
    // 150 over 480 h × 300 events an hour.
    expect(eight.probe?.worthwhileGap).toBeCloseTo(150 / (480 * 300), 9);
  });
});
