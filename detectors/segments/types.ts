/**
 * Segments: drift, data quality and realised quality per slice of a model's traffic (a country,
 * a channel, a model variant), beside the whole-window statistics. JSON-safe throughout: segment
 * counts travel in a window observation (a Temporal payload) and the report in a decision's
 * provenance.
 */
import type { CountedWindow } from '../drift/window-comparison.ts';
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
  /** Lowest acceptable quality in the monitor's metric (accuracy or ROC AUC), 0–1. */
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
  /** The segment's labelled events in the window, by score bin and label; null when none. */
  labelled: { events: number; histogram: LabelledScoreHistogram } | null;
}

/** A segment whose quality is below the SLO. */
export interface SegmentSloBreach {
  /** `key=value`. */
  segment: string;
  value: number;
  /** Upper end of its 95% interval (the value itself when there is none). */
  upper: number;
  /** Labelled events behind the value. */
  n: number;
  slo: number;
}
