/**
 * The label-free estimate of a multiclass or regression backtest window, as the monitor's:
 * multiclass CBPE from the window's calibrated probability sums, DLE on the window's rows, each
 * fitted on the labelled reference of the version serving (on first use: the fit is the costly part).
 */
import { OTHER_CATEGORY } from '../drift/categories.ts';
import type { MonitorReference } from '../monitor/types.ts';
import { fitMulticlassCbpe, type MulticlassCbpeModel } from '../quality/cbpe-multiclass.ts';
import { estimateMulticlassFromSums, multiclassEstimationSums } from '../quality/cbpe-multiclass-sums.ts';
import { estimateDle, fitDle, type DleModel } from '../quality/dle.ts';
import {
  multiclassOutcomeEstimate,
  regressionOutcomeEstimate,
  unavailableOutcomeEstimate,
  type OutcomeEstimate,
} from '../quality/outcome-estimate.ts';
import type { OutcomeKind } from '../quality/outcome-sums.ts';
import type { OutcomePrediction } from './outcome-rows.ts';
import type { OutcomeBacktestRow } from './outcome-types.ts';

/** A version's reference: profiles, its labelled rows, and the estimator fitted on them when first needed. */
export interface OutcomeReference {
  profiles: MonitorReference;
  rows: number;
  labelled: { features: OutcomeBacktestRow['features'][]; predictions: OutcomePrediction[]; labels: number[] };
  estimator?: { multiclass: MulticlassCbpeModel } | { regression: DleModel } | { reasons: string[] };
}

/** The window's label-free estimate with the reference's estimator (fitted on first use). */
export function estimateOutcomeWindow(
  kind: OutcomeKind,
  categorical: readonly string[],
  numericCount: number,
  ref: OutcomeReference,
  rows: readonly OutcomeBacktestRow[],
  predictions: readonly OutcomePrediction[],
): OutcomeEstimate {
  if (!ref.estimator) {
    const { labels, predictions: p, features } = ref.labelled;
    try {
      if (labels.length === 0) ref.estimator = { reasons: ['no estimator: the reference has no labelled rows'] };
      else if (kind.kind === 'multiclass') ref.estimator = { multiclass: fitMulticlassCbpe(labels, p as number[][]) };
      else
        ref.estimator = {
          regression: fitDle(
            { features: features.map((f) => encodeFeatures(f, ref.profiles)), predictions: p as number[] },
            labels,
            { categoricalFeatures: categorical.map((_, j) => numericCount + j) },
          ),
        };
    } catch (err) {
      ref.estimator = { reasons: [`no estimator: ${err instanceof Error ? err.message : String(err)}`] };
    }
  }
  const estimator = ref.estimator;
  if ('reasons' in estimator) return unavailableOutcomeEstimate(kind.kind, rows.length, estimator.reasons);
  if ('multiclass' in estimator)
    return multiclassOutcomeEstimate(
      estimateMulticlassFromSums(
        estimator.multiclass,
        multiclassEstimationSums(estimator.multiclass, predictions as number[][]),
      ),
      rows.length,
    );
  return regressionOutcomeEstimate(
    estimateDle(estimator.regression, {
      features: rows.map((r) => encodeFeatures(r.features, ref.profiles)),
      predictions: predictions as number[],
    }),
    rows.length,
  );
}

/** A row as DLE's loss models read it: numeric features (NaN missing), then category codes of the reference's categories. */
function encodeFeatures(features: OutcomeBacktestRow['features'], reference: MonitorReference): number[] {
  const numeric: number[] = [];
  const codes: number[] = [];
  for (const [name, profile] of Object.entries(reference.features)) {
    const v = features[name];
    if (profile.kind === 'numeric') {
      const x = typeof v === 'number' ? v : v === null || v === undefined || v === '' ? Number.NaN : Number(v);
      numeric.push(Number.isFinite(x) ? x : Number.NaN);
      continue;
    }
    const known = Object.keys(profile.counts).sort();
    const index = v === null || v === undefined ? -1 : known.indexOf(String(v));
    const other = known.indexOf(OTHER_CATEGORY);
    codes.push(index >= 0 ? index : v !== null && v !== undefined && other >= 0 ? other : Number.NaN);
  }
  return [...numeric, ...codes];
}
