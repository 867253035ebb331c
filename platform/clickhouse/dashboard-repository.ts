/**
 * The web dashboard's statements (workers/routes/dashboard-data.ts shapes their rows for its
 * pages): the fleet's latest state per model, and one model's versions, stage changes, window
 * decisions, decisions, champion–challenger comparisons and ingest per window. Everything is read
 * from the tables the monitor and retrain workflows write; the decisions' statistics are read
 * only as far as the pages draw them (the full statistics stay behind GET /v1/decisions/:id).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from './client.ts';
import { labelsOfEvents } from './labels-of-events.ts';
import { sinceFilter } from './time-window.ts';

/** A decision a monitor tick made, with the parts of its statistics the pages draw (JSON text). */
export interface WindowDecisionRow {
  model_id: string;
  decision_id: string;
  /** Epoch ms. */
  at: string;
  kind: string;
  version: string;
  window: string;
  quality: string;
  drift_dataset: number | null;
  drift_share: number | null;
  drift_features: string;
  /** The multivariate tests' report (JSON text; empty or null when they did not run). */
  drift_multivariate: string;
  data_quality: string;
  decay: string;
  change_point: string;
  economics: string;
  /** The trigger's inputs (`details.inputs`, JSON text): what the economics statement explains. */
  inputs: string;
}

export interface DecisionSummaryRow {
  model_id: string;
  decision_id: string;
  /** Epoch ms. */
  at: string;
  kind: string;
  version: string;
  actor: string;
  reason: string;
  workflow_id: string;
  run_id: string;
}

const WINDOW_COLUMNS = `model_id, decision_id, toUnixTimestamp64Milli(decided_at) AS at, kind, model_version AS version,
  JSONExtractRaw(statistics, 'window') AS window,
  JSONExtractRaw(statistics, 'quality') AS quality,
  JSONExtract(statistics, 'drift', 'dataset_drift', 'Nullable(Bool)') AS drift_dataset,
  JSONExtract(statistics, 'drift', 'share_drifted', 'Nullable(Float64)') AS drift_share,
  JSONExtractRaw(statistics, 'drift', 'features') AS drift_features,
  JSONExtractRaw(statistics, 'drift', 'multivariate') AS drift_multivariate,
  JSONExtractRaw(statistics, 'dataQuality') AS data_quality,
  JSONExtractRaw(statistics, 'decay') AS decay,
  JSONExtractRaw(statistics, 'changePoint') AS change_point,
  JSONExtractRaw(statistics, 'economics') AS economics,
  JSONExtractRaw(details, 'inputs') AS inputs`;

/** Decisions a monitor tick made (they carry the evaluated window). */
const IS_WINDOW_DECISION = `JSONExtractRaw(statistics, 'window') NOT IN ('', 'null')`;

const DECISION_COLUMNS = `model_id, decision_id, toUnixTimestamp64Milli(decided_at) AS at, kind, model_version AS version, actor, reason, workflow_id, run_id`;

// ---------------------------------------------------------------------------------------
// the fleet: one row per model

export interface FleetVersionsRow {
  model_id: string;
  versions: string;
  /** The production version, '' when none. */
  production: string;
  /** Epoch ms the production version was registered. */
  production_created: string | null;
  /** Versions per stage. */
  stages: Record<string, string>;
}

/** Per model: its versions, its production version, and its versions per stage. */
export async function fleetVersions(client: ClickHouseClient): Promise<FleetVersionsRow[]> {
  return queryRows<FleetVersionsRow>(
    client,
    `SELECT model_id, count() AS versions, anyIf(version, stage = 'production') AS production,
            toUnixTimestamp64Milli(anyIf(created_at, stage = 'production')) AS production_created,
            CAST(sumMap(map(toString(stage), toUInt64(1))) AS Map(String, UInt64)) AS stages
     FROM model_versions FINAL GROUP BY model_id`,
  );
}

/** Per model: its newest window decision. */
export async function latestWindowDecisions(client: ClickHouseClient): Promise<WindowDecisionRow[]> {
  return queryRows<WindowDecisionRow>(
    client,
    `SELECT ${WINDOW_COLUMNS} FROM decisions FINAL WHERE ${IS_WINDOW_DECISION}
     ORDER BY decided_at DESC, decision_id DESC LIMIT 1 BY model_id`,
  );
}

/** Per model: its newest decision of any kind. */
export async function latestDecisions(client: ClickHouseClient): Promise<DecisionSummaryRow[]> {
  return queryRows<DecisionSummaryRow>(
    client,
    `SELECT ${DECISION_COLUMNS} FROM decisions FINAL ORDER BY decided_at DESC, decision_id DESC LIMIT 1 BY model_id`,
  );
}

export interface DecayFitRow {
  model_id: string;
  /** Epoch ms of the decision that carries the fit. */
  at: string;
  version: string;
  /** The fit, JSON text. */
  decay: string;
}

/** Per model: its newest decay fit (it can be older than the last window: a window without quality keeps the fit). */
export async function latestDecayFits(client: ClickHouseClient): Promise<DecayFitRow[]> {
  return queryRows<DecayFitRow>(
    client,
    `SELECT model_id, toUnixTimestamp64Milli(decided_at) AS at, model_version AS version, JSONExtractRaw(statistics, 'decay') AS decay
     FROM decisions FINAL WHERE JSONExtractRaw(statistics, 'decay') NOT IN ('', 'null')
     ORDER BY decided_at DESC, decision_id DESC LIMIT 1 BY model_id`,
  );
}

// ---------------------------------------------------------------------------------------
// one model

export interface VersionRow {
  version: string;
  stage: string;
  /** Epoch ms. */
  created: string;
  /** Epoch ms, null when never promoted. */
  promoted: string | null;
  parent_version: string;
  trainer: string;
  /** JSON text. */
  metrics: string;
  stage_reason: string;
  lineage_id: string;
}

/** The model's versions in version order (v2 before v10). */
export async function modelVersions(client: ClickHouseClient, modelId: string): Promise<VersionRow[]> {
  return queryRows<VersionRow>(
    client,
    `SELECT version, stage, toUnixTimestamp64Milli(created_at) AS created, toUnixTimestamp64Milli(promoted_at) AS promoted, parent_version, trainer, metrics, stage_reason, lineage_id
     FROM model_versions FINAL WHERE model_id = {model:String} ORDER BY toUInt64OrZero(substring(version, 2)), version`,
    { model: modelId },
  );
}

export interface StageEventRow {
  version: string;
  from_stage: string;
  to_stage: string;
  actor: string;
  reason: string;
  /** Epoch ms. */
  at: string;
}

/** The model's stage changes, oldest first. */
export async function stageEvents(client: ClickHouseClient, modelId: string): Promise<StageEventRow[]> {
  return queryRows<StageEventRow>(
    client,
    `SELECT version, from_stage, to_stage, actor, reason, toUnixTimestamp64Milli(at) AS at FROM model_stage_events WHERE model_id = {model:String} ORDER BY at`,
    { model: modelId },
  );
}

/** The model's `limit` newest window decisions, oldest first. */
export async function recentWindowDecisions(
  client: ClickHouseClient,
  modelId: string,
  limit: number,
): Promise<WindowDecisionRow[]> {
  return queryRows<WindowDecisionRow>(
    client,
    `SELECT * FROM (SELECT ${WINDOW_COLUMNS} FROM decisions FINAL WHERE model_id = {model:String} AND ${IS_WINDOW_DECISION}
     ORDER BY decided_at DESC, decision_id DESC LIMIT {limit:UInt32}) ORDER BY at, decision_id`,
    { model: modelId, limit },
  );
}

/** The model's `limit` newest decisions of any kind, newest first. */
export async function recentDecisions(
  client: ClickHouseClient,
  modelId: string,
  limit: number,
): Promise<DecisionSummaryRow[]> {
  return queryRows<DecisionSummaryRow>(
    client,
    `SELECT ${DECISION_COLUMNS} FROM decisions FINAL WHERE model_id = {model:String} ORDER BY decided_at DESC, decision_id DESC LIMIT {limit:UInt32}`,
    { model: modelId, limit },
  );
}

/** One champion–challenger evaluation, aggregated over its paired events. */
export interface ShadowEvaluationRow {
  evaluation_id: string;
  candidate: string;
  champion: string;
  source: string;
  n: string;
  /** Accuracy at the 0.5 threshold of each side. */
  acc_candidate: number;
  acc_champion: number;
  /** Mean and sample standard deviation of the per-event accuracy difference (candidate − champion). */
  diff_mean: number;
  diff_sd: number | null;
  ll_candidate: number;
  ll_champion: number;
  /** Epoch ms of the first and last evaluated event. */
  first: string;
  last: string;
}

/** The model's champion–challenger evaluations on the same events, oldest last-evaluated first. */
export async function shadowEvaluations(client: ClickHouseClient, modelId: string): Promise<ShadowEvaluationRow[]> {
  return queryRows<ShadowEvaluationRow>(
    client,
    `SELECT evaluation_id, candidate_version AS candidate, champion_version AS champion, any(source) AS source, count() AS n,
            avg((candidate_score >= 0.5) = (label = 1)) AS acc_candidate,
            avg((champion_score >= 0.5) = (label = 1)) AS acc_champion,
            avg(toFloat64((candidate_score >= 0.5) = (label = 1)) - toFloat64((champion_score >= 0.5) = (label = 1))) AS diff_mean,
            stddevSamp(toFloat64((candidate_score >= 0.5) = (label = 1)) - toFloat64((champion_score >= 0.5) = (label = 1))) AS diff_sd,
            avg(-if(label = 1, log(greatest(candidate_score, 1e-15)), log(greatest(1 - candidate_score, 1e-15)))) AS ll_candidate,
            avg(-if(label = 1, log(greatest(champion_score, 1e-15)), log(greatest(1 - champion_score, 1e-15)))) AS ll_champion,
            toUnixTimestamp64Milli(min(evaluated_at)) AS first, toUnixTimestamp64Milli(max(evaluated_at)) AS last
     FROM shadow_results FINAL WHERE model_id = {model:String}
     GROUP BY evaluation_id, candidate_version, champion_version ORDER BY last`,
    { model: modelId },
  );
}

export interface PromotionVerdictRow {
  decision_id: string;
  /** Epoch ms. */
  at: string;
  kind: string;
  version: string;
  reason: string;
  /** The promotion verdict, JSON text ('' or 'null' when none). */
  verdict: string;
  /** The shadow evaluation the verdict rests on ('' when the decision does not name it: a promotion after a replay, from before `retrain-shadow-source`). */
  evaluation_id: string;
  champion: string;
  /** A live shadow's choice of source (labelled live pairs, the minimum, the reason), JSON text ('' when none). */
  live_choice: string;
}

/** The model's promote / reject / rollback decisions with their verdicts, oldest first. */
export async function promotionVerdicts(client: ClickHouseClient, modelId: string): Promise<PromotionVerdictRow[]> {
  return queryRows<PromotionVerdictRow>(
    client,
    `SELECT decision_id, toUnixTimestamp64Milli(decided_at) AS at, kind, model_version AS version, reason,
            if(JSONExtractRaw(statistics, 'verdict') NOT IN ('', 'null'), JSONExtractRaw(statistics, 'verdict'), JSONExtractRaw(statistics, 'shadow', 'verdict')) AS verdict,
            if(JSONExtractString(statistics, 'shadow', 'evaluationId') != '', JSONExtractString(statistics, 'shadow', 'evaluationId'), JSONExtractString(statistics, 'shadowSource', 'evaluationId')) AS evaluation_id,
            JSONExtractString(details, 'championVersion') AS champion,
            if(JSONExtractRaw(statistics, 'shadow', 'statistics', 'live') != '', JSONExtractRaw(statistics, 'shadow', 'statistics', 'live'), JSONExtractRaw(statistics, 'shadowSource', 'live')) AS live_choice
     FROM decisions FINAL WHERE model_id = {model:String} AND kind IN ('promote', 'reject', 'rollback') ORDER BY decided_at`,
    { model: modelId },
  );
}

export interface IngestBucketRow {
  /** Epoch ms of the bucket's start. */
  start: string;
  events: string;
  labels: string;
  dead: string;
}

/**
 * Per bucket of `bucketMs` (whole seconds; buckets aligned to the epoch, as monitor windows are)
 * since `since` (epoch ms): the model's scored events, those of them labelled, and its dead letters.
 */
export async function ingestPerBucket(
  client: ClickHouseClient,
  modelId: string,
  since: number,
  bucketMs: number,
): Promise<IngestBucketRow[]> {
  const ts = sinceFilter('ts', since);
  const received = sinceFilter('received_at', since);
  const bucket = (column: string) => `intDiv(toUnixTimestamp64Milli(${column}), {bucket:UInt64}) * {bucket:UInt64}`;
  return queryRows<IngestBucketRow>(
    client,
    `SELECT start, sum(events) AS events, sum(labels) AS labels, sum(dead) AS dead FROM (
       SELECT ${bucket('ts')} AS start, count() AS events, 0 AS labels, 0 AS dead
         FROM scoring_events FINAL WHERE model_id = {model:String} AND ${ts.sql} GROUP BY start
       UNION ALL
       SELECT ${bucket('e.ts')} AS start, 0, count(), 0
         FROM (SELECT event_id, ts FROM scoring_events FINAL WHERE model_id = {model:String} AND ${ts.sql}) AS e
         INNER JOIN (SELECT DISTINCT event_id FROM labels ${labelsOfEvents(`model_id = {model:String} AND ${ts.sql}`)}) AS l
           USING (event_id) GROUP BY start
       UNION ALL
       SELECT ${bucket('received_at')} AS start, 0, 0, count()
         FROM dead_letters FINAL WHERE model_id = {model:String} AND ${received.sql} GROUP BY start
     ) GROUP BY start ORDER BY start`,
    { model: modelId, bucket: Math.max(1000, Math.round(bucketMs / 1000) * 1000), ...ts.params, ...received.params },
  );
}

/** The newest window decision of a model that carries a segment report: its id, time and the report (JSON text). */
export interface SegmentReportRow {
  decision_id: string;
  at: string;
  segments: string;
}

/** The model's newest per-segment results (decisions' `statistics.segments`), or null when no decision has them. */
export async function latestSegmentReport(client: ClickHouseClient, modelId: string): Promise<SegmentReportRow | null> {
  const rows = await queryRows<SegmentReportRow>(
    client,
    `SELECT decision_id, toUnixTimestamp64Milli(decided_at) AS at, JSONExtractRaw(statistics, 'segments') AS segments
     FROM decisions FINAL
     WHERE model_id = {model:String} AND JSONExtractRaw(statistics, 'segments') NOT IN ('', 'null')
     ORDER BY decided_at DESC, decision_id DESC LIMIT 1`,
    { model: modelId },
  );
  return rows[0] ?? null;
}
