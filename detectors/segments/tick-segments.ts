/**
 * Segments in the monitor's tick: the window's segment counts judged against the reference's
 * (carried in the monitor's state from the first window that brought them), and what the tick
 * keeps for the policy (the segment SLO's breaches). A window observed without segments leaves
 * the state's segments as they were, so a monitor that never asked for them decides as before.
 * With `segmentStuckValues`, a segment's stuck-value check has its own baseline (its reference's
 * most frequent values) and its window's most frequent values. With `segmentPooling` (rule revision 6), a segment short of the SLO's labelled minimum is judged
 * with the same segment's labels of the windows just before it (segment-pooling.ts).
 */
import type { MonitorReference, MonitorSettings, MonitorState, WindowObservation } from '../monitor/types.ts';
import type { QualityThresholds } from '../drift/data-quality.ts';
import type { RetrainPolicy } from '../policy/types.ts';
import { sameGrouping, windowEstimationGrouping } from '../monitor/window-estimate.ts';
import { evaluateSegments, type SegmentReport } from './evaluate-segments.ts';
import { keepSegmentLabels, poolSegmentsWithEarlier } from './segment-pooling.ts';
import { DEFAULT_SEGMENT_SLO_MIN_EVENTS, pairSegments, type SegmentReferenceCounts } from './types.ts';

/** Evaluate the observation's segments (null without them or without their reference); updates `state.segments`. */
export function tickSegments(
  state: MonitorState,
  reference: MonitorReference | null,
  observation: WindowObservation,
  policy: RetrainPolicy,
  settings: Pick<MonitorSettings, 'qualityMetric' | 'worthlessError'> &
    Partial<Pick<MonitorSettings, 'ruleRevision' | 'segmentPooling' | 'segmentStuckValues'>>,
  /**
   * The thresholds the whole window is judged at (monitor/quality-thresholds.ts: the policy's bars
   * and the rule revision's), so a segment tells breakage from shift as its window does.
   */
  qualityThresholds: Partial<QualityThresholds>,
): SegmentReport | null {
  const observed = observation.segments;
  if (!observed || !policy.segments || !reference) {
    if (state.segments) state.segments = { ...state.segments, sloBreaches: [] };
    return null;
  }
  let counts: SegmentReferenceCounts | null = observed.reference ?? state.segments?.reference ?? null;
  if (counts?.id !== observed.planId) counts = null;
  if (!counts) {
    state.segments = { reference: null, sloBreaches: [] };
    return null;
  }
  // Segments are estimated with the window's own grouping, when it is the reference estimator's.
  const grouping = windowEstimationGrouping(reference);
  const read = observation.estimationGroups?.grouping;
  const estimator =
    reference.cbpe && grouping && read && sameGrouping(read, grouping) ? { model: reference.cbpe, grouping } : null;
  const options = {
    // A binary model's segments are measured on their scores; a multiclass or regression model's
    // on their outcome sums, in the policy's metric (the tick's settings carry it).
    qualityMetric: settings.qualityMetric,
    worthlessError: settings.worthlessError ?? null,
    estimator,
    qualityThresholds,
  };
  const paired = pairSegments(counts, observed.window);
  // Runs without the setting judge no segment's stuck value, whatever the counts carry.
  const segments =
    settings.segmentStuckValues === true
      ? paired
      : paired.map(({ referenceTopValues: _reference, topValues: _window, ...s }) => s);
  let report = evaluateSegments(reference, segments, policy.segments, options);
  const pooling = settings.segmentPooling === true && (settings.ruleRevision ?? 1) >= 6;
  const earlier = state.segments?.labels ?? [];
  const window = {
    start: observation.start,
    planId: observed.planId,
    version: dominantVersion(observation),
    broken: report.broken,
  };
  const minLabelled = policy.segments.slo?.minEvents ?? DEFAULT_SEGMENT_SLO_MIN_EVENTS;
  if (pooling) {
    const pools = poolSegmentsWithEarlier(
      segments,
      { ...window, broken: new Set(report.broken) },
      earlier,
      minLabelled,
    );
    if (pools.size > 0) {
      // Judged again with the pooled labels: quality and the SLO; drift and data quality are the window's own.
      report = evaluateSegments(
        reference,
        segments.map((s, i) => pools.get(i)?.counts ?? s),
        policy.segments,
        options,
      );
      for (const [i, pool] of pools) {
        const quality = report.segments[i]?.quality;
        if (quality) quality.pooledWindows = pool.windows;
      }
    }
  }
  state.segments = {
    reference: counts,
    sloBreaches: report.sloBreaches,
    ...(pooling ? { labels: keepSegmentLabels(earlier, window, segments, minLabelled) } : {}),
  };
  return report;
}

/** The version that scored most of the window (more than half of it), or null. */
function dominantVersion(observation: Pick<WindowObservation, 'versions' | 'events'>): string | null {
  const top = [...observation.versions].sort((a, b) => b.events - a.events)[0];
  return top && top.events * 2 > observation.events ? top.version : null;
}
