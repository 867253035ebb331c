/**
 * Champion–challenger evaluation on the same events (activities/shadow.ts): the recent labelled
 * events a challenger is scored on, never those of its training split, and the per-event
 * results (`shadow_results`). The newest label of an event wins.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from './client.ts';
import { labelsOfEvents } from './labels-of-events.ts';
import { chdbRawInsert, insertCompactRows } from './raw-insert.ts';
import { probeEventsSubquery, type ProbeEventsQuery } from './probe-events.ts';
import { windowFilter, type TimeWindow } from './time-window.ts';

/** A labelled event to evaluate on, newest first. */
export interface ShadowEventRow {
  event_id: string;
  num_features: Record<string, number>;
  cat_features: Record<string, string>;
  /** The score recorded when the event was served. */
  prediction_score: number | null;
  model_version: string;
  label: string;
  label_numeric: number | null;
  /** Live pairs only: the challenger's shadow score and both latencies (metadata `latency_ms`, text). */
  shadow_score?: number | null;
  shadow_latency?: string;
  live_latency?: string;
  /** Live pairs only: the scorer run each latency was measured in (metadata `latency_run`; '' when not sent). */
  shadow_latency_run?: string;
  live_latency_run?: string;
}

export interface ShadowEventsQuery {
  modelId: string;
  window: TimeWindow;
  /** The challenger's training snapshot: its `train` events are left out. */
  trainingSnapshotId: string;
  /** Most recent events returned. */
  limit: number;
}

/** Events in a challenger's training split. */
export async function trainingSplitSize(client: ClickHouseClient, snapshotId: string): Promise<number> {
  const [row] = await queryRows<{ n: string }>(
    client,
    `SELECT count() AS n FROM training_lineage WHERE snapshot_id = {lineage:String} AND split = 'train'`,
    { lineage: snapshotId },
  );
  return Number(row?.n ?? 0);
}

/** Labelled events of the model in the window, any version, to re-score with both models. */
export async function replayEvents(client: ClickHouseClient, q: ShadowEventsQuery): Promise<ShadowEventRow[]> {
  const ts = windowFilter('ts', q.window);
  return queryRows<ShadowEventRow>(
    client,
    `SELECT e.event_id AS event_id, e.num_features AS num_features, e.cat_features AS cat_features, e.prediction_score AS prediction_score,
            e.model_version AS model_version, l.label AS label, l.label_numeric AS label_numeric
     FROM (SELECT event_id, ts, num_features, cat_features, prediction_score, model_version FROM scoring_events FINAL
           WHERE model_id = {m:String} AND ${ts.sql}
             AND event_id NOT IN (SELECT event_id FROM training_lineage WHERE snapshot_id = {lineage:String} AND split = 'train')) AS e
     INNER JOIN (SELECT event_id, argMax(label, label_ts) AS label, argMax(label_numeric, label_ts) AS label_numeric
                 FROM labels ${labelsOfEvents(`model_id = {m:String} AND ${ts.sql}`)} GROUP BY event_id) AS l
       ON l.event_id = e.event_id
     ORDER BY e.ts DESC, e.event_id LIMIT {limit:UInt32}`,
    { m: q.modelId, ...ts.params, lineage: q.trainingSnapshotId, limit: q.limit },
  );
}

/**
 * Labelled events the champion served in the window, paired with the shadow events the
 * challenger scored on them (model id `shadowModelId`, same event ids).
 */
export async function livePairs(
  client: ClickHouseClient,
  q: ShadowEventsQuery & { shadowModelId: string; championVersion: string; candidateVersion: string },
): Promise<ShadowEventRow[]> {
  const ts = windowFilter('ts', q.window);
  return queryRows<ShadowEventRow>(
    client,
    `SELECT e.event_id AS event_id, e.num_features AS num_features, e.cat_features AS cat_features, e.prediction_score AS prediction_score,
            e.model_version AS model_version, s.prediction_score AS shadow_score, s.metadata['latency_ms'] AS shadow_latency,
            e.metadata['latency_ms'] AS live_latency, s.metadata['latency_run'] AS shadow_latency_run,
            e.metadata['latency_run'] AS live_latency_run, l.label AS label, l.label_numeric AS label_numeric
     FROM (SELECT event_id, ts, num_features, cat_features, prediction_score, model_version, metadata FROM scoring_events FINAL
           WHERE model_id = {m:String} AND model_version = {champion:String}
             AND ${ts.sql}) AS e
     INNER JOIN (SELECT event_id, prediction_score, metadata FROM scoring_events FINAL
           WHERE model_id = {shadow:String} AND model_version = {candidate:String}
             AND event_id NOT IN (SELECT event_id FROM training_lineage WHERE snapshot_id = {lineage:String} AND split = 'train')) AS s
       ON s.event_id = e.event_id
     INNER JOIN (SELECT event_id, argMax(label, label_ts) AS label, argMax(label_numeric, label_ts) AS label_numeric
                 FROM labels ${labelsOfEvents(`model_id = {m:String} AND model_version = {champion:String} AND ${ts.sql}`)}
                 GROUP BY event_id) AS l
       ON l.event_id = e.event_id
     ORDER BY e.ts DESC, e.event_id LIMIT {limit:UInt32}`,
    {
      m: q.modelId,
      shadow: q.shadowModelId,
      champion: q.championVersion,
      candidate: q.candidateVersion,
      ...ts.params,
      lineage: q.trainingSnapshotId,
      limit: q.limit,
    },
  );
}

/** A probe's labelled event without its features, and what the probe's evaluation already stored of it. */
export interface ProbePairRow {
  event_id: string;
  /** The score the champion served. */
  prediction_score: number | null;
  label: string;
  label_numeric: number | null;
  /** The challenger's score, label and champion score this evaluation stored; null when it never scored the event. */
  stored_score: number | null;
  stored_label: number | null;
  stored_champion_score: number | null;
}

/**
 * A challenger probe's events: labelled events the champion served since the probe started,
 * with the label that had arrived by the decision (the newest such), oldest first; each with what
 * the probe's evaluation (`evaluationId`) stored of it in `shadow_results`. No features: those of
 * the events still to score are read by {@link eventFeatures}.
 */
export async function probePairs(
  client: ClickHouseClient,
  q: ProbeEventsQuery & { evaluationId: string },
): Promise<ProbePairRow[]> {
  const events = probeEventsSubquery(q, ['prediction_score']);
  const rows = await queryRows<ProbePairRow>(
    client,
    `SELECT p.event_id AS event_id, p.prediction_score AS prediction_score, p.label AS label, p.label_numeric AS label_numeric,
            s.candidate_score AS stored_score, s.label AS stored_label, s.champion_score AS stored_champion_score
     FROM (${events.sql}) AS p
     LEFT JOIN (SELECT event_id, candidate_score, label, champion_score FROM shadow_results FINAL
                WHERE model_id = {m:String} AND evaluation_id = {evaluation:String}) AS s
       ON s.event_id = p.event_id
     ORDER BY p.ts, p.event_id
     SETTINGS join_use_nulls = 1`,
    { ...events.params, evaluation: q.evaluationId },
  );
  return rows.map((r) => ({
    ...r,
    prediction_score: r.prediction_score === null ? null : Number(r.prediction_score),
    label_numeric: r.label_numeric === null ? null : Number(r.label_numeric),
    stored_score: r.stored_score === null ? null : Number(r.stored_score),
    stored_label: r.stored_label === null ? null : Number(r.stored_label),
    stored_champion_score: r.stored_champion_score === null ? null : Number(r.stored_champion_score),
  }));
}

/** The features of a model's events by id (the newest delivery of each); ids not stored are absent. */
export async function eventFeatures(
  client: ClickHouseClient,
  modelId: string,
  eventIds: readonly string[],
): Promise<Pick<ShadowEventRow, 'event_id' | 'num_features' | 'cat_features'>[]> {
  if (eventIds.length === 0) return [];
  return queryRows(
    client,
    `SELECT event_id, num_features, cat_features FROM scoring_events FINAL
     WHERE model_id = {m:String} AND event_id IN {ids:Array(String)}`,
    { m: modelId, ids: [...eventIds] },
  );
}

/** One paired event's result (`shadow_results`). */
export interface ShadowResultRow {
  evaluation_id: string;
  model_id: string;
  candidate_version: string;
  champion_version: string;
  event_id: string;
  /** `probe`: a challenger probe's events (the candidate is a probe version, never served). */
  source: 'replay' | 'live' | 'probe';
  label: 0 | 1;
  champion_score: number;
  candidate_score: number;
  champion_latency_ms: number;
  candidate_latency_ms: number;
  /** Epoch ms. */
  evaluated_at: number;
}

const SHADOW_RESULT_COLUMNS = [
  'evaluation_id',
  'model_id',
  'candidate_version',
  'champion_version',
  'event_id',
  'source',
  'label',
  'champion_score',
  'candidate_score',
  'champion_latency_ms',
  'candidate_latency_ms',
  'evaluated_at',
] as const;

/** Rows per insert: each is one part; 100k rows are ~14 MB of text. */
const SHADOW_INSERT_ROWS = 100_000;

/**
 * One evaluation's paired results, by column: what the evaluation shares once, then one entry
 * per event in each array (same order, same length).
 */
export interface ShadowResultColumns {
  evaluation_id: string;
  model_id: string;
  candidate_version: string;
  champion_version: string;
  source: ShadowResultRow['source'];
  /** Epoch ms. */
  evaluated_at: number;
  event_ids: readonly string[];
  labels: ArrayLike<number>;
  champion_scores: ArrayLike<number>;
  candidate_scores: ArrayLike<number>;
  champion_latency_ms: ArrayLike<number>;
  candidate_latency_ms: ArrayLike<number>;
}

/**
 * Store one evaluation's per-event results. The rows are encoded (JSONCompactEachRow, in
 * inserts of at most 100,000 rows) before this returns, and every insert is already under way:
 * the engine writes them on its own threads while the caller goes on (the shadow evaluation
 * computes its verdict meanwhile). The promise settles when all rows are stored; await it.
 */
export function storeShadowResults(client: ClickHouseClient, results: ShadowResultColumns): Promise<void> {
  const n = results.event_ids.length;
  for (const key of [
    'labels',
    'champion_scores',
    'candidate_scores',
    'champion_latency_ms',
    'candidate_latency_ms',
  ] as const)
    if (results[key].length !== n)
      throw new RangeError(`storeShadowResults: ${n} event ids but ${results[key].length} ${key}`);
  const raw = chdbRawInsert(client);
  const inserts: Promise<void>[] = [];
  for (let start = 0; start < n; start += SHADOW_INSERT_ROWS) {
    const end = Math.min(n, start + SHADOW_INSERT_ROWS);
    const lines = new Array<string>(end - start);
    for (let i = start; i < end; i++)
      lines[i - start] = JSON.stringify([
        results.evaluation_id,
        results.model_id,
        results.candidate_version,
        results.champion_version,
        results.event_ids[i],
        results.source,
        results.labels[i],
        results.champion_scores[i],
        results.candidate_scores[i],
        results.champion_latency_ms[i],
        results.candidate_latency_ms[i],
        results.evaluated_at,
      ]);
    const body = Buffer.from(lines.join('\n'));
    inserts.push(insertCompactRows(client, raw, { table: 'shadow_results', columns: SHADOW_RESULT_COLUMNS, body }));
  }
  return Promise.all(inserts).then(() => undefined);
}

/** Store per-event results given as rows. */
export async function insertShadowResults(client: ClickHouseClient, rows: readonly ShadowResultRow[]): Promise<void> {
  const raw = chdbRawInsert(client);
  for (let i = 0; i < rows.length; i += SHADOW_INSERT_ROWS) {
    const lines = rows
      .slice(i, i + SHADOW_INSERT_ROWS)
      .map((r) => JSON.stringify(SHADOW_RESULT_COLUMNS.map((c) => r[c])));
    await insertCompactRows(client, raw, {
      table: 'shadow_results',
      columns: SHADOW_RESULT_COLUMNS,
      body: Buffer.from(lines.join('\n')),
    });
  }
}

/**
 * A version's own scores on labelled events, from its shadow evaluations (probes excluded), one
 * per event, a hash sample of at most `limit`: what a version promoted from a retrain is
 * calibrated and profiled on, since the training events carry the scores of the model that
 * served them.
 */
export async function ownLabelledScores(
  client: ClickHouseClient,
  modelId: string,
  version: string,
  limit: number,
): Promise<{ score: number; label: number }[]> {
  const rows = await queryRows<{ score: number; label: number }>(
    client,
    `SELECT any(candidate_score) AS score, any(label) AS label
     FROM shadow_results FINAL
     WHERE model_id = {model:String} AND candidate_version = {version:String} AND source != 'probe'
     GROUP BY event_id
     ORDER BY cityHash64(event_id) LIMIT {limit:UInt32}`,
    { model: modelId, version, limit },
  );
  return rows.map((r) => ({ score: Number(r.score), label: Number(r.label) }));
}
