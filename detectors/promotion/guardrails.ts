/**
 * Operational guardrails a challenger must pass regardless of its quality: tail latency and
 * error rate. A better model that is slower or fails more often is not promoted.
 */
import { sortedQuantile } from '../quality/intervals.ts';

export interface GuardrailOptions {
  /** Largest allowed challenger p99 latency / champion p99 latency. @default 1.2 */
  maxLatencyP99Ratio: number;
  /** Fewest latency samples per model for a p99 to mean anything. @default 100 */
  minLatencySamples: number;
  /** Largest allowed challenger error rate minus champion error rate (absolute). @default 0.001 */
  maxErrorRateIncrease: number;
}

export const GUARDRAIL_DEFAULTS: Readonly<GuardrailOptions> = Object.freeze({
  maxLatencyP99Ratio: 1.2,
  minLatencySamples: 100,
  maxErrorRateIncrease: 0.001,
});

/**
 * The latency limit a shadow evaluation applies unless its settings say otherwise: looser than
 * GUARDRAIL_DEFAULTS' 1.2 because a shadow's latencies (a replay's batches, a live scorer's runs)
 * are measured on a machine shared with everything else, where equal models differ by up to ~2×.
 */
export const SHADOW_MAX_LATENCY_P99_RATIO = 2;

export interface ServingCounts {
  requests: number;
  errors: number;
}

export interface GuardrailInput {
  championLatenciesMs?: readonly number[];
  challengerLatenciesMs?: readonly number[];
  championServing?: ServingCounts;
  challengerServing?: ServingCounts;
}

export interface GuardrailResult {
  championLatencyP99Ms: number | null;
  challengerLatencyP99Ms: number | null;
  latencyP99Ratio: number | null;
  championErrorRate: number | null;
  challengerErrorRate: number | null;
  errorRateIncrease: number | null;
  /** Reasons a guardrail failed (empty when none did). */
  violations: string[];
  /** Guardrails that could not be evaluated, and why. */
  notEvaluated: string[];
}

/**
 * A live shadow's latency samples, one per timed run: the events a scorer scored in one run (a
 * batch) each carry that run's time per row and its id, so counting them per event would count
 * one measurement once per event of its batch (the p99 taken over copies, and
 * `minLatencySamples` met by a few large batches). An event without a run id (another serving's
 * own per-request latency) is a sample of its own; unknown latencies (NaN) are left out.
 */
export function latencySamplesByRun(latenciesMs: readonly number[], runs: readonly string[]): number[] {
  const samples: number[] = [];
  const seen = new Set<string>();
  latenciesMs.forEach((ms, i) => {
    if (Number.isNaN(ms)) return;
    const run = runs[i] ?? '';
    if (run !== '') {
      if (seen.has(run)) return;
      seen.add(run);
    }
    samples.push(ms);
  });
  return samples;
}

export function p99(values: readonly number[]): number {
  return sortedQuantile(
    [...values].sort((a, b) => a - b),
    0.99,
  );
}

export function evaluateGuardrails(input: GuardrailInput, options: Partial<GuardrailOptions> = {}): GuardrailResult {
  const o = { ...GUARDRAIL_DEFAULTS, ...options };
  const result: GuardrailResult = {
    championLatencyP99Ms: null,
    challengerLatencyP99Ms: null,
    latencyP99Ratio: null,
    championErrorRate: null,
    challengerErrorRate: null,
    errorRateIncrease: null,
    violations: [],
    notEvaluated: [],
  };
  const a = input.championLatenciesMs;
  const b = input.challengerLatenciesMs;
  if (a && b && a.length >= o.minLatencySamples && b.length >= o.minLatencySamples) {
    result.championLatencyP99Ms = p99(a);
    result.challengerLatencyP99Ms = p99(b);
    result.latencyP99Ratio =
      result.championLatencyP99Ms > 0 ? result.challengerLatencyP99Ms / result.championLatencyP99Ms : null;
    if (result.latencyP99Ratio !== null && result.latencyP99Ratio > o.maxLatencyP99Ratio) {
      result.violations.push(
        `latency p99 ${result.challengerLatencyP99Ms.toFixed(2)} ms is ${result.latencyP99Ratio.toFixed(2)}x the champion's ${result.championLatencyP99Ms.toFixed(2)} ms (limit ${o.maxLatencyP99Ratio}x)`,
      );
    }
  } else {
    result.notEvaluated.push(
      `latency p99: needs ${o.minLatencySamples}+ latency samples (a live shadow's: scorer runs) from each model, had ${a?.length ?? 0} of the champion and ${b?.length ?? 0} of the challenger`,
    );
  }
  const sa = input.championServing;
  const sb = input.challengerServing;
  if (sa && sb && sa.requests > 0 && sb.requests > 0) {
    result.championErrorRate = sa.errors / sa.requests;
    result.challengerErrorRate = sb.errors / sb.requests;
    result.errorRateIncrease = result.challengerErrorRate - result.championErrorRate;
    if (result.errorRateIncrease > o.maxErrorRateIncrease) {
      result.violations.push(
        `error rate ${(100 * result.challengerErrorRate).toFixed(3)}% vs champion ${(100 * result.championErrorRate).toFixed(3)}% (allowed increase ${(100 * o.maxErrorRateIncrease).toFixed(3)} points)`,
      );
    }
  } else {
    result.notEvaluated.push('error rate: needs request and error counts from both models');
  }
  return result;
}
