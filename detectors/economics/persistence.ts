/**
 * How long does a loss in quality last? The step rule (staleness.ts `stepStaleness`) prices a step
 * down for as long as it is expected to last, and the version's age at the step is a guess at that
 * duration that holds when the world moves in regimes (a concept lasts, then changes). Some models'
 * quality instead swings in excursions that revert on their own — data ordered by region, days
 * that are hard for every model — and there a step priced over the version's age buys retrains
 * that do not pay back. The model's own history tells the two apart: within a version's stable
 * stretches (each version's windows before its own step, detrended), window quality either moves
 * only by sampling noise, or it wanders by more and comes back. The lag-1 autocorrelation of that
 * excess wandering gives its time scale; a step is then priced for that long (with its
 * uncertainty), unless it has already lasted longer.
 *
 * Pure: no clock, no I/O; instants are epoch milliseconds.
 */
import { localiseStep, type QualityWindow } from './staleness.ts';
import { lagOneSums } from './lag-one.ts';
import { weightedLineResiduals } from './weighted-line.ts';

export interface LossPersistence {
  /**
   * Expected duration of a quality excursion, in hours (upper end of its interval), or `null`
   * when the history shows no excursions beyond sampling noise or too little history to tell.
   */
  hours: number | null;
  /** Consecutive window pairs within stable stretches behind the estimate. */
  pairs: number;
  /** Windows behind it. */
  windows: number;
  /** Observed variance of the detrended window qualities ÷ their binomial sampling variance. */
  dispersion: number | null;
  /** Lag-1 autocorrelation of the excess (beyond sampling noise) component, clipped to [0, 1). */
  autocorrelation: number | null;
  /**
   * What the history showed: `too-little-history` (fewer than {@link PERSISTENCE_MIN_PAIRS} pairs:
   * it cannot tell a step that lasts from an excursion that reverts), `sampling-noise` (stable
   * stretches move by sampling noise alone: changes are regimes), `regime-like` (excursions last
   * too long to tell from regimes), `excursions` (they revert: `hours` says how fast).
   */
  basis: 'too-little-history' | 'sampling-noise' | 'regime-like' | 'excursions';
  /** Why `hours` is what it is, in words. */
  reason: string;
}

/** Fewest consecutive window pairs for an estimate (below it the version's age stands). */
export const PERSISTENCE_MIN_PAIRS = 6;

/**
 * Windows left out before each localised step: the localiser places a change's onset at the best
 * split, and a change that takes a window or two to show leaves its start in the "before"
 * stretch, where it would read as wandering.
 */
export const STEP_ONSET_MARGIN = 2;

/** Least dispersion that counts as excursions: wandering at least as large as the sampling noise itself. */
export const MIN_DISPERSION = 2;

/**
 * Dispersion (observed ÷ sampling variance) that counts as excursions beyond noise: the χ² 99th
 * percentile over the degrees of freedom, approximated, and at least {@link MIN_DISPERSION}.
 */
function dispersionBar(dof: number): number {
  // Wilson–Hilferty: χ²_q(k)/k ≈ (1 − 2/(9k) + z √(2/(9k)))³, z = 2.326 for 0.99.
  const a = 2 / (9 * dof);
  return Math.max(MIN_DISPERSION, (1 - a + 2.326 * Math.sqrt(a)) ** 3);
}

/** Highest autocorrelation used (a time scale of 20 windows); above it an excursion is a regime. */
const MAX_AUTOCORRELATION = 0.95;

/**
 * The time scale of a model's quality excursions from its window history.
 *
 * `windows`: the kept windows, oldest first (any versions). `retrainTimes`: when versions
 * changed (each window belongs to the version that started last at or before its start).
 * `currentStepAt`: the step being priced — windows of the version in service from it on are left
 * out (the step is what is being judged). Each earlier version's windows are cut at its own
 * localised step, so past steps (which the rule retrained on) do not count as wandering — with
 * {@link STEP_ONSET_MARGIN} windows before each step, where a change's onset may lie; and
 * every stretch is detrended by its own event-weighted line, so smooth ageing does not either.
 *
 * Windows of accuracy-like metrics with a binomial error: p(1 − p)/events.
 */
export function lossPersistence(
  windows: readonly QualityWindow[],
  options: {
    retrainTimes: readonly number[];
    currentStepAt: number | null;
    direction?: 'higher-is-better' | 'lower-is-better';
  },
): LossPersistence {
  const usable = windows.filter(
    (w) => w.quality !== null && Number.isFinite(w.quality) && w.events > 0,
  ) as (QualityWindow & { quality: number })[];
  const starts = [...options.retrainTimes].sort((a, b) => a - b);
  const versionOf = (t: number): number => {
    let v = 0;
    for (const s of starts) if (s <= t) v++;
    return v;
  };
  const groups = new Map<number, (QualityWindow & { quality: number })[]>();
  for (const w of usable) {
    const v = versionOf(w.start);
    const list = groups.get(v) ?? [];
    list.push(w);
    groups.set(v, list);
  }
  const current = versionOf(Number.POSITIVE_INFINITY);
  // Each stretch's residuals standardised by each window's sampling error, so windows of
  // different sizes weigh alike.
  const standardised: number[][] = [];
  let dof = 0;
  for (const [v, list] of groups) {
    const stepAt = v === current ? options.currentStepAt : (localiseStep(list, options.direction)?.at ?? null);
    const stretch = stepAt === null ? list : list.filter((w) => w.start < stepAt).slice(0, -STEP_ONSET_MARGIN);
    if (stretch.length < 4) continue; // a line through 3 points leaves one residual: no evidence
    const r = weightedLineResiduals(stretch);
    standardised.push(stretch.map((w, i) => (r[i] as number) / binomialError(w.quality, w.events)));
    dof += stretch.length - 2;
  }
  const { pairs, values: count, sumSquares: sumSq, sumLagProducts: sumLag } = lagOneSums(standardised);
  const base = { pairs, windows: count };
  if (pairs < PERSISTENCE_MIN_PAIRS || dof <= 0)
    return {
      ...base,
      hours: null,
      dispersion: null,
      autocorrelation: null,
      basis: 'too-little-history',
      reason: `${pairs} consecutive window pairs in stable stretches (< ${PERSISTENCE_MIN_PAIRS}): too little history`,
    };
  const dispersion = sumSq / dof;
  if (dispersion <= dispersionBar(dof))
    return {
      ...base,
      hours: null,
      dispersion,
      autocorrelation: null,
      basis: 'sampling-noise',
      reason: `window quality moves by sampling noise alone (dispersion ${dispersion.toFixed(2)} over ${dof} degrees of freedom)`,
    };
  // Sampling noise is uncorrelated from window to window: the lag-1 covariance is all excess,
  // and the excess variance is the observed one less the sampling variance (1 per standardised window).
  // Not the textbook acf(1) (Σ x_t x_(t+1) ÷ Σ x_t², which the sums equal for one stretch of equal,
  // evenly spaced windows — test/unit/detectors/lag-one-autocorrelation.test.ts checks it against
  // statsmodels): the lag sum is averaged over pairs and the squares over degrees of freedom, the
  // sampling variance comes off the denominator, and the result is clipped to [0, 0.95].
  const excess = dispersion - 1;
  const rho = Math.min(MAX_AUTOCORRELATION, Math.max(0, sumLag / pairs / Math.max(excess, 1e-9)));
  // Its uncertainty: one standard error (≈ 1/√pairs) toward longer excursions.
  const upper = Math.min(MAX_AUTOCORRELATION, rho + 1 / Math.sqrt(pairs));
  if (upper >= MAX_AUTOCORRELATION)
    return {
      ...base,
      hours: null,
      dispersion,
      autocorrelation: rho,
      basis: 'regime-like',
      reason: `excursions last too long to tell from regimes (lag-1 autocorrelation ${rho.toFixed(2)}, up to ${upper.toFixed(2)})`,
    };
  const hoursPerWindow = meanWindowHours(usable);
  const windowsLong = 1 / (1 - upper);
  return {
    ...base,
    hours: windowsLong * hoursPerWindow,
    dispersion,
    autocorrelation: rho,
    basis: 'excursions',
    reason: `quality wanders ${Math.sqrt(dispersion).toFixed(1)}× beyond sampling noise and returns (lag-1 autocorrelation ${rho.toFixed(2)}, up to ${upper.toFixed(2)}: excursions last about ${windowsLong.toFixed(1)} windows)`,
  };
}

/** A window's binomial sampling error, p clamped to [0.01, 0.99] so a perfect window still has one. */
function binomialError(quality: number, events: number): number {
  const p = Math.min(0.99, Math.max(0.01, quality));
  return Math.sqrt((p * (1 - p)) / events);
}

function meanWindowHours(ws: readonly QualityWindow[]): number {
  const total = ws.reduce((s, w) => s + Math.max(0, w.end - w.start), 0);
  return total / Math.max(1, ws.length) / 3_600_000;
}
