/**
 * A probe's life in the monitor's memory: started when the decision asks for one (the runner —
 * backtest engine or workflow — has trained the challenger), fed each following window's paired
 * counts, finished when its gap can be read. Pure; returns new memory.
 */
import {
  addPairedOutcomeSums,
  emptyPairedOutcomeSums,
  pairedOutcomeGap,
  type OutcomeProbeMetric,
  type PairedOutcomeSums,
} from './outcome-gap.ts';
import { addPairedCounts, pairedGap, type PairedGap } from './paired-gap.ts';
import type { ResolvedProbePolicy } from './policy.ts';
import {
  MAX_PROBE_RESULTS,
  type PairedCounts,
  type ProbeChallenger,
  type ProbeInFlight,
  type ProbeMemory,
  type ProbePlan,
  type ProbeResult,
} from './types.ts';

const HOUR_MS = 3_600_000;
/** Confidence level of a probe's gap interval. */
export const PROBE_LEVEL = 0.95;
/** Fewer paired events than this say nothing either way (the interval would be about ±0.2). */
export const MIN_CONCLUSIVE_EVENTS = 30;

export const EMPTY_PROBE_MEMORY: ProbeMemory = { inFlight: null, results: [] };

/** A probe's id: the champion it compares with and when it started. */
export function probeIdOf(version: string, startedAt: number): string {
  return `${version}@${startedAt}`;
}

/** The challenger is trained and will be scored from the next window on. */
export function startProbe(
  memory: ProbeMemory | undefined,
  probe: {
    version: string;
    versionTrainedAt: number | null;
    now: number;
    trainingStart: number | null;
    trainingEnd: number;
    plan: ProbePlan;
    /** The challenger the runner trained, when it registers one. @default undefined */
    challengerModel?: ProbeChallenger;
    /**
     * A multiclass or regression model's probe: the policy metric its gap is measured in (and
     * MAE's and RMSE's worthless error). @default undefined (binary: paired correctness)
     */
    outcomeMetric?: { metric: OutcomeProbeMetric; worthlessError: number | null };
  },
): ProbeMemory {
  const inFlight: ProbeInFlight = {
    id: probeIdOf(probe.version, probe.now),
    version: probe.version,
    startedAt: probe.now,
    versionAgeHours: probe.versionTrainedAt === null ? 0 : Math.max(0, (probe.now - probe.versionTrainedAt) / HOUR_MS),
    trainingStart: probe.trainingStart,
    trainingEnd: probe.trainingEnd,
    plan: probe.plan,
    ...(probe.challengerModel === undefined ? {} : { challengerModel: probe.challengerModel }),
    windows: 0,
    counts: { events: 0, championCorrect: 0, challengerCorrect: 0, bothCorrect: 0 },
    ...(probe.outcomeMetric === undefined
      ? {}
      : { outcomes: emptyPairedOutcomeSums(probe.outcomeMetric.metric, probe.outcomeMetric.worthlessError) }),
  };
  return { inFlight, results: memory?.results ?? [] };
}

/** The challenger could not be trained (e.g. one class in the window): an inconclusive result. */
export function failProbe(
  memory: ProbeMemory | undefined,
  probe: Parameters<typeof startProbe>[1],
  error: string,
): ProbeMemory {
  const started = startProbe(memory, probe).inFlight as ProbeInFlight;
  return { inFlight: null, results: keep([...(memory?.results ?? []), finish(started, probe.now, error)]) };
}

/** The probe's gap so far: from its paired sums (multiclass, regression) or its paired counts (binary). */
export function probeGapOf(p: Pick<ProbeInFlight, 'counts' | 'outcomes'>): PairedGap | null {
  return p.outcomes === undefined ? pairedGap(p.counts, PROBE_LEVEL) : pairedOutcomeGap(p.outcomes, PROBE_LEVEL);
}

/**
 * One more window scored by both (its paired counts, or a multiclass or regression probe's sums). The probe finishes when it has `minPairedEvents` and its
 * interval is decisive — above 0, or below the plan's worthwhile gap — or after `maxWindows`
 * windows (a probe before a retrain: the windows it was planned for) whatever it has.
 */
export function recordProbeWindow(
  memory: ProbeMemory,
  added: PairedCounts | PairedOutcomeSums,
  now: number,
  policy: Pick<ResolvedProbePolicy, 'minPairedEvents' | 'maxWindows'>,
): { memory: ProbeMemory; result: ProbeResult | null } {
  const current = memory.inFlight;
  if (current === null) return { memory, result: null };
  const next: ProbeInFlight =
    'metric' in added
      ? {
          ...current,
          windows: current.windows + 1,
          counts: { ...current.counts, events: current.counts.events + added.events },
          outcomes: addPairedOutcomeSums(
            current.outcomes ?? emptyPairedOutcomeSums(added.metric, added.worthlessError),
            added,
          ),
        }
      : { ...current, windows: current.windows + 1, counts: addPairedCounts(current.counts, added) };
  const gap = probeGapOf(next);
  const decisive =
    gap !== null &&
    next.counts.events >= policy.minPairedEvents &&
    (gap.lower > 0 || gap.upper < next.plan.worthwhileGap);
  const last =
    next.plan.kind === 'before-retrain'
      ? Math.min(policy.maxWindows, next.plan.windows ?? policy.maxWindows)
      : policy.maxWindows;
  if (!decisive && next.windows < last) return { memory: { ...memory, inFlight: next }, result: null };
  const result = finish(next, now);
  return { memory: { inFlight: null, results: keep([...memory.results, result]) }, result };
}

/** A retrain replaced the champion: the probe compares with a version no longer serving. */
export function abandonProbe(memory: ProbeMemory | undefined): ProbeMemory {
  return { inFlight: null, results: memory?.results ?? [] };
}

function finish(p: ProbeInFlight, now: number, error?: string): ProbeResult {
  const gap = error === undefined ? probeGapOf(p) : null;
  const enough = gap !== null && p.counts.events >= MIN_CONCLUSIVE_EVENTS;
  const verdict: ProbeResult['verdict'] =
    gap === null || !enough
      ? 'inconclusive'
      : gap.lower > 0
        ? 'challenger-better'
        : gap.upper < p.plan.worthwhileGap
          ? 'no-better'
          : 'inconclusive';
  return {
    id: p.id,
    version: p.version,
    startedAt: p.startedAt,
    completedAt: now,
    versionAgeHours: p.versionAgeHours,
    trainingStart: p.trainingStart,
    trainingEnd: p.trainingEnd,
    plan: p.plan,
    windows: p.windows,
    events: p.counts.events,
    ...(p.outcomes === undefined ? {} : { metric: p.outcomes.metric }),
    champion: gap?.champion ?? null,
    challenger: gap?.challenger ?? null,
    gap: gap?.gap ?? null,
    lower: gap?.lower ?? null,
    upper: gap?.upper ?? null,
    level: PROBE_LEVEL,
    verdict,
    ...(p.challengerModel === undefined ? {} : { challengerModel: p.challengerModel }),
    ...(error === undefined ? {} : { error }),
  };
}

function keep(results: ProbeResult[]): ProbeResult[] {
  return results.slice(-MAX_PROBE_RESULTS);
}
