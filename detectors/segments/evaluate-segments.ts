/**
 * Per-segment drift, data quality and realised quality of one window, from its segment counts
 * (the same grouped query as the whole window's statistics). Pure and O(segments × features × bins).
 *
 * Drift: each judged segment against its own reference (segment-reference.ts), every column's
 * p-value adjusted by Benjamini–Hochberg across segments × features together: with 10 segments
 * of 25 features, 250 tests a window, so testing each segment on its own would call a few
 * segments drifted every window by chance. The effect-size gate applies per test, as for the
 * whole window.
 *
 * Quality: realised from the segment's labelled events, and estimated without labels (CBPE, the
 * reference's estimator, from the segment's score groups read with the window) when the window's
 * scores were grouped for estimation: a segment whose labels have not arrived still shows where
 * its quality is heading. The segment SLO holds realised quality only. A multiclass or regression
 * model's segment carries its outcome sums (the window's sums over the segment's events), folded
 * into the policy's metric and turned into quality by the functions the whole window uses, so a
 * segment's figure is the whole window's computed on its events; and, when the window was
 * estimated, the estimate its estimator (CBPE over K classes, DLE) made of the segment's events
 * (segment-estimate.ts).
 *
 * Data quality: the whole window's checks on the segment's counts, at the same thresholds. The
 * stuck-value check compares the segment's most frequent value with the segment's own reference
 * (`referenceTopValues`, counted with its reference counts), when both were counted.
 */
import { compareBinnedFeature } from '../drift/compare-feature.ts';
import { breakageDetails, dataQualityReport, type QualityThresholds } from '../drift/data-quality.ts';
import type { FeatureDriftResult } from '../drift/feature-result.ts';
import { benjaminiHochberg } from '../drift/multiple-testing.ts';
import { DEFAULT_ALPHA } from '../drift/thresholds.ts';
import { applyVerdict, type VerdictOptions } from '../drift/verdict.ts';
import { windowQualityCounts } from '../drift/window-comparison.ts';
import { estimateCbpeFromGroups, type EstimationGrouping } from '../quality/cbpe-groups.ts';
import type { CbpeModel } from '../quality/cbpe.ts';
import { realisedFromSums, type OutcomeSums } from '../quality/outcome-sums.ts';
import {
  qualityInterval,
  qualityOfMetric,
  qualityTransformText,
  type QualityMetric,
} from '../quality/quality-metric.ts';
import { qualityFromScoreHistogram } from '../quality/score-histogram.ts';
import { segmentOutcomeEstimate, type SegmentEstimate } from './segment-estimate.ts';
import { segmentReferenceProfiles, type WholeReference } from './segment-reference.ts';
import {
  DEFAULT_SEGMENT_MIN_EVENTS,
  DEFAULT_SEGMENT_SLO_MIN_EVENTS,
  segmentName,
  type SegmentCounts,
  type SegmentPolicy,
  type SegmentSloBreach,
} from './types.ts';

/** One column of one segment: the test, its raw and adjusted p-value, and the verdict. */
export interface SegmentColumnDrift {
  name: string;
  test: FeatureDriftResult['test'];
  pvalue: number | null;
  /** BH-adjusted across every tested column of every judged segment of the window. */
  pvalue_adjusted: number | null;
  drifted: boolean;
  /** Effect sizes that reached their thresholds, in words. */
  reasons: string[];
  psi: number | null;
  jensen_shannon: number | null;
}

/** One segment of one window. */
export interface SegmentResult {
  /** `key=value`. */
  segment: string;
  key: string;
  value: string;
  /** Scored events of the segment in the window and in the reference. */
  events: number;
  referenceEvents: number;
  /** Whether the segment had the policy's `minEvents` on both sides; an unjudged segment has no drift or data-quality verdict. */
  judged: boolean;
  /** Why it was not judged, in words; null when judged. */
  note: string | null;
  drift: { columns: SegmentColumnDrift[]; drifted: string[] } | null;
  dataQuality: { broken: boolean; breakage: string[] } | null;
  /** Realised quality from the segment's labelled events (those arrived by the decision time). */
  quality: {
    metric: string;
    value: number | null;
    n: number;
    interval: { lower: number; upper: number } | null;
    /**
     * A multiclass or regression model's metric in its own units, its interval and how `value`
     * was derived from it (as the whole window's `quality.realised.figure`). @default absent (binary: value is the metric)
     */
    figure?: {
      value: number | null;
      interval: { lower: number; upper: number } | null;
      transform: string;
    };
    /**
     * Windows the value is pooled over, this one included, when the segment was short of the SLO's
     * labelled minimum (segment-pooling.ts, rule revision 6). @default absent (this window alone)
     */
    pooledWindows?: number;
  } | null;
  /**
   * Estimated quality without labels: a binary model's by CBPE at the grouping's threshold from
   * the segment's scores; a multiclass or regression model's by the window's estimator (CBPE, DLE)
   * on the segment's events, in the policy's metric. Absent when the window was not estimated,
   * null without scored events (binary) or without an estimate of the segment.
   */
  estimated?: SegmentEstimate | null;
  /** Whether the segment's quality breaches the policy's segment SLO. */
  sloBreached: boolean;
}

/** Every segment of one window, with what drove a verdict. JSON-safe. */
export interface SegmentReport {
  segments: SegmentResult[];
  multipleTesting: { method: 'benjamini-hochberg'; tests: number; alpha: number };
  /** Segments with a drifted column, most drifted columns first. */
  drifted: string[];
  /** Segments with broken data (breakage, not shift). */
  broken: string[];
  sloBreaches: SegmentSloBreach[];
  /** The segments a decision names: SLO breaches, then drifted, then broken (each once). */
  drivers: string[];
}

export interface SegmentEvaluationOptions {
  /** The monitor's quality metric (a multiclass or regression model's is read from its segments' outcome sums). @default "accuracy" */
  qualityMetric?: QualityMetric;
  /** The error at which an MAE or RMSE model is of no use (the policy's `quality.worthlessError`). @default none */
  worthlessError?: number | null;
  /** Verdict options for the per-segment drift tests (alpha, effect thresholds). @default library defaults */
  verdict?: Pick<VerdictOptions, 'alpha' | 'thresholds'>;
  /** The reference's label-free estimator and the grouping the segments' scores were read with. @default none (no estimates) */
  estimator?: { model: CbpeModel; grouping: EstimationGrouping } | null;
  /** The policy's data-quality bars (`dataQuality`), as for the whole window. @default {} (the detector's defaults) */
  qualityThresholds?: Partial<QualityThresholds>;
}

const numberOrNull = (x: number | undefined): number | null => (x === undefined || !Number.isFinite(x) ? null : x);

/** Evaluate the segments of one window against their own references, BH across segments × features. */
export function evaluateSegments(
  whole: WholeReference,
  segments: readonly SegmentCounts[],
  policy: Pick<SegmentPolicy, 'minEvents' | 'slo'>,
  options: SegmentEvaluationOptions = {},
): SegmentReport {
  const minEvents = policy.minEvents ?? DEFAULT_SEGMENT_MIN_EVENTS;
  const alpha = options.verdict?.alpha ?? DEFAULT_ALPHA;
  const metric = options.qualityMetric ?? 'accuracy';

  const raw: { segment: number; result: FeatureDriftResult }[] = [];
  const results: SegmentResult[] = segments.map((s, index) => {
    const events = s.window.rows;
    const referenceEvents = s.reference.rows;
    const judged = events >= minEvents && referenceEvents >= minEvents;
    const note = judged
      ? null
      : `${events < minEvents ? `${events} events in the window` : `${referenceEvents} events in the reference`} (< ${minEvents})`;
    let dataQuality: SegmentResult['dataQuality'] = null;
    if (judged) {
      const reference = segmentReferenceProfiles(whole, s.reference, s.referenceTopValues);
      for (const [name, profile] of Object.entries(reference.features)) {
        // A segment's own key is one value within it: nothing to compare.
        if (name === s.key) continue;
        const current = s.window.features[name];
        if (current) raw.push({ segment: index, result: compareBinnedFeature(profile, current, { name }) });
      }
      if (reference.prediction && s.window.prediction)
        raw.push({
          segment: index,
          result: compareBinnedFeature(reference.prediction, s.window.prediction, {
            name: 'prediction_score',
            role: 'prediction',
          }),
        });
      const report = dataQualityReport(
        { rows: events, dead_lettered: 0, features: windowQualityCounts(reference, s.window, s.topValues) },
        options.qualityThresholds ?? {},
      );
      dataQuality = { broken: report.broken, breakage: breakageDetails(report) };
    }
    return {
      segment: segmentName(s.key, s.value),
      key: s.key,
      value: s.value,
      events,
      referenceEvents,
      judged,
      note,
      drift: judged ? { columns: [], drifted: [] } : null,
      dataQuality,
      quality:
        s.outcomes !== undefined
          ? realisedOfOutcomes(s.outcomes, metric, options.worthlessError ?? null)
          : realisedQuality(s, metric),
      // The estimator is a binary model's (CBPE on scores): accuracy unless the metric is ROC AUC.
      ...(options.estimator && s.estimation
        ? { estimated: estimatedQuality(s, metric === 'auc' ? 'auc' : 'accuracy', options.estimator) }
        : {}),
      // A multiclass or regression model's: the window's estimator on the segment's events.
      ...(s.outcomeEstimate !== undefined
        ? { estimated: segmentOutcomeEstimate(s.outcomeEstimate, metric, options.worthlessError ?? null) }
        : {}),
      sloBreached: false,
    };
  });

  const adjusted = benjaminiHochberg(
    raw.map((r) => (r.result.tested && r.result.pvalue !== null ? r.result.pvalue : Number.NaN)),
  );
  raw.forEach((r, i) => {
    const p = adjusted[i];
    const decided = applyVerdict(r.result, p === undefined || Number.isNaN(p) ? null : p, options.verdict ?? {});
    const drift = results[r.segment]!.drift!;
    drift.columns.push({
      name: decided.name,
      test: decided.test,
      pvalue: decided.pvalue,
      pvalue_adjusted: decided.pvalue_adjusted,
      drifted: decided.drifted,
      reasons: decided.reasons,
      psi: numberOrNull(decided.psi),
      jensen_shannon: numberOrNull(decided.jensen_shannon),
    });
    if (decided.drifted) drift.drifted.push(decided.name);
  });

  const sloBreaches: SegmentSloBreach[] = [];
  if (policy.slo) {
    const slo = policy.slo;
    const minLabelled = slo.minEvents ?? DEFAULT_SEGMENT_SLO_MIN_EVENTS;
    for (const r of results) {
      const q = r.quality;
      if (!q || q.value === null || q.n < minLabelled) continue;
      const upper = q.interval?.upper ?? q.value;
      if (upper < slo.min) {
        r.sloBreached = true;
        const figure = q.figure?.value ?? null;
        sloBreaches.push({
          segment: r.segment,
          value: q.value,
          upper,
          n: q.n,
          slo: slo.min,
          ...(figure !== null ? { figure: { metric: q.metric, value: figure } } : {}),
        });
      }
    }
    sloBreaches.sort((a, b) => a.upper - b.upper);
  }
  const drifted = results
    .filter((r) => (r.drift?.drifted.length ?? 0) > 0)
    .sort((a, b) => b.drift!.drifted.length - a.drift!.drifted.length)
    .map((r) => r.segment);
  const broken = results.filter((r) => r.dataQuality?.broken).map((r) => r.segment);
  return {
    segments: results,
    multipleTesting: {
      method: 'benjamini-hochberg',
      tests: adjusted.filter((p) => !Number.isNaN(p)).length,
      alpha,
    },
    drifted,
    broken,
    sloBreaches,
    drivers: [...new Set([...sloBreaches.map((b) => b.segment), ...drifted, ...broken])],
  };
}

function realisedQuality(s: SegmentCounts, metric: QualityMetric): SegmentResult['quality'] {
  if (metric !== 'accuracy' && metric !== 'auc') return null;
  if (!s.labelled || s.labelled.events === 0) return null;
  const q = qualityFromScoreHistogram(s.labelled.histogram);
  const estimate = metric === 'auc' ? q.rocAuc : q.threshold.accuracy;
  return {
    metric,
    value: estimate.value,
    n: q.n,
    interval: estimate.interval ? { lower: estimate.interval.lower, upper: estimate.interval.upper } : null,
  };
}

/**
 * A multiclass or regression segment's realised quality: the metric from its outcome sums
 * (realisedFromSums, as the whole window's), turned into quality with its interval; null without
 * labelled events or when the metric does not apply to the sums' kind.
 */
function realisedOfOutcomes(
  sums: OutcomeSums | null,
  metric: QualityMetric,
  worthlessError: number | null,
): SegmentResult['quality'] {
  if (!sums) return null;
  const figure = realisedFromSums(metric, sums);
  if (figure === null || figure.n === 0) return null;
  return {
    metric,
    value: figure.value === null ? null : qualityOfMetric(metric, figure.value, worthlessError),
    n: figure.n,
    interval: figure.interval && qualityInterval(metric, figure.interval, worthlessError),
    figure: { value: figure.value, interval: figure.interval, transform: qualityTransformText(metric, worthlessError) },
  };
}

function estimatedQuality(
  s: SegmentCounts,
  metric: 'accuracy' | 'auc',
  estimator: { model: CbpeModel; grouping: EstimationGrouping },
): SegmentResult['estimated'] {
  const scored = s.estimation;
  if (!scored || scored.groups.every((g) => g.events === 0)) return null;
  const e = estimateCbpeFromGroups(estimator.model, scored.groups, estimator.grouping, scored.outside);
  const value = metric === 'auc' ? e.rocAuc : e.accuracy;
  const interval = metric === 'auc' ? e.rocAucInterval : e.accuracyInterval;
  return {
    metric,
    value,
    n: e.n,
    interval: interval ? { lower: interval.lower, upper: interval.upper } : null,
    trustworthy: e.trustworthy && e.n > 0 && value !== null,
  };
}
