/**
 * "Best periodic in hindsight", searched over every whole-window period.
 *
 * The policy engine's periodic trigger fires when the serving version is at least `every` old,
 * counted from the last retrain (the first version's age from the end of the reference period);
 * it has no phase. At the benchmark's cadence a period of p windows therefore retrains at steps
 * p, 2p, 3p, … — so every period's schedule, and its cost on the quality matrix, is known
 * without replaying it (`runScenario` replays the best one through the engine and checks that
 * the engine retrains exactly there).
 */
import { type CostModel, scheduleCost, type ScheduleCost } from './oracle.ts';

/** Retrain steps of a periodic policy retraining every `period` windows, over `steps` windows. */
export function periodicRetrainSteps(period: number, steps: number): number[] {
  if (!(Number.isInteger(period) && period >= 1)) throw new Error(`period must be a whole number ≥ 1, got ${period}`);
  const out: number[] = [];
  for (let s = period; s < steps; s += period) out.push(s);
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
 * windows from 1 to steps − 1; a longer period never retrains within the stream — that is `never`).
 */
export function bestPeriodic(model: CostModel, candidates?: readonly number[]): PeriodicSearch {
  const periods = candidates ?? Array.from({ length: Math.max(1, model.steps - 1) }, (_, i) => i + 1);
  let best: { period: number; cost: ScheduleCost } | null = null;
  const costs: number[] = [];
  for (const period of periods) {
    const cost = scheduleCost(model, periodicRetrainSteps(period, model.steps));
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
