import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from './client.ts';

/**
 * The SQL of a data subject's erasure (operations/erase-subject.ts): find the subject's events,
 * snapshots and models, count their rows per table, delete them. The subject is matched by
 * `subject_id` where a table has it and through their event ids where it has not.
 */

/** Tables that hold a subject's rows, in deletion order (scoring_events last: the others are found through it). */
export const ERASURE_TABLES = [
  'labels',
  'shadow_results',
  'validation_outputs',
  'shadow_outcome_results',
  'dead_letters',
  'training_lineage',
  'scoring_events',
] as const;
export type ErasureTable = (typeof ERASURE_TABLES)[number];

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
  validation_outputs: 'event_id IN {ids:Array(String)}',
  shadow_outcome_results: 'event_id IN {ids:Array(String)}',
  // Bad records are kept whole as text: match the subject or their events inside the JSON payload.
  dead_letters:
    "(JSONExtractString(payload, 'subject_id') = {s:String} OR JSONExtractString(payload, 'event_id') IN {ids:Array(String)})",
};

/** The subject's rows per table: what an erasure deletes, and afterwards what it left (all zero on success). */
export async function countSubjectRows(
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

/** Ids of the subject's scoring events, including those only training lineage still names. */
export async function subjectEventIds(client: ClickHouseClient, subjectId: string): Promise<string[]> {
  const rows = await queryRows<{ event_id: string }>(
    client,
    `SELECT event_id FROM scoring_events WHERE subject_id = {s:String}
     UNION DISTINCT SELECT event_id FROM training_lineage WHERE subject_id = {s:String}`,
    { s: subjectId },
  );
  return [...new Set(rows.map((r) => r.event_id))];
}

/** Training snapshots that hold the subject's rows. */
export async function subjectSnapshotIds(client: ClickHouseClient, subjectId: string): Promise<string[]> {
  const rows = await queryRows<{ snapshot_id: string }>(
    client,
    'SELECT DISTINCT snapshot_id FROM training_lineage WHERE subject_id = {s:String}',
    { s: subjectId },
  );
  return rows.map((r) => r.snapshot_id);
}

/** Model ids the subject's events were scored under (shadow scorings under `<model>.shadow`). */
export async function modelsScoringSubject(client: ClickHouseClient, subjectId: string): Promise<string[]> {
  const [row] = await queryRows<{ models: string[] }>(
    client,
    'SELECT groupUniqArray(model_id) AS models FROM scoring_events WHERE subject_id = {s:String}',
    { s: subjectId },
  );
  return row?.models ?? [];
}

/**
 * Delete the subject's rows from every table where `counts` found some. ALTER TABLE … DELETE with
 * mutations_sync=2 rewrites the parts before answering, so the rows are physically gone (a
 * lightweight DELETE only masks them until a merge).
 */
export async function deleteSubjectRows(
  client: ClickHouseClient,
  subjectId: string,
  eventIds: string[],
  counts: Record<ErasureTable, number>,
): Promise<void> {
  for (const table of ERASURE_TABLES) {
    if (counts[table] === 0) continue;
    const idChunks = WHERE[table].includes('{ids') ? chunks(eventIds) : [[]];
    for (const chunk of idChunks) {
      await client.command({
        query: `ALTER TABLE ${table} DELETE WHERE ${WHERE[table]}`,
        query_params: { s: subjectId, ids: chunk },
        clickhouse_settings: { mutations_sync: '2' },
      });
    }
  }
}
