import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluatePolicy } from '../../../detectors/policy/index.ts';
import type { PolicyState, WindowSummary } from '../../../detectors/policy/index.ts';
import {
  beforeRetrainValue,
  chanceRetrainDoesNotHelp,
  exploreValue,
  holdUntil,
  pairedCountsOf,
  pairedGap,
  recordProbeWindow,
  resolveProbePolicy,
  retrainOutcomes,
  startProbe,
  type ProbeMemory,
  type ProbeResult,
  type ProbeView,
} from '../../../detectors/probes/index.ts';
import { Random } from '../../../detectors/random.ts';
import { costAwarePolicy, REVIEWED_GUARDS } from '../../helpers/policies.ts';
import { probeResult } from '../../helpers/probe-results.ts';

/** Challenger probes (rule revision 4): the paired gap, the probe's life, its value, and the trigger's use of it. */

const H = 3_600_000;
const NOW = Date.parse('2026-03-04T12:00:00Z');

/** scipy vectors from test/fixtures/probes/generate_paired_gap.py. */
const fixture = JSON.parse(readFileSync(new URL('../../fixtures/probes/paired_gap.json', import.meta.url), 'utf8')) as {
  level: number;
  cases: {
    labels: number[];
    champion: number[];
    challenger: number[];
    expected: { champion: number; challenger: number; gap: number; lower: number; upper: number };
  }[];
};

describe('pairedGap: challenger − champion accuracy on the same events, paired t interval', () => {
  it('matches scipy.stats.ttest_rel’s confidence interval on the per-event correctness difference', () => {
    for (const c of fixture.cases) {
      const gap = pairedGap(pairedCountsOf(c.labels, c.champion, c.challenger), fixture.level);
      expect(gap).not.toBeNull();
      expect(gap!.champion).toBeCloseTo(c.expected.champion, 12);
      expect(gap!.challenger).toBeCloseTo(c.expected.challenger, 12);
      expect(gap!.gap).toBeCloseTo(c.expected.gap, 12);
      expect(gap!.lower).toBeCloseTo(c.expected.lower, 9);
      expect(gap!.upper).toBeCloseTo(c.expected.upper, 9);
    }
  });
  it('needs two events', () => {
    expect(pairedGap({ events: 1, championCorrect: 1, challengerCorrect: 0, bothCorrect: 0 })).toBeNull();
  });
});

describe('a probe’s life: scored window by window until its gap can be read', () => {
  const policy = { minPairedEvents: 200, maxWindows: 3 };
  const started = startProbe(undefined, {
    version: 'v1',
    versionTrainedAt: NOW - 10 * H,
    now: NOW,
    trainingStart: NOW - 4 * H,
    trainingEnd: NOW,
    plan: { kind: 'explore', value: 20, cost: 7.5, worthwhileGap: 0.06, reason: 'r' },
  });

  it('finishes as soon as it has enough events and the interval excludes 0', () => {
    expect(started.inFlight?.versionAgeHours).toBe(10);
    const clear = { events: 300, championCorrect: 210, challengerCorrect: 240, bothCorrect: 200 };
    const { memory, result } = recordProbeWindow(started, clear, NOW + H, policy);
    expect(memory.inFlight).toBeNull();
    expect(result?.verdict).toBe('challenger-better');
    expect(result?.lower).toBeGreaterThan(0);
    expect(memory.results).toEqual([result]);
  });
  it('keeps scoring while the interval reaches the worthwhile gap, and reads "no-better" once it ends below it', () => {
    const even = { events: 100, championCorrect: 80, challengerCorrect: 81, bothCorrect: 72 };
    let memory: ProbeMemory = started;
    for (let w = 1; w < policy.maxWindows; w++) {
      const step = recordProbeWindow(memory, even, NOW + w * H, policy);
      expect(step.result).toBeNull();
      memory = step.memory;
    }
    const last = recordProbeWindow(memory, even, NOW + 3 * H, policy);
    expect(last.result?.verdict).toBe('no-better');
    expect(last.result?.events).toBe(300);
    // The hold: as long again as the version had served when the probe started (10 h), at least the probe’s length.
    expect(holdUntil(last.result as ProbeResult)).toBe(NOW + 3 * H + 10 * H);
  });
  it('is inconclusive when its interval spans both 0 and the worthwhile gap', () => {
    const narrowBar: ProbeMemory = {
      ...started,
      inFlight: { ...started.inFlight!, plan: { ...started.inFlight!.plan, worthwhileGap: 0.01 } },
    };
    const even = { events: 100, championCorrect: 80, challengerCorrect: 81, bothCorrect: 72 };
    let memory: ProbeMemory = narrowBar;
    let result: ProbeResult | null = null;
    for (let w = 1; w <= policy.maxWindows; w++)
      ({ memory, result } = recordProbeWindow(memory, even, NOW + w * H, policy));
    expect(result?.verdict).toBe('inconclusive');
  });
  it('is inconclusive on too few events', () => {
    const few = { events: 5, championCorrect: 4, challengerCorrect: 5, bothCorrect: 4 };
    let memory: ProbeMemory = started;
    let result: ProbeResult | null = null;
    for (let w = 1; w <= policy.maxWindows; w++)
      ({ memory, result } = recordProbeWindow(memory, few, NOW + w * H, policy));
    expect(result?.verdict).toBe('inconclusive');
  });
});

describe('the value of a probe', () => {
  it('explore: E[max(0, k·g − C)] for a half-normal gap, checked by numerical integration', () => {
    const input = { valuePerQualityUnit: 1, eventsServed: 30_000, hurdle: 150, priorGap: 0.005 };
    const k = 30_000;
    const s = 0.005;
    let integral = 0;
    const dg = s / 2000;
    for (let g = dg / 2; g < 12 * s; g += dg)
      integral += Math.max(0, k * g - 150) * (2 / (s * Math.sqrt(2 * Math.PI))) * Math.exp(-0.5 * (g / s) ** 2) * dg;
    expect(exploreValue(input)).toBeCloseTo(integral, 3);
    // It grows with the events the version has served, and is nothing for a young version.
    expect(exploreValue({ ...input, eventsServed: 3_000 })).toBeLessThan(1e-6);
    expect(exploreValue({ ...input, eventsServed: 60_000 })).toBeGreaterThan(exploreValue(input));
  });
  it('before a retrain: the retrain cost a useless retrain would waste against the probe and the wait', () => {
    expect(
      beforeRetrainValue({ chanceUseless: 0.5, hurdle: 150, probeCost: 7.5, stalenessPerHour: 27, probeHours: 1 }),
    ).toEqual({ value: 75, cost: 34.5 });
  });
  it('the chance a retrain does not help: measured retrains and probes, Laplace-smoothed', () => {
    expect(chanceRetrainDoesNotHelp(undefined)).toBe(0.5);
    const view: ProbeView = {
      version: 'v3',
      inFlight: null,
      results: [],
      retrainOutcomes: { helped: 3, didNotHelp: 0 },
    };
    expect(chanceRetrainDoesNotHelp(view)).toBeCloseTo(0.5 / 4, 12);
  });
  it('retrain outcomes: the new version’s first windows against the old version’s last', () => {
    const pts = (version: string, start: number, qs: number[]) =>
      qs.map((quality, i) => ({ version, quality, weight: 300, source: 'realised' as const, start: start + i * H }));
    expect(retrainOutcomes([...pts('v1', 0, [0.9, 0.8, 0.8, 0.8]), ...pts('v2', 4 * H, [0.9, 0.9, 0.9])])).toEqual({
      helped: 1,
      didNotHelp: 0,
    });
    expect(retrainOutcomes([...pts('v1', 0, [0.8, 0.8, 0.8]), ...pts('v2', 3 * H, [0.8, 0.79, 0.8])])).toEqual({
      helped: 0,
      didNotHelp: 1,
    });
  });
  it('"auto" prices a probe at 5% of the retrain cost', () => {
    expect(resolveProbePolicy(undefined, 150).probeCost).toBe(7.5);
    expect(resolveProbePolicy({ probeCost: 2 }, 150).probeCost).toBe(2);
  });
});

const POLICY = costAwarePolicy({ guards: REVIEWED_GUARDS });

/** `n` hourly windows of 300 events ending at `end`, quality from `quality(i)`. */
function flat(n: number, end: number, quality: (i: number) => number): WindowSummary[] {
  return Array.from({ length: n }, (_, i) => ({
    start: end - (n - i) * H,
    end: end - (n - i - 1) * H,
    events: 300,
    labelled: 300,
    dataQualityOk: true,
    drift: null,
    quality: { metric: 'accuracy', value: quality(i), source: 'realised' as const },
  }));
}

/** A probe that found the challenger better (0.78 against 0.71) on a version 2,000 hours old. */
const result = (over: Partial<ProbeResult>): ProbeResult =>
  probeResult(NOW, {
    versionAgeHours: 2000,
    challenger: 0.78,
    gap: 0.07,
    lower: 0.05,
    upper: 0.09,
    verdict: 'challenger-better',
    ...over,
  });

/** A model deployed 2,000 h ago, flat at 0.71 for the 48 windows kept, with no other version to compare. */
function flatModel(extra: Partial<PolicyState> = {}, probes?: Partial<ProbeView>): PolicyState {
  return {
    ruleRevision: 4,
    windows: flat(48, NOW, () => 0.71),
    freshQuality: 0.71,
    versionTrainedAt: NOW - 2000 * H,
    lastRetrainAt: NOW - 2000 * H,
    recentVersions: [],
    ...extra,
    ...(probes === undefined
      ? {}
      : {
          probes: {
            version: 'file',
            inFlight: null,
            results: [],
            retrainOutcomes: { helped: 0, didNotHelp: 0 },
            ...probes,
          },
        }),
  };
}

describe('the cost-aware trigger with challenger probes (rule revision 4)', () => {
  it('a flat-but-beatable model: nothing retrains it without a probe; a probe explores it, and its gap retrains it', () => {
    expect(evaluatePolicy(POLICY, flatModel(), NOW).kind).toBe('no-action');
    const explore = evaluatePolicy(POLICY, flatModel({}, {}), NOW);
    expect(explore.kind).toBe('no-action');
    expect(explore.probe?.kind).toBe('explore');
    expect(explore.probe?.value).toBeGreaterThan(7.5);

    const beaten = evaluatePolicy(POLICY, flatModel({}, { results: [result({})] }), NOW);
    expect(beaten.kind).toBe('retrain');
    expect(beaten.probe).toBeUndefined();
    expect(beaten.inputs.attainableSource).toBe('probe');
    expect(beaten.inputs.attainableQuality).toBeCloseTo(0.76, 12);
    expect(beaten.trigger.reason).toContain('a challenger trained on the latest training window beat it');
  });

  it('a model no fresh model beats is not retrained, though its own fresh quality says it is stale', () => {
    const stale = { freshQuality: 0.8 };
    expect(evaluatePolicy(POLICY, flatModel(stale), NOW).kind).toBe('retrain');
    // Nothing measured yet: probe first (a retrain of this model helps with unknown odds).
    const first = evaluatePolicy(POLICY, flatModel(stale, {}), NOW);
    expect(first.kind).toBe('no-action');
    expect(first.probe?.kind).toBe('before-retrain');
    expect(first.reason).toContain('probe first');
    // The probe found no better model: held, and no new probe, for as long as the version had served.
    const none = result({ verdict: 'no-better', challenger: 0.705, gap: -0.005, lower: -0.02, upper: 0.01 });
    const held = evaluatePolicy(POLICY, flatModel(stale, { results: [none] }), NOW);
    expect(held.kind).toBe('no-action');
    expect(held.probe).toBeUndefined();
    expect(held.reason).toContain('no fresh model shown to be better');
    expect(held.inputs.probeHeldUntil).toBe(NOW - H + 2000 * H);
    // An inconclusive probe holds nothing: the trigger decides as without it, and no new probe runs for a while.
    const unsure = result({ verdict: 'inconclusive', challenger: 0.74, gap: 0.03, lower: -0.01, upper: 0.07 });
    const decided = evaluatePolicy(POLICY, flatModel(stale, { results: [unsure] }), NOW);
    expect(decided.kind).toBe('retrain');
    expect(decided.inputs.probeBackoffUntil).toBe(NOW - H + 2000 * H);
    // A probe of an earlier version says nothing about this one.
    const other = evaluatePolicy(POLICY, flatModel(stale, { results: [{ ...none, version: 'v0' }] }), NOW);
    expect(other.probe?.kind).toBe('before-retrain');
  });

  it('broken data stops a probe: before a retrain it is the data-quality block, exploring it is named (text revision 3)', () => {
    const broken = (w: WindowSummary[]): WindowSummary[] =>
      w.map((x, i) =>
        i < w.length - 2 ? x : { ...x, dataQualityOk: false, broken: ['x1: missing rate 0.400 vs reference 0.124'] },
      );
    const stale = flatModel({ freshQuality: 0.8, ruleRevision: 4 }, {});
    const staleBroken = { ...stale, windows: broken(stale.windows ?? []) };
    const blocked = evaluatePolicy(POLICY, staleBroken, NOW);
    expect(blocked.kind).toBe('blocked');
    expect(blocked.blockedBy).toBe('data-quality');
    expect(blocked.probe).toBeUndefined();
    expect(blocked.inputs.probeStoppedBy).toBe('data-quality');
    // The trigger fired (explain: "fired"); the probe it wanted first was what held it.
    expect(blocked.trigger.fired).toBe(true);
    expect(blocked.reason).toMatch(
      /^data-quality guard: the latest window is broken: .*x1: missing rate 0\.400 vs reference 0\.124.*; the challenger probe that would check the retrain trains on the same data, so neither starts; trigger: probe first: /,
    );
    // Text revision 2 (runs recorded before it) recorded "probe first" as no action, and nothing started.
    const legacy = evaluatePolicy(POLICY, { ...staleBroken, textRevision: 2 }, NOW);
    expect(legacy.kind).toBe('no-action');
    expect(legacy.blockedBy).toBeNull();
    expect(legacy.probe).toBeUndefined();
    expect(legacy.reason).toMatch(/^probe first: /);
    expect(legacy.inputs.probeStoppedBy).toBeUndefined();
    expect(legacy.trigger.fired).toBe(false);

    const flatBroken = flatModel({}, {});
    const explore = evaluatePolicy(POLICY, { ...flatBroken, windows: broken(flatBroken.windows ?? []) }, NOW);
    expect(explore.kind).toBe('no-action');
    expect(explore.probe).toBeUndefined();
    expect(explore.inputs.probeStoppedBy).toBe('data-quality');
    expect(explore.reason).toMatch(
      /; probe: knowing whether a fresh model beats this one is worth \d+ .*, but it is not started: data-quality guard: the latest window is broken: .*x1: missing rate 0\.400/,
    );
    // Clean data: the same states start their probes, and say nothing of a stop.
    const clean = evaluatePolicy(POLICY, stale, NOW);
    expect(clean.probe?.kind).toBe('before-retrain');
    expect(clean.inputs.probeStoppedBy).toBeUndefined();
  });

  it('waits for a probe in flight instead of retraining', () => {
    const inFlight = startProbe(undefined, {
      version: 'file',
      versionTrainedAt: NOW - 2000 * H,
      now: NOW - H,
      trainingStart: NOW - 5 * H,
      trainingEnd: NOW - H,
      plan: { kind: 'before-retrain', value: 75, cost: 30, worthwhileGap: 0.045, reason: 'r' },
    }).inFlight;
    const d = evaluatePolicy(POLICY, flatModel({ freshQuality: 0.8 }, { inFlight }), NOW);
    expect(d.kind).toBe('no-action');
    expect(d.probe).toBeUndefined();
    expect(d.reason).toContain('waiting for the challenger probe');
  });

  it('stationary noise does not probe every window: probes back off as the version’s life doubles', () => {
    const random = new Random(7);
    const start = NOW - 400 * H;
    const all: WindowSummary[] = [];
    const results: ProbeResult[] = [];
    const probedAt: number[] = [];
    let retrains = 0;
    for (let t = 1; t <= 400; t++) {
      const end = start + t * H;
      let correct = 0;
      for (let e = 0; e < 300; e++) if (random.next() < 0.85) correct++;
      all.push({ ...flat(1, end, () => correct / 300)[0]! });
      const state: PolicyState = {
        ruleRevision: 4,
        windows: all.slice(-168),
        freshQuality: 0.85,
        versionTrainedAt: start,
        lastRetrainAt: start,
        recentVersions: [{ version: 'v0', quality: 0.85, events: 900 }],
        probes: { version: 'v1', inFlight: null, results, retrainOutcomes: { helped: 2, didNotHelp: 0 } },
      };
      const d = evaluatePolicy(POLICY, state, end);
      if (d.kind === 'retrain') retrains++;
      if (d.probe) {
        probedAt.push(t);
        // A challenger of a stationary stream is as good as the champion: a gap at ~0.
        results.push(
          result({
            id: `v1@${end}`,
            version: 'v1',
            startedAt: end,
            completedAt: end + H,
            versionAgeHours: t,
            verdict: 'no-better',
            gap: 0,
            lower: -0.02,
            upper: 0.02,
          }),
        );
      }
    }
    expect(retrains).toBe(0);
    expect(probedAt.length).toBeGreaterThan(0);
    expect(probedAt.length).toBeLessThanOrEqual(4);
    const gaps = probedAt.slice(1).map((t, i) => t - (probedAt[i] as number));
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThanOrEqual(gaps[i - 1] as number);
  });
});
