import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ClickHouseClient } from '@clickhouse/client';
import { parse } from 'csv-parse/sync';
import { getDecision } from '../platform/clickhouse/decisions-repository.ts';
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
import { recordOperationDecision } from './manual-decision.ts';
import type { MonitorClient, RetrainRequestOutcome } from './monitor-control.ts';
import type { PromotionContext } from './promotion-context.ts';
import { withdrawTainted, type WithdrawalOutcome } from './withdraw-tainted.ts';

/**
 * GDPR erasure of one data subject: scrub their rows from training snapshot files (each rewritten
 * with a new sha256 sidecar); mark every model version trained on them `tainted`; withdraw a
 * tainted version from serving at once (operations/withdraw-tainted.ts: the newest untainted
 * version serves instead, or nothing — `gdpr.withdrawal`; after `gdpr.withdrawalGraceMs` when one
 * is set); delete their scoring events, labels, dead letters, shadow results and training lineage;
 * ask the monitor of each model trained on them to retrain; and record the operation as a
 * `gdpr-erasure` decision per affected model. The withdrawal comes before the deletion: if it
 * cannot be published (Kafka down), the erasure fails before deleting anything and can be run
 * again (lineage, which links versions to the subject, is deleted last). The subject id itself is
 * never written anywhere: records carry its sha256, so the audit trail proves the erasure without
 * keeping the identifier.
 */

export interface ErasureOptions {
  subjectId: string;
  /** Count and list what would happen; change nothing. @default false */
  dryRun?: boolean;
  /** Who asks (recorded). */
  actor: string;
  /**
   * The monitors to ask for a retrain of each model trained on the subject (and, with a grace
   * period, where the withdrawal's timer runs). Omitted: no retrain is requested.
   */
  monitors?: Pick<MonitorClient, 'requestRetrain'> & Partial<Pick<MonitorClient, 'scheduleWithdrawal'>>;
  /** Publishes the withdrawal of tainted versions and waits for serving. Omitted: nothing is withdrawn (reported). */
  promotion?: PromotionContext;
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
  /**
   * Training snapshot files holding the subject's rows, each rewritten without them (with dryRun:
   * that would be) together with its sha256 sidecar (`<uri>.sha256`); `sha256` is the new digest
   * (null in a dry run).
   */
  snapshotFiles: Array<{
    snapshotId: string;
    uri: string;
    sidecar: string;
    removedRows: number;
    sha256: string | null;
  }>;
  /**
   * Versions trained (or validated) on the subject's records. `stage` is the stage after the
   * erasure (`tainted`; with dryRun, what it would be), `previousStage` the one before.
   */
  tainted: Array<VersionTrainedOnSubject & { previousStage: string; changed: boolean }>;
  /** Per model with a tainted version: what serves instead (with dryRun: action 'dry-run'). */
  withdrawals: Array<WithdrawalOutcome | { modelId: string; action: 'dry-run' | 'not-withdrawn'; reason: string }>;
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
    tainted: versions.map((v) => ({ ...v, stage: 'tainted', previousStage: v.stage, changed: v.stage !== 'tainted' })),
    withdrawals: trainedModels.map((modelId) => ({
      modelId,
      action: 'dry-run' as const,
      reason: `a tainted version still served is withdrawn (gdpr.withdrawal: ${options.promotion?.config.gdpr.withdrawal ?? 'newest-untainted'})`,
    })),
    retrains: trainedModels.map((modelId) => ({
      modelId,
      requested: false,
      reason: dryRun ? 'dry run' : 'not requested',
    })),
    decisions: [],
  };
  // Snapshot CSVs first (they are found through lineage rows, which are deleted last). A dry run
  // reads them to list every file it would rewrite.
  const ids = new Set(eventIds);
  for (const snapshotId of snapshots) {
    const snapshot = await lineage.getSnapshot(snapshotId);
    if (!snapshot || !options.artifacts) continue;
    for (const uri of [snapshot.trainUri, snapshot.holdoutUri]) {
      if (!uri || !(await options.artifacts.exists(uri))) continue;
      const scrubbed = await scrubCsv(await options.artifacts.localPath(uri), ids);
      if (scrubbed.removedRows === 0) continue;
      const sha256 = dryRun ? null : (await options.artifacts.rewrite(uri, scrubbed.bytes)).sha256;
      report.snapshotFiles.push({
        snapshotId,
        uri,
        sidecar: `${uri}.sha256`,
        removedRows: scrubbed.removedRows,
        sha256,
      });
    }
  }
  if (dryRun) return report;

  const reason = `gdpr erasure of subject sha256:${digest.slice(0, 16)} (${erasureId})`;
  report.tainted = [];
  for (const v of versions) {
    const change = await registry.setStage(v.modelId, v.version, 'tainted', options.actor, reason);
    report.tainted.push({
      ...v,
      stage: change.version.stage,
      previousStage: change.previousStage,
      changed: change.changed,
    });
  }

  report.withdrawals = [];
  for (const modelId of trainedModels) report.withdrawals.push(await withdraw(options, modelId, erasureId, reason));

  await deleteSubjectRows(client, subjectId, eventIds, deleted);
  report.remaining = await countSubjectRows(client, subjectId, eventIds);

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
    await recordOperationDecision(client, {
      decisionId,
      kind: 'gdpr-erasure',
      modelId,
      modelVersion: '',
      actor: options.actor,
      reason,
      statistics: { deleted: report.deleted, remaining: report.remaining },
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
        withdrawal: report.withdrawals.find((w) => w.modelId === modelId) ?? null,
        snapshotFiles: report.snapshotFiles.length,
      },
    });
    report.decisions.push(decisionId);
  }
  return report;
}

/** Take a model's tainted versions out of serving: now, or after the grace period (a durable timer). */
async function withdraw(
  options: ErasureOptions,
  modelId: string,
  erasureId: string,
  reason: string,
): Promise<ErasureReport['withdrawals'][number]> {
  const ctx = options.promotion;
  if (!ctx)
    return {
      modelId,
      action: 'not-withdrawn',
      reason: 'no connection to serving: withdraw with `halflife models promote` or `models rollback`',
    };
  const input = { modelId, erasureId, actor: options.actor, reason };
  const graceMs = ctx.config.gdpr.withdrawalGraceMs;
  let note = '';
  if (graceMs > 0) {
    if (options.monitors?.scheduleWithdrawal) {
      try {
        const scheduled = await options.monitors.scheduleWithdrawal({ ...input, graceMs });
        return {
          modelId,
          taintedServed: [],
          action: 'scheduled',
          version: null,
          serving: null,
          reason: `withdrawn after the grace period (gdpr.withdrawalGraceMs = ${graceMs}) by workflow ${scheduled.workflowId}, unless a retrain promotes a fresh version first`,
          decisionId: null,
          withdrawAt: scheduled.withdrawAt,
        };
      } catch (err) {
        note = ` (the grace period's timer could not start: ${(err as Error).message})`;
      }
    } else note = ' (no Temporal connection for the grace period: withdrawn at once)';
  }
  const outcome = await withdrawTainted(ctx, input);
  return note ? { ...outcome, reason: `${outcome.reason}${note}` } : outcome;
}

/** A snapshot CSV without the rows of the given event ids (first column), and how many rows that removes. */
async function scrubCsv(
  file: string,
  eventIds: ReadonlySet<string>,
): Promise<{ bytes: Uint8Array; removedRows: number }> {
  const text = await readFile(file, 'utf8');
  const records = parse(text, { raw: true, relax_column_count: true, skip_empty_lines: true }) as unknown as Array<{
    record: string[];
    raw: string;
  }>;
  const [header, ...rows] = records;
  if (!header) return { bytes: new Uint8Array(), removedRows: 0 };
  const kept = rows.filter((r) => !eventIds.has(r.record[0] ?? ''));
  const line = (raw: string) => (raw.endsWith('\n') ? raw : `${raw}\n`);
  return {
    bytes: new TextEncoder().encode([header, ...kept].map((r) => line(r.raw)).join('')),
    removedRows: rows.length - kept.length,
  };
}
