/**
 * "Best periodic in hindsight", searched over every whole-window period.
 *
 * The policy engine's periodic trigger fires when the serving version is at least `every` old,
 * counted from the last retrain; it has no phase of its own. A first version trained on the
 * reference period is 0 windows old when monitoring starts, so a period of p windows retrains at
 * steps p, 2p, 3p, …; a file's own model is taken as deployed when the history starts, so it is
 * already as old as the reference period (`initialAge`) and its first retrain comes sooner.
 * Every period's schedule, and its cost on a quality matrix, is therefore known without replaying
 * it (the benchmarks replay the best one through the engine and check it retrains exactly there).
 */
import { type CostModel, scheduleCost, type ScheduleCost } from './oracle.ts';

/**
 * Retrain steps of a periodic policy retraining every `period` windows, over `steps` windows,
 * when the first version is `initialAge` windows old as monitoring starts (a decision at the end
 * of window t − 1 sees an age of initialAge + t and retrains for step t).
 */
export function periodicRetrainSteps(period: number, steps: number, initialAge = 0): number[] {
  if (!(Number.isInteger(period) && period >= 1)) throw new Error(`period must be a whole number ≥ 1, got ${period}`);
  if (!(initialAge >= 0)) throw new Error(`initialAge must be ≥ 0 windows, got ${initialAge}`);
  const out: number[] = [];
  // 1e-9: an age equal to the period (in floating point) is due, as the engine compares age ≥ every.
  for (let s = Math.max(1, Math.ceil(period - initialAge - 1e-9)); s < steps; s += period) out.push(s);
  return out;
}

export interface PeriodicSearch {
  /** The cheapest period, in windows (the shortest among equals). */
  period: number;
  cost: ScheduleCost;
  /** Total cost of every period searched, index = period − 1. */
  costs: number[];
}

/**
 * The cheapest periodic schedule among the periods `candidates` (default: every whole number of
 * windows from 1 up to the last that still retrains within the stream; a longer one is `never`).
 */
export function bestPeriodic(model: CostModel, candidates?: readonly number[], initialAge = 0): PeriodicSearch {
  // The longest period whose first retrain still falls inside the stream (at step steps − 1).
  const longest = Math.max(1, Math.floor(model.steps - 1 + initialAge + 1e-9));
  const periods = candidates ?? Array.from({ length: longest }, (_, i) => i + 1);
  let best: { period: number; cost: ScheduleCost } | null = null;
  const costs: number[] = [];
  for (const period of periods) {
    const cost = scheduleCost(model, periodicRetrainSteps(period, model.steps, initialAge));
    costs.push(cost.totalCost);
    if (best === null || cost.totalCost < best.cost.totalCost) best = { period, cost };
  }
  if (best === null) throw new Error('bestPeriodic: no candidate periods');
  return { ...best, costs };
}

/** A period in windows of one hour, as a policy duration ("17h", "2d"). */
export function hoursText(hours: number): string {
  return hours % 24 === 0 ? `${hours / 24}d` : `${hours}h`;
}
