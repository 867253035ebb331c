import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from './client.ts';
import { labelsOfEvents } from './labels-of-events.ts';
import { sinceFilter } from './time-window.ts';

/**
 * How one model version served since a time, from the events it scored and their labels: what
 * a canary check compares between candidate and champion.
 */

export interface VersionServingMetrics {
  events: number;
  meanScore: number | null;
  /** Share of scores at exactly 0 or 1 (a broken model's signature). */
  saturatedShare: number | null;
  latencyP99Ms: number | null;
  labelled: number;
  logLoss: number | null;
  /** Share of positive labels among the labelled events. */
  positiveRate: number | null;
  /** Mean score over the labelled events (compared with `positiveRate`: calibration in the large). */
  labelledMeanScore: number | null;
  fallbacks: number;
}

export interface ServingMetricsQuery {
  modelId: string;
  version: string;
  /** Epoch ms. */
  since: number;
  /** Count events served by this version because `fallbackOf` failed (metadata fallback_from). @default none */
  fallbackOf?: string;
}

export async function versionServingMetrics(
  client: ClickHouseClient,
  q: ServingMetricsQuery,
): Promise<VersionServingMetrics> {
  const ts = sinceFilter('ts', q.since);
  const [row] = await queryRows<{
    events: string;
    mean_score: number | null;
    saturated: number | null;
    p99: number | null;
    labelled: string;
    log_loss: number | null;
    positive_rate: number | null;
    labelled_mean_score: number | null;
    fallbacks: string;
  }>(
    client,
    `SELECT count() AS events, avgOrNull(e.prediction_score) AS mean_score,
            avgOrNull(if(e.prediction_score IN (0, 1), 1, 0)) AS saturated,
            quantileExactOrNull(0.99)(toFloat64OrNull(e.metadata['latency_ms'])) AS p99,
            countIf(l.y IS NOT NULL) AS labelled,
            avgOrNullIf(-(l.y * log(greatest(e.prediction_score, 1e-15)) + (1 - l.y) * log(greatest(1 - e.prediction_score, 1e-15))), l.y IS NOT NULL) AS log_loss,
            avgOrNullIf(l.y, l.y IS NOT NULL) AS positive_rate,
            avgOrNullIf(e.prediction_score, l.y IS NOT NULL) AS labelled_mean_score,
            countIf(e.metadata['fallback_from'] = {fallback:String} AND {fallback:String} != '') AS fallbacks
     FROM (SELECT event_id, prediction_score, metadata FROM scoring_events FINAL
           WHERE model_id = {m:String} AND model_version = {v:String} AND ${ts.sql}) AS e
     LEFT JOIN (SELECT event_id, toNullable(toFloat64(argMax(label_numeric, label_ts))) AS y
                FROM labels ${labelsOfEvents(`model_id = {m:String} AND model_version = {v:String} AND ${ts.sql}`)}
                GROUP BY event_id HAVING y IN (0, 1)) AS l
       ON l.event_id = e.event_id
     SETTINGS join_use_nulls = 1`,
    { m: q.modelId, v: q.version, ...ts.params, fallback: q.fallbackOf ?? '' },
  );
  return {
    events: Number(row?.events ?? 0),
    meanScore: row?.mean_score ?? null,
    saturatedShare: row?.saturated ?? null,
    latencyP99Ms: row?.p99 ?? null,
    labelled: Number(row?.labelled ?? 0),
    logLoss: row?.log_loss ?? null,
    positiveRate: row?.positive_rate ?? null,
    labelledMeanScore: row?.labelled_mean_score ?? null,
    fallbacks: Number(row?.fallbacks ?? 0),
  };
}

/** A multiclass or regression version's loss on its labelled events since a time: what its canary compares. */
export interface VersionLossMetrics {
  /** Labelled events with a usable prediction (a probability for the true class; a value). */
  labelled: number;
  /** Multiclass: mean log loss; regression: mean squared error. */
  meanLoss: number | null;
}

/**
 * {@link VersionLossMetrics} of a multiclass version (log loss of `prediction.probabilities` at
 * the label's class, clipped to [eps, 1 − eps]; a label the vector does not name is left out) or
 * a regression version (squared error of `prediction.value` against the numeric label).
 */
export async function versionLossMetrics(
  client: ClickHouseClient,
  q: Omit<ServingMetricsQuery, 'fallbackOf'> & { kind: 'multiclass' | 'regression'; eps: number },
): Promise<VersionLossMetrics> {
  const ts = sinceFilter('ts', q.since);
  const events = `SELECT event_id, prediction_probabilities, prediction_value FROM scoring_events FINAL
           WHERE model_id = {m:String} AND model_version = {v:String} AND ${ts.sql}`;
  const labelled = `FROM labels ${labelsOfEvents(`model_id = {m:String} AND model_version = {v:String} AND ${ts.sql}`)}`;
  const multiclass = 'l.label IS NOT NULL AND mapContains(e.prediction_probabilities, l.label)';
  const regression = 'l.y IS NOT NULL AND isFinite(l.y) AND e.prediction_value IS NOT NULL';
  const sql =
    q.kind === 'multiclass'
      ? `SELECT countIf(${multiclass}) AS labelled,
            avgOrNullIf(-log(least(greatest(e.prediction_probabilities[l.label], {eps:Float64}), 1 - {eps:Float64})), ${multiclass}) AS loss
     FROM (${events}) AS e
     LEFT JOIN (SELECT event_id, argMax(label, label_ts) AS label ${labelled} GROUP BY event_id) AS l
       ON l.event_id = e.event_id
     SETTINGS join_use_nulls = 1`
      : `SELECT countIf(${regression}) AS labelled, avgOrNullIf(pow(l.y - e.prediction_value, 2), ${regression}) AS loss
     FROM (${events}) AS e
     LEFT JOIN (SELECT event_id, argMax(label_numeric, label_ts) AS y ${labelled} GROUP BY event_id) AS l
       ON l.event_id = e.event_id
     SETTINGS join_use_nulls = 1`;
  const [row] = await queryRows<{ labelled: string; loss: number | null }>(client, sql, {
    m: q.modelId,
    v: q.version,
    ...ts.params,
    eps: q.eps,
  });
  return { labelled: Number(row?.labelled ?? 0), meanLoss: row?.loss ?? null };
}
