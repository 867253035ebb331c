/**
 * A segment's label-free estimate as the segment report shows it. A binary model's comes from the
 * segment's score groups (CBPE, evaluate-segments.ts); a multiclass or regression model's is the
 * window's estimator run on the segment's events (CBPE over K classes, DLE), made with the
 * window's read, and is folded here into the policy's metric as quality exactly as the whole
 * window's is (monitor/outcome-estimate.ts), with the method and the estimator's source named.
 */
import { estimatedQuality } from '../monitor/outcome-estimate.ts';
import type { EstimatorFit } from '../quality/estimator-source.ts';
import type { OutcomeEstimate } from '../quality/outcome-estimate.ts';
import type { QualityMetric } from '../quality/quality-metric.ts';

/** A segment's estimated quality. */
export interface SegmentEstimate {
  metric: string;
  value: number | null;
  n: number;
  interval: { lower: number; upper: number } | null;
  /** Whether the estimator's own checks hold (calibration, range) and there is a value. */
  trustworthy: boolean;
  /** CBPE or DLE, for a multiclass or regression model. @default absent (binary: CBPE) */
  method?: 'CBPE' | 'DLE';
  /** The metric's own figure and how quality was derived from it (multiclass, regression). @default absent */
  figure?: { value: number | null; interval: { lower: number; upper: number } | null; transform: string };
  /** What the estimator was fitted on, as for the whole window (multiclass, regression). @default absent */
  fittedOn?: EstimatorFit;
  /** Why it is not trustworthy, or how it was made (multiclass, regression). @default absent */
  reasons?: string[];
}

/** A multiclass or regression segment's estimate of `metric` as quality; null when none was made. */
export function segmentOutcomeEstimate(
  estimate: OutcomeEstimate | null,
  metric: QualityMetric,
  worthlessError: number | null,
): SegmentEstimate | null {
  if (!estimate) return null;
  const q = estimatedQuality(estimate, { qualityMetric: metric, worthlessError });
  return {
    metric,
    value: q.value,
    n: q.n,
    interval: q.interval ? { lower: q.interval.lower, upper: q.interval.upper } : null,
    trustworthy: q.trustworthy,
    ...(q.method ? { method: q.method } : {}),
    ...(q.figure ? { figure: q.figure } : {}),
    ...(q.fittedOn ? { fittedOn: q.fittedOn } : {}),
    reasons: q.reasons,
  };
}
