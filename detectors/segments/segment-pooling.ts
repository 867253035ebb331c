/**
 * Per-segment realised quality pooled with the windows before it (rule revision 6 with the
 * `segment-pooled-quality` marker, `MonitorSettings.segmentPooling`), as the whole window's is
 * (monitor/label-pooling.ts `poolWithEarlier`).
 *
 * Why: a segment's quality came from its own window's labels alone — those arrived by the
 * decision time — and the segment SLO skips a segment with fewer than `slo.minEvents` labelled
 * events, so a low-volume segment, or any segment of a model whose labels lag, was never held to
 * it. A short segment that has labels of its own is judged on them and the same segment's labels
 * of the fewest windows just before it that make the minimum: same reference plan, same version,
 * and no broken data in the segment (its labels would measure broken data). Labels are kept as
 * each window counted them at its close (segments get no late labels). Pure; deterministic.
 */
import { rebin } from '../monitor/label-pooling.ts';
import { addOutcomeSums, outcomeEvents, type OutcomeSums } from '../quality/outcome-sums.ts';
import type { LabelledScoreHistogram } from '../quality/score-histogram.ts';
import { segmentName, type SegmentCounts } from './types.ts';

/** Earlier windows whose segment labels are kept for pooling: a day of hourly windows. */
export const SEGMENT_POOL_WINDOWS = 24;

/** One segment's labels in one window: a binary model's by score bin (rebinned), or outcome sums. */
export type SegmentLabels =
  { labelled: number; positives: number[]; negatives: number[] } | { labelled: number; outcomes: OutcomeSums };

/** The segment labels of one earlier window. */
export interface SegmentLabelWindow {
  start: number;
  /** The segment plan (`segmentPlanId`) its segments were counted with: segments of another plan are other slices. */
  planId: string;
  /** The version that scored most of the window, or null when none did. */
  version: string | null;
  /** Per segment name, its labels (segments without labels are absent). */
  segments: Record<string, SegmentLabels>;
  /** Segments whose data was broken in that window: never pooled. */
  broken: string[];
}

/** A segment's labels as kept (a binary model's histogram at the maturing windows' resolution). */
export function segmentLabelsOf(s: Pick<SegmentCounts, 'labelled' | 'outcomes'>): SegmentLabels | null {
  if (s.outcomes) {
    const labelled = outcomeEvents(s.outcomes);
    return labelled > 0 ? { labelled, outcomes: s.outcomes } : null;
  }
  if (!s.labelled || s.labelled.events === 0) return null;
  return {
    labelled: s.labelled.events,
    positives: rebin(s.labelled.histogram.positives),
    negatives: rebin(s.labelled.histogram.negatives),
  };
}

/** What pooling did to one segment. */
export interface SegmentPool {
  /** The segment's counts with its labels replaced by the pooled ones. */
  counts: SegmentCounts;
  /** Windows pooled, this one included. */
  windows: number;
}

/**
 * Pool each segment short of `minLabelled` (with labels of its own, not broken) with the fewest
 * earlier windows (newest first) that bring it to the minimum. A segment that cannot reach it is
 * left as it was. `earlier` is oldest first.
 */
export function poolSegmentsWithEarlier(
  segments: readonly SegmentCounts[],
  current: { planId: string; version: string | null; broken: ReadonlySet<string> },
  earlier: readonly SegmentLabelWindow[],
  minLabelled: number,
): Map<number, SegmentPool> {
  const pools = new Map<number, SegmentPool>();
  segments.forEach((s, index) => {
    const name = segmentName(s.key, s.value);
    const own = segmentLabelsOf(s);
    if (own === null || own.labelled >= minLabelled || current.broken.has(name) || current.version === null) return;
    const taken: SegmentLabels[] = [own];
    let labelled = own.labelled;
    for (let i = earlier.length - 1; i >= 0 && labelled < minLabelled; i--) {
      const w = earlier[i] as SegmentLabelWindow;
      if (w.planId !== current.planId || w.version !== current.version || w.broken.includes(name)) break;
      const labels = w.segments[name];
      if (!labels) continue;
      if ('outcomes' in labels !== 'outcomes' in own) break;
      taken.push(labels);
      labelled += labels.labelled;
    }
    if (labelled < minLabelled) return;
    pools.set(index, { counts: withLabels(s, taken), windows: taken.length });
  });
  return pools;
}

/** The segment's counts with the labels of several windows summed in. */
function withLabels(s: SegmentCounts, taken: readonly SegmentLabels[]): SegmentCounts {
  const first = taken[0] as SegmentLabels;
  if ('outcomes' in first) {
    let sums = first.outcomes;
    for (const t of taken.slice(1)) if ('outcomes' in t) sums = addOutcomeSums(sums, t.outcomes);
    return { ...s, outcomes: sums };
  }
  const histogram: LabelledScoreHistogram = {
    positives: first.positives.slice(),
    negatives: first.negatives.slice(),
  };
  let events = first.labelled;
  for (const t of taken.slice(1)) {
    if ('outcomes' in t) continue;
    t.positives.forEach((c, b) => (histogram.positives[b] = (histogram.positives[b] ?? 0) + c));
    t.negatives.forEach((c, b) => (histogram.negatives[b] = (histogram.negatives[b] ?? 0) + c));
    events += t.labelled;
  }
  return { ...s, labelled: { events, histogram } };
}

/**
 * The kept windows with this one's segment labels added (at most {@link SEGMENT_POOL_WINDOWS},
 * oldest first). Each segment keeps only its newest labels that reach `minLabelled` — no later
 * pool can reach further back — so a large segment costs the state one window of labels; a
 * window's plan, version and broken segments stay, so pools still stop where they must.
 */
export function keepSegmentLabels(
  earlier: readonly SegmentLabelWindow[],
  window: { start: number; planId: string; version: string | null; broken: readonly string[] },
  segments: readonly SegmentCounts[],
  minLabelled: number,
): SegmentLabelWindow[] {
  const own: Record<string, SegmentLabels> = {};
  for (const s of segments) {
    const labels = segmentLabelsOf(s);
    if (labels) own[segmentName(s.key, s.value)] = labels;
  }
  const windows = [...earlier, { ...window, broken: [...window.broken], segments: own }].slice(-SEGMENT_POOL_WINDOWS);
  const held = new Map<string, number>();
  const kept: SegmentLabelWindow[] = [];
  for (let i = windows.length - 1; i >= 0; i--) {
    const w = windows[i] as SegmentLabelWindow;
    const segmentsKept: Record<string, SegmentLabels> = {};
    for (const [name, labels] of Object.entries(w.segments)) {
      const before = held.get(name) ?? 0;
      if (before >= minLabelled) continue;
      segmentsKept[name] = labels;
      held.set(name, before + labels.labelled);
    }
    kept.push({ ...w, segments: segmentsKept });
  }
  return kept.reverse();
}
