import { describe, expect, it } from 'vitest';
import {
  addPairedCounts,
  gapStandsUntil,
  pairedCountsOf,
  pairedCountsSince,
  pairedGap,
  probeEvidence,
  probeIdOf,
  recordProbeWindow,
  startProbe,
  type PairedCounts,
  type ProbeProvenance,
  type ProbeResult,
} from '../../../detectors/probes/index.ts';
import { stepStaleness } from '../../../detectors/economics/staleness.ts';
import { Random } from '../../../detectors/random.ts';
import { decisionTexts } from '../../../detectors/texts/decision-view.ts';
import { probeStatement, withProbeSentence } from '../../../detectors/texts/probe-statement.ts';

/** What the ModelMonitor adds to probes: cumulative re-reads, two thresholds, the challenger, the texts. */

const H = 3_600_000;
const NOW = Date.parse('2026-03-04T12:00:00Z');

function events(n: number, seed: number) {
  const r = new Random(seed);
  const labels: number[] = [];
  const champion: number[] = [];
  const challenger: number[] = [];
  for (let i = 0; i < n; i++) {
    labels.push(r.next() < 0.5 ? 1 : 0);
    champion.push(r.next());
    challenger.push(r.next());
  }
  return { labels, champion, challenger };
}

describe('pairedCountsSince: what a re-read of every event since the start adds', () => {
  it('summed window by window, the additions equal the counts of all events at once', () => {
    const e = events(900, 3);
    let recorded: PairedCounts = { events: 0, championCorrect: 0, challengerCorrect: 0, bothCorrect: 0 };
    let summed = recorded;
    for (const upTo of [200, 450, 900]) {
      const cumulative = pairedCountsOf(
        e.labels.slice(0, upTo),
        e.champion.slice(0, upTo),
        e.challenger.slice(0, upTo),
      );
      const added = pairedCountsSince(cumulative, recorded);
      summed = addPairedCounts(summed, added);
      recorded = cumulative;
    }
    expect(summed).toEqual(pairedCountsOf(e.labels, e.champion, e.challenger));
  });

  it('never adds negative or inconsistent counts (a label corrected since the last read)', () => {
    const added = pairedCountsSince(
      { events: 10, championCorrect: 4, challengerCorrect: 9, bothCorrect: 4 },
      { events: 8, championCorrect: 6, challengerCorrect: 6, bothCorrect: 3 },
    );
    expect(added).toEqual({ events: 2, championCorrect: 0, challengerCorrect: 2, bothCorrect: 0 });
    expect(pairedGap({ ...added, events: 2 })).not.toBeNull();
  });
});

describe('pairedCountsOf with each model at its own decision threshold', () => {
  it('reads the challenger at its threshold and the champion at its own', () => {
    const labels = [1, 1, 0, 0];
    const champion = [0.35, 0.45, 0.2, 0.5];
    const challenger = [0.6, 0.4, 0.3, 0.7];
    // Champion at 0.3: 1,1,0,1 → right on 3; challenger at 0.65: 0,0,0,1 → right on 1.
    expect(pairedCountsOf(labels, champion, challenger, 0.3, 0.65)).toEqual({
      events: 4,
      championCorrect: 3,
      challengerCorrect: 1,
      bothCorrect: 1,
    });
    // One threshold for both, as before.
    expect(pairedCountsOf(labels, champion, challenger, 0.5)).toEqual(
      pairedCountsOf(labels, champion, challenger, 0.5, 0.5),
    );
  });
});

describe('a probe with a registered challenger', () => {
  const plan = { kind: 'explore' as const, value: 30, cost: 2.5, worthwhileGap: 0.01, reason: 'probe: worth 30' };
  const challengerModel = { version: 'v7', lineageId: 'snap-abc', trainingRows: 3_200 };
  const started = startProbe(undefined, {
    version: 'v2',
    versionTrainedAt: NOW - 48 * H,
    now: NOW,
    trainingStart: NOW - 24 * H,
    trainingEnd: NOW,
    plan,
    challengerModel,
  });

  it('keeps the challenger from start to result, under the id the runner computes', () => {
    expect(started.inFlight?.id).toBe(probeIdOf('v2', NOW));
    expect(started.inFlight?.challengerModel).toEqual(challengerModel);
    const { result } = recordProbeWindow(
      started,
      { events: 1000, championCorrect: 790, challengerCorrect: 915, bothCorrect: 760 },
      NOW + 6 * H,
      { minPairedEvents: 200, maxWindows: 4 },
    );
    expect(result?.verdict).toBe('challenger-better');
    expect(result?.challengerModel).toEqual(challengerModel);
  });

  it('reads in explain, the API and the dashboard: challenger, window, events compared, gap, interval, cost', () => {
    const { result } = recordProbeWindow(
      started,
      { events: 1000, championCorrect: 790, challengerCorrect: 915, bothCorrect: 760 },
      NOW + 6 * H,
      { minPairedEvents: 200, maxWindows: 4 },
    );
    const provenance: ProbeProvenance = {
      started: {
        id: probeIdOf('v2', NOW),
        plan,
        trainingWindow: { start: NOW - 24 * H, end: NOW },
        challenger: challengerModel,
        cost: 2.5,
        costSource: 'auto: 0.05 × retrain cost',
      },
    };
    const [start, why] = probeStatement({ probe: provenance });
    expect(start).toBe(
      'probe v2@1772625600000 started (explore): challenger v7 trained on the training window 2026-03-03 12:00:00 UTC → 2026-03-04 12:00:00 UTC on 3200 labelled rows (lineage snap-abc), registered as a probe, never served; cost 2.50 (auto: 0.05 × retrain cost)',
    );
    expect(why).toBe('  why: probe: worth 30');
    const gap = pairedGap({ events: 1000, championCorrect: 790, challengerCorrect: 915, bothCorrect: 760 })!;
    const [finished] = probeStatement({ probe: { result } });
    expect(finished).toBe(
      `probe v2@1772625600000 finished: challenger-better, gap ${gap.gap.toFixed(3)} (challenger − champion, 95% interval ${gap.lower.toFixed(3)} to ${gap.upper.toFixed(3)}) on 1000 paired events; challenger trained to 2026-03-04 12:00:00 UTC`,
    );
    // The stored decision's texts carry the same lines.
    expect(decisionTexts({ reason: 'x', details: { probe: { result } } }).probe).toEqual([finished]);
    // A decision that only used a probe names it from the trigger's inputs.
    const [used] = probeStatement({
      inputs: {
        probeId: 'v2@1',
        probeVerdict: 'no-better',
        probeGap: 0.001,
        probeGapLower: -0.01,
        probeGapUpper: 0.012,
        probeEvents: 800,
      },
    });
    expect(used).toBe(
      'probe v2@1 used: no-better, gap 0.001 (challenger − champion, 95% interval -0.010 to 0.012) on 800 paired events',
    );
    expect(probeStatement({ inputs: { probeId: null } })).toEqual([]);
    expect(probeStatement(null)).toEqual([]);
  });

  it('adds what the probe did to the reason once', () => {
    const provenance: ProbeProvenance = {
      started: {
        id: 'v2@1',
        plan,
        trainingWindow: { start: null, end: NOW },
        challenger: challengerModel,
        cost: 2.5,
        costSource: 'policy probes.probeCost',
      },
    };
    const once = withProbeSentence('no action: flat', provenance);
    expect(once).toBe(
      'no action: flat; challenger probe started: v7 trained on 3200 labelled rows, never served (probe cost 2.50)',
    );
    expect(withProbeSentence(once, provenance)).toBe(once);
    expect(withProbeSentence('x', {})).toBe('x');
  });
});

describe('a measured gap ages: evidence about the data it was measured on', () => {
  const better = (startedAt: number, completedAt: number): ProbeResult => ({
    id: `v1@${startedAt}`,
    version: 'v1',
    startedAt,
    completedAt,
    versionAgeHours: 500,
    trainingStart: startedAt - 24 * H,
    trainingEnd: startedAt,
    plan: { kind: 'explore', value: 30, cost: 2.5, worthwhileGap: 0.01, reason: 'r' },
    windows: 2,
    events: 600,
    champion: 0.7,
    challenger: 0.8,
    gap: 0.1,
    lower: 0.06,
    upper: 0.14,
    level: 0.95,
    verdict: 'challenger-better',
  });
  const view = (r: ProbeResult) => ({
    version: 'v1',
    inFlight: null,
    results: [r],
    retrainOutcomes: { helped: 0, didNotHelp: 0 },
  });
  const r = better(NOW - 12 * H, NOW); // measured over 12 h, read now

  it('stands for as long again as the probe measured, then lapses', () => {
    expect(gapStandsUntil(r)).toBe(NOW + 12 * H);
    const fresh = probeEvidence(view(r), NOW + 12 * H, {});
    expect(fresh.raisedAttainable).toBeCloseTo(0.76, 12);
    expect(fresh.lapsed).toBeNull();
    const old = probeEvidence(view(r), NOW + 12 * H + 1, {});
    expect(old.raisedAttainable).toBeNull();
    expect(old.lapsed).toMatch(/stood as long again/);
    // Without the data since (callers from before ageing), it stands for the version's life.
    expect(probeEvidence(view(r), NOW + 1000 * H).raisedAttainable).toBeCloseTo(0.76, 12);
  });

  it('lapses at once when the data drifts or the quality changes after the result, not before', () => {
    const drift = (start: number) => ({ start, drift: { datasetDrift: true } });
    expect(probeEvidence(view(r), NOW + H, { windows: [drift(NOW - 6 * H)] }).raisedAttainable).not.toBeNull();
    const drifted = probeEvidence(view(r), NOW + H, { windows: [drift(NOW - 6 * H), drift(NOW)] });
    expect(drifted.raisedAttainable).toBeNull();
    expect(drifted.lapsed).toMatch(/the data drifted after the gap was measured/);
    expect(probeEvidence(view(r), NOW + H, { changePointAt: NOW - H }).raisedAttainable).not.toBeNull();
    expect(probeEvidence(view(r), NOW + H, { changePointAt: NOW + H }).lapsed).toMatch(/change point/);
  });

  it('a step priced against a probe’s gap is priced only for as long as the gap stands', () => {
    const step = { at: NOW - 10 * H, before: 0.8, after: 0.7, z: 8 };
    const options = {
      attainable: 0.8,
      attainableSe: 0.005,
      eventsAfter: 3000,
      versionStart: NOW - 500 * H,
      now: NOW,
      eventsPerHour: 300,
      valuePerQualityUnit: 1,
    };
    const open = stepStaleness(step, options)!;
    expect(open.expectedHours).toBe(490);
    const capped = stepStaleness(step, { ...options, maxExpectedHours: 12 })!;
    expect(capped.expectedHours).toBe(12);
    expect(capped.value).toBeCloseTo((open.value * 12) / 490, 9);
  });
});
