/**
 * Segments in the monitor's tick: the window's segment counts judged against the reference's
 * (carried in the monitor's state from the first window that brought them), and what the tick
 * keeps for the policy (the segment SLO's breaches). A window observed without segments leaves
 * the state's segments as they were, so a monitor that never asked for them decides as before.
 */
import type { MonitorReference, MonitorSettings, MonitorState, WindowObservation } from '../monitor/types.ts';
import { qualityThresholdsOf } from '../policy/data-quality-bars.ts';
import type { RetrainPolicy } from '../policy/types.ts';
import { sameGrouping, windowEstimationGrouping } from '../monitor/window-estimate.ts';
import { evaluateSegments, type SegmentReport } from './evaluate-segments.ts';
import { pairSegments, type SegmentReferenceCounts } from './types.ts';

/** Evaluate the observation's segments (null without them or without their reference); updates `state.segments`. */
export function tickSegments(
  state: MonitorState,
  reference: MonitorReference | null,
  observation: WindowObservation,
  policy: RetrainPolicy,
  settings: Pick<MonitorSettings, 'qualityMetric' | 'worthlessError'>,
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
  const report = evaluateSegments(reference, pairSegments(counts, observed.window), policy.segments, {
    // A binary model's segments are measured on their scores; a multiclass or regression model's
    // on their outcome sums, in the policy's metric (the tick's settings carry it).
    qualityMetric: settings.qualityMetric,
    worthlessError: settings.worthlessError ?? null,
    estimator,
    qualityThresholds: qualityThresholdsOf(policy.dataQuality),
  });
  state.segments = { reference: counts, sloBreaches: report.sloBreaches };
  return report;
}
