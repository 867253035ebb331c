/**
 * The quality evidence of a tick under rule revision 3: the window's labels and late labels of
 * earlier windows go into the maturing windows, which are pooled (label-pooling.ts) into
 * realised values; each kept window's quality and decay point is rebuilt from them, and the
 * tick's note says which source the latest window used and why.
 *
 * Sources, in order: realised quality when the window, alone or pooled with its neighbours of
 * the same version, holds the policy's `minLabelledEvents` — pooled with the windows after it
 * (greedy from the oldest, the pools the decay points come from), and from rule revision 6 a
 * window those pools leave short, with labels of its own, pooled with the windows before it
 * (label-pooling.ts `poolWithEarlier`); else the label-free estimate (CBPE) when it is
 * trustworthy, until enough labels arrive; else none. A broken window's labels measure broken
 * data: it is never pooled and gives the decay fit no point (a retrain cannot fix a pipeline).
 */
import { describeEstimate } from './window-estimate.ts';
import { describeOutcomeEstimate } from './outcome-estimate.ts';
import type { ResolvedEvidence } from '../policy/evidence.ts';
import { formatInstant, plural } from '../texts/format.ts';
import { LATEST_TEXT_REVISION } from '../texts/revision.ts';
import type { WindowSummary } from '../policy/state.ts';
import { addLabels, addOutcomes, poolWindows, poolWithEarlier, type PooledQuality } from './label-pooling.ts';
import { addDelays, describeMatureWindows, insideLateLabelHorizon, lateLabelHorizon } from './late-label-horizon.ts';
import { outcomeEvents } from '../quality/outcome-sums.ts';
import type {
  MaturingWindow,
  MonitorSettings,
  MonitorState,
  QualityPoint,
  WindowEvaluation,
  WindowObservation,
} from './types.ts';

const HOUR = 3_600_000;

export interface QualityEvidenceUpdate {
  /** Which quality the latest window used and why, in words. */
  note: string;
  /** Windows the latest window's realised value is pooled over (1 when alone, 0 when none). */
  pooledWindows: number;
}

/**
 * Update `state` in place: `window` (the latest summary, already the last of `state.windows`)
 * gets its quality; earlier kept windows get theirs from late labels and pooling; the decay
 * points of kept windows are rebuilt; `state.maturing` and `state.labelsArrivedBy` move on.
 */
export function updateQualityEvidence(
  state: MonitorState,
  window: WindowSummary,
  observation: WindowObservation,
  base: Pick<WindowEvaluation, 'quality'>,
  settings: Pick<MonitorSettings, 'qualityMetric'> &
    Partial<Pick<MonitorSettings, 'textRevision' | 'worthlessError' | 'ruleRevision' | 'lateLabelHorizon'>>,
  evidence: Pick<ResolvedEvidence, 'minLabelledEvents'> & Partial<Pick<ResolvedEvidence, 'lateLabelHorizon'>>,
): QualityEvidenceUpdate {
  const min = evidence.minLabelledEvents;
  const metric = settings.qualityMetric;
  const estimate = base.quality.estimated;
  let current: MaturingWindow = {
    start: window.start,
    end: window.end,
    version: state.version,
    trainedAt: state.versionTrainedAt,
    labelled: 0,
    positives: null,
    negatives: null,
    estimated: estimate && estimate.trustworthy && estimate.value !== null ? estimate.value : null,
    broken: window.dataQualityOk === false,
  };
  // Estimation revision 2 keeps the estimate's interval (health and the SLO alert rule read it).
  if (estimate?.method !== undefined && current.estimated !== null) {
    current.estimatedInterval = estimate.interval
      ? { lower: estimate.interval.lower, upper: estimate.interval.upper }
      : null;
    if (metric === 'accuracy' && estimate.threshold !== undefined) current.estimatedThreshold = estimate.threshold;
    if (estimate.figure && estimate.figure.value !== null && estimate.method !== undefined)
      current.estimatedFigure = {
        method: estimate.method,
        value: estimate.figure.value,
        interval: estimate.figure.interval,
      };
  }
  if (observation.outcomes) current = addOutcomes(current, observation.outcomes);
  else if (observation.labelled && observation.labelled.events > 0)
    current = addLabels(current, observation.labelled.events, observation.labelled.histogram);
  // The late-label horizon: windows that closed longer ago than it before the last decision are
  // mature, and their late labels (which production no longer reads) are not counted here either.
  const horizonApplies = settings.lateLabelHorizon ?? true;
  const since = state.labelsArrivedBy ?? null;
  const horizon = horizonApplies ? state.lateLabelHorizon : null;
  const arrivedBy = observation.labelsArrivedBy ?? observation.end;
  // Its own labels at their p99 delay (unknown: the longest they can have had).
  const ownP99Hours = observation.labelled?.labelDelayHoursP99;
  if (horizonApplies)
    current = addDelays(
      current,
      ownP99Hours === null || ownP99Hours === undefined ? arrivedBy - window.start : ownP99Hours * HOUR,
      current.labelled,
    );

  // Late labels fill in earlier windows still kept; labels of windows no longer kept are dropped.
  // A pool leaves whole (its first window decides): re-pooling what is left of it would shift
  // every later pool, and count its labels twice in the decay points.
  const oldest = state.windows[0]?.start ?? window.start;
  const maturing = [
    ...(state.maturing ?? []).filter((m) => (m.pool ?? m.start) >= oldest && m.start !== window.start),
    current,
  ];
  let lateWindows = 0;
  let lateLabels = 0;
  const open = (m: MaturingWindow): boolean => since === null || insideLateLabelHorizon(m, since, horizon);
  // Late labels at the longest delay they can have had: arrived by now, for an event after the window's start.
  const lateDelays = (m: MaturingWindow, events: number): MaturingWindow =>
    horizonApplies ? addDelays(m, arrivedBy - m.start, events) : m;
  for (const late of observation.lateOutcomes ?? []) {
    const i = maturing.findIndex((m) => m.start === late.start);
    const events = outcomeEvents(late.sums);
    if (i < 0 || events <= 0 || maturing[i] === current || !open(maturing[i] as MaturingWindow)) continue;
    maturing[i] = lateDelays(addOutcomes(maturing[i] as MaturingWindow, late.sums), events);
    lateWindows += 1;
    lateLabels += events;
  }
  for (const late of observation.lateLabelled ?? []) {
    const i = maturing.findIndex((m) => m.start === late.start);
    if (i < 0 || late.events <= 0 || maturing[i] === current || !open(maturing[i] as MaturingWindow)) continue;
    maturing[i] = lateDelays(addLabels(maturing[i] as MaturingWindow, late.events, late.histogram), late.events);
    lateWindows += 1;
    lateLabels += late.events;
  }
  state.maturing = maturing;
  state.labelsArrivedBy = arrivedBy;

  const pools = poolWindows(maturing, min, metric, settings.worthlessError ?? null);
  const poolOf = new Map<number, PooledQuality>();
  for (const pool of pools) for (const start of pool.starts) poolOf.set(start, pool);
  state.maturing = maturing.map((m) => {
    const pool = poolOf.get(m.start)?.starts[0];
    const { pool: _previous, ...rest } = m;
    return pool === undefined ? rest : { ...rest, pool };
  });
  // Revision 6: a window short of the minimum by labels still to come (or too few events) is not
  // left to the estimate while the windows before it hold the rest; these pools make no decay point.
  const borrowed =
    (settings.ruleRevision ?? 1) >= 6
      ? poolWithEarlier(maturing, new Set(poolOf.keys()), min, metric, settings.worthlessError ?? null)
      : new Map<number, PooledQuality>();

  const summaries = new Map(state.windows.map((w) => [w.start, w]));
  const rebuilt: QualityPoint[] = [];
  for (const m of maturing) {
    const summary = summaries.get(m.start);
    if (!summary) continue;
    summary.labelled = m.labelled;
    const pool = poolOf.get(m.start);
    if (pool) {
      summary.quality = {
        metric,
        value: pool.value,
        source: 'realised',
        ...(pool.starts.length > 1 ? { pooledWindows: pool.starts.length } : {}),
      };
      if (pool.starts[0] === m.start && pool.version !== null && pool.trainedAt !== null)
        rebuilt.push({
          version: pool.version,
          ageHours: Math.max(0, (pool.end - pool.trainedAt) / HOUR),
          quality: pool.value,
          weight: Math.max(1, pool.labelled),
          source: 'realised',
          start: m.start,
        });
      continue;
    }
    const earlier = borrowed.get(m.start);
    summary.quality = earlier
      ? { metric, value: earlier.value, source: 'realised', pooledWindows: earlier.starts.length }
      : m.estimated === null
        ? null
        : {
            metric,
            value: m.estimated,
            source: 'estimated',
            ...(m.estimatedInterval === undefined ? {} : { interval: m.estimatedInterval }),
          };
    // A window pooled with earlier ones keeps its estimated point until its labels join a pool of
    // their own: a realised point would count the earlier windows' labels twice in the fit.
    if (m.estimated !== null && !m.broken && m.version !== null && m.trainedAt !== null)
      rebuilt.push({
        version: m.version,
        ageHours: Math.max(0, (m.end - m.trainedAt) / HOUR),
        quality: m.estimated,
        weight: Math.max(1, summary.events),
        source: 'estimated',
        start: m.start,
      });
  }
  const maturingStarts = new Set(maturing.map((m) => m.start));
  const kept = state.points.filter((p) => p.start === undefined || !maturingStarts.has(p.start));
  // Points stay in time order: the early-life yardstick takes each version's first ones.
  state.points = [
    ...kept.filter((p) => p.start === undefined),
    ...[...kept.filter((p) => p.start !== undefined), ...rebuilt].sort(
      (a, b) => (a.start as number) - (b.start as number),
    ),
  ];

  // The horizon the next tick asks and counts late labels within (it grows and shrinks with the delays seen).
  let mature = '';
  if (horizonApplies) {
    state.lateLabelHorizon = lateLabelHorizon(state.maturing, evidence.lateLabelHorizon ?? 'auto');
    const words = describeMatureWindows(state.maturing, arrivedBy, state.lateLabelHorizon);
    if (words !== null) mature = `; ${words}`;
  }

  const pool = poolOf.get(current.start) ?? borrowed.get(current.start);
  const texts = settings.textRevision ?? LATEST_TEXT_REVISION;
  const revision6 = (settings.ruleRevision ?? 1) >= 6;
  const windowsText = texts >= 2 ? plural(lateWindows, 'earlier window') : `${lateWindows} earlier window(s)`;
  const late = lateWindows > 0 ? `; late labels (${lateLabels}) updated ${windowsText}` : '';
  return {
    note: `${describe(current, pool, min, metric, estimate?.reasons ?? [], texts, revision6 ? window.events : null)}${late}${mature}`,
    pooledWindows: pool?.starts.length ?? 0,
  };
}

function describe(
  current: MaturingWindow,
  pool: PooledQuality | undefined,
  min: number,
  metric: string,
  estimateReasons: readonly string[],
  texts: number,
  /** The window's events from rule revision 6 (its texts say what a short window was pooled with); null before. */
  events: number | null,
): string {
  if (current.broken)
    return `broken data: the window's ${metric} is not evidence of staleness (${current.labelled} labelled events)`;
  if (pool && pool.starts.length === 1)
    return `realised ${realisedFigure(metric, pool.value)} from ${pool.labelled} labelled events (≥ ${min})`;
  if (pool && events !== null)
    return `realised ${realisedFigure(metric, pool.value)} from ${pool.labelled} labelled events pooled over ${pool.starts.length} windows since ${formatInstant(pool.starts[0] as number)}, this one and ${pool.starts.length === 2 ? 'the window' : `the ${pool.starts.length - 1} windows`} before it (this window has ${current.labelled} of ${plural(events, 'event')} labelled so far, < ${min})`;
  if (pool)
    return `realised ${realisedFigure(metric, pool.value)} from ${pool.labelled} labelled events pooled over ${pool.starts.length} windows since ${texts >= 2 ? formatInstant(pool.starts[0]) : new Date(pool.starts[0] as number).toISOString()} (this window has ${current.labelled}, < ${min})`;
  // Revision 6 says why the window was not pooled with the windows before it.
  const unpooled =
    events === null
      ? ''
      : current.labelled === 0
        ? '; no labels of its own to pool with earlier windows'
        : `; with the windows before it of its version (up to a broken one) still < ${min}`;
  const follows = `${unpooled}; realised quality follows when the window, pooled with the next ones, has ${min}`;
  if (current.estimated !== null && current.estimatedFigure !== undefined)
    return `${describeOutcomeEstimate(metric, current.estimated, current.estimatedFigure)}: ${current.labelled} labelled events so far (< ${min})${follows}`;
  if (current.estimated !== null && current.estimatedInterval !== undefined)
    return `${describeEstimate(metric, current.estimated, current.estimatedInterval, current.estimatedThreshold)}: ${current.labelled} labelled events so far (< ${min})${follows}`;
  if (current.estimated !== null)
    return `estimated ${metric} ${current.estimated.toFixed(4)} (label-free): ${current.labelled} labelled events so far (< ${min})${follows}`;
  const why = estimateReasons.length > 0 ? ` (${estimateReasons.join('; ')})` : '';
  return `no ${metric} yet: ${current.labelled} labelled events so far (< ${min}) and no trustworthy label-free estimate${why}${unpooled}`;
}

/**
 * A pooled realised value, named for what it is: the quality itself for a metric that is its own
 * quality (accuracy, AUC, macro-F1), else the quality with the metric it came from (a log loss of
 * 0.66 pools as quality 0.5186, which must not read as a log loss).
 */
function realisedFigure(metric: string, quality: number): string {
  const own = metric !== 'log_loss' && metric !== 'r2' && metric !== 'mae' && metric !== 'rmse';
  return own ? `${metric} ${quality.toFixed(4)}` : `quality ${quality.toFixed(4)} (from ${metric})`;
}
