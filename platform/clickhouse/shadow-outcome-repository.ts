/**
 * The shadow evaluation of a multiclass or regression challenger (activities/shadow.ts): the live
 * pairs the scorer served — the champion's production events joined by event id with the
 * challenger's shadow events (`<model>.shadow`), each side's class probabilities or predicted
 * number, and the event's newest label — and the per-event pairs every evaluation stores
 * (`shadow_outcome_results`), read back per evaluation for the API.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from './client.ts';
import { labelsOfEvents } from './labels-of-events.ts';
import { chdbRawInsert, insertCompactRows } from './raw-insert.ts';
import { windowFilter, type TimeWindow } from './time-window.ts';
import { probeEventsSubquery, type ProbeEventsQuery } from './probe-events.ts';

export interface LivePairsQuery {
  modelId: string;
  /** The model id the scorer emits the challenger's shadow events under (`<model>.shadow`). */
  shadowModelId: string;
  championVersion: string;
  candidateVersion: string;
  /** Events scored in this window (event time). */
  window: TimeWindow;
  /** The challenger's training snapshot: its `train` events are left out. */
  trainingSnapshotId: string;
}

/** One live pair: the features, what each side served, and the newest label. */
export interface LiveOutcomePairRow {
  event_id: string;
  num_features: Record<string, number>;
  cat_features: Record<string, string>;
  champion_probabilities: Record<string, number>;
  champion_value: number | null;
  candidate_probabilities: Record<string, number>;
  candidate_value: number | null;
  /** `latency_ms` of each event's metadata (ms per row of its batch), '' when absent. */
  champion_latency: string;
  candidate_latency: string;
  /** The scorer run each latency was measured in (metadata `latency_run`), '' when not sent. */
  champion_latency_run: string;
  candidate_latency_run: string;
  label: string;
  label_numeric: number | null;
}

/** The three sides of a live pair: champion events, challenger shadow events, labels; one SQL for the rows and the count. */
function livePairsFrom(q: LivePairsQuery) {
  const ts = windowFilter('ts', q.window);
  const sql = `(SELECT event_id, ts, num_features, cat_features, prediction_probabilities, prediction_value, metadata FROM scoring_events FINAL
           WHERE model_id = {m:String} AND model_version = {champion:String} AND ${ts.sql}) AS e
     INNER JOIN (SELECT event_id, prediction_probabilities, prediction_value, metadata FROM scoring_events FINAL
           WHERE model_id = {shadow:String} AND model_version = {candidate:String} AND ${ts.sql}
             AND event_id NOT IN (SELECT event_id FROM training_lineage WHERE snapshot_id = {lineage:String} AND split = 'train')) AS s
       ON s.event_id = e.event_id
     INNER JOIN (SELECT event_id, argMax(label, label_ts) AS label, argMax(label_numeric, label_ts) AS label_numeric
                 FROM labels ${labelsOfEvents(`model_id = {shadow:String} AND model_version = {candidate:String} AND ${ts.sql}`)}
                 GROUP BY event_id) AS l
       ON l.event_id = e.event_id`;
  const params = {
    m: q.modelId,
    shadow: q.shadowModelId,
    champion: q.championVersion,
    candidate: q.candidateVersion,
    ...ts.params,
    lineage: q.trainingSnapshotId,
  };
  return { sql, params };
}

/** Labelled events the champion served and the challenger scored in shadow in the window, newest first. */
export async function liveOutcomePairs(
  client: ClickHouseClient,
  q: LivePairsQuery & { limit: number },
): Promise<LiveOutcomePairRow[]> {
  const from = livePairsFrom(q);
  const rows = await queryRows<LiveOutcomePairRow>(
    client,
    `SELECT e.event_id AS event_id, e.num_features AS num_features, e.cat_features AS cat_features,
            e.prediction_probabilities AS champion_probabilities, e.prediction_value AS champion_value,
            s.prediction_probabilities AS candidate_probabilities, s.prediction_value AS candidate_value,
            e.metadata['latency_ms'] AS champion_latency, s.metadata['latency_ms'] AS candidate_latency,
            e.metadata['latency_run'] AS champion_latency_run, s.metadata['latency_run'] AS candidate_latency_run,
            l.label AS label, l.label_numeric AS label_numeric
     FROM ${from.sql}
     ORDER BY e.ts DESC, e.event_id LIMIT {limit:UInt32}`,
    { ...from.params, limit: q.limit },
  );
  const numberOrNull = (v: number | string | null) => (v === null ? null : Number(v));
  return rows.map((r) => ({
    ...r,
    champion_value: numberOrNull(r.champion_value),
    candidate_value: numberOrNull(r.candidate_value),
    label_numeric: numberOrNull(r.label_numeric),
  }));
}

/** The labelled live pairs of a window, and the latency samples among them per side. */
export interface LivePairCounts {
  labelledPairs: number;
  /**
   * Latency samples each side's pairs hold, as the verdict counts them (`latencySamplesByRun`):
   * one per distinct scorer run, plus one per event with a latency but no run id.
   */
  latencyRuns: { champion: number; candidate: number };
}

/** How many labelled live pairs the window holds (any kind), and their scorer runs: what a retrain waits for before its verdict. */
export async function livePairCount(client: ClickHouseClient, q: LivePairsQuery): Promise<LivePairCounts> {
  const from = livePairsFrom(q);
  const runs = (side: 'e' | 's') =>
    `uniqExactIf(${side}.metadata['latency_run'], ${side}.metadata['latency_run'] != '' AND ${side}.metadata['latency_ms'] != '')
     + countIf(${side}.metadata['latency_run'] = '' AND ${side}.metadata['latency_ms'] != '')`;
  const [row] = await queryRows<{ n: string; champion_runs: string; candidate_runs: string }>(
    client,
    `SELECT count() AS n, ${runs('e')} AS champion_runs, ${runs('s')} AS candidate_runs FROM ${from.sql}`,
    from.params,
  );
  return {
    labelledPairs: Number(row?.n ?? 0),
    latencyRuns: { champion: Number(row?.champion_runs ?? 0), candidate: Number(row?.candidate_runs ?? 0) },
  };
}

/** One evaluation's paired events, by column (same order, same length in every array). */
export interface ShadowOutcomeColumns {
  evaluation_id: string;
  model_id: string;
  candidate_version: string;
  champion_version: string;
  /** `probe`: a challenger probe's events (the candidate is a probe version, never served). */
  source: 'replay' | 'live' | 'probe';
  kind: 'multiclass' | 'regression';
  /** The per-event loss compared: logLoss, accuracy (0/1 error), squaredError or absoluteError. */
  loss: string;
  /** Epoch ms. */
  evaluated_at: number;
  event_ids: readonly string[];
  /** Multiclass: the true class per event. */
  label_classes?: readonly string[];
  /** Regression: the true value per event. */
  label_values?: readonly number[];
  /** Multiclass: each side's class probabilities by class. */
  champion_probabilities?: readonly Record<string, number>[];
  candidate_probabilities?: readonly Record<string, number>[];
  /** Regression: each side's predicted number. */
  champion_values?: readonly number[];
  candidate_values?: readonly number[];
  champion_losses: readonly number[];
  candidate_losses: readonly number[];
  champion_latency_ms: readonly number[];
  candidate_latency_ms: readonly number[];
}

const COLUMNS = [
  'evaluation_id',
  'model_id',
  'candidate_version',
  'champion_version',
  'event_id',
  'source',
  'kind',
  'loss',
  'label_class',
  'label_value',
  'champion_probabilities',
  'candidate_probabilities',
  'champion_value',
  'candidate_value',
  'champion_loss',
  'candidate_loss',
  'champion_latency_ms',
  'candidate_latency_ms',
  'evaluated_at',
] as const;

/** Rows per insert (each insert is one part). */
const INSERT_ROWS = 50_000;

/** Store one evaluation's per-event pairs (a retried evaluation writes the same rows: the table keeps one per event). */
export async function storeShadowOutcomes(client: ClickHouseClient, r: ShadowOutcomeColumns): Promise<void> {
  const n = r.event_ids.length;
  const perEvent = [
    'label_classes',
    'label_values',
    'champion_probabilities',
    'candidate_probabilities',
    'champion_values',
    'candidate_values',
    'champion_losses',
    'candidate_losses',
    'champion_latency_ms',
    'candidate_latency_ms',
  ] as const;
  for (const key of perEvent) {
    const values = r[key];
    if (values !== undefined && values.length !== n)
      throw new RangeError(`storeShadowOutcomes: ${n} event ids but ${values.length} ${key}`);
  }
  const raw = chdbRawInsert(client);
  for (let start = 0; start < n; start += INSERT_ROWS) {
    const end = Math.min(n, start + INSERT_ROWS);
    const lines: string[] = [];
    for (let i = start; i < end; i++)
      lines.push(
        JSON.stringify([
          r.evaluation_id,
          r.model_id,
          r.candidate_version,
          r.champion_version,
          r.event_ids[i],
          r.source,
          r.kind,
          r.loss,
          r.label_classes?.[i] ?? '',
          r.label_values?.[i] ?? null,
          r.champion_probabilities?.[i] ?? {},
          r.candidate_probabilities?.[i] ?? {},
          r.champion_values?.[i] ?? null,
          r.candidate_values?.[i] ?? null,
          r.champion_losses[i],
          r.candidate_losses[i],
          r.champion_latency_ms[i],
          r.candidate_latency_ms[i],
          r.evaluated_at,
        ]),
      );
    await insertCompactRows(client, raw, {
      table: 'shadow_outcome_results',
      columns: COLUMNS,
      body: Buffer.from(lines.join('\n')),
    });
  }
}

/** One multiclass or regression evaluation, aggregated over its stored pairs. */
export interface ShadowOutcomeEvaluationRow {
  evaluation_id: string;
  candidate: string;
  champion: string;
  source: string;
  kind: string;
  loss: string;
  n: string;
  /** Mean per-event loss of each side (for accuracy: the error rate). */
  loss_candidate: number;
  loss_champion: number;
  /** Mean and sample standard deviation of d = champion's − challenger's loss (positive: the challenger did better). */
  diff_mean: number;
  diff_sd: number | null;
  /** Pairs where the challenger's loss was lower (d > 0) and where it was higher (d < 0); the rest tie. */
  challenger_lower: string;
  challenger_higher: string;
  /** Exact 5th, 25th, 50th, 75th and 95th percentiles of d. */
  diff_quantiles: number[];
  /** Epoch ms of the first and last stored pair. */
  first: string;
  last: string;
}

/** The percentiles of d an evaluation row carries, in `diff_quantiles` order (the query's literal levels). */
export const DIFFERENCE_QUANTILES = [0.05, 0.25, 0.5, 0.75, 0.95] as const;

/** The model's multiclass or regression evaluations, oldest last-evaluated first. */
export async function shadowOutcomeEvaluations(
  client: ClickHouseClient,
  modelId: string,
): Promise<ShadowOutcomeEvaluationRow[]> {
  return queryRows<ShadowOutcomeEvaluationRow>(
    client,
    `SELECT evaluation_id, candidate_version AS candidate, champion_version AS champion, any(source) AS source,
            any(kind) AS kind, any(loss) AS loss, count() AS n,
            avg(candidate_loss) AS loss_candidate, avg(champion_loss) AS loss_champion,
            avg(champion_loss - candidate_loss) AS diff_mean, stddevSamp(champion_loss - candidate_loss) AS diff_sd,
            countIf(champion_loss > candidate_loss) AS challenger_lower,
            countIf(champion_loss < candidate_loss) AS challenger_higher,
            quantilesExact(0.05, 0.25, 0.5, 0.75, 0.95)(champion_loss - candidate_loss) AS diff_quantiles,
            toUnixTimestamp64Milli(min(evaluated_at)) AS first, toUnixTimestamp64Milli(max(evaluated_at)) AS last
     FROM shadow_outcome_results FINAL WHERE model_id = {model:String}
     GROUP BY evaluation_id, candidate_version, champion_version ORDER BY last`,
    { model: modelId },
  );
}

/** The running sums of d over an evaluation's first `n` pairs (d = champion's − challenger's loss). */
export interface ShadowOutcomeCheckpointRow {
  evaluation_id: string;
  n: number;
  sum_difference: number;
  sum_squared_difference: number;
}

/**
 * Running sums of d over each evaluation's pairs, at about `points` evenly spaced pair counts and
 * at the last pair. The pairs are taken in a fixed pseudo-random order (by a hash of the event
 * id): the stored pairs carry no event time, and an id's own order may follow time or a scheme.
 */
export async function shadowOutcomeCheckpoints(
  client: ClickHouseClient,
  modelId: string,
  evaluationIds: readonly string[],
  points: number,
): Promise<ShadowOutcomeCheckpointRow[]> {
  if (evaluationIds.length === 0) return [];
  if (!Number.isInteger(points) || points < 1)
    throw new RangeError(`shadowOutcomeCheckpoints: points must be a positive integer, got ${points}`);
  const rows = await queryRows<{ evaluation_id: string; n: string; s1: number; s2: number }>(
    client,
    `SELECT evaluation_id, k AS n, s1, s2 FROM (
       SELECT evaluation_id,
              row_number() OVER running AS k,
              sum(d) OVER running AS s1,
              sum(d * d) OVER running AS s2,
              count() OVER (PARTITION BY evaluation_id) AS total
       FROM (SELECT evaluation_id, event_id, champion_loss - candidate_loss AS d
             FROM shadow_outcome_results FINAL
             WHERE model_id = {model:String} AND evaluation_id IN {evaluations:Array(String)})
       WINDOW running AS (PARTITION BY evaluation_id ORDER BY sipHash64(event_id), event_id
                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW))
     WHERE k = total OR k % greatest(1, intDiv(total, {points:UInt32})) = 0
     ORDER BY evaluation_id, n`,
    { model: modelId, evaluations: [...evaluationIds], points },
  );
  return rows.map((r) => ({
    evaluation_id: r.evaluation_id,
    n: Number(r.n),
    sum_difference: Number(r.s1),
    sum_squared_difference: Number(r.s2),
  }));
}

/** One stored pair, as an auditor reads it. */
export interface ShadowOutcomePairRow {
  event_id: string;
  label_class: string;
  label_value: number | null;
  champion_probabilities: Record<string, number>;
  candidate_probabilities: Record<string, number>;
  champion_value: number | null;
  candidate_value: number | null;
  champion_loss: number;
  candidate_loss: number;
}

/** An evaluation's stored pairs, by event id, at most `limit`. */
export async function shadowOutcomePairs(
  client: ClickHouseClient,
  modelId: string,
  evaluationId: string,
  limit: number,
): Promise<ShadowOutcomePairRow[]> {
  const rows = await queryRows<ShadowOutcomePairRow>(
    client,
    `SELECT event_id, label_class, label_value, champion_probabilities, candidate_probabilities, champion_value,
            candidate_value, champion_loss, candidate_loss
     FROM shadow_outcome_results FINAL
     WHERE model_id = {model:String} AND evaluation_id = {evaluation:String}
     ORDER BY event_id LIMIT {limit:UInt32}`,
    { model: modelId, evaluation: evaluationId, limit },
  );
  const numberOrNull = (v: number | string | null) => (v === null ? null : Number(v));
  return rows.map((r) => ({
    ...r,
    label_value: numberOrNull(r.label_value),
    champion_value: numberOrNull(r.champion_value),
    candidate_value: numberOrNull(r.candidate_value),
    champion_loss: Number(r.champion_loss),
    candidate_loss: Number(r.candidate_loss),
  }));
}

/**
 * A multiclass or regression probe's labelled event without its features: what the champion
 * served, the label that had arrived by the decision, and what the probe's evaluation already
 * stored of it in `shadow_outcome_results` (the challenger's output, the truth and the champion's
 * output it was paired with).
 */
export interface OutcomeProbePairRow {
  event_id: string;
  prediction_probabilities: Record<string, number>;
  prediction_value: number | null;
  label: string;
  label_numeric: number | null;
  /** 1 when the evaluation stored the event, else 0 (then the stored columns are empty). */
  stored: number;
  stored_label_class: string;
  stored_label_value: number | null;
  stored_champion_probabilities: Record<string, number>;
  stored_champion_value: number | null;
  stored_candidate_probabilities: Record<string, number>;
  stored_candidate_value: number | null;
}

/**
 * A multiclass or regression probe's events, as {@link probePairs} reads a binary probe's:
 * labelled events the champion served since the probe started (outside the challenger's training
 * snapshot), the newest label arrived by the decision, oldest first; each with what the probe's
 * evaluation stored of it.
 */
export async function outcomeProbePairs(
  client: ClickHouseClient,
  q: ProbeEventsQuery & { evaluationId: string },
): Promise<OutcomeProbePairRow[]> {
  const events = probeEventsSubquery(q, ['prediction_probabilities', 'prediction_value']);
  const rows = await queryRows<OutcomeProbePairRow>(
    client,
    `SELECT p.event_id AS event_id, p.prediction_probabilities AS prediction_probabilities, p.prediction_value AS prediction_value,
            p.label AS label, p.label_numeric AS label_numeric, s.event_id != '' AS stored,
            s.label_class AS stored_label_class, s.label_value AS stored_label_value,
            s.champion_probabilities AS stored_champion_probabilities, s.champion_value AS stored_champion_value,
            s.candidate_probabilities AS stored_candidate_probabilities, s.candidate_value AS stored_candidate_value
     FROM (${events.sql}) AS p
     LEFT JOIN (SELECT event_id, label_class, label_value, champion_probabilities, champion_value,
                       candidate_probabilities, candidate_value
                FROM shadow_outcome_results FINAL
                WHERE model_id = {m:String} AND evaluation_id = {evaluation:String}) AS s
       ON s.event_id = p.event_id
     ORDER BY p.ts, p.event_id`,
    { ...events.params, evaluation: q.evaluationId },
  );
  const numberOrNull = (v: number | string | null) => (v === null ? null : Number(v));
  return rows.map((r) => ({
    ...r,
    stored: Number(r.stored),
    prediction_value: numberOrNull(r.prediction_value),
    label_numeric: numberOrNull(r.label_numeric),
    stored_label_value: numberOrNull(r.stored_label_value),
    stored_champion_value: numberOrNull(r.stored_champion_value),
    stored_candidate_value: numberOrNull(r.stored_candidate_value),
  }));
}
