/**
 * Staleness evidence for the cost-aware rule that a decay fit cannot give: how good a fresh
 * version can be (the attainable quality), whether the version in service stepped down at a
 * change point, and the staleness cost it has run up against the attainable quality.
 *
 * Why these exist (measured on the decision benchmark, bench/decisions.ts):
 * - measuring staleness against the serving version's own validation quality hides a version
 *   that was stale from the start (trained across a change: it validates at 0.84 and serves at
 *   0.84 while a clean retrain gives 0.90);
 * - clipping each window's loss at zero (`accumulatedStalenessCost`) turns sampling noise into
 *   cost: a version at its fresh level still accrues ~5 per window at 300 events, and the
 *   cumulative rule then retrains on noise every day or two;
 * - a retrain soon after an abrupt change trains on a window that still holds the old concept.
 *
 * Pure: no clock, no I/O; instants are epoch milliseconds.
 */
import type { StepEvidence } from './types.ts';
import { weightedLineResiduals } from './weighted-line.ts';

/** Early-life realised quality of one model version (its first few windows after deployment). */
export interface VersionEarlyQuality {
  version: string;
  /** Event-weighted mean quality over its first windows. */
  quality: number;
  /** Events behind it. */
  events: number;
}

export interface AttainableQuality {
  /** Quality a freshly trained version can be expected to reach, or `null` when nothing is known. */
  value: number | null;
  /**
   * `versions`: median of recent versions' early-life quality; `fresh-quality`: the fallback given
   * (e.g. validation); `probe`: a challenger measured on the same events (rule revision 4); `none`.
   */
  source: 'versions' | 'fresh-quality' | 'probe' | 'none';
  /** How many versions the median is over. */
  versions: number;
}

/** Fewest early-life events for a version to count. */
export const ATTAINABLE_MIN_EVENTS = 100;

/**
 * The attainable fresh quality: the median of the early-life quality of the recent versions
 * given (the monitor keeps up to 8; a median, so one version trained across a change — low —
 * or one lucky version — high — does not move it), or `fallback` (the version's validation
 * quality) when no version has early-life data yet.
 */
export function attainableQuality(
  recent: readonly VersionEarlyQuality[],
  fallback: number | null,
  direction: 'higher-is-better' | 'lower-is-better' = 'higher-is-better',
): AttainableQuality {
  const usable = recent.filter((v) => v.events >= ATTAINABLE_MIN_EVENTS && Number.isFinite(v.quality));
  if (usable.length === 0)
    return fallback === null
      ? { value: null, source: 'none', versions: 0 }
      : { value: fallback, source: 'fresh-quality', versions: 0 };
  const sorted = usable.map((v) => v.quality).sort((a, b) => (direction === 'higher-is-better' ? a - b : b - a));
  const mid = sorted.length / 2;
  const median =
    sorted.length % 2 === 1
      ? (sorted[Math.floor(mid)] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { value: median, source: 'versions', versions: usable.length };
}

export interface QualityWindow {
  start: number;
  end: number;
  events: number;
  quality: number | null;
}

export interface StepChange {
  /** Start of the first window after the step (the estimated change onset). */
  at: number;
  /** Mean quality before and after (event-weighted). */
  before: number;
  after: number;
  /** Standardised size of the drop (binomial standard error of the difference of the two means). */
  z: number;
}

/** A step must be this many standard errors to count (the largest of up to ~170 split statistics: a max needs a margin). */
export const STEP_MIN_Z = 4;

/**
 * Where did the version's quality step down? The best single split of its windows into a
 * before and an after segment (largest standardised drop of the event-weighted means), or
 * `null` when no split gives a drop of at least {@link STEP_MIN_Z} standard errors, or when a
 * straight line fits the windows at least as well (a smooth decline is not a step). The
 * binomial error p(1 − p)/n of accuracy-like metrics is used (for other metrics it is a scale).
 * The onset is localised to the window boundary, so a change one window old is found at once —
 * unlike the Page–Hinkley detector of the monitor tick, which reports when it *fires*, 2–5
 * windows after the onset.
 */
export function localiseStep(
  windows: readonly QualityWindow[],
  direction: 'higher-is-better' | 'lower-is-better' = 'higher-is-better',
): StepChange | null {
  const ws = windows.filter(
    (w) => w.quality !== null && Number.isFinite(w.quality) && w.events > 0,
  ) as (QualityWindow & { quality: number })[];
  if (ws.length < 3) return null; // two windows fit a line exactly as well as a step
  const sign = direction === 'higher-is-better' ? 1 : -1;
  const totalN = ws.reduce((s, w) => s + w.events, 0);
  const totalQ = ws.reduce((s, w) => s + w.events * w.quality, 0);
  let n1 = 0;
  let q1 = 0;
  let best: StepChange | null = null;
  for (let j = 0; j < ws.length - 1; j++) {
    const w = ws[j] as QualityWindow & { quality: number };
    n1 += w.events;
    q1 += w.events * w.quality;
    const n2 = totalN - n1;
    const before = q1 / n1;
    const after = (totalQ - q1) / n2;
    const p = Math.min(0.99, Math.max(0.01, totalQ / totalN));
    const se = Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
    const z = (sign * (before - after)) / se;
    if (z >= STEP_MIN_Z && (best === null || z > best.z))
      best = { at: (ws[j + 1] as QualityWindow).start, before, after, z };
  }
  if (best === null) return null;
  // A smooth decline also splits into a "before" and an "after": keep the step only when it
  // describes the windows better than a straight line in time does (same number of parameters).
  const at = best.at;
  let rssStep = 0;
  for (const w of ws) rssStep += w.events * (w.quality - (w.start < at ? best.before : best.after)) ** 2;
  return rssStep < linearRss(ws) ? best : null;
}

/** Residual sum of squares of the event-weighted least-squares line of quality on window start. */
function linearRss(ws: readonly { start: number; events: number; quality: number }[]): number {
  const residuals = weightedLineResiduals(ws);
  let rss = 0;
  ws.forEach((w, i) => (rss += w.events * (residuals[i] as number) ** 2));
  return rss;
}

/**
 * Staleness cost run up against the attainable quality: Σ value × events × (attainable − quality)
 * over windows that start at or after `sinceMs`, *signed* — a window better than attainable
 * offsets one worse by as much, so sampling noise averages out instead of accumulating.
 */
export function netStalenessCost(
  windows: readonly QualityWindow[],
  options: {
    attainable: number;
    valuePerQualityUnit: number;
    sinceMs?: number;
    direction?: 'higher-is-better' | 'lower-is-better';
  },
): number {
  const sign = (options.direction ?? 'higher-is-better') === 'higher-is-better' ? 1 : -1;
  const since = options.sinceMs ?? Number.NEGATIVE_INFINITY;
  let total = 0;
  for (const w of windows) {
    if (w.start < since || w.quality === null || !Number.isFinite(w.quality)) continue;
    total += options.valuePerQualityUnit * w.events * sign * (options.attainable - w.quality);
  }
  return total;
}

/**
 * What the cumulative rule measures staleness against (rule revision 2): the attainable quality,
 * except when nothing says the version is worse than a fresh one would be — no step down in its
 * quality, no start below the attainable level — and its own early life was worse than the
 * attainable median: then its own early-life quality. The median pools versions trained on
 * earlier concepts; when the current concept is harder (SEA's θ = 9.5 against θ = 7), every
 * version trained on it looks stale against the median, and the signed accumulation of that gap
 * retrains a version that a retrain cannot improve. `null` when the attainable level is unknown.
 */
export function cumulativeYardstick(
  attainable: number | null,
  early: VersionEarlyQuality | null,
  staleSignal: boolean,
  direction: 'higher-is-better' | 'lower-is-better' = 'higher-is-better',
): number | null {
  if (attainable === null) return null;
  if (staleSignal || early === null) return attainable;
  return direction === 'higher-is-better' ? Math.min(attainable, early.quality) : Math.max(attainable, early.quality);
}

/**
 * Whether the version in service started below the attainable quality by more than sampling
 * noise: its early-life quality is at least `minZ` standard errors (binomial, with the
 * attainable value's own error taken as equal) below. Such a version never looks stale against
 * its own fresh quality, and the decay fit cannot see it either (it is flat at a low level).
 */
export function startedBelowAttainable(
  early: VersionEarlyQuality | null,
  attainable: number | null,
  direction: 'higher-is-better' | 'lower-is-better' = 'higher-is-better',
  minZ = 3,
): boolean {
  if (early === null || attainable === null || early.events <= 0) return false;
  const p = Math.min(0.99, Math.max(0.01, attainable));
  const se = Math.sqrt((2 * p * (1 - p)) / early.events);
  const gap = direction === 'higher-is-better' ? attainable - early.quality : early.quality - attainable;
  return gap / se >= minZ;
}

/**
 * Price a step down (rule revision 2). After a change point the serving version does not
 * recover, and a retrain does not start a clock that runs out again — so the forecast rule's
 * renewal argument does not apply, and the cumulative rule (the loss already paid) reacts late:
 * at a 7-point drop and 300 events an hour it needs 7 windows to reach a retrain cost of 150.
 * What keeping the version costs is the loss rate it now runs at, for as long as the new
 * concept lasts. That duration is unknown; the rule expects it to last as long as the concept
 * before it did (the version's age at the step — how long the world stayed as the version was
 * trained on) or as long as it already has, whichever is longer.
 *
 * loss rate = attainable − mean quality since the step, one standard error low (the windows'
 * binomial error and the attainable level's own); value = value per unit × events per hour ×
 * loss rate × expected hours. Returns `null` when the loss is not credibly positive.
 */
export function stepStaleness(
  step: StepChange,
  options: {
    attainable: number;
    /** Standard error of the attainable level. */
    attainableSe: number;
    /** Events since the step (behind `step.after`). */
    eventsAfter: number;
    /** When the version started serving (its age runs from here). */
    versionStart: number;
    now: number;
    eventsPerHour: number;
    valuePerQualityUnit: number;
    direction?: 'higher-is-better' | 'lower-is-better';
    /**
     * The longest the loss can be expected to last, when what it is measured against stands only
     * so long (a challenger probe's gap, detectors/probes/evidence.ts). @default Infinity
     */
    maxExpectedHours?: number;
    /**
     * How long the model's quality excursions last (persistence.ts, rule revision 5): the step is
     * priced for that long instead of the version's age, unless it has already lasted longer.
     * @default null (the version's age)
     */
    persistenceHours?: number | null;
    /**
     * Rule revision 7: the model's history is too short to tell a step that lasts from an
     * excursion that reverts (persistence.ts, fewer than its minimum window pairs). The version's
     * age then stands on nothing, and the step is priced for as long again as it has lasted —
     * ski rental's break-even: a retrain once the step has cost about as much as the retrain, so
     * a step that reverts costs at most twice what foresight would pay. `pairs`: the window
     * pairs there were. @default null (the version's age, as before revision 7)
     */
    unmeasuredPersistence?: { pairs: number; minPairs: number } | null;
  },
): StepEvidence | null {
  const sign = (options.direction ?? 'higher-is-better') === 'higher-is-better' ? 1 : -1;
  if (step.z < STEP_RULE_MIN_Z) return null;
  const p = Math.min(0.99, Math.max(0.01, step.after));
  const se = Math.sqrt((p * (1 - p)) / Math.max(1, options.eventsAfter) + options.attainableSe ** 2);
  const lossRate = sign * (options.attainable - step.after) - se;
  if (!(lossRate > 0)) return null;
  const ageAtStep = Math.max(0, (step.at - options.versionStart) / 3_600_000);
  const sinceStep = Math.max(0, (options.now - step.at) / 3_600_000);
  const persistence = options.persistenceHours ?? null;
  const unmeasured = persistence === null ? (options.unmeasuredPersistence ?? null) : null;
  const lasting = unmeasured !== null ? sinceStep : persistence === null ? ageAtStep : Math.min(ageAtStep, persistence);
  const expectedHours = Math.min(Math.max(lasting, sinceStep), Math.max(0, options.maxExpectedHours ?? Infinity));
  return {
    value: options.valuePerQualityUnit * options.eventsPerHour * lossRate * expectedHours,
    lossRate,
    expectedHours,
    description: `quality stepped down from ${step.before.toFixed(3)} to ${step.after.toFixed(3)} at ${new Date(step.at).toISOString()} (z ${step.z.toFixed(1)}), ${(sign * (options.attainable - step.after)).toFixed(3)} below the attainable ${options.attainable.toFixed(3)}; the version had served ${ageAtStep.toFixed(1)} h before it${persistence !== null && persistence < ageAtStep ? `; its quality's excursions last about ${persistence.toFixed(1)} h` : ''}${unmeasured === null ? '' : `; ${unmeasuredText(unmeasured, sinceStep)}`}`,
    change: {
      at: step.at,
      before: step.before,
      after: step.after,
      z: step.z,
      attainable: options.attainable,
      ageAtStepHours: ageAtStep,
      ...(persistence === null ? {} : { persistenceHours: persistence }),
      ...(unmeasured === null ? {} : { unmeasuredPersistence: { ...unmeasured, lastedHours: sinceStep } }),
    },
  };
}

/** Why a step is priced for as long again as it has lasted (rule revision 7), in words. */
export function unmeasuredText(
  u: { pairs: number; minPairs: number },
  lastedHours: number,
  hours = (h: number) => `${h.toFixed(1)} h`,
): string {
  return `too little history to tell whether its steps last (${u.pairs} consecutive window pairs in stable stretches, < ${u.minPairs}): priced for as long again as it has lasted (${hours(lastedHours)}), not the version's age`;
}

/**
 * A step prices a retrain on its own only at this many standard errors (runs of bad windows
 * that every model shares reach 4; the wait for a clean training window leaves time to get there).
 */
export const STEP_RULE_MIN_Z = 6;

/** Longest training window the rule will wait to clear of a step (12 h). */
export const MAX_CLEAN_WAIT_MS = 12 * 3_600_000;

/**
 * Wait for a clean training window: after a step change at `changeAt`, a training window of
 * `trainingWindowMs` ending now still holds the old concept until `changeAt + trainingWindowMs`.
 * Returns that instant when it is still ahead, else `null` (no wait). Training windows longer
 * than {@link MAX_CLEAN_WAIT_MS} never wait (days of staleness would cost more than a mixed
 * model; train `since-change-point` instead).
 */
export function cleanTrainingAt(changeAt: number | null, trainingWindowMs: number | null, now: number): number | null {
  if (changeAt === null || trainingWindowMs === null || !(trainingWindowMs > 0) || trainingWindowMs > MAX_CLEAN_WAIT_MS)
    return null;
  const clean = changeAt + trainingWindowMs;
  return clean > now ? clean : null;
}
