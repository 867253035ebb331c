import { describe, expect, it } from 'vitest';
import { evaluatePolicy } from '../../../detectors/policy/index.ts';
import type { PolicyState, WindowSummary } from '../../../detectors/policy/index.ts';
import { planProbe, qualityUpperEnd, type ProbeTriggerInput } from '../../../detectors/policy/probe-trigger.ts';
import {
  LATEST_RULE_REVISION,
  parseRuleRevision,
  RULE_REVISIONS,
  ruleRevisionHas,
  ruleRevisionProblem,
} from '../../../detectors/policy/state.ts';
import { resolveProbePolicy } from '../../../detectors/probes/index.ts';
import { costAwarePolicy, REVIEWED_GUARDS } from '../../helpers/policies.ts';

/**
 * Rule revision 14: an exploring probe's gap prior counts only the shortfall of the latest window
 * beyond its 95% interval, so a low-volume window's sampling noise does not buy probes.
 */

const H = 3_600_000;
const NOW = Date.parse('2026-03-04T12:00:00Z');
const FRESH = 0.71;

/** A 30-day window of `labelled` labelled events at `quality` (accuracy, realised unless said). */
function window(quality: number, labelled: number, over: Partial<WindowSummary> = {}): WindowSummary {
  return {
    start: NOW - 720 * H,
    end: NOW,
    events: labelled,
    labelled,
    dataQualityOk: true,
    drift: null,
    quality: { metric: 'accuracy', value: quality, source: 'realised' },
    ...over,
  };
}

/**
 * An exploring probe of a low-volume version: fresh at 0.71, 5 events an hour for 4 months (14,400
 * served), retrain 150, probe 7.5, nothing measured of its gap, the latest window `latest`.
 */
function explore(revision: number, latest: WindowSummary): ReturnType<typeof planProbe> {
  const input: ProbeTriggerInput = {
    state: {
      ruleRevision: revision,
      windows: [latest],
      probes: { version: 'v1', inFlight: null, results: [], retrainOutcomes: { helped: 0, didNotHelp: 0 } },
    },
    fired: false,
    policy: resolveProbePolicy(undefined, 150),
    evidence: { latest: null, raisedAttainable: null, heldUntil: null, backoffUntil: null },
    stepAt: null,
    hurdle: 150,
    valuePerQualityUnit: 1,
    eventsPerHour: 5,
    nowAgeHours: 2_880,
    yardstick: FRESH,
    recentQuality: latest.quality?.value ?? null,
    recentWindow: latest,
    freshQuality: FRESH,
    attainableMeasured: false,
  };
  return planProbe(input);
}

/** The upper end of the binomial 95% interval of a share `q` of `n`. */
const binomialUpper = (q: number, n: number): number => q + 1.96 * Math.sqrt((q * (1 - q)) / n);

describe('rule revision 14: the explore prior counts the shortfall beyond the latest window’s 95% interval', () => {
  it('a shortfall within a 59-event window’s noise buys revision 8 an explore probe, not revision 14', () => {
    // 0.650 on 59 labels: the 95% interval reaches 0.772, above the fresh 0.71.
    const noisy = window(0.65, 59);
    const eight = explore(8, noisy);
    expect(eight.plan?.kind).toBe('explore');
    expect(eight.plan?.reason).toContain('gap prior 0.060');
    expect(eight.plan?.reason).not.toContain('shortfall counted');
    expect(eight.inputs.probeShortfall).toBeUndefined();
    expect(eight.inputs.probeRecentQualityUpper).toBeUndefined();

    const fourteen = explore(14, noisy);
    expect(fourteen.plan).toBeNull();
    expect(fourteen.inputs.probeShortfall).toBe(0);
    expect(fourteen.inputs.probeRecentQualityUpper as number).toBeCloseTo(binomialUpper(0.65, 59), 12);
    expect(fourteen.inputs.probeRecentQualityUpperBasis).toBe('binomial');
    // Priced at the policy's prior 0.005 alone, it is worth less than the probe's 7.5.
    expect(fourteen.inputs.probeExploreValue as number).toBeLessThan(7.5);
    expect(eight.inputs.probeExploreValue as number).toBeGreaterThan(
      100 * (fourteen.inputs.probeExploreValue as number),
    );
  });

  it('a shortfall far beyond the noise explores at both, revision 14’s prior fresh − upper end', () => {
    const low = window(0.45, 59);
    const upper = binomialUpper(0.45, 59);
    const eight = explore(8, low);
    const fourteen = explore(14, low);
    expect(eight.plan?.kind).toBe('explore');
    expect(eight.plan?.reason).toContain('gap prior 0.260');
    expect(fourteen.plan?.kind).toBe('explore');
    expect(fourteen.inputs.probeShortfall as number).toBeCloseTo(FRESH - upper, 12);
    expect(fourteen.plan?.reason).toContain(`gap prior ${(FRESH - upper).toFixed(3)}`);
    expect(fourteen.plan?.reason).toContain(
      `shortfall counted against the latest window's 95% upper end ${upper.toFixed(3)} (0.450 on 59 labelled events)`,
    );
    expect(fourteen.plan!.value).toBeLessThan(eight.plan!.value);
  });

  it('the binomial interval rests on the labelled events, else the window’s events', () => {
    const pooled = qualityUpperEnd(window(0.65, 400, { labelled: 59 }));
    expect(pooled).toEqual({ quality: 0.65, upper: binomialUpper(0.65, 59), basis: 'binomial', labelled: 59 });
    const { labelled: _none, ...unlabelled } = window(0.65, 400);
    expect(qualityUpperEnd(unlabelled)?.upper).toBeCloseTo(binomialUpper(0.65, 400), 12);
    expect(qualityUpperEnd(window(0.65, 0))).toEqual({
      quality: 0.65,
      upper: 0.65,
      basis: 'point',
      labelled: null,
    });
    expect(qualityUpperEnd(null)).toBeNull();
    expect(qualityUpperEnd(window(0.65, 59, { quality: null }))).toBeNull();
  });

  it('an estimated quality with an interval counts against the interval’s upper end', () => {
    const estimated = window(0.65, 59, {
      quality: { metric: 'accuracy', value: 0.65, source: 'estimated', interval: { lower: 0.6, upper: 0.69 } },
    });
    expect(qualityUpperEnd(estimated)).toEqual({ quality: 0.65, upper: 0.69, basis: 'interval', labelled: null });
    const fourteen = explore(14, estimated);
    expect(fourteen.inputs.probeShortfall as number).toBeCloseTo(FRESH - 0.69, 12);
    expect(fourteen.inputs.probeRecentQualityUpperBasis).toBe('interval');
    // Without an interval the estimate's point stands, as at revision 8.
    const bare = window(0.65, 59, { quality: { metric: 'accuracy', value: 0.65, source: 'estimated' } });
    expect(explore(14, bare).inputs.probeShortfall as number).toBeCloseTo(0.06, 12);
    expect(explore(14, bare).plan?.value).toBe(explore(8, bare).plan?.value);
  });

  it('a metric that is not a share of events (auc, macro F1, a transformed loss) keeps its point', () => {
    for (const metric of ['auc', 'macro_f1', 'log_loss', 'rmse']) {
      const w = window(0.65, 59, { quality: { metric, value: 0.65, source: 'realised' } });
      const fourteen = explore(14, w);
      expect(fourteen.inputs.probeRecentQualityUpperBasis, metric).toBe('point');
      expect(fourteen.inputs.probeShortfall as number, metric).toBeCloseTo(0.06, 12);
      expect(fourteen.plan?.value, metric).toBe(explore(8, w).plan?.value);
      expect(fourteen.plan?.reason, metric).toContain(
        "shortfall counted against the latest window's quality 0.650 (no interval)",
      );
    }
  });
});

/** `n` hourly windows of `events` labelled events at 0.71, the latest at `latest`, ending at NOW. */
function lowVolume(revision: number, latest: number): PolicyState {
  const windows = Array.from({ length: 48 }, (_, i) =>
    window(i === 47 ? latest : FRESH, 59, { start: NOW - (48 - i) * H, end: NOW - (47 - i) * H }),
  );
  return {
    ruleRevision: revision,
    windows,
    freshQuality: FRESH,
    versionTrainedAt: NOW - 240 * H,
    lastRetrainAt: NOW - 240 * H,
    recentVersions: [],
    probes: { version: 'v1', inFlight: null, results: [], retrainOutcomes: { helped: 0, didNotHelp: 0 } },
  };
}

describe('the cost-aware trigger at rule revision 14', () => {
  const policy = costAwarePolicy({ guards: REVIEWED_GUARDS });

  it('passes the latest window to the probe plan: a noisy last window explores at 8, not at 14', () => {
    const eight = evaluatePolicy(policy, lowVolume(8, 0.65), NOW);
    expect(eight.kind).toBe('no-action');
    expect(eight.probe?.kind).toBe('explore');
    expect(eight.inputs.probeShortfall).toBeUndefined();
    const fourteen = evaluatePolicy(policy, lowVolume(14, 0.65), NOW);
    expect(fourteen.kind).toBe('no-action');
    expect(fourteen.probe).toBeUndefined();
    expect(fourteen.inputs.probeShortfall).toBe(0);
    expect(fourteen.inputs.probeRecentQualityUpper as number).toBeCloseTo(binomialUpper(0.65, 59), 12);
    // Revision 14 has neither 9's sample nor 10's.
    expect(fourteen.inputs.probeSampleEvents).toBeUndefined();
  });

  it('a broken latest window is not the one read (revision 3), as for the quality itself', () => {
    const state = lowVolume(14, 0.65);
    const broken = { ...window(0.2, 5), start: NOW, end: NOW + H, dataQualityOk: false };
    const withBroken = evaluatePolicy(policy, { ...state, windows: [...(state.windows ?? []), broken] }, NOW + H);
    expect(withBroken.inputs.probeRecentQualityUpper as number).toBeCloseTo(binomialUpper(0.65, 59), 12);
  });
});

describe('rule revisions', () => {
  it('are 1–10 and 14; 11–13 were measured and not kept', () => {
    expect([...RULE_REVISIONS]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14]);
    expect(LATEST_RULE_REVISION).toBe(14);
    for (const r of RULE_REVISIONS) expect(ruleRevisionProblem(r), String(r)).toBeNull();
    for (const r of [11, 12, 13]) {
      expect(ruleRevisionProblem(r)).toBe(
        `revision ${r} of the cost-aware rule was a variant measured and not kept (BENCHMARKS.md): the revisions are 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14`,
      );
    }
    expect(ruleRevisionProblem(15)).toBe(
      'no revision 15 of the cost-aware rule: the revisions are 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14',
    );
    expect(ruleRevisionProblem(0)).not.toBeNull();
    expect(parseRuleRevision('14')).toEqual({ revision: 14, problem: null });
    expect(parseRuleRevision('12').problem).toContain('measured and not kept');
    expect(parseRuleRevision('8.5').problem).toBe(
      'give a revision of the cost-aware rule: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14',
    );
    expect(parseRuleRevision(' ').revision).toBeNull();
  });

  it('say which opt-in parts they have: 10 includes 9, 14 neither', () => {
    const has = (part: Parameters<typeof ruleRevisionHas>[1]) => RULE_REVISIONS.filter((r) => ruleRevisionHas(r, part));
    expect(has('explore-sample-information')).toEqual([9, 10]);
    expect(has('before-retrain-sample-information')).toEqual([10]);
    expect(has('explore-shortfall-interval')).toEqual([14]);
  });
});
