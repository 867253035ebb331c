/**
 * Segments: drift, data quality and realised quality per slice of a model's traffic (a country,
 * a channel, a model variant), beside the whole-window statistics. JSON-safe throughout: segment
 * counts travel in a window observation (a Temporal payload) and the report in a decision's
 * provenance.
 */
import type { CountedWindow, TopValue } from '../drift/window-comparison.ts';
import type { ScoreGroup } from '../quality/cbpe-groups.ts';
import type { OutcomeEstimate } from '../quality/outcome-estimate.ts';
import type { OutcomeSums } from '../quality/outcome-sums.ts';
import type { LabelledScoreHistogram } from '../quality/score-histogram.ts';

/** What splits the traffic: a categorical feature (`cat_features`) or an event metadata field (`metadata`). */
export type SegmentKey = { feature: string } | { metadata: string };

/**
 * A segment SLO: quality in any judged segment with at least `minEvents` labelled events below
 * `min` (the upper end of its 95% interval below it, so sampling noise in a small segment does not
 * breach). `action` says what a breach does: `health` marks the model degraded and is named in the
 * decision; `retrain` also fires the retrain trigger (the policy's guards still apply).
 */
export interface SegmentSlo {
  /**
   * Lowest acceptable quality, 0–1: the monitor's metric (accuracy or ROC AUC) for a binary
   * model; for a multiclass or regression model the policy's metric turned into quality as for
   * the whole window (quality-metric.ts: exp(−log loss), 1 − MAE / worthlessError, …).
   */
  min: number;
  /** Labelled events a segment needs before its quality is held to the SLO. @default 200 */
  minEvents: number;
  /** What a breach does. @default "health" */
  action: 'health' | 'retrain';
}

/** The segments section of a retrain policy. */
export interface SegmentPolicy {
  /** Segment keys; each splits the traffic on its own (segments of different keys overlap). */
  keys: SegmentKey[];
  /** Segments kept per key, the largest in the reference first; every other value pools into `__other__`. @default 10 */
  topK: number;
  /** Scored events a segment needs, in the window and in the reference, to be judged for drift and data quality. @default 100 */
  minEvents: number;
  /** A segment SLO feeding health and, when asked, the retrain decision. @default none */
  slo?: SegmentSlo;
}

export const DEFAULT_SEGMENT_TOP_K = 10;
export const DEFAULT_SEGMENT_MIN_EVENTS = 100;
export const DEFAULT_SEGMENT_SLO_MIN_EVENTS = 200;
/** Values outside a key's top K. */
export const OTHER_SEGMENT = '__other__';
/** Events that carry no value for the key. */
export const MISSING_SEGMENT = '__missing__';
/** Most segments a key may keep: the grouped query returns one row per segment. */
export const MAX_SEGMENT_TOP_K = 100;

/** The name of a key in reports: the feature's name, or `metadata.<field>`. */
export function segmentKeyName(key: SegmentKey): string {
  return 'feature' in key ? key.feature : `metadata.${key.metadata}`;
}

/** A segment's name in reports and provenance: `country=DE`. */
export function segmentName(key: string, value: string): string {
  return `${key}=${value}`;
}

/** The values a key keeps (its top K in the reference, largest first); every other value is {@link OTHER_SEGMENT}. */
export interface SegmentValues {
  key: SegmentKey;
  values: string[];
}

/** One segment's counts: the reference's events of the segment and the window's, counted into the reference's cuts. */
export interface SegmentCounts {
  /** {@link segmentKeyName} of the key. */
  key: string;
  value: string;
  reference: CountedWindow;
  window: CountedWindow;
  /** The reference's most frequent value per numeric feature of the segment: its stuck-value baseline. @default absent (no stuck-value check) */
  referenceTopValues?: Record<string, SegmentReferenceTopValue | null>;
  /** The window's most frequent value of the segment's stuck-value candidates, with its runs. @default absent */
  topValues?: Record<string, TopValue | null>;
  /** The segment's labelled events in the window, by score bin and label; null when none. */
  labelled: { events: number; histogram: LabelledScoreHistogram } | null;
  /** The segment's scores grouped for label-free estimation (as the window's own); null or absent when not read. */
  estimation?: SegmentEstimationGroups | null;
  /** A multiclass or regression model's labelled outcomes of the segment, summed; null without any, absent when not read. */
  outcomes?: OutcomeSums | null;
  /** A multiclass or regression model's label-free estimate of the segment (its events alone); absent when not made. */
  outcomeEstimate?: OutcomeEstimate | null;
}

/** A segment's scores grouped as the reference's estimator asks (quality/cbpe-groups.ts), with its events outside the reference's score range. */
export interface SegmentEstimationGroups {
  groups: ScoreGroup[];
  outside: number;
}

/** A segment whose quality is below the SLO. */
export interface SegmentSloBreach {
  /** `key=value`. */
  segment: string;
  /** The segment's quality. */
  value: number;
  /** Upper end of its 95% interval (the value itself when there is none). */
  upper: number;
  /** Labelled events behind the value. */
  n: number;
  slo: number;
  /** A multiclass or regression model's metric in its own units, when quality was derived from it. @default absent */
  figure?: { metric: string; value: number };
}

/** A segment's most frequent value of a numeric feature in the reference, and a lower bound of its share of the finite values. */
export interface SegmentReferenceTopValue {
  value: number;
  share: number;
}

/** A reference's segments counted into its own cuts, once per reference and segment policy. */
export interface SegmentReferenceCounts {
  /** The reference and the policy's keys and K it was counted for (`segmentPlanId`). */
  id: string;
  segments: {
    key: string;
    value: string;
    counted: CountedWindow;
    /**
     * Per numeric feature, the segment's most frequent value in the reference: its own stuck-value
     * baseline (a value stuck in one segment is judged against that segment's past, not the mix's).
     * @default absent (counts made before it was counted: the segment has no stuck-value check)
     */
    topValues?: Record<string, SegmentReferenceTopValue | null>;
  }[];
}

/** Whether the reference's segment counts carry each segment's stuck-value baseline. */
export const hasStuckBaselines = (reference: SegmentReferenceCounts): boolean =>
  reference.segments.every((s) => s.topValues !== undefined);

/** A window's segments counted into the reference's cuts, with their labelled events. */
export interface SegmentWindowCounts {
  key: string;
  value: string;
  counted: CountedWindow;
  labelled: { events: number; histogram: LabelledScoreHistogram } | null;
  /**
   * The most frequent value (with its runs in event order) of the segment's stuck-value candidates
   * (segment-stuck-candidates.ts), when asked for and the segment had any. @default undefined
   */
  topValues?: Record<string, TopValue | null>;
  /** Its scores grouped for label-free estimation, when the window's were. @default undefined */
  estimation?: SegmentEstimationGroups | null;
  /** A multiclass or regression model's labelled outcomes of the segment, summed, when asked for. @default undefined */
  outcomes?: OutcomeSums | null;
  /**
   * A multiclass or regression model's label-free estimate of the segment (CBPE, DLE: the window's
   * estimator on the segment's events), when asked for. @default undefined
   */
  outcomeEstimate?: OutcomeEstimate | null;
}

/** What a window observation carries about segments. */
export interface SegmentObservation {
  /** The plan the window was counted with (`segmentPlanId`). */
  planId: string;
  /** The reference's segment counts when the monitor asked for them (a new reference or plan); null otherwise. */
  reference: SegmentReferenceCounts | null;
  window: SegmentWindowCounts[];
}

/** Identifies the reference's segment counts a window is judged against: the reference, the keys and K. */
export function segmentPlanId(referenceId: string, policy: Pick<SegmentPolicy, 'keys' | 'topK'>): string {
  return `${referenceId}|${policy.topK}|${policy.keys.map(segmentKeyName).join(',')}`;
}

const emptyCounted = (): CountedWindow => ({
  rows: 0,
  features: {},
  prediction: null,
  predictionClass: null,
  predictionValue: null,
  typeViolations: {},
});

/** Each segment of the reference or the window, its reference side and window side (empty when absent), in the reference's order. */
export function pairSegments(
  reference: SegmentReferenceCounts,
  window: readonly SegmentWindowCounts[],
): SegmentCounts[] {
  const id = (key: string, value: string) => `${key}\u0000${value}`;
  const current = new Map(window.map((w) => [id(w.key, w.value), w]));
  const out: SegmentCounts[] = reference.segments.map((r) => {
    const w = current.get(id(r.key, r.value));
    current.delete(id(r.key, r.value));
    return {
      key: r.key,
      value: r.value,
      reference: r.counted,
      window: w?.counted ?? emptyCounted(),
      ...(r.topValues ? { referenceTopValues: r.topValues } : {}),
      ...(w?.topValues ? { topValues: w.topValues } : {}),
      labelled: w?.labelled ?? null,
      ...(w?.estimation ? { estimation: w.estimation } : {}),
      ...(w?.outcomes ? { outcomes: w.outcomes } : {}),
      ...(w?.outcomeEstimate ? { outcomeEstimate: w.outcomeEstimate } : {}),
    };
  });
  for (const w of current.values())
    out.push({
      key: w.key,
      value: w.value,
      reference: emptyCounted(),
      window: w.counted,
      ...(w.topValues ? { topValues: w.topValues } : {}),
      labelled: w.labelled,
      ...(w.estimation ? { estimation: w.estimation } : {}),
      ...(w.outcomes ? { outcomes: w.outcomes } : {}),
      ...(w.outcomeEstimate ? { outcomeEstimate: w.outcomeEstimate } : {}),
    });
  return out;
}
