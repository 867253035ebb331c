// A policy's `dataQuality` bars reach the verdicts of the monitor's tick (and so of `halflife
// backtest`, which runs the same tick), of its segments, and of the window read's follow-ups:
// the same crafted window is shift under the defaults and breakage under a stricter bar.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_QUALITY_THRESHOLDS,
  featureChecks,
  type FeatureQualityCounts,
} from '../../../detectors/drift/data-quality.ts';
import { numericReferenceProfile, numericWindowCounts, topValueOf } from '../../../detectors/drift/profiles.ts';
import { valueRuns } from '../../../detectors/drift/value-runs.ts';
import { stuckValueInputs, type CountedWindow } from '../../../detectors/drift/window-comparison.ts';
import { readsValueRuns, runsWhereRead, windowFollowUps } from '../../../detectors/drift/window-follow-ups.ts';
import { followUpBarsOf, qualityThresholdsOf } from '../../../detectors/policy/data-quality-bars.ts';
import { initialMonitorState, monitorTick } from '../../../detectors/monitor/tick.ts';
import type { WindowObservation } from '../../../detectors/monitor/types.ts';
import { Random } from '../../../detectors/random.ts';
import { parsePolicy } from '../../../platform/policy-file.ts';
import { oneFeatureReference, oneFeatureWindow } from '../../helpers/one-feature-window.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);
const random = new Random(2026_12_06);

/** A sensor read to 0.01, clipped at its maximum 40; the reference (mean 20) reaches it a few times in 5,000. */
const sensor = (n: number, mean: number) =>
  Array.from({ length: n }, () => Math.min(40, Math.max(0, Math.round(random.normal(mean, 6) * 100) / 100)));
const reference = sensor(5000, 20);
/** The population shifted toward the ceiling: 40 is hit often, between varied readings. */
const shifted = sensor(400, 40);

function counts(window: number[]): FeatureQualityCounts {
  const profile = numericReferenceProfile(reference, 20);
  const c = numericWindowCounts(window, profile.cuts);
  const top = topValueOf(window);
  return {
    name: 'x',
    kind: 'numeric',
    rows: window.length,
    missing: c.missing,
    reference_missing_rate: 0,
    ...stuckValueInputs(profile, c, top && { ...top, runs: valueRuns(window, top.value) }),
  };
}

function observation(window: number[]): WindowObservation {
  return {
    start: T0,
    end: T0 + HOUR,
    events: window.length,
    versions: [{ version: 'v1', events: window.length, trainedAt: T0 - 24 * HOUR }],
    deadLettered: 0,
    features: {},
    prediction: null,
    scoreHistogram: null,
    labelled: null,
    quality: [counts(window)],
  };
}

const policyWith = (dataQuality?: Record<string, number>) =>
  parsePolicy({
    name: 'bars',
    version: '1',
    model: 'm',
    trigger: { kind: 'periodic', every: '1h' },
    ...(dataQuality ? { dataQuality } : {}),
  }).policy;

const tick = (window: number[], dataQuality?: Record<string, number>) =>
  monitorTick(initialMonitorState('m'), null, observation(window), policyWith(dataQuality), T0 + HOUR);

describe("the policy's data-quality bars in the monitor's tick", () => {
  it('a ceiling reached more often is shift by default; a stricter stuckRunsP makes the same window broken', () => {
    const byDefault = tick(shifted);
    expect(byDefault.evaluation.dataQuality.checks.map((c) => [c.check, c.kind])).toEqual([
      ['frequent-value', 'shift'],
    ]);
    const p = byDefault.evaluation.dataQuality.checks[0]!.runs!.p;
    expect(p).toBeGreaterThan(0.01);
    expect(byDefault.evaluation.window.dataQualityOk).toBe(true);
    expect(byDefault.evaluation.window.broken).toEqual([]);

    // Interleaving must now be far more convincing (p above the bar) before a repeat counts as a ceiling.
    const strict = tick(shifted, { stuckRunsP: Math.min(0.99, p * 1.5 + 0.01) });
    expect(strict.evaluation.dataQuality.checks.map((c) => [c.check, c.kind])).toEqual([['stuck-value', 'breakage']]);
    expect(strict.evaluation.window.dataQualityOk).toBe(false);
    expect(strict.evaluation.window.broken).toEqual([expect.stringMatching(/^x: value 40 in .*: stuck$/)]);
    expect(strict.state.windows.at(-1)!.broken).toHaveLength(1);
  });

  it('a higher stuck bar lets a feature with legitimately spiky values pass; a lower one flags a smaller spike', () => {
    // A spike: one in-range value in 30% of the window, in one stretch (no ceiling, no reference mass).
    const spiky = sensor(400, 20).map((v, i) => (i >= 100 && i < 220 ? 23.45 : v));
    expect(tick(spiky).evaluation.dataQuality.broken).toBe(true);
    expect(tick(spiky, { stuckShareIncrease: 0.4 }).evaluation.dataQuality.checks).toEqual([]);
    const small = sensor(400, 20).map((v, i) => (i >= 100 && i < 160 ? 23.45 : v));
    expect(tick(small).evaluation.dataQuality.checks).toEqual([]);
    expect(tick(small, { stuckShareIncrease: 0.1 }).evaluation.dataQuality.checks.map((c) => c.check)).toEqual([
      'stuck-value',
    ]);
  });

  it('a laxer dead-letter bar keeps a window with a few rejected events out of breakage', () => {
    const window = { ...observation(sensor(400, 20)), deadLettered: 12 };
    const run = (dataQuality?: Record<string, number>) =>
      monitorTick(initialMonitorState('m'), null, window, policyWith(dataQuality), T0 + HOUR).evaluation.dataQuality;
    expect(run().checks.map((c) => c.check)).toEqual(['dead-letters']);
    expect(run().broken).toBe(true);
    expect(run({ deadLetterRate: 0.05 }).checks).toEqual([]);
  });
});

describe("the policy's bars in the window read's follow-ups", () => {
  const profile = numericReferenceProfile(reference, 20);
  const referenceProfiles = oneFeatureReference(profile, reference.length);
  const counted = (values: number[], keyOccurrences?: number): CountedWindow =>
    oneFeatureWindow(values, profile, keyOccurrences === undefined ? {} : { keyOccurrences });

  it('a lower stuckShareIncrease counts the most frequent value of features the default would skip', () => {
    // 8% of the window at one value lifts its bin by under the default's 0.1, over the 0.025 a 0.05 bar asks.
    const small = counted(sensor(400, 20).map((v, i) => (i >= 100 && i < 132 ? 23.45 : v)));
    expect(windowFollowUps(referenceProfiles, small).stuckCandidates).toEqual([]);
    expect(
      windowFollowUps(referenceProfiles, small, followUpBarsOf({ stuckShareIncrease: 0.05 })).stuckCandidates.map(
        (c) => c.name,
      ),
    ).toEqual(['x']);
  });

  it("asks for a value's runs wherever the stuck check reads them, and not for a value that did not grow", () => {
    // Counting runs sorts the whole window (BENCHMARKS.md "Drift report"): the window read asks only
    // where the order-aware check would read them, at the default stuck bar and at a policy's.
    for (const bars of [undefined, { stuckShareIncrease: 0.05 }]) {
      const thresholds = { ...DEFAULT_QUALITY_THRESHOLDS, ...qualityThresholdsOf(bars), stuck_order_aware: true };
      const asked: boolean[] = [];
      const reads: boolean[] = [];
      for (const share of [0, 0.03, 0.1, 0.19, 0.21, 0.3, 0.6]) {
        const c = counts(sensor(400, 20).map((v, i) => (i < share * 400 ? 23.45 : v)));
        const read = featureChecks(c, thresholds).some((check) => check.runs !== undefined);
        const asks = readsValueRuns(referenceProfiles, 'x', c.top_value_share!, followUpBarsOf(bars));
        if (read) expect(asks, `share ${share}`).toBe(true);
        asked.push(asks);
        reads.push(read);
      }
      // Not vacuous: the check read runs somewhere, and some windows were not asked for them.
      expect(reads).toContain(true);
      expect(asked).toContain(false);
    }
    // A categorical feature or one without a reference top share has no stuck check to read runs.
    expect(readsValueRuns(referenceProfiles, 'missing', 1)).toBe(false);
    // The batched read counts every candidate's runs: it hands on only those a read alone counts.
    const grown = { value: 23.45, share: 0.6, runs: { runs: 3, matches: 240, others: 160 } };
    const spread = { value: 23.45, share: 0.03, runs: { runs: 12, matches: 12, others: 388 } };
    expect(runsWhereRead(referenceProfiles, { x: grown })).toEqual({ x: grown });
    expect(runsWhereRead(referenceProfiles, { x: spread, y: null })).toEqual({
      x: { value: 23.45, share: 0.03 },
      y: null,
    });
  });

  it('a lower featureAppearedRate has unknown keys named in smaller numbers', () => {
    // 400 known key occurrences and 12 unknown: 3% of rows, under the default 5%.
    const window = counted(sensor(400, 20), 412);
    expect(windowFollowUps(referenceProfiles, window).nameAppeared).toBe(false);
    expect(windowFollowUps(referenceProfiles, window, followUpBarsOf({ featureAppearedRate: 0.02 })).nameAppeared).toBe(
      true,
    );
  });
});
