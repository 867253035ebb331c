import type { ClickHouseClient } from '@clickhouse/client';
import type { FeatureNames } from '../onnx/features.ts';
import { queryRows } from './client.ts';

/**
 * Training snapshots and their lineage (`training_snapshots`, `training_lineage`): the audit
 * questions "which records trained this model version?" and "which versions were trained on
 * subject X?" are each one SQL query joining lineage with `model_versions` on the snapshot id.
 */

export type Split = 'train' | 'holdout';

export interface TrainingSnapshot {
  snapshotId: string;
  modelId: string;
  retrainId: string;
  window: { start: string; end: string };
  rowCount: number;
  labelledRows: number;
  trainRows: number;
  holdoutRows: number;
  /** Labelled events left out (label not 0/1). */
  skippedRows: number;
  holdoutFraction: number;
  excludedSubjects: number;
  contentHash: string;
  features: FeatureNames;
  trainUri: string;
  holdoutUri: string;
  createdAt: string;
}

export interface LineageRow {
  snapshot_id: string;
  model_id: string;
  event_id: string;
  subject_id: string;
  split: Split;
}

export interface TrainedRecord {
  eventId: string;
  subjectId: string;
  split: Split;
}

export interface VersionTrainedOnSubject {
  modelId: string;
  version: string;
  stage: string;
  snapshotId: string;
  /** Rows of this subject the model was fitted on. */
  trainRows: number;
  /** Rows of this subject in the held-out slice (used to validate, not to fit). */
  holdoutRows: number;
}

interface SnapshotRow {
  snapshot_id: string;
  model_id: string;
  retrain_id: string;
  start_ms: string;
  end_ms: string;
  row_count: string;
  labelled_rows: string;
  train_rows: string;
  holdout_rows: string;
  skipped_rows: string;
  holdout_fraction: number;
  excluded_subjects: string;
  content_hash: string;
  features: string;
  train_uri: string;
  holdout_uri: string;
  created_ms: string;
}

const SELECT_SNAPSHOT = `SELECT snapshot_id, model_id, retrain_id, toUnixTimestamp64Milli(window_start) AS start_ms,
  toUnixTimestamp64Milli(window_end) AS end_ms, row_count, labelled_rows, train_rows, holdout_rows, skipped_rows,
  holdout_fraction, excluded_subjects, content_hash, features, train_uri, holdout_uri, toUnixTimestamp64Milli(created_at) AS created_ms
  FROM training_snapshots FINAL`;

const iso = (ms: string | number) => new Date(Number(ms)).toISOString();

export class ClickHouseLineageRepository {
  readonly #client: ClickHouseClient;

  constructor(client: ClickHouseClient) {
    this.#client = client;
  }

  async insertLineage(rows: readonly LineageRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.#client.insert({ table: 'training_lineage', values: rows as LineageRow[], format: 'JSONEachRow' });
  }

  async insertSnapshot(s: TrainingSnapshot): Promise<void> {
    await this.#client.insert({
      table: 'training_snapshots',
      values: [
        {
          snapshot_id: s.snapshotId,
          model_id: s.modelId,
          retrain_id: s.retrainId,
          window_start: Date.parse(s.window.start),
          window_end: Date.parse(s.window.end),
          row_count: s.rowCount,
          labelled_rows: s.labelledRows,
          train_rows: s.trainRows,
          holdout_rows: s.holdoutRows,
          skipped_rows: s.skippedRows,
          holdout_fraction: s.holdoutFraction,
          excluded_subjects: s.excludedSubjects,
          content_hash: s.contentHash,
          features: JSON.stringify(s.features),
          train_uri: s.trainUri,
          holdout_uri: s.holdoutUri,
          created_at: Date.parse(s.createdAt),
        },
      ],
      format: 'JSONEachRow',
    });
  }

  async getSnapshot(snapshotId: string): Promise<TrainingSnapshot | null> {
    const rows = await queryRows<SnapshotRow>(this.#client, `${SELECT_SNAPSHOT} WHERE snapshot_id = {s:String}`, {
      s: snapshotId,
    });
    const r = rows[0];
    if (!r) return null;
    return {
      snapshotId: r.snapshot_id,
      modelId: r.model_id,
      retrainId: r.retrain_id,
      window: { start: iso(r.start_ms), end: iso(r.end_ms) },
      rowCount: Number(r.row_count),
      labelledRows: Number(r.labelled_rows),
      trainRows: Number(r.train_rows),
      holdoutRows: Number(r.holdout_rows),
      skippedRows: Number(r.skipped_rows),
      holdoutFraction: Number(r.holdout_fraction),
      excludedSubjects: Number(r.excluded_subjects),
      contentHash: r.content_hash,
      features: JSON.parse(r.features) as FeatureNames,
      trainUri: r.train_uri,
      holdoutUri: r.holdout_uri,
      createdAt: iso(r.created_ms),
    };
  }

  /** "Which records trained this model version?" — one query through the version's lineage id. */
  async recordsForVersion(
    modelId: string,
    version: string,
    options: { split?: Split; limit?: number } = {},
  ): Promise<TrainedRecord[]> {
    const rows = await queryRows<{ event_id: string; subject_id: string; split: Split }>(
      this.#client,
      `SELECT DISTINCT event_id, subject_id, split FROM training_lineage
       WHERE snapshot_id IN (SELECT lineage_id FROM model_versions FINAL WHERE model_id = {m:String} AND version = {v:String})
         AND ({split:String} = '' OR split = {split:String})
       ORDER BY event_id LIMIT {limit:UInt64}`,
      { m: modelId, v: version, split: options.split ?? 'train', limit: options.limit ?? 1_000_000 },
    );
    return rows.map((r) => ({ eventId: r.event_id, subjectId: r.subject_id, split: r.split }));
  }

  /** "Which model versions were trained on subject X?" — one query joining lineage and the registry. */
  async versionsTrainedOnSubject(subjectId: string): Promise<VersionTrainedOnSubject[]> {
    const rows = await queryRows<{
      model_id: string;
      version: string;
      stage: string;
      snapshot_id: string;
      train_rows: string;
      holdout_rows: string;
    }>(
      this.#client,
      `SELECT v.model_id AS model_id, v.version AS version, v.stage AS stage, l.snapshot_id AS snapshot_id,
              countIf(l.split = 'train') AS train_rows, countIf(l.split = 'holdout') AS holdout_rows
       FROM (SELECT DISTINCT snapshot_id, event_id, split FROM training_lineage WHERE subject_id = {s:String}) AS l
       INNER JOIN (SELECT model_id, version, stage, lineage_id FROM model_versions FINAL WHERE lineage_id != '') AS v
         ON v.lineage_id = l.snapshot_id
       GROUP BY model_id, version, stage, snapshot_id
       ORDER BY model_id, version`,
      { s: subjectId },
    );
    return rows.map((r) => ({
      modelId: r.model_id,
      version: r.version,
      stage: r.stage,
      snapshotId: r.snapshot_id,
      trainRows: Number(r.train_rows),
      holdoutRows: Number(r.holdout_rows),
    }));
  }
}
