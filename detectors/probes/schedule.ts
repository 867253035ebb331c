/**
 * When to probe: by the expected value of the information, not on a timer.
 *
 * - **Before a retrain** (`before-retrain`): the trigger fired, but nothing measured says a
 *   fresh model beats this one. Probing first is worth it when the retrain cost it may save —
 *   the chance a retrain of this model does not help (evidence.ts) × (retrain + risk) — exceeds
 *   the probe's price plus the staleness of waiting for its result at the rate the trigger sees.
 * - **Exploring** (`explore`): the trigger did not fire. If a fresh model were better by g, the
 *   staleness run up since the version started (value × events × g) is what the cost-aware rule
 *   would weigh against the retrain; before measuring, g is unknown, with a half-normal prior of
 *   scale s — the larger of the policy's `priorGap` and the shortfall the monitor already sees
 *   against the version's own fresh quality. The value of knowing is E[max(0, k·g − C)] with
 *   k = value × events served: 2·(k·s·φ(z) − C·(1 − Φ(z))), z = C / (k·s). A probe runs when
 *   that exceeds its price. The value grows with the version's life, so a flat version is probed
 *   rarely and a long-lived one eventually; after a probe that found nothing the hold
 *   (evidence.ts) doubles the wait. From rule revision 8 the version's standing probes update the
 *   prior (gap-posterior.ts), so a probe that found no gap also lowers what the next is worth.
 *   From rule revision 9 the value is that of what a probe of its size can measure, not of knowing
 *   g exactly (sample-information.ts): a probe on few paired events is worth little.
 */
import { normalCdf } from '../quality/distributions.ts';

export interface ExploreInputs {
  /** Money per event per unit of quality. */
  valuePerQualityUnit: number;
  /** Events the version has served (its age × traffic). */
  eventsServed: number;
  /** Retrain + deployment risk. */
  hurdle: number;
  /** Prior scale of the gap (quality units). */
  priorGap: number;
}

/** Expected value of learning the gap before deciding (money). */
export function exploreValue(input: ExploreInputs): number {
  const k = input.valuePerQualityUnit * input.eventsServed;
  const s = input.priorGap;
  if (!(k > 0) || !(s > 0)) return 0;
  const z = input.hurdle / (k * s);
  const density = Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
  return Math.max(0, 2 * (k * s * density - input.hurdle * (1 - normalCdf(z))));
}

export interface BeforeRetrainInputs {
  /** Chance that a retrain of this model does not help. */
  chanceUseless: number;
  hurdle: number;
  probeCost: number;
  /** Staleness cost per hour the trigger sees now. */
  stalenessPerHour: number;
  /** Hours until the probe's result (windows it needs × window length). */
  probeHours: number;
}

/** Value and cost of probing before retraining; probe when value > cost. */
export function beforeRetrainValue(input: BeforeRetrainInputs): { value: number; cost: number } {
  return {
    value: input.chanceUseless * input.hurdle,
    cost: input.probeCost + Math.max(0, input.stalenessPerHour) * input.probeHours,
  };
}

/** Windows a probe needs for `minPairedEvents` at the labelled events a window brings (at most `maxWindows`). */
export function probeWindowsNeeded(minPairedEvents: number, labelledPerWindow: number, maxWindows: number): number {
  if (!(labelledPerWindow > 0)) return maxWindows;
  return Math.min(maxWindows, Math.max(1, Math.ceil(minPairedEvents / labelledPerWindow)));
}
