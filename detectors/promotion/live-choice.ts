/**
 * Which events a shadow verdict rests on when the challenger was scored live: the pairs both
 * versions served (the same requests, as the scorer scored them) when at least `minEvents` of
 * them are labelled; otherwise a replay of stored events, which both versions re-score. The
 * choice and its reason go into the verdict's provenance.
 */

export interface LiveChoice {
  /** Labelled pairs of the champion's production events and the challenger's shadow events. */
  labelledPairs: number;
  /** The fewest labelled pairs a verdict rests on. */
  minEvents: number;
  /** The live window read (epoch ms). */
  window: { start: number; end: number };
  /** True: the verdict rests on the live pairs; false: on a replay. */
  used: boolean;
  reason: string;
}

export function chooseLiveSource(labelledPairs: number, minEvents: number, window: LiveChoice['window']): LiveChoice {
  const used = labelledPairs > 0 && labelledPairs >= minEvents;
  return {
    labelledPairs,
    minEvents,
    window,
    used,
    reason: used
      ? `${labelledPairs} labelled live pairs (at least ${minEvents}): the verdict rests on the events both versions scored live`
      : `${labelledPairs} labelled live pairs (fewer than ${Math.max(minEvents, 1)}): replayed stored events instead`,
  };
}
