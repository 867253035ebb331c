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
