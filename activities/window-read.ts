/**
 * What a monitor tick reads of one window, two ways that must agree: on its own, by the
 * single-window queries (operations/window-drift.ts and platform/clickhouse/window-repository.ts),
 * and with other monitors' windows, by the batched queries
 * (platform/clickhouse/window-batch-repository.ts). Both count the window into its reference's
 * bins, settle the same follow-ups from those counts (detectors/drift/window-follow-ups.ts:
 * stuck-value candidates, unknown keys), and count only the labels arrived by the window's
 * arrival instant; segments and the estimation groups come from the same queries (grouped by
 * segment); the integration test `statistics-batched` holds them equal.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { OTHER_CATEGORY } from '../detectors/drift/categories.ts';
import type { AppearedFeatures, FeatureQualityCounts } from '../detectors/drift/data-quality.ts';
import { windowQualityCounts, type WindowColumnCounts } from '../detectors/drift/window-comparison.ts';
import {
  appearedFeatures,
  runsWhereRead,
  screensOf,
  stuckValueReads,
  stuckValuesToCount,
  windowFollowUps,
  type FollowUpBars,
} from '../detectors/drift/window-follow-ups.ts';
import type { LabelledScoreGroup, ScoreBinCount } from '../detectors/monitor/window-histograms.ts';
import { windowCounts, type SegmentStuckValuesRequest } from '../operations/window-drift.ts';
import { segmentTopValueRequests } from '../operations/segment-counts.ts';
import type { StoredReference } from '../platform/clickhouse/reference-repository.ts';
import {
  batchedTopValueShares,
  batchedUnknownFeatureKeys,
  batchedWindowStatistics,
  type BatchQueryTimings,
  type SegmentTopValues,
} from '../platform/clickhouse/window-batch-repository.ts';
import { batchedLateLabelledScoreGroups } from '../platform/clickhouse/late-label-batch-repository.ts';
import type { TimeWindow } from '../platform/clickhouse/time-window.ts';
import {
  deadLettersInWindow,
  labelledScoreGroups,
  lateLabelledScoreGroups,
  labelledScoreGroupsBySegment,
  scoreBinCounts,
  versionsInWindow,
  versionsTrainedAt,
  type CountedSegment,
  type LateLabelGroup,
  type SegmentLabelledGroups,
  type VersionInWindow,
} from '../platform/clickhouse/window-repository.ts';
import type { SegmentsToCount } from '../platform/clickhouse/segment-grouping.ts';
import {
  outcomeSumsBySegment,
  type OutcomeWindowRequest,
  type SegmentOutcomeSums,
} from '../platform/clickhouse/outcome-sums-repository.ts';
import type { OutcomeSums } from '../detectors/quality/outcome-sums.ts';
import {
  estimationScoreGroupsBySegment,
  type EstimationQuery,
  type SegmentScoreGroups,
  type WindowScoreGroups,
} from '../platform/clickhouse/estimation-repository.ts';

/** One window of one model to read. */
export interface WindowReadRequest {
  modelId: string;
  start: number;
  end: number;
  /** The reference to count the window against; null counts no columns (no reference yet). */
  reference: StoredReference | null;
  /** Count only labels that arrived (label_ts) before this instant, the decision time. @default null (every stored label) */
  labelsArrivedBy?: number | null;
  /** Also count these segment keys' segments, in the same queries as the whole window (only with a reference). @default none */
  segments?: readonly SegmentsToCount[];
  /** Also group the window's scores (and each segment's) for label-free estimation. @default null */
  estimation?: EstimationQuery | null;
  /** A multiclass or regression model's kind: also sum the window's labelled outcomes for its metrics. @default null (binary) */
  outcomes?: OutcomeWindowRequest['kind'] | null;
  /** Also sum each segment's labelled outcomes (with `outcomes` and `segments`), in the same query as the window's. @default false */
  outcomesBySegment?: boolean;
  /**
   * Also read the labels that arrived in `arrived` for the model's events of its earlier `windows`
   * (ascending, not overlapping), grouped per earlier window: a binary model's late labels. @default null
   */
  lateLabels?: { windows: readonly TimeWindow[]; arrived: TimeWindow } | null;
  /** The bars the window's follow-ups are settled at (the policy's `dataQuality`). @default DEFAULT_FOLLOW_UP_BARS */
  followUps?: FollowUpBars | null;
  /**
   * Also count the most frequent value of each segment's stuck-value candidates (with `segments`),
   * picked against these reference segment counts, in the window's top-value query. @default null
   */
  segmentStuckValues?: SegmentStuckValuesRequest | null;
}

/** The window counted against its reference, with its data-quality inputs. */
export interface WindowReadCounts extends WindowColumnCounts {
  rows: number;
  /** Data-quality inputs per feature (stuck-value candidates settled exactly: their most frequent value, or a bound under the stuck bar). */
  quality: FeatureQualityCounts[];
  /** Feature keys the reference does not know. */
  appeared: AppearedFeatures | null;
}

/** Everything a monitor tick reads of one window. */
export interface WindowRead {
  /** Null without a reference. */
  counts: WindowReadCounts | null;
  versions: VersionInWindow[];
  /** Registration time (epoch ms) of the window's versions the registry knows. */
  trainedAt: Map<string, number>;
  deadLettered: number;
  scoreBins: ScoreBinCount[];
  labelled: LabelledScoreGroup[];
  /** The window's scores grouped for estimation, when asked for. @default undefined */
  estimation?: WindowScoreGroups;
  /** Per segment, when segments were asked for. @default undefined */
  segments?: {
    counted: CountedSegment[];
    labelled: SegmentLabelledGroups[];
    estimation?: SegmentScoreGroups[];
    /** Each segment's labelled outcomes summed, when asked for (segments without labelled events have none). */
    outcomes?: SegmentOutcomeSums[];
    /** The segments' candidates' most frequent values, when asked for (segments with candidates only). */
    topValues?: SegmentTopValues[];
  };
  /** The labelled outcomes summed, when asked for (a multiclass or regression model). @default undefined */
  outcomes?: OutcomeSums;
  /** The late labels of the earlier windows, when asked for. @default undefined */
  lateLabelled?: LateLabelGroup[];
}

/** One window read on its own, by the single-window queries. */
export async function readWindowAlone(
  client: ClickHouseClient,
  request: WindowReadRequest,
  scoreBins: number,
): Promise<WindowRead> {
  const { modelId, reference } = request;
  const window = { start: request.start, end: request.end };
  const segments = request.segments ?? [];
  const followUps = request.followUps ? { followUps: request.followUps } : {};
  const stuck = request.segmentStuckValues ? { segmentStuckValues: request.segmentStuckValues } : {};
  const counted = reference
    ? await windowCounts(client, { modelId, ...window, reference, segments, ...followUps, ...stuck })
    : null;
  // The outcome sums' query is the batched one, with a batch of one window (per segment too when asked).
  const outcomes = request.outcomes
    ? (await outcomeSumsBySegment(client, [outcomeRequest(request, request.outcomes, counted ? segments : [])]))[0]!
    : null;
  const versions = await versionsInWindow(client, modelId, window);
  const trainedAt = await versionsTrainedAt(
    client,
    modelId,
    versions.map((v) => v.version),
  );
  return {
    counts: counted && {
      rows: counted.rows,
      features: counted.features,
      prediction: counted.prediction,
      predictionClass: counted.predictionClass,
      predictionValue: counted.predictionValue,
      quality: counted.quality,
      appeared: counted.appeared,
    },
    versions,
    trainedAt,
    // windowCounts counted the window's dead letters; without a reference, count them here.
    deadLettered: counted?.deadLettered ?? (await deadLettersInWindow(client, modelId, window)),
    scoreBins: await scoreBinCounts(client, modelId, window, scoreBins),
    ...(await labelledGroups()),
    ...(outcomes ? { outcomes: outcomes.whole } : {}),
    ...(request.lateLabels
      ? {
          lateLabelled: await lateLabelledScoreGroups(
            client,
            modelId,
            request.lateLabels.windows,
            request.lateLabels.arrived,
            scoreBins,
          ),
        }
      : {}),
  };

  async function labelledGroups(): Promise<Pick<WindowRead, 'labelled' | 'segments' | 'estimation'>> {
    const arrivedBy = request.labelsArrivedBy ?? null;
    const keys = counted ? segments : [];
    const estimation = request.estimation
      ? await estimationScoreGroupsBySegment(client, modelId, window, request.estimation, keys)
      : null;
    const estimated = estimation ? { estimation: estimation.whole } : {};
    if (keys.length === 0)
      return { labelled: await labelledScoreGroups(client, modelId, window, scoreBins, arrivedBy), ...estimated };
    const groups = await labelledScoreGroupsBySegment(client, modelId, window, scoreBins, arrivedBy, keys);
    return {
      labelled: groups.whole,
      ...estimated,
      segments: {
        counted: counted?.segments ?? [],
        labelled: groups.segments,
        ...(estimation ? { estimation: estimation.segments } : {}),
        ...(outcomes && request.outcomesBySegment ? { outcomes: outcomes.segments } : {}),
        ...(counted?.segmentTopValues ? { topValues: counted.segmentTopValues } : {}),
      },
    };
  }
}

/**
 * The windows of `requests` (at most one per model) read together: the batched statistics, then
 * each follow-up the counts call for, batched across the windows that call for it. In request order.
 */
export async function readWindowsBatched(
  client: ClickHouseClient,
  requests: readonly WindowReadRequest[],
  scoreBins: number,
  timings?: BatchQueryTimings,
): Promise<WindowRead[]> {
  const statistics = await batchedWindowStatistics(
    client,
    requests.map((r) => ({
      modelId: r.modelId,
      start: r.start,
      end: r.end,
      columns: r.reference ? { ...r.reference, otherCategory: OTHER_CATEGORY } : null,
      labelsArrivedBy: r.labelsArrivedBy ?? null,
      ...(r.segments ? { segments: r.segments } : {}),
      ...(r.estimation ? { estimation: r.estimation } : {}),
    })),
    scoreBins,
    timings,
  );
  const followUps = requests.map((r, i) => {
    const counted = statistics[i]!.counted;
    return r.reference && counted ? windowFollowUps(r.reference, counted, r.followUps ?? undefined) : null;
  });
  // Each segment's candidates are picked against its own reference; counted in the same query as the window's.
  const segmentAsks = requests.map((r, i) => {
    const segments = statistics[i]!.segments;
    return r.reference && r.segmentStuckValues && segments
      ? segmentTopValueRequests(
          r.reference,
          r.segments ?? [],
          r.segmentStuckValues.reference,
          segments.counted,
          r.segmentStuckValues.minEvents,
          r.followUps ?? undefined,
        )
      : [];
  });
  // The same stuck-value questions as a window read alone asks (window-follow-ups.ts).
  const asked = followUps.map((f) => (f ? stuckValuesToCount(f) : []));
  const stuck = requests.flatMap((_, i) => (asked[i]!.length > 0 || segmentAsks[i]!.length > 0 ? [i] : []));
  const topValues = await batchedTopValueShares(
    client,
    stuck.map((i) => ({
      ...bounds(requests[i]!),
      features: asked[i]!.map((c) => c.name),
      screens: screensOf(asked[i]!),
      ...(segmentAsks[i]!.length > 0
        ? { segments: requests[i]!.segments ?? [], segmentFeatures: segmentAsks[i]! }
        : {}),
    })),
    timings,
  );
  const topValuesOf = new Map(stuck.map((i, k) => [i, topValues[k]!]));
  const named = requests.flatMap((_, i) => (followUps[i]?.nameAppeared ? [i] : []));
  const unknownKeys = await batchedUnknownFeatureKeys(
    client,
    named.map((i) => ({ ...bounds(requests[i]!), known: Object.keys(requests[i]!.reference!.features) })),
    undefined,
    timings,
  );
  const unknownKeysOf = new Map(named.map((i, k) => [i, unknownKeys[k]!]));
  const summing = requests.flatMap((r, i) => (r.outcomes ? [i] : []));
  const sums = await outcomeSumsBySegment(
    client,
    summing.map((i) =>
      outcomeRequest(
        requests[i]!,
        requests[i]!.outcomes!,
        statistics[i]!.segments ? (requests[i]!.segments ?? []) : [],
      ),
    ),
    timings,
  );
  const sumsOf = new Map(summing.map((i, k) => [i, sums[k]!]));
  // The earlier windows' late labels: one query for the batch, not one per model.
  const late = await batchedLateLabelledScoreGroups(
    client,
    requests.map((r) => ({
      modelId: r.modelId,
      windows: r.lateLabels?.windows ?? [],
      arrived: r.lateLabels?.arrived ?? { start: r.start, end: r.end },
    })),
    scoreBins,
    timings,
  );

  return requests.map((request, i) => {
    const { counted, ...rest } = statistics[i]!;
    const reference = request.reference;
    const followUp = followUps[i];
    const outcomes = sumsOf.get(i);
    const segmentTopValues = request.segmentStuckValues ? (topValuesOf.get(i)?.segments ?? []) : null;
    return {
      ...rest,
      ...(outcomes ? { outcomes: outcomes.whole } : {}),
      ...(rest.segments
        ? {
            segments: {
              ...rest.segments,
              ...(outcomes && request.outcomesBySegment ? { outcomes: outcomes.segments } : {}),
              ...(segmentTopValues ? { topValues: segmentTopValues } : {}),
            },
          }
        : {}),
      ...(request.lateLabels ? { lateLabelled: late[i]! } : {}),
      counts:
        reference && counted && followUp
          ? {
              rows: counted.rows,
              features: counted.features,
              prediction: counted.prediction,
              predictionClass: counted.predictionClass,
              predictionValue: counted.predictionValue,
              quality: windowQualityCounts(
                reference,
                counted,
                stuckValueReads(
                  followUp,
                  runsWhereRead(reference, topValuesOf.get(i)?.whole ?? {}, request.followUps ?? undefined),
                ),
              ),
              appeared: appearedFeatures(followUp, unknownKeysOf.get(i) ?? []),
            }
          : null,
    };
  });
}

const bounds = (r: WindowReadRequest) => ({ modelId: r.modelId, start: r.start, end: r.end });

/** A window's outcome sums request; its segment keys only when its segments are summed too. */
const outcomeRequest = (
  r: WindowReadRequest,
  kind: OutcomeWindowRequest['kind'],
  segments: readonly SegmentsToCount[],
): OutcomeWindowRequest => ({
  ...bounds(r),
  kind,
  labelsArrivedBy: r.labelsArrivedBy ?? null,
  ...(r.outcomesBySegment && segments.length > 0 ? { segments } : {}),
});
