/**
 * Realised quality as labels arrive (rule revision 3): each window keeps the labels that have
 * reached it so far — at its close only those that had arrived by then, as in production, and
 * late ones as they come — and windows with too few labels are pooled with their neighbours.
 *
 * Why: a fixed minimum of labelled events per window (200) silently swapped in the label-free
 * estimate for every window of a low-volume model, even with every event labelled; and a
 * window evaluated once at its close never saw labels that take a day to arrive. The estimate
 * (CBPE) cannot see a change in P(y | x), so both left the rule blind to concept drift.
 *
 * Pooling is greedy from the oldest window: consecutive windows of one version (never across a
 * broken window, whose labels measure broken data) are joined until they hold the minimum.
 * It is recomputed from the kept labels every tick, so a late label moves a window's value and
 * its decay point, and a window that gathered enough labels of its own leaves its pool.
 * Windows the greedy pools leave short are pooled with the windows before them from rule revision
 * 6 on (`poolWithEarlier`). Pure; deterministic.
 */
import { qualityFromScoreHistogram, type LabelledScoreHistogram } from '../quality/score-histogram.ts';
import { addOutcomeSums, outcomeEvents, realisedFromSums, type OutcomeSums } from '../quality/outcome-sums.ts';
import { qualityInterval, qualityOfMetric, type QualityMetric } from '../quality/quality-metric.ts';
import type { MaturingWindow } from './types.ts';

/** Score bins kept per maturing window: 0.5 is an edge, so accuracy at 0.5 stays exact. */
export const MATURING_BINS = 50;

export interface PooledQuality {
  /** Starts of the windows pooled, oldest first. */
  starts: number[];
  version: string | null;
  trainedAt: number | null;
  /** End of the last window pooled. */
  end: number;
  labelled: number;
  value: number;
  interval: { lower: number; upper: number } | null;
}

/** A histogram of `from.length` bins summed into `bins` bins (`from.length` a multiple of `bins`). */
export function rebin(from: readonly number[], bins = MATURING_BINS): number[] {
  const out = new Array<number>(bins).fill(0);
  if (from.length === 0) return out;
  const factor = from.length / bins;
  if (!Number.isInteger(factor) || factor < 1)
    throw new RangeError(`cannot rebin ${from.length} score bins into ${bins}: need a multiple`);
  from.forEach((c, i) => {
    const b = Math.floor(i / factor);
    out[b] = (out[b] as number) + c;
  });
  return out;
}

/** Add a window's (or late) labelled histogram to a maturing window. Returns a new object. */
export function addLabels(window: MaturingWindow, events: number, histogram: LabelledScoreHistogram): MaturingWindow {
  const add = (base: number[] | null, extra: readonly number[]): number[] => {
    const binned = rebin(extra);
    return base === null ? binned : base.map((c, i) => c + (binned[i] as number));
  };
  return {
    ...window,
    labelled: window.labelled + events,
    positives: add(window.positives, histogram.positives),
    negatives: add(window.negatives, histogram.negatives),
  };
}

/** Add a multiclass or regression window's (or late) outcome sums to a maturing window. Returns a new object. */
export function addOutcomes(window: MaturingWindow, sums: OutcomeSums): MaturingWindow {
  return {
    ...window,
    labelled: window.labelled + outcomeEvents(sums),
    outcomes: window.outcomes ? addOutcomeSums(window.outcomes, sums) : sums,
  };
}

/**
 * Pools over the maturing windows (oldest first): each the shortest run of consecutive windows of
 * one version, with no broken window, holding at least `minLabelled` labelled events. Windows
 * left over at the end of a run hold too few and have no realised value yet.
 */
export function poolWindows(
  windows: readonly MaturingWindow[],
  minLabelled: number,
  metric: QualityMetric,
  worthlessError: number | null = null,
): PooledQuality[] {
  const pools: PooledQuality[] = [];
  let run: MaturingWindow[] = [];
  let labelled = 0;
  const close = (): void => {
    run = [];
    labelled = 0;
  };
  for (const w of windows) {
    if (w.broken) {
      close();
      continue;
    }
    const first = run[0];
    if (first !== undefined && first.version !== w.version) close();
    run.push(w);
    labelled += w.labelled;
    if (labelled >= Math.max(1, minLabelled)) {
      const quality = pooledValue(run, metric, worthlessError);
      if (quality !== null) {
        const last = run[run.length - 1] as MaturingWindow;
        pools.push({
          starts: run.map((r) => r.start),
          version: w.version,
          trainedAt: (run[0] as MaturingWindow).trainedAt,
          end: last.end,
          labelled,
          ...quality,
        });
      }
      close();
    }
  }
  return pools;
}

/**
 * Rule revision 6: a window the pools above leave short of `minLabelled` — typically the newest,
 * whose last labels have not arrived (a daily batch with a day's delay closes a 30-day window
 * with 29) — is pooled with the windows just before it: itself and the fewest preceding windows
 * of its version, with no broken window among them, that together hold the minimum. Its value is
 * realised (the estimate cannot see a change in P(y | x)), over the most recent labels there are.
 * A window with no labels of its own borrows nothing: a value of earlier windows alone says
 * nothing about it, so the estimate stands in. These pools are its quality only: their labels are
 * already in the earlier windows' own pools, so they make no decay point (pooling forward stays
 * the one partition of the labels). Returns the pool per window start, oldest window first.
 */
export function poolWithEarlier(
  windows: readonly MaturingWindow[],
  pooled: ReadonlySet<number>,
  minLabelled: number,
  metric: QualityMetric,
  worthlessError: number | null = null,
): Map<number, PooledQuality> {
  const out = new Map<number, PooledQuality>();
  const min = Math.max(1, minLabelled);
  windows.forEach((w, i) => {
    if (pooled.has(w.start) || w.broken || w.labelled <= 0) return;
    const run: MaturingWindow[] = [w];
    let labelled = w.labelled;
    for (let j = i - 1; j >= 0 && labelled < min; j--) {
      const earlier = windows[j] as MaturingWindow;
      if (earlier.broken || earlier.version !== w.version) break;
      run.unshift(earlier);
      labelled += earlier.labelled;
    }
    if (labelled < min) return;
    const quality = pooledValue(run, metric, worthlessError);
    if (quality === null) return;
    out.set(w.start, {
      starts: run.map((r) => r.start),
      version: w.version,
      trainedAt: (run[0] as MaturingWindow).trainedAt,
      end: w.end,
      labelled,
      ...quality,
    });
  });
  return out;
}

function pooledValue(
  run: readonly MaturingWindow[],
  metric: QualityMetric,
  worthlessError: number | null,
): { value: number; interval: { lower: number; upper: number } | null } | null {
  if (run.some((w) => w.outcomes !== undefined)) return pooledOutcomes(run, metric, worthlessError);
  const positives = new Array<number>(MATURING_BINS).fill(0);
  const negatives = new Array<number>(MATURING_BINS).fill(0);
  for (const w of run) {
    w.positives?.forEach((c, i) => (positives[i] = (positives[i] as number) + c));
    w.negatives?.forEach((c, i) => (negatives[i] = (negatives[i] as number) + c));
  }
  const q = qualityFromScoreHistogram({ positives, negatives });
  const estimate = metric === 'auc' ? q.rocAuc : q.threshold.accuracy;
  if (estimate.value === null || !Number.isFinite(estimate.value)) return null;
  return {
    value: estimate.value,
    interval: estimate.interval ? { lower: estimate.interval.lower, upper: estimate.interval.upper } : null,
  };
}

/** A multiclass or regression pool's quality: its windows' outcome sums added, the metric's figure turned into quality. */
function pooledOutcomes(
  run: readonly MaturingWindow[],
  metric: QualityMetric,
  worthlessError: number | null,
): { value: number; interval: { lower: number; upper: number } | null } | null {
  let sums: OutcomeSums | null = null;
  for (const w of run) if (w.outcomes) sums = sums ? addOutcomeSums(sums, w.outcomes) : w.outcomes;
  // The pool's value is what the evidence uses; macro-F1's bootstrap interval would cost O(events) per replicate per pool per tick.
  const figure = sums ? realisedFromSums(metric, sums, { interval: metric !== 'macro_f1' }) : null;
  if (!figure || figure.value === null || !Number.isFinite(figure.value)) return null;
  return {
    value: qualityOfMetric(metric, figure.value, worthlessError),
    interval: figure.interval && qualityInterval(metric, figure.interval, worthlessError),
  };
}
