import { createHash, randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { ClickHouseClient } from '@clickhouse/client';
import { parse } from 'csv-parse/sync';
import { ValidationError } from '../errors.ts';
import type { ArtifactStore } from '../registry/artifact-store.ts';
import { queryRows } from './client.ts';
import { recordDecision } from './decisions-repository.ts';
import { ClickHouseLineageRepository, type VersionTrainedOnSubject } from './lineage-repository.ts';
import { ClickHouseRegistryRepository } from './registry-repository.ts';

/**
 * GDPR erasure of one data subject: delete their scoring events, labels, dead letters, shadow
 * results and training lineage; scrub their rows from training snapshot files; mark every model
 * version trained on them `tainted`; ask each affected model's monitor to retrain (through a
 * callback, so this module stays free of Temporal); and record the operation as a `gdpr-erasure`
 * decision per affected model. The subject id itself is never written anywhere: records carry its
 * sha256, so the audit trail proves the erasure without keeping the identifier.
 */

/** Tables that hold a subject's rows, in deletion order (scoring_events last: the others are found through it). */
export const ERASURE_TABLES = [
  'labels',
  'shadow_results',
  'dead_letters',
  'training_lineage',
  'scoring_events',
] as const;
export type ErasureTable = (typeof ERASURE_TABLES)[number];

export interface RetrainRequestOutcome {
  modelId: string;
  /** True when the monitor accepted the forceRetrain Update. */
  requested: boolean;
  /** The monitor's resulting decision (retrain, blocked by a guard, awaiting approval...). */
  decisionId?: string;
  decisionKind?: string;
  /** Why no retrain was requested: no monitor runs, the monitor refused (paused, a retrain runs...). */
  reason: string;
}

export interface ErasureOptions {
  subjectId: string;
  /** Count and list what would happen; change nothing. @default false */
  dryRun?: boolean;
  /** Who asks (recorded). */
  actor: string;
  /** Ask the monitor of each affected model to retrain. Omitted: no retrain is requested. */
  requestRetrain?: (modelId: string, reason: string) => Promise<RetrainRequestOutcome>;
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

const CHUNK = 20_000;

function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The WHERE clause selecting a subject's rows in each table (parameters {s} and {ids}). */
const WHERE: Record<ErasureTable, string> = {
  scoring_events: 'subject_id = {s:String}',
  training_lineage: 'subject_id = {s:String}',
  labels: 'event_id IN {ids:Array(String)}',
  shadow_results: 'event_id IN {ids:Array(String)}',
  // Bad records are kept whole as text: match the subject or their events inside the JSON payload.
  dead_letters:
    "(JSONExtractString(payload, 'subject_id') = {s:String} OR JSONExtractString(payload, 'event_id') IN {ids:Array(String)})",
};

async function countRows(
  client: ClickHouseClient,
  subjectId: string,
  eventIds: string[],
): Promise<Record<ErasureTable, number>> {
  const counts = Object.fromEntries(ERASURE_TABLES.map((t) => [t, 0])) as Record<ErasureTable, number>;
  for (const table of ERASURE_TABLES) {
    const idChunks = WHERE[table].includes('{ids') ? chunks(eventIds) : [[]];
    if (idChunks.length === 0) idChunks.push([]);
    for (const ids of idChunks) {
      const [row] = await queryRows<{ n: string }>(client, `SELECT count() AS n FROM ${table} WHERE ${WHERE[table]}`, {
        s: subjectId,
        ids,
      });
      counts[table] += Number(row?.n ?? 0);
    }
  }
  return counts;
}

async function subjectEventIds(client: ClickHouseClient, subjectId: string): Promise<string[]> {
  const rows = await queryRows<{ event_id: string }>(
    client,
    `SELECT event_id FROM scoring_events WHERE subject_id = {s:String}
     UNION DISTINCT SELECT event_id FROM training_lineage WHERE subject_id = {s:String}`,
    { s: subjectId },
  );
  return [...new Set(rows.map((r) => r.event_id))];
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
  const deleted = await countRows(client, subjectId, eventIds);
  const versions = await lineage.versionsTrainedOnSubject(subjectId);
  const snapshots = await queryRows<{ snapshot_id: string }>(
    client,
    'SELECT DISTINCT snapshot_id FROM training_lineage WHERE subject_id = {s:String}',
    { s: subjectId },
  );
  const [scoredModels] = await queryRows<{ models: string[] }>(
    client,
    'SELECT groupUniqArray(model_id) AS models FROM scoring_events WHERE subject_id = {s:String}',
    { s: subjectId },
  );
  const affectedModels = [
    ...new Set([
      ...versions.map((v) => v.modelId),
      ...(scoredModels?.models ?? []).map((m) => m.replace(/\.shadow$/, '')),
    ]),
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
  for (const { snapshot_id: snapshotId } of snapshots) {
    const snapshot = await lineage.getSnapshot(snapshotId);
    if (!snapshot || !options.artifacts) continue;
    for (const uri of [snapshot.trainUri, snapshot.holdoutUri]) {
      if (!uri || !(await options.artifacts.exists(uri))) continue;
      const removedRows = await scrubCsv(await options.artifacts.localPath(uri), ids);
      report.snapshotFiles.push({ snapshotId, uri, removedRows });
    }
  }

  // ALTER TABLE … DELETE with mutations_sync=2 rewrites the parts before answering, so the rows
  // are physically gone (a lightweight DELETE only masks them until a merge).
  for (const table of ERASURE_TABLES) {
    if (deleted[table] === 0) continue;
    const idChunks = WHERE[table].includes('{ids') ? chunks(eventIds) : [[]];
    for (const chunk of idChunks) {
      await client.command({
        query: `ALTER TABLE ${table} DELETE WHERE ${WHERE[table]}`,
        query_params: { s: subjectId, ids: chunk },
        clickhouse_settings: { mutations_sync: '2' },
      });
    }
  }
  report.remaining = await countRows(client, subjectId, eventIds);

  const reason = `gdpr erasure of subject sha256:${digest.slice(0, 16)} (${erasureId})`;
  report.tainted = [];
  for (const v of versions) {
    const change = await registry.setStage(v.modelId, v.version, 'tainted', options.actor, reason);
    report.tainted.push({ ...v, previousStage: change.previousStage, changed: change.changed });
  }

  report.retrains = [];
  for (const modelId of trainedModels) {
    if (!options.requestRetrain) {
      report.retrains.push({
        modelId,
        requested: false,
        reason: 'no monitor connection: retrain with `halflife retrain <model>`',
      });
      continue;
    }
    try {
      report.retrains.push(await options.requestRetrain(modelId, reason));
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
