import { describe, expect, it } from 'vitest';
import { evaluateGuardrails, latencySamplesByRun } from '../../../detectors/promotion/guardrails.ts';
import { liveShadowWaitState } from '../../../detectors/promotion/live-shadow-wait.ts';

const needs = { minEvents: 100, minLatencySamples: 4 };

describe("the live shadow's wait", () => {
  it('keeps waiting while the pairs are enough but either side has fewer scorer runs than the guardrail needs', () => {
    // 120 labelled pairs from 3 scorer runs of 40 events: the pairs are there, the runs are not.
    const fewRuns = liveShadowWaitState({ labelledPairs: 120, latencyRuns: { champion: 3, candidate: 3 } }, needs);
    expect(fewRuns.enough).toBe(false);
    const oneSideShort = liveShadowWaitState({ labelledPairs: 120, latencyRuns: { champion: 9, candidate: 3 } }, needs);
    expect(oneSideShort.enough).toBe(false);
    expect(oneSideShort.missing).toEqual([
      '9 scorer runs of the champion and 3 of the challenger, fewer than the 4 the latency guardrail needs from each: the latency guardrail was not evaluated',
    ]);
  });

  it('ends once both the pairs and both sides’ runs are enough', () => {
    const state = liveShadowWaitState({ labelledPairs: 100, latencyRuns: { champion: 4, candidate: 5 } }, needs);
    expect(state).toEqual({ enough: true, missing: [] });
  });

  it('too few pairs says the verdict replays, not that the live latency guardrail is skipped', () => {
    const state = liveShadowWaitState({ labelledPairs: 40, latencyRuns: { champion: 1, candidate: 1 } }, needs);
    expect(state.enough).toBe(false);
    expect(state.missing).toEqual(['40 of 100 labelled pairs (the verdict replays stored events instead)']);
  });

  it('the runs it waits for are the latency samples the guardrail counts', () => {
    // 120 events in 3 runs of 40: enough pairs, 3 samples a side; the guardrail says how many it had.
    const runs = Array.from({ length: 120 }, (_, i) => `s/${Math.floor(i / 40)}`);
    const samples = latencySamplesByRun(
      runs.map(() => 0.05),
      runs,
    );
    const state = liveShadowWaitState(
      { labelledPairs: 120, latencyRuns: { champion: samples.length, candidate: samples.length } },
      needs,
    );
    expect(state.enough).toBe(false);
    const guardrails = evaluateGuardrails(
      { championLatenciesMs: samples, challengerLatenciesMs: samples },
      { minLatencySamples: needs.minLatencySamples },
    );
    expect(guardrails.notEvaluated).toContainEqual(
      expect.stringMatching(/^latency p99: needs 4\+ .* had 3 of the champion and 3 of the challenger$/),
    );
  });
});
