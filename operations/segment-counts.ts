/**
 * Segment counts of a reference and of a window, pushed down: a key's kept values are the top K
 * of the reference window by volume (one small query per key, once per reference and policy),
 * and the reference's and each window's segments are counted by the same grouped query as the
 * whole window (platform/clickhouse/segment-grouping.ts). Segments are chosen from the reference
 * so that every judged segment has a reference of its own, and so a segment keeps its identity
 * from window to window (a heatmap row, an SLO); a value that grows large only after the
 * reference was built is counted in `__other__` until the next reference.
 */
import { OTHER_CATEGORY } from '../detectors/drift/categories.ts';
import { labelledFromGroups } from '../detectors/monitor/window-histograms.ts';
import {
  OTHER_SEGMENT,
  segmentKeyName,
  segmentPlanId,
  type SegmentPolicy,
  type SegmentReferenceCounts,
  type SegmentWindowCounts,
} from '../detectors/segments/types.ts';
import type { ClickHouseClient } from '../platform/clickhouse/client.ts';
import type { StoredReference } from '../platform/clickhouse/reference-repository.ts';
import type { SegmentsToCount } from '../platform/clickhouse/segment-grouping.ts';
import type { SegmentScoreGroups } from '../platform/clickhouse/estimation-repository.ts';
import type { SegmentOutcomeSums } from '../platform/clickhouse/outcome-sums-repository.ts';
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
  return {
    toCount,
    reference: {
      id: segmentPlanId(reference.referenceId, policy),
      segments: ordered(toCount, counted.segments).map((s) => ({
        key: segmentKeyName(toCount[s.key]!.key),
        value: s.value,
        counted: s.counted,
      })),
    },
  };
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
): SegmentWindowCounts[] {
  const id = (s: { key: number; value: string }) => `${s.key}\u0000${s.value}`;
  const labelledOf = new Map(labelled.map((l) => [id(l), l.groups]));
  const estimationOf = new Map((estimation ?? []).map((e) => [id(e), { groups: e.groups, outside: e.outside }]));
  const outcomesOf = new Map((outcomes ?? []).map((o) => [id(o), o.sums]));
  const estimateOf = new Map((outcomeEstimates ?? []).map((e) => [id(e), e.estimate]));
  return ordered(toCount, counted).map((s) => {
    const groups = labelledOf.get(id(s)) ?? [];
    const l = labelledFromGroups(groups, scoreBins);
    return {
      key: segmentKeyName(toCount[s.key]!.key),
      value: s.value,
      counted: s.counted,
      labelled: l ? { events: l.events, histogram: l.histogram } : null,
      ...(estimation ? { estimation: estimationOf.get(id(s)) ?? { groups: [], outside: 0 } } : {}),
      ...(outcomes ? { outcomes: outcomesOf.get(id(s)) ?? null } : {}),
      ...(outcomeEstimates ? { outcomeEstimate: estimateOf.get(id(s)) ?? null } : {}),
    };
  });
}
