/**
 * A binary version's reference in the backtest: profiles of its features and scores, and the
 * label-free estimator (CBPE) when enough of its labels are known, as the monitor builds it.
 */
import { categoricalProfile, numericReferenceProfile } from '../drift/profiles.ts';
import type { MonitorReference, MonitorSettings } from '../monitor/types.ts';
import { estimateCbpe, fitCbpe } from '../quality/cbpe.ts';
import { labelledPairs } from './binary-quality.ts';
import { numericColumn } from './history-row.ts';
import type { BacktestRow } from './types.ts';

/** The threshold a version is estimated at when none is given (as the registry's default). */
export const DEFAULT_DECISION_THRESHOLD = 0.5;
/** Labelled reference events needed to fit the label-free estimator (as the monitor activity). */
const MIN_CBPE_REFERENCE = 500;

/** A reference and the rows it was profiled from (the denominator of its missing rates). */
export interface BinaryReference {
  profiles: MonitorReference;
  rows: number;
  /** The estimator's estimate of the monitor's metric over the reference period (the reference band's centre). */
  estimateOnReference: number | null;
}

/** The reference of a version: profiles of its features and scores, and CBPE when enough labels (those `known`). */
export function binaryReference(
  referenceId: string,
  version: string,
  rows: readonly BacktestRow[],
  scores: readonly number[],
  numeric: readonly string[],
  categorical: readonly string[],
  known: (row: BacktestRow) => boolean,
  /** The version's decision threshold; null: none recorded (0.5). */
  threshold: number | null,
  metric: MonitorSettings['qualityMetric'],
): BinaryReference {
  const features: MonitorReference['features'] = {};
  for (const name of numeric) features[name] = numericReferenceProfile(numericColumn(rows, name));
  for (const name of categorical) features[name] = categoricalProfile(rows.map((r) => r.features[name] ?? null));
  const { labels, labelledScores } = labelledPairs(rows, scores, known);
  let cbpe: MonitorReference['cbpe'] = null;
  if (labels.length >= MIN_CBPE_REFERENCE) {
    try {
      cbpe = fitCbpe(labels, labelledScores, { threshold: threshold ?? DEFAULT_DECISION_THRESHOLD });
    } catch {
      cbpe = null; // e.g. a single class: the monitor then has realised quality only
    }
  }
  return {
    profiles: {
      referenceId,
      modelVersion: version,
      features,
      prediction: scores.length > 0 ? numericReferenceProfile(scores) : null,
      cbpe,
      decisionThreshold:
        threshold === null
          ? { value: DEFAULT_DECISION_THRESHOLD, source: 'default' }
          : { value: threshold, source: 'version' },
    },
    rows: rows.length,
    estimateOnReference: estimateOnReference(cbpe, scores, metric),
  };
}

/** The estimator's estimate of `metric` over the reference's scores; null without an estimator. */
function estimateOnReference(
  cbpe: MonitorReference['cbpe'],
  scores: readonly number[],
  metric: MonitorSettings['qualityMetric'],
): number | null {
  if (!cbpe || scores.length === 0) return null;
  const estimate = estimateCbpe(cbpe, scores);
  return metric === 'auc' ? estimate.rocAuc : estimate.accuracy;
}
