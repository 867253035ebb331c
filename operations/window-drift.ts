/**
 * The drift of one window against a stored reference: the window counted into the reference's
 * bins next to the data (one query, plus one for its dead letters), then compared column by
 * column, BH-adjusted across columns, and checked for data quality, all from the counts.
 */
import { OTHER_CATEGORY } from '../detectors/drift/categories.ts';
import type { CompareOptions } from '../detectors/drift/compare-feature.ts';
import {
  dataQualityReport,
  type AppearedFeatures,
  type DataQualityReport,
  type FeatureQualityCounts,
  type QualityThresholds,
} from '../detectors/drift/data-quality.ts';
import { driftReport, type DriftReport } from '../detectors/drift/report.ts';
import type { VerdictOptions } from '../detectors/drift/verdict.ts';
import {
  assertCountableReference,
  compareWindow,
  windowQualityCounts,
  type WindowColumnCounts,
} from '../detectors/drift/window-comparison.ts';
import {
  appearedFeatures,
  readsValueRuns,
  screensOf,
  stuckValueReads,
  stuckValuesToCount,
  windowFollowUps,
  type FollowUpBars,
} from '../detectors/drift/window-follow-ups.ts';
import type { ClickHouseClient } from '../platform/clickhouse/client.ts';
import type { EventWindow } from '../platform/clickhouse/event-window.ts';
import type { StoredReference } from '../platform/clickhouse/reference-repository.ts';
import { checkedTimeWindow } from '../platform/clickhouse/time-window.ts';
import type { SegmentsToCount } from '../platform/clickhouse/segment-grouping.ts';
import type { SegmentReferenceCounts } from '../detectors/segments/types.ts';
import { batchedTopValueShares, type SegmentTopValues } from '../platform/clickhouse/window-batch-repository.ts';
import { segmentTopValueRequests } from './segment-counts.ts';
import {
  countWindowSegments,
  deadLettersInWindow,
  type CountedSegment,
  topValueShares,
  unknownFeatureKeys,
} from '../platform/clickhouse/window-repository.ts';

export interface WindowCountsOptions extends EventWindow {
  reference: StoredReference;
  /** Also count these segment keys' segments, in the same query. @default none */
  segments?: readonly SegmentsToCount[];
  /** The bars the follow-ups are settled at (a policy's `dataQuality`). @default DEFAULT_FOLLOW_UP_BARS */
  followUps?: FollowUpBars;
  /**
   * Also count the most frequent value of each segment's stuck-value candidates, judged against
   * these reference segment counts (with `segments`): one query for every segment, the batched
   * one with a batch of this window (the model's events of the window, every version). @default null
   */
  segmentStuckValues?: SegmentStuckValuesRequest | null;
}

/** The reference's segment counts (with their stuck-value baselines) a window's segments' candidates are picked against. */
export interface SegmentStuckValuesRequest {
  reference: SegmentReferenceCounts;
  /** Events a segment needs on both sides to be judged (the policy's `segments.minEvents`). */
  minEvents: number;
}

/** One window counted into a reference's bins. O(features × bins); JSON-safe. */
export interface WindowCounts extends WindowColumnCounts {
  referenceId: string;
  modelId: string;
  start: number;
  end: number;
  /** Events in the window. */
  rows: number;
  /** Dead letters of this model received in the window. */
  deadLettered: number;
  /** Data-quality inputs, one per feature (then per prediction column), for `dataQualityReport`. */
  quality: FeatureQualityCounts[];
  /** Feature keys the reference does not know (null when not counted). */
  appeared: AppearedFeatures | null;
  /** Wall time of the SQL side. */
  queryMs: number;
  /** The segments counted with the window, when asked for. @default undefined */
  segments?: CountedSegment[];
  /** The segments' candidates' most frequent values, when asked for (segments with candidates only). @default undefined */
  segmentTopValues?: SegmentTopValues[];
}

/**
 * Count one window into a reference's bins: every feature and prediction column in ONE
 * aggregate query (one read of each row), plus one tiny query on `dead_letters`. Throws
 * ValidationError on bad bounds, RangeError on a reference whose cuts break the edge contract.
 */
export async function windowCounts(client: ClickHouseClient, options: WindowCountsOptions): Promise<WindowCounts> {
  const t0 = performance.now();
  const window = checkedTimeWindow(options.start, options.end);
  assertCountableReference(options.reference);
  const { whole: counted, segments } = await countWindowSegments(
    client,
    { ...options.reference, otherCategory: OTHER_CATEGORY },
    options,
    options.segments ?? [],
  );
  const deadLettered = await deadLettersInWindow(client, options.modelId, window);
  // Rare follow-ups, only when the counts point at them: whether a value of a feature whose
  // values crowded into one bin reaches the stuck bar (settled exactly, the value counted where
  // one does), and the names of keys the reference lacks.
  const followUps = windowFollowUps(options.reference, counted, options.followUps);
  const toCount = stuckValuesToCount(followUps);
  const topValues = stuckValueReads(
    followUps,
    toCount.length > 0
      ? await topValueShares(
          client,
          toCount.map((c) => c.name),
          options,
          (name, share) => readsValueRuns(options.reference, name, share, options.followUps),
          screensOf(toCount),
        )
      : {},
  );
  const appeared = appearedFeatures(
    followUps,
    followUps.nameAppeared ? await unknownFeatureKeys(client, Object.keys(options.reference.features), options) : [],
  );
  const stuck = options.segmentStuckValues;
  const asked =
    stuck && options.segments
      ? segmentTopValueRequests(
          options.reference,
          options.segments,
          stuck.reference,
          segments,
          stuck.minEvents,
          options.followUps,
        )
      : null;
  let segmentTopValues: SegmentTopValues[] | null = null;
  if (asked)
    segmentTopValues =
      asked.length === 0
        ? []
        : (
            await batchedTopValueShares(client, [
              { modelId: options.modelId, ...window, features: [], segments: options.segments, segmentFeatures: asked },
            ])
          )[0]!.segments;
  return {
    referenceId: options.reference.referenceId,
    modelId: options.modelId,
    start: window.start,
    end: window.end,
    rows: counted.rows,
    deadLettered,
    features: counted.features,
    prediction: counted.prediction,
    predictionClass: counted.predictionClass,
    predictionValue: counted.predictionValue,
    quality: windowQualityCounts(options.reference, counted, topValues),
    appeared,
    queryMs: performance.now() - t0,
    ...(options.segments && options.segments.length > 0 ? { segments } : {}),
    ...(segmentTopValues ? { segmentTopValues } : {}),
  };
}

export interface DriftForWindowOptions extends WindowCountsOptions {
  /** Verdict options (alpha, thresholds, dataset share, critical features). @default library defaults */
  verdict?: VerdictOptions;
  /** Per-feature comparison options (PSI epsilon, chi-square). @default library defaults */
  compare?: Pick<CompareOptions, 'psiEpsilon' | 'chi2'>;
  /** Data-quality alert thresholds. @default DEFAULT_QUALITY_THRESHOLDS */
  qualityThresholds?: Partial<QualityThresholds>;
}

export interface WindowDrift {
  report: DriftReport;
  quality: DataQualityReport;
  counts: WindowCounts;
}

/**
 * The drift report of one window: windowCounts → compareBinnedFeature per column →
 * driftReport (BH across columns), plus the data-quality report from the same counts.
 */
export async function driftForWindow(client: ClickHouseClient, options: DriftForWindowOptions): Promise<WindowDrift> {
  const counts = await windowCounts(client, options);
  const report = driftReport(compareWindow(options.reference, counts, options.compare), options.verdict);
  const quality = dataQualityReport(
    { rows: counts.rows, dead_lettered: counts.deadLettered, features: counts.quality, appeared: counts.appeared },
    options.qualityThresholds,
  );
  return { report, quality, counts };
}
