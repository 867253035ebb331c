/**
 * Benchmark tools: the total cost of a retrain schedule under a known cost model, and the
 * oracle — the schedule that minimises it, found by dynamic programming over retrain times.
 *
 * Cost of a schedule = Σ over steps of V × events(step) × max(0, reference(step) − quality of the
 * model serving at that step) + retrainCost × number of retrains. A retrain at step k serves from
 * step k on (retraining latency, if any, belongs in the cost model's quality curves).
 *
 * DP: best[j] = cheapest cost of steps j…T−1 given a model retrained at j serves from j;
 * best[j] = min over the next retrain k ∈ (j, T] of staleness(j, j…k−1) + (k < T ? C + best[k] : 0).
 * O(T²) time (segment sums are built incrementally), O(T) memory.
 */

/**
 * A benchmark cost model on a discrete time grid: the true quality at each step of a model
 * retrained at any step. Step 0 holds the initial model (already paid for).
 */
export interface CostModel {
  /** Number of time steps. */
  steps: number;
  /** Quality at `step` of the model retrained at `retrainedAt` (≤ step), higher is better. */
  qualityAt(retrainedAt: number, step: number): number;
  /** Best achievable quality at `step`; staleness is measured against it. @default qualityAt(step, step) */
  referenceQuality?(step: number): number;
  /** Scored events during `step`. */
  eventsAt(step: number): number;
  /** Money lost per event per 1.0 of quality lost. */
  valuePerQualityUnit: number;
  /** Cost of one retrain (including its expected deployment risk, if you model one). */
  retrainCost: number;
}

export interface ScheduleCost {
  /** Steps at which a retrain happens (the new model serves from that step on). */
  retrainSteps: number[];
  stalenessCost: number;
  retrainCost: number;
  totalCost: number;
}

/** Accuracy the model retrained at `retrainedAt` is short of the reference in window `step`, per event (≥ 0). */
export function stalenessPerEvent(model: CostModel, retrainedAt: number, step: number): number {
  const reference = model.referenceQuality !== undefined ? model.referenceQuality(step) : model.qualityAt(step, step);
  return Math.max(0, reference - model.qualityAt(retrainedAt, step));
}

/** Staleness cost of window `step` when the model retrained at `retrainedAt` serves it. */
export function windowStaleness(model: CostModel, retrainedAt: number, step: number): number {
  return model.valuePerQualityUnit * model.eventsAt(step) * stalenessPerEvent(model, retrainedAt, step);
}

/** Total cost of retraining at `retrainSteps` (sorted, deduplicated; step 0 is the initial model and is free). */
export function scheduleCost(model: CostModel, retrainSteps: readonly number[]): ScheduleCost {
  const steps = [...new Set(retrainSteps.filter((s) => Number.isInteger(s) && s > 0 && s < model.steps))].sort(
    (a, b) => a - b,
  );
  let staleness = 0;
  let current = 0;
  let next = 0;
  for (let t = 0; t < model.steps; t++) {
    while (next < steps.length && (steps[next] as number) <= t) current = steps[next++] as number;
    staleness += windowStaleness(model, current, t);
  }
  const retrainCost = steps.length * model.retrainCost;
  return { retrainSteps: steps, stalenessCost: staleness, retrainCost, totalCost: staleness + retrainCost };
}

/** The cost-minimising retrain schedule (knows the future: for benchmarks only). */
export function oracleSchedule(model: CostModel): ScheduleCost {
  const T = model.steps;
  if (T <= 0) return { retrainSteps: [], stalenessCost: 0, retrainCost: 0, totalCost: 0 };
  const best = new Float64Array(T + 1);
  const choice = new Int32Array(T + 1).fill(T);
  best[T] = 0;
  for (let j = T - 1; j >= 0; j--) {
    let segment = 0;
    let bestCost = Number.POSITIVE_INFINITY;
    let bestNext = T;
    for (let k = j + 1; k <= T; k++) {
      segment += windowStaleness(model, j, k - 1);
      const cost = segment + (k < T ? model.retrainCost + (best[k] as number) : 0);
      if (cost < bestCost) {
        bestCost = cost;
        bestNext = k;
      }
    }
    best[j] = bestCost;
    choice[j] = bestNext;
  }
  const retrainSteps: number[] = [];
  for (let j = choice[0] as number; j < T; j = choice[j] as number) retrainSteps.push(j);
  return scheduleCost(model, retrainSteps);
}
