/**
 * The outputs a multiclass or regression version gave on the held-out rows of its training
 * snapshot at validation (`validation_outputs`, migration 71), with the label each was measured
 * against: written by the validation step (activities/validation-beyond-binary.ts), read back to
 * fit the version's label-free estimator while it has no labelled events of its own
 * (operations/outcome-estimate.ts). A regression row's features are the event's own, read from
 * `scoring_events` by event id as the window's DLE sample reads them, so they are never copied.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from './client.ts';
import {
  FEATURE_COLUMNS,
  regressionRow,
  type FeatureColumns,
  type RegressionRow,
} from './outcome-estimation-repository.ts';
import type { LabelledProbabilities } from './outcome-estimation-repository.ts';

/** One held-out row as a version scored it at validation. */
export interface ValidationOutputRow {
  model_id: string;
  model_version: string;
  snapshot_id: string;
  event_id: string;
  /** The label as the snapshot held it: a class name (multiclass) or the number's text (regression). */
  label: string;
  label_numeric: number | null;
  /** Class → probability (multiclass); empty for a regressor. */
  prediction_probabilities: Record<string, number>;
  /** The predicted number (regression); null for a classifier. */
  prediction_value: number | null;
  /** Epoch ms. */
  scored_at: number;
}

/** Rows an insert carries at most. */
const INSERT_ROWS = 10_000;

/** Store a version's held-out outputs (a retried validation writes the same keys: the newest wins). */
export async function storeValidationOutputs(
  client: ClickHouseClient,
  rows: readonly ValidationOutputRow[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_ROWS) {
    await client.insert({
      table: 'validation_outputs',
      values: rows.slice(i, i + INSERT_ROWS),
      format: 'JSONEachRow',
    });
  }
}

/** Whose held-out outputs: one version of one model. */
export interface ValidationOutputsOf {
  modelId: string;
  version: string;
}

/** Rows read back, with the snapshots they were held out of (one, for a version trained once). */
export interface HeldOutRows<T> {
  rows: T[];
  snapshotIds: string[];
}

const snapshotsOf = (rows: readonly { snapshot_id: string }[]): string[] =>
  [...new Set(rows.map((r) => r.snapshot_id))].sort();

/**
 * Up to `limit` of the version's held-out rows with a probability vector and a label naming one of
 * `classes` (smallest hash of the event id first, as the reference's own rows are chosen).
 */
export async function validationProbabilityRows(
  client: ClickHouseClient,
  of: ValidationOutputsOf,
  classes: readonly string[],
  limit: number,
): Promise<HeldOutRows<LabelledProbabilities>> {
  const rows = await queryRows<{ truth: number; p: number[]; snapshot_id: string }>(
    client,
    `SELECT indexOf({classes:Array(String)}, label) - 1 AS truth, snapshot_id,
       arrayMap(c -> prediction_probabilities[c], {classes:Array(String)}) AS p
     FROM validation_outputs FINAL
     WHERE model_id = {model:String} AND model_version = {version:String}
       AND length(prediction_probabilities) > 0 AND has({classes:Array(String)}, label)
     ORDER BY cityHash64(event_id), event_id LIMIT {limit:UInt32}`,
    { model: of.modelId, version: of.version, classes: [...classes], limit },
  );
  return {
    rows: rows.map((r) => ({ truth: Number(r.truth), probabilities: r.p.map(Number) })),
    snapshotIds: snapshotsOf(rows),
  };
}

/**
 * Up to `limit` of the version's held-out rows with a finite prediction and label, each with the
 * features of its event in `scoring_events` (an erased event has none and is left out).
 */
export async function validationRegressionRows(
  client: ClickHouseClient,
  of: ValidationOutputsOf,
  columns: FeatureColumns,
  limit: number,
): Promise<HeldOutRows<RegressionRow & { truth: number }>> {
  const rows = await queryRows<{
    num: (number | string | null)[];
    cat: (string | null)[];
    prediction: number;
    y: number;
    snapshot_id: string;
  }>(
    client,
    `SELECT e.num AS num, e.cat AS cat, v.prediction AS prediction, v.y AS y, v.snapshot_id AS snapshot_id
     FROM (SELECT event_id, snapshot_id, assumeNotNull(prediction_value) AS prediction, assumeNotNull(label_numeric) AS y
           FROM validation_outputs FINAL
           WHERE model_id = {model:String} AND model_version = {version:String}
             AND prediction_value IS NOT NULL AND isFinite(assumeNotNull(prediction_value))
             AND label_numeric IS NOT NULL AND isFinite(assumeNotNull(label_numeric))) AS v
     INNER JOIN (SELECT event_id, ${FEATURE_COLUMNS} FROM scoring_events FINAL
                 PREWHERE model_id = {model:String}
                   AND event_id IN (SELECT event_id FROM validation_outputs
                                    WHERE model_id = {model:String} AND model_version = {version:String})) AS e
       USING (event_id)
     ORDER BY cityHash64(event_id), event_id LIMIT {limit:UInt32}`,
    {
      model: of.modelId,
      version: of.version,
      numeric: [...columns.numeric],
      categorical: [...columns.categorical],
      limit,
    },
  );
  return {
    rows: rows.map((r) => ({ ...regressionRow(r), truth: Number(r.y) })),
    snapshotIds: snapshotsOf(rows),
  };
}
