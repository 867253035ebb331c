/**
 * When a retrain's live shadow has seen enough to judge (workflows/retrain.ts waits on it): the
 * quality verdict needs `minEvents` labelled pairs, and the latency guardrail needs
 * `minLatencySamples` scorer RUNS from each side (one latency sample a run,
 * `latencySamplesByRun`): a few large batches fill the pairs long before the runs.
 */

/** What one poll of the live shadow counted. */
export interface LiveShadowProgress {
  labelledPairs: number;
  /** Distinct scorer runs (latency samples) among the labelled pairs, per side. */
  latencyRuns: { champion: number; candidate: number };
}

export interface LiveShadowNeeds {
  minEvents: number;
  minLatencySamples: number;
}

export interface LiveShadowWaitState {
  /** Both needs met: the wait can end before `maxWait`. */
  enough: boolean;
  /** What is still missing, one sentence each (empty when enough). */
  missing: string[];
}

/**
 * Whether the live shadow holds enough labelled pairs and enough runs from each side. `missing`
 * says what the verdict will lack if the wait ends now: too few pairs and it replays stored
 * events (whose batches the latency guardrail then times), enough pairs but too few runs and it
 * rests on the live pairs without the latency guardrail.
 */
export function liveShadowWaitState(progress: LiveShadowProgress, needs: LiveShadowNeeds): LiveShadowWaitState {
  const pairsShort = progress.labelledPairs < needs.minEvents;
  const { champion, candidate } = progress.latencyRuns;
  const runsShort = champion < needs.minLatencySamples || candidate < needs.minLatencySamples;
  const missing: string[] = [];
  if (pairsShort)
    missing.push(
      `${progress.labelledPairs} of ${needs.minEvents} labelled pairs (the verdict replays stored events instead)`,
    );
  else if (runsShort)
    missing.push(
      `${latencyRunsText(progress.latencyRuns)}, fewer than the ${needs.minLatencySamples} the latency guardrail needs from each: the latency guardrail was not evaluated`,
    );
  return { enough: !pairsShort && !runsShort, missing };
}

/** "12 scorer runs of the champion and 9 of the challenger". */
export function latencyRunsText(runs: { champion: number; candidate: number }): string {
  return `${runs.champion} scorer run${runs.champion === 1 ? '' : 's'} of the champion and ${runs.candidate} of the challenger`;
}
