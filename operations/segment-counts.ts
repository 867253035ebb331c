/**
 * Segment counts of a reference and of a window, pushed down: a key's kept values are the top K
 * of the reference window by volume (one small query per key, once per reference and policy),
 * and the reference's and each window's segments are counted by the same grouped query as the
 * whole window (platform/clickhouse/segment-grouping.ts). Segments are chosen from the reference
 * so that every judged segment has a reference of its own, and so a segment keeps its identity
 * from window to window (a heatmap row, an SLO); a value that grows large only after the
 * reference was built is counted in `__other__` until the next reference.
 *
 * Each segment's stuck-value baseline (its most frequent value per numeric feature) is counted with
 * the reference's segments, in one grouped query; a window's segments that may hold a stuck value
 * (detectors/segments/segment-stuck-candidates.ts) have their exact most frequent value counted in
 * the window's top-value query (window-batch-repository.ts `batchedTopValueShares`).
 */
import { OTHER_CATEGORY } from '../detectors/drift/categories.ts';
import { labelledFromGroups } from '../detectors/monitor/window-histograms.ts';
import type { FollowUpBars } from '../detectors/drift/window-follow-ups.ts';
import type { WholeReference } from '../detectors/segments/segment-reference.ts';
import { segmentStuckCandidates } from '../detectors/segments/segment-stuck-candidates.ts';
import {
  OTHER_SEGMENT,
  segmentKeyName,
  segmentPlanId,
  type SegmentPolicy,
  type SegmentReferenceCounts,
  type SegmentWindowCounts,
} from '../detectors/segments/types.ts';
import type { ClickHouseClient } from '../platform/clickhouse/client.ts';
import { referenceTopValuesBySegment, type StoredReference } from '../platform/clickhouse/reference-repository.ts';
import type { SegmentsToCount } from '../platform/clickhouse/segment-grouping.ts';
import type { SegmentScoreGroups } from '../platform/clickhouse/estimation-repository.ts';
import type { SegmentOutcomeSums } from '../platform/clickhouse/outcome-sums-repository.ts';
import type { SegmentTopValueRequest, SegmentTopValues } from '../platform/clickhouse/window-batch-repository.ts';
import type { SegmentOutcomeEstimate } from './outcome-estimate.ts';
import {
  countWindowSegments,
  segmentTopValues,
  type CountedSegment,
  type SegmentLabelledGroups,
} from '../platform/clickhouse/window-repository.ts';

/** What the window queries count per segment, and the reference's segment counts. */
export interface SegmentPlan {
  toCount: SegmentsToCount[];
  reference: SegmentReferenceCounts;
}

/** The segments of `policy` kept in `reference` (top K per key), and the reference counted per segment. */
export async function planSegments(
  client: ClickHouseClient,
  reference: StoredReference,
  policy: Pick<SegmentPolicy, 'keys' | 'topK'>,
): Promise<SegmentPlan> {
  const events = {
    modelId: reference.modelId,
    ...(reference.modelVersion ? { modelVersion: reference.modelVersion } : {}),
    start: reference.start,
    end: reference.end,
  };
  const toCount: SegmentsToCount[] = [];
  for (const key of policy.keys) {
    const top = await segmentTopValues(client, events, key, policy.topK);
    toCount.push({ key, values: top.map((t) => t.value).filter((v) => v !== OTHER_SEGMENT) });
  }
  const counted = await countWindowSegments(client, { ...reference, otherCategory: OTHER_CATEGORY }, events, toCount);
  const numeric = Object.entries(reference.features).flatMap(([name, p]) => (p.kind === 'numeric' ? [name] : []));
  const tops = await referenceTopValuesBySegment(client, events, numeric, toCount);
  const topsOf = new Map(tops.segments.map((t) => [segmentId(t), t.topValues]));
  return {
    toCount,
    reference: {
      id: segmentPlanId(reference.referenceId, policy),
      segments: ordered(toCount, counted.segments).map((s) => ({
        key: segmentKeyName(toCount[s.key]!.key),
        value: s.value,
        counted: s.counted,
        topValues: topsOf.get(segmentId(s)) ?? {},
      })),
    },
  };
}

const segmentId = (s: { key: number; value: string }): string => `${s.key}\u0000${s.value}`;

/** The reference's segment counts without their stuck-value baselines (what a monitor that judges none is sent). */
export function withoutStuckBaselines(reference: SegmentReferenceCounts): SegmentReferenceCounts {
  return { id: reference.id, segments: reference.segments.map(({ topValues: _baseline, ...s }) => s) };
}

/**
 * The window's segments whose most frequent value to count exactly (segment-stuck-candidates.ts),
 * each with its candidates; segments without candidates are left out.
 */
export function segmentTopValueRequests(
  whole: WholeReference,
  toCount: readonly SegmentsToCount[],
  reference: SegmentReferenceCounts,
  counted: readonly CountedSegment[],
  /** Events a segment needs on both sides to be judged (the policy's `segments.minEvents`). */
  minEvents: number,
  /** The window's follow-up bars (the policy's `dataQuality`). @default DEFAULT_FOLLOW_UP_BARS */
  bars?: FollowUpBars,
): SegmentTopValueRequest[] {
  const referenceOf = new Map(reference.segments.map((r) => [`${r.key}\u0000${r.value}`, r]));
  return counted.flatMap((s) => {
    const r = referenceOf.get(`${segmentKeyName(toCount[s.key]!.key)}\u0000${s.value}`);
    if (!r) return [];
    const features = segmentStuckCandidates(
      whole,
      { reference: r.counted, referenceTopValues: r.topValues, window: s.counted },
      minEvents,
      bars,
    );
    return features.length > 0 ? [{ key: s.key, value: s.value, features }] : [];
  });
}

/** Segments in the plan's order: each key's kept values by reference volume, then `__other__`. */
function ordered(toCount: readonly SegmentsToCount[], segments: readonly CountedSegment[]): CountedSegment[] {
  const rank = (s: CountedSegment) => {
    const i = toCount[s.key]!.values.indexOf(s.value);
    return s.key * 1e6 + (i < 0 ? 1e5 : i);
  };
  return [...segments].sort((a, b) => rank(a) - rank(b));
}

/**
 * A window's segment counts, labelled groups and (when read) estimation groups, outcome sums and
 * label-free estimates, from the grouped queries, as the observation carries them.
 */
export function windowSegmentCounts(
  toCount: readonly SegmentsToCount[],
  counted: readonly CountedSegment[],
  labelled: readonly SegmentLabelledGroups[],
  scoreBins: number,
  /** The segments' estimation groups; a segment without scored events gets empty groups. @default not read */
  estimation?: readonly SegmentScoreGroups[],
  /** A multiclass or regression model's segments' outcome sums; a segment without labelled events gets null. @default not read */
  outcomes?: readonly SegmentOutcomeSums[],
  /** A multiclass or regression model's segments' label-free estimates; a segment without one gets null. @default not made */
  outcomeEstimates?: readonly SegmentOutcomeEstimate[],
  /** The segments' candidates' most frequent values; a segment without candidates gets none. @default not counted */
  topValues?: readonly SegmentTopValues[],
): SegmentWindowCounts[] {
  const id = (s: { key: number; value: string }) => `${s.key}\u0000${s.value}`;
  const labelledOf = new Map(labelled.map((l) => [id(l), l.groups]));
  const estimationOf = new Map((estimation ?? []).map((e) => [id(e), { groups: e.groups, outside: e.outside }]));
  const outcomesOf = new Map((outcomes ?? []).map((o) => [id(o), o.sums]));
  const estimateOf = new Map((outcomeEstimates ?? []).map((e) => [id(e), e.estimate]));
  const topValuesOf = new Map((topValues ?? []).map((t) => [id(t), t.topValues]));
  return ordered(toCount, counted).map((s) => {
    const groups = labelledOf.get(id(s)) ?? [];
    const l = labelledFromGroups(groups, scoreBins);
    return {
      key: segmentKeyName(toCount[s.key]!.key),
      value: s.value,
      counted: s.counted,
      labelled: l ? { events: l.events, histogram: l.histogram } : null,
      ...(topValuesOf.has(id(s)) ? { topValues: topValuesOf.get(id(s))! } : {}),
      ...(estimation ? { estimation: estimationOf.get(id(s)) ?? { groups: [], outside: 0 } } : {}),
      ...(outcomes ? { outcomes: outcomesOf.get(id(s)) ?? null } : {}),
      ...(outcomeEstimates ? { outcomeEstimate: estimateOf.get(id(s)) ?? null } : {}),
    };
  });
}
