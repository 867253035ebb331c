/**
 * The label-free estimate of a multiclass or regression model's window, for the monitor's window
 * read: the estimator is fitted once per reference on the reference's labelled events of its
 * version — or, when the version has fewer than the estimator needs (a version a retrain trained
 * and promoted has none: its reference is its training snapshot), on its outputs on the
 * snapshot's held-out rows, stored at validation (detectors/quality/estimator-source.ts) —, kept
 * by the caller (`OutcomeEstimatorCache`, one per worker process), and applied to the window
 * where its data is:
 *
 * - multiclass CBPE: the window query calibrates every event's probabilities with the fitted
 *   calibrators and returns their sums per predicted class (O(classes²));
 * - regression DLE: the loss models are boosted trees, so a bounded sample of the window's rows
 *   (features and prediction; `sampleRows`, by hash of the event id) is read and estimated here.
 *
 * What leaves is an `OutcomeEstimate` of a few numbers per metric; the fitted estimator and the
 * rows never do. Fitting is deterministic (seeded), so a restarted worker refits the same
 * estimator from the same reference. A DLE fit takes seconds, so it runs in a worker thread
 * (`dle-fit-thread.ts`): the calling thread keeps serving meanwhile.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { OTHER_CATEGORY } from '../detectors/drift/categories.ts';
import {
  fitMulticlassCbpe,
  MULTICLASS_CBPE_DEFAULTS,
  type MulticlassCbpeModel,
} from '../detectors/quality/cbpe-multiclass.ts';
import {
  calibrationTable,
  emptyEstimationSums,
  estimateMulticlassFromSums,
  type MulticlassEstimationSums,
} from '../detectors/quality/cbpe-multiclass-sums.ts';
import { DLE_DEFAULTS, estimateDle, type DleModel } from '../detectors/quality/dle.ts';
import {
  chooseEstimatorSource,
  estimatorFitReasons,
  noEstimatorReason,
  type EstimatorFit,
} from '../detectors/quality/estimator-source.ts';
import {
  multiclassOutcomeEstimate,
  regressionOutcomeEstimate,
  unavailableOutcomeEstimate,
  type OutcomeEstimate,
} from '../detectors/quality/outcome-estimate.ts';
import type { ModelKindDeclaration } from '../platform/clickhouse/model-kind-repository.ts';
import {
  labelledProbabilityRows,
  labelledRegressionRows,
  multiclassEstimationSumsBySegment,
  sampleRegressionRowsBySegment,
  type FeatureColumns,
  type RegressionRow,
} from '../platform/clickhouse/outcome-estimation-repository.ts';
import type { StoredReference } from '../platform/clickhouse/reference-repository.ts';
import type { SegmentsToCount } from '../platform/clickhouse/segment-grouping.ts';
import {
  validationProbabilityRows,
  validationRegressionRows,
  type HeldOutRows,
} from '../platform/clickhouse/validation-outputs-repository.ts';
import { fitDleInThread, type DleFitThreadOptions } from './dle-fit-thread.ts';

export interface OutcomeEstimateOptions {
  /** Labelled reference events a multiclass estimator is fitted on at most (by hash of the event id). @default 50000 */
  maxMulticlassReference: number;
  /** Labelled reference events a DLE estimator is fitted on at most: its fit (seven boosted-tree fits, in a thread of its own) grows with them. @default 5000 */
  maxRegressionReference: number;
  /** Rows of a regression window DLE estimates from at most. @default 5000 */
  sampleRows: number;
  /** The DLE fit's thread (tests swap its entry). @default {} (dle-fit-thread.ts's defaults) */
  dleFitThread: Partial<DleFitThreadOptions>;
}

export const OUTCOME_ESTIMATE_DEFAULTS: Readonly<OutcomeEstimateOptions> = Object.freeze({
  maxMulticlassReference: 50_000,
  maxRegressionReference: 5_000,
  sampleRows: 5_000,
  dleFitThread: {},
});

/** A fitted estimator (null when it could not be fitted, with why). */
type FittedEstimator =
  | {
      kind: 'multiclass';
      classes: string[];
      model: MulticlassCbpeModel | null;
      reasons: string[];
      fittedOn?: EstimatorFit;
    }
  | {
      kind: 'regression';
      fittedOn?: EstimatorFit;
      columns: FeatureColumns;
      /** Each categorical feature's reference categories: a category's code is its index. */
      categories: string[][];
      model: DleModel | null;
      reasons: string[];
      /** The fit failed (its thread crashed or threw): not kept, so the next window fits again. */
      failed?: boolean;
    };

/** Fitted estimators by reference, version and kind: a reference never changes once stored. */
export type OutcomeEstimatorCache = Map<string, Promise<FittedEstimator>>;

type BeyondBinary = Exclude<ModelKindDeclaration, { kind: 'binary' }>;

export interface OutcomeEstimateRequest {
  reference: StoredReference;
  /** The version the reference describes (its estimator is fitted on that version's outputs); '' for all. */
  version: string;
  kind: BeyondBinary;
  window: { modelId: string; start: number; end: number };
  /** Events of the window (all versions), as the window read counted them. */
  windowEvents: number;
}

/** A window's segments to estimate: the keys as the window's other queries count them, and each segment's events. */
export interface OutcomeEstimateSegments {
  toCount: readonly SegmentsToCount[];
  /** Events of each segment in the window (as the window read counted them); a segment not listed is not estimated. */
  events: readonly { key: number; value: string; events: number }[];
}

/** One segment's estimate: the key's index in `toCount`, the segment's value. */
export interface SegmentOutcomeEstimate {
  key: number;
  value: string;
  estimate: OutcomeEstimate;
}

/** The window's estimate of every metric the model's kind has an estimator for. */
export async function outcomeWindowEstimate(
  client: ClickHouseClient,
  request: OutcomeEstimateRequest,
  cache: OutcomeEstimatorCache,
  options: Partial<OutcomeEstimateOptions> = {},
): Promise<OutcomeEstimate> {
  return (await outcomeWindowEstimates(client, request, cache, options)).whole;
}

/**
 * The window's estimate and, with `segments`, each segment's, from the same read: a multiclass
 * window's calibrated sums grouped by segment in the window's query; a regression window's sample
 * read with each segment's (up to `sampleRows` of the segment's own rows, the rows the segment's
 * events alone would give). A segment's estimate is the window's estimator run on its events.
 */
export async function outcomeWindowEstimates(
  client: ClickHouseClient,
  request: OutcomeEstimateRequest,
  cache: OutcomeEstimatorCache,
  options: Partial<OutcomeEstimateOptions> = {},
  segments: OutcomeEstimateSegments | null = null,
): Promise<{ whole: OutcomeEstimate; segments: SegmentOutcomeEstimate[] }> {
  const o = { ...OUTCOME_ESTIMATE_DEFAULTS, ...options };
  const fitted = await estimatorOf(client, request, cache, o);
  const { window, windowEvents } = request;
  const keys = segments?.toCount ?? [];
  const listed = segments?.events ?? [];
  const id = (s: { key: number; value: string }) => `${s.key}\u0000${s.value}`;
  const fitReasons = fitted.reasons;
  if (!fitted.model)
    return {
      whole: unavailableOutcomeEstimate(fitted.kind, windowEvents, fitReasons),
      segments: listed.map((s) => ({
        key: s.key,
        value: s.value,
        estimate: unavailableOutcomeEstimate(fitted.kind, s.events, fitReasons),
      })),
    };
  if (fitted.kind === 'multiclass') {
    const model = fitted.model;
    const read = await multiclassEstimationSumsBySegment(client, window, fitted.classes, calibrationTable(model), keys);
    const estimate = (sums: MulticlassEstimationSums, events: number, of: 'window' | 'segment') => {
      const left = events - sums.predicted.reduce((a, b) => a + b, 0);
      const notes = left > 0 ? [`${left} of the ${of}'s events have no usable probability vector: not estimated`] : [];
      return withFit(
        multiclassOutcomeEstimate(estimateMulticlassFromSums(model, sums), events, [...notes, ...fitReasons]),
        fitted.fittedOn,
      );
    };
    const sumsOf = new Map(read.segments.map((s) => [id(s), s.sums]));
    return {
      whole: estimate(read.sums, windowEvents, 'window'),
      segments: listed.map((s) => ({
        key: s.key,
        value: s.value,
        estimate: estimate(sumsOf.get(id(s)) ?? emptyEstimationSums(fitted.classes.length), s.events, 'segment'),
      })),
    };
  }
  const model = fitted.model;
  const categories = fitted.categories;
  const sample = await sampleRegressionRowsBySegment(client, window, fitted.columns, o.sampleRows, keys);
  const estimate = (rows: readonly RegressionRow[], events: number, of: 'window' | 'segment') =>
    withFit(
      regressionOutcomeEstimate(
        estimateDle(model, {
          features: rows.map((r) => encodeRow(r, categories)),
          predictions: rows.map((r) => r.prediction),
        }),
        events,
        fitReasons,
        of,
      ),
      fitted.fittedOn,
    );
  const rowsOf = new Map(sample.segments.map((s) => [id(s), s.rows]));
  return {
    whole: estimate(sample.whole, windowEvents, 'window'),
    segments: listed.map((s) => ({
      key: s.key,
      value: s.value,
      estimate: estimate(rowsOf.get(id(s)) ?? [], s.events, 'segment'),
    })),
  };
}

function withFit(estimate: OutcomeEstimate, fittedOn: EstimatorFit | undefined): OutcomeEstimate {
  return fittedOn ? { ...estimate, fittedOn } : estimate;
}

/**
 * The rows to fit on: the version's own labelled events in the reference's window, or its held-out
 * snapshot rows scored at validation when the own events fall short of `minimum` and the held-out
 * rows are more (detectors/quality/estimator-source.ts). Null when neither has a row.
 */
async function rowsToFit<T>(
  version: string,
  minimum: number,
  own: () => Promise<T[]>,
  heldOut: () => Promise<HeldOutRows<T>>,
): Promise<{ rows: T[]; fit: EstimatorFit } | null> {
  const ownRows = await own();
  // A reference of every version ('') names no version whose held-out rows could stand in.
  const held = ownRows.length >= minimum || version === '' ? null : await heldOut();
  const source = chooseEstimatorSource({ own: ownRows.length, holdout: held?.rows.length ?? 0, minimum });
  if (source === null) return null;
  if (source === 'validation-holdout' && held)
    return {
      rows: held.rows,
      fit: {
        source,
        rows: held.rows.length,
        version,
        snapshotId: held.snapshotIds.length === 1 ? (held.snapshotIds[0] as string) : null,
      },
    };
  return { rows: ownRows, fit: { source: 'reference-events', rows: ownRows.length, version } };
}

function estimatorOf(
  client: ClickHouseClient,
  request: OutcomeEstimateRequest,
  cache: OutcomeEstimatorCache,
  options: OutcomeEstimateOptions,
): Promise<FittedEstimator> {
  const { reference, version, kind } = request;
  const key = JSON.stringify([reference.referenceId, version, kind]);
  let fitted = cache.get(key);
  if (!fitted) {
    fitted = fitEstimator(client, reference, version, kind, options);
    fitted.then(
      (f) => {
        if (f.kind === 'regression' && f.failed) cache.delete(key);
      },
      () => cache.delete(key),
    );
    cache.set(key, fitted);
  }
  return fitted;
}

async function fitEstimator(
  client: ClickHouseClient,
  reference: StoredReference,
  version: string,
  kind: BeyondBinary,
  options: OutcomeEstimateOptions,
): Promise<FittedEstimator> {
  const events = { modelId: reference.modelId, modelVersion: version, start: reference.start, end: reference.end };
  const heldOutOf = { modelId: reference.modelId, version };
  if (kind.kind === 'multiclass') {
    const minimum = MULTICLASS_CBPE_DEFAULTS.minReferenceSize;
    const chosen = await rowsToFit(
      version,
      minimum,
      () => labelledProbabilityRows(client, events, kind.classes, options.maxMulticlassReference),
      () => validationProbabilityRows(client, heldOutOf, kind.classes, options.maxMulticlassReference),
    );
    if (!chosen)
      return {
        kind: 'multiclass',
        classes: kind.classes,
        model: null,
        reasons: [noEstimatorReason('CBPE', 'with probabilities', version)],
      };
    const model = fitMulticlassCbpe(
      chosen.rows.map((r) => r.truth),
      chosen.rows.map((r) => normalisedVector(r.probabilities)),
    );
    return {
      kind: 'multiclass',
      classes: kind.classes,
      model,
      reasons: estimatorFitReasons(chosen.fit, 'CBPE', minimum),
      fittedOn: chosen.fit,
    };
  }
  const columns = featureColumns(reference);
  const categories = columns.categorical.map((name) => referenceCategories(reference, name));
  const minimum = DLE_DEFAULTS.minReferenceSize;
  const chosen = await rowsToFit(
    version,
    minimum,
    () => labelledRegressionRows(client, events, columns, options.maxRegressionReference),
    () => validationRegressionRows(client, heldOutOf, columns, options.maxRegressionReference),
  );
  if (!chosen)
    return {
      kind: 'regression',
      columns,
      categories,
      model: null,
      reasons: [noEstimatorReason('DLE', 'with a numeric prediction', version)],
    };
  const rows = chosen.rows;
  const categorical = columns.categorical.map((_, j) => columns.numeric.length + j);
  try {
    const model = await fitDleInThread(
      {
        features: rows.map((r) => encodeRow(r, categories)),
        predictions: rows.map((r) => r.prediction),
      },
      rows.map((r) => r.truth),
      { categoricalFeatures: categorical },
      options.dleFitThread,
    );
    return {
      kind: 'regression',
      columns,
      categories,
      model,
      reasons: estimatorFitReasons(chosen.fit, 'DLE', minimum),
      fittedOn: chosen.fit,
    };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return {
      kind: 'regression',
      columns,
      categories,
      model: null,
      reasons: [`no DLE estimator: ${why}; it is fitted again on the next window`],
      failed: true,
    };
  }
}

/** The reference's features by kind, each sorted by name: the loss models' input columns. */
function featureColumns(reference: StoredReference): FeatureColumns {
  const entries = Object.entries(reference.features).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    numeric: entries.filter(([, p]) => p.kind === 'numeric').map(([name]) => name),
    categorical: entries.filter(([, p]) => p.kind === 'categorical').map(([name]) => name),
  };
}

/** A categorical feature's reference categories, sorted (the pooled rest last, when there is one). */
function referenceCategories(reference: StoredReference, name: string): string[] {
  const profile = reference.features[name];
  if (!profile || profile.kind !== 'categorical') return [];
  const named = Object.keys(profile.counts)
    .filter((c) => c !== OTHER_CATEGORY)
    .sort();
  return OTHER_CATEGORY in profile.counts ? [...named, OTHER_CATEGORY] : named;
}

/**
 * A row as the loss models read it: numeric features (NaN when missing), then each categorical
 * feature's code (its index among the reference's categories; a category the reference pooled
 * takes the pooled code, an unseen one without a pool is missing).
 */
function encodeRow(row: RegressionRow, categories: readonly string[][]): number[] {
  const numeric = row.numeric.map((v) => (v === null ? Number.NaN : v));
  const codes = row.categorical.map((value, j) => {
    const known = categories[j] ?? [];
    if (value === null) return Number.NaN;
    const index = known.indexOf(value);
    if (index >= 0) return index;
    const other = known.indexOf(OTHER_CATEGORY);
    return other >= 0 ? other : Number.NaN;
  });
  return [...numeric, ...codes];
}

/**
 * A stored probability vector scaled to sum to 1: ingest accepts sums within its tolerance, the
 * estimator checks a tighter one.
 */
function normalisedVector(p: readonly number[]): number[] {
  const total = p.reduce((a, b) => a + b, 0);
  return total > 0 ? p.map((x) => x / total) : [...p];
}
