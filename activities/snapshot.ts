/**
 * snapshotTrainingData: freeze the labelled events of a window into a training CSV and a held-out
 * CSV (deterministic split by hash of event_id), and record which events and subjects went in
 * (training_lineage) so audits and erasure requests are single queries. Idempotent: the snapshot
 * id is derived from the retrain id, and the snapshot row is written last, so a retried call
 * either finds the finished snapshot or redoes it from scratch (lineage rows collapse by key).
 */
import { createHash } from 'node:crypto';
import type { TrainingSnapshot } from '../platform/clickhouse/lineage-repository.ts';
import {
  eventsInWindow,
  labelledEventsPage,
  labelledEventsSummary,
} from '../platform/clickhouse/training-data-repository.ts';
import type { FeatureNames } from '../platform/onnx/features.ts';
import { heartbeat, ms, nonRetryable, type RetrainContext } from './retrain-context.ts';
import { CSV_ID_COLUMN, CSV_LABEL_COLUMN, csvHeader, csvLine } from '../training/csv.ts';
import { targetCell, targetValue } from '../training/training-target.ts';
import { modelKindOf } from '../platform/clickhouse/model-kind-repository.ts';

export interface SnapshotInput {
  retrainId: string;
  modelId: string;
  /** Epoch ms or ISO-8601; start inclusive, end exclusive. */
  window: { start: number | string; end: number | string };
  /** Subjects whose events must not be used (erasure requests). @default [] */
  excludeSubjects?: string[];
  /** Share of rows held out for offline validation. @default 0.2 */
  holdoutFraction?: number;
}

export interface SnapshotResult {
  snapshotId: string;
  /** Events of the model in the window (labelled or not). */
  rowCount: number;
  /** Events with a label usable for the model's kind (0/1, a declared class, a number): train + holdout. */
  labelledRows: number;
  trainRows: number;
  holdoutRows: number;
  /** Labelled events left out because their label does not fit the model's kind. */
  skippedRows: number;
  contentHash: string;
  window: { start: string; end: string };
  featureNames: FeatureNames;
  /** Artifact URIs of the CSV files (ArtifactStore.localPath gives a file). */
  trainFile: string;
  holdoutFile: string;
  /** True when an earlier call (same retrainId) had already made it. */
  reused: boolean;
}

const PAGE = 50_000;

export function snapshotIdFor(modelId: string, retrainId: string): string {
  return `snap-${createHash('sha256').update(`${modelId}\u0000${retrainId}`).digest('hex').slice(0, 24)}`;
}

/** Deterministic split: the same event is always on the same side, whatever the window. */
export function isHoldout(eventId: string, fraction: number): boolean {
  const h = createHash('sha256').update(eventId).digest();
  return h.readUInt32BE(0) / 2 ** 32 < fraction;
}

function toResult(s: TrainingSnapshot, reused: boolean): SnapshotResult {
  return {
    snapshotId: s.snapshotId,
    rowCount: s.rowCount,
    labelledRows: s.labelledRows,
    trainRows: s.trainRows,
    holdoutRows: s.holdoutRows,
    skippedRows: s.skippedRows,
    contentHash: s.contentHash,
    window: s.window,
    featureNames: s.features,
    trainFile: s.trainUri,
    holdoutFile: s.holdoutUri,
    reused,
  };
}

export function createSnapshotActivity(ctx: RetrainContext) {
  return async function snapshotTrainingData(input: SnapshotInput): Promise<SnapshotResult> {
    const { retrainId, modelId } = input;
    const holdoutFraction = input.holdoutFraction ?? 0.2;
    if (!(holdoutFraction > 0 && holdoutFraction < 1))
      throw nonRetryable('TrainingInputError', `holdoutFraction must be in (0, 1), got ${holdoutFraction}`);
    const start = ms(input.window.start);
    const end = ms(input.window.end);
    if (!Number.isFinite(start) || !Number.isFinite(end) || start >= end) {
      throw nonRetryable('TrainingInputError', `training window is empty or invalid: ${JSON.stringify(input.window)}`);
    }
    const snapshotId = snapshotIdFor(modelId, retrainId);
    const existing = await ctx.lineage.getSnapshot(snapshotId);
    if (existing) return toResult(existing, true);

    const excluded = [...new Set(input.excludeSubjects ?? [])];
    const query = { modelId, window: { start, end }, excludedSubjects: excluded };
    const log = ctx.log.child({ modelId, retrainId, snapshotId });
    // The label column holds what the model's declared kind predicts (training/training-target.ts).
    const target = await modelKindOf(ctx.clickhouse, modelId);
    const summary = await labelledEventsSummary(ctx.clickhouse, query);
    const total = await eventsInWindow(ctx.clickhouse, modelId, query.window);
    const categorical = [...new Set(summary.categorical)].sort();
    // A name seen both as a number and as a string is treated as categorical.
    const numeric = [...new Set(summary.numeric)].filter((n) => !categorical.includes(n)).sort();
    const features: FeatureNames = { numeric, categorical };
    for (const reserved of [CSV_ID_COLUMN, CSV_LABEL_COLUMN]) {
      if (numeric.includes(reserved) || categorical.includes(reserved)) {
        throw nonRetryable(
          'TrainingInputError',
          `feature name ${reserved} collides with a reserved training-file column; rename the feature`,
        );
      }
    }
    if (summary.events === 0) {
      throw nonRetryable(
        'TrainingInputError',
        `no labelled events for ${modelId} in ${new Date(start).toISOString()} – ${new Date(end).toISOString()}: nothing to train on`,
      );
    }

    const header = csvHeader(features);
    const train: string[] = [header];
    const holdout: string[] = [header];
    let trainRows = 0;
    let holdoutRows = 0;
    let skipped = 0;
    let after = '';
    for (;;) {
      const page = await labelledEventsPage(ctx.clickhouse, query, after, PAGE);
      if (page.length === 0) break;
      const lineage = [];
      for (const r of page) {
        const y = targetValue(target, r.label, r.label_numeric === null ? null : Number(r.label_numeric));
        if (y === null) {
          skipped++;
          continue;
        }
        const split = isHoldout(r.event_id, holdoutFraction) ? 'holdout' : 'train';
        const line = csvLine(features, r.event_id, { ...r.num_features, ...r.cat_features }, targetCell(target, y));
        if (split === 'train') {
          train.push(line);
          trainRows++;
        } else {
          holdout.push(line);
          holdoutRows++;
        }
        lineage.push({
          snapshot_id: snapshotId,
          model_id: modelId,
          event_id: r.event_id,
          subject_id: r.subject_id,
          split,
        } as const);
      }
      await ctx.lineage.insertLineage(lineage);
      after = (page[page.length - 1] as { event_id: string }).event_id;
      heartbeat({ snapshotId, rows: trainRows + holdoutRows });
      if (page.length < PAGE) break;
    }
    const trainBytes = Buffer.from(train.join(''));
    const holdoutBytes = Buffer.from(holdout.join(''));
    const trainPut = await ctx.artifacts.put(`snapshots/${modelId}/${snapshotId}/train.csv`, trainBytes);
    const holdoutPut = await ctx.artifacts.put(`snapshots/${modelId}/${snapshotId}/holdout.csv`, holdoutBytes);
    const contentHash = createHash('sha256')
      .update(`train:${trainPut.sha256}\nholdout:${holdoutPut.sha256}\n`)
      .digest('hex');
    const snapshot: TrainingSnapshot = {
      snapshotId,
      modelId,
      retrainId,
      window: { start: new Date(start).toISOString(), end: new Date(end).toISOString() },
      rowCount: total,
      labelledRows: trainRows + holdoutRows,
      trainRows,
      holdoutRows,
      skippedRows: skipped,
      holdoutFraction,
      excludedSubjects: excluded.length,
      contentHash,
      features,
      trainUri: trainPut.uri,
      holdoutUri: holdoutPut.uri,
      createdAt: new Date().toISOString(),
    };
    await ctx.lineage.insertSnapshot(snapshot);
    log.info(
      {
        kind: target.kind,
        trainRows,
        holdoutRows,
        skipped,
        features: numeric.length + categorical.length,
        contentHash,
      },
      'training snapshot written',
    );
    return toResult(snapshot, false);
  };
}
