import { createHash, randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { ClickHouseClient } from '@clickhouse/client';
import { parse } from 'csv-parse/sync';
import { getDecision, recordDecision } from '../platform/clickhouse/decisions-repository.ts';
import {
  countSubjectRows,
  deleteSubjectRows,
  modelsScoringSubject,
  subjectEventIds,
  subjectSnapshotIds,
  type ErasureTable,
} from '../platform/clickhouse/gdpr-repository.ts';
import {
  ClickHouseLineageRepository,
  type VersionTrainedOnSubject,
} from '../platform/clickhouse/lineage-repository.ts';
import { ClickHouseRegistryRepository } from '../platform/clickhouse/registry-repository.ts';
import { ValidationError } from '../platform/errors.ts';
import type { ArtifactStore } from '../platform/registry/artifact-store.ts';
import type { MonitorClient, RetrainRequestOutcome } from './monitor-control.ts';

/**
 * GDPR erasure of one data subject: delete their scoring events, labels, dead letters, shadow
 * results and training lineage; scrub their rows from training snapshot files; mark every model
 * version trained on them `tainted`; ask the monitor of each model trained on them to retrain; and
 * record the operation as a `gdpr-erasure` decision per affected model. The subject id itself is never written anywhere: records carry its
 * sha256, so the audit trail proves the erasure without keeping the identifier.
 */

export interface ErasureOptions {
  subjectId: string;
  /** Count and list what would happen; change nothing. @default false */
  dryRun?: boolean;
  /** Who asks (recorded). */
  actor: string;
  /** The monitors to ask for a retrain of each model trained on the subject. Omitted: no retrain is requested. */
  monitors?: Pick<MonitorClient, 'requestRetrain'>;
  /** Where training snapshot CSVs live; omitted: snapshot files are not scrubbed (reported). */
  artifacts?: ArtifactStore;
  /** @default a random id */
  erasureId?: string;
}

export interface ErasureReport {
  erasureId: string;
  dryRun: boolean;
  /** sha256 of the subject id: what the audit records keep. */
  subjectDigest: string;
  /** Rows deleted (or, with dryRun, that would be) per table. */
  deleted: Record<ErasureTable, number>;
  /** Rows of the subject still present after deletion (all zero on success). */
  remaining: Record<ErasureTable, number> | null;
  /** Training snapshot files rewritten without the subject's rows. */
  snapshotFiles: Array<{ snapshotId: string; uri: string; removedRows: number }>;
  /** Versions trained (or validated) on the subject's records, now tainted. */
  tainted: Array<VersionTrainedOnSubject & { previousStage: string; changed: boolean }>;
  /** Per affected model: whether a retrain without the subject was requested. */
  retrains: RetrainRequestOutcome[];
  /** gdpr-erasure decisions recorded (one per affected model). */
  decisions: string[];
}

export function subjectDigest(subjectId: string): string {
  return createHash('sha256').update(subjectId).digest('hex');
}

export async function eraseSubject(client: ClickHouseClient, options: ErasureOptions): Promise<ErasureReport> {
  const subjectId = options.subjectId;
  if (typeof subjectId !== 'string' || subjectId.length === 0 || subjectId.length > 256)
    throw new ValidationError('subject id must be 1–256 characters');
  const dryRun = options.dryRun ?? false;
  const erasureId = options.erasureId ?? `gdpr-${randomUUID()}`;
  const digest = subjectDigest(subjectId);
  const registry = new ClickHouseRegistryRepository(client);
  const lineage = new ClickHouseLineageRepository(client);

  // Everything is found before anything is deleted: lineage is what links versions to the subject.
  const eventIds = await subjectEventIds(client, subjectId);
  const deleted = await countSubjectRows(client, subjectId, eventIds);
  const versions = await lineage.versionsTrainedOnSubject(subjectId);
  const snapshots = await subjectSnapshotIds(client, subjectId);
  const scoredModels = await modelsScoringSubject(client, subjectId);
  const affectedModels = [
    ...new Set([...versions.map((v) => v.modelId), ...scoredModels.map((m) => m.replace(/\.shadow$/, ''))]),
  ].sort();
  const trainedModels = [...new Set(versions.map((v) => v.modelId))].sort();

  const report: ErasureReport = {
    erasureId,
    dryRun,
    subjectDigest: digest,
    deleted,
    remaining: null,
    snapshotFiles: [],
    tainted: versions.map((v) => ({ ...v, previousStage: v.stage, changed: v.stage !== 'tainted' })),
    retrains: trainedModels.map((modelId) => ({
      modelId,
      requested: false,
      reason: dryRun ? 'dry run' : 'not requested',
    })),
    decisions: [],
  };
  if (dryRun) return report;

  // Snapshot CSVs first (they are found through lineage rows, which are deleted next).
  const ids = new Set(eventIds);
  for (const snapshotId of snapshots) {
    const snapshot = await lineage.getSnapshot(snapshotId);
    if (!snapshot || !options.artifacts) continue;
    for (const uri of [snapshot.trainUri, snapshot.holdoutUri]) {
      if (!uri || !(await options.artifacts.exists(uri))) continue;
      const removedRows = await scrubCsv(await options.artifacts.localPath(uri), ids);
      report.snapshotFiles.push({ snapshotId, uri, removedRows });
    }
  }

  await deleteSubjectRows(client, subjectId, eventIds, deleted);
  report.remaining = await countSubjectRows(client, subjectId, eventIds);

  const reason = `gdpr erasure of subject sha256:${digest.slice(0, 16)} (${erasureId})`;
  report.tainted = [];
  for (const v of versions) {
    const change = await registry.setStage(v.modelId, v.version, 'tainted', options.actor, reason);
    report.tainted.push({ ...v, previousStage: change.previousStage, changed: change.changed });
  }

  report.retrains = [];
  for (const modelId of trainedModels) {
    if (!options.monitors) {
      report.retrains.push({
        modelId,
        requested: false,
        reason: 'no monitor connection: retrain with `halflife retrain <model>`',
      });
      continue;
    }
    try {
      report.retrains.push(
        await options.monitors.requestRetrain(
          modelId,
          reason,
          options.actor,
          async (id) => (await getDecision(client, id))?.kind,
        ),
      );
    } catch (err) {
      report.retrains.push({ modelId, requested: false, reason: `retrain request failed: ${(err as Error).message}` });
    }
  }

  for (const modelId of affectedModels.length > 0 ? affectedModels : ['']) {
    const decisionId = `${erasureId}/${modelId || 'none'}`;
    await recordDecision(client, {
      decisionId,
      modelId,
      modelVersion: '',
      workflowId: '',
      runId: '',
      decidedAt: Date.now(),
      kind: 'gdpr-erasure',
      actor: options.actor,
      reason,
      policy: { name: '', version: '', hash: '' },
      statistics: { deleted: report.deleted, remaining: report.remaining },
      thresholds: null,
      windows: null,
      trainingWindow: null,
      lineageId: '',
      details: {
        erasureId,
        subjectDigest: digest,
        tainted: report.tainted
          .filter((t) => t.modelId === modelId)
          .map((t) => ({
            version: t.version,
            previousStage: t.previousStage,
            trainRows: t.trainRows,
            holdoutRows: t.holdoutRows,
          })),
        retrain: report.retrains.find((r) => r.modelId === modelId) ?? null,
        snapshotFiles: report.snapshotFiles.length,
      },
    });
    report.decisions.push(decisionId);
  }
  return report;
}

/** Rewrite a snapshot CSV without the rows of the given event ids (first column); returns rows removed. */
async function scrubCsv(file: string, eventIds: ReadonlySet<string>): Promise<number> {
  const text = await readFile(file, 'utf8');
  const records = parse(text, { raw: true, relax_column_count: true, skip_empty_lines: true }) as unknown as Array<{
    record: string[];
    raw: string;
  }>;
  const [header, ...rows] = records;
  if (!header) return 0;
  const kept = rows.filter((r) => !eventIds.has(r.record[0] ?? ''));
  if (kept.length === rows.length) return 0;
  const line = (raw: string) => (raw.endsWith('\n') ? raw : `${raw}\n`);
  await writeFile(file, [header, ...kept].map((r) => line(r.raw)).join(''));
  return rows.length - kept.length;
}
