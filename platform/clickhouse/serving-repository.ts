import type { ClickHouseClient } from '@clickhouse/client';
import type { ScoredVersion, ScorerServing } from '../registry/serving-agreement.ts';
import type { ServedRouting, ServingReport } from '../registry/serving-report.ts';
import { queryRows } from './client.ts';
import { sinceFilter } from './time-window.ts';

/**
 * What scorers say they serve (`serving_reports`, ReplacingMergeTree keyed by (model_id,
 * scorer_id, seq)) and what the scoring events say scored them. Liveness is judged on the
 * server's clock (`ingested_at` against `now64()`), so a scorer's clock skew does not matter.
 */

/** A scorer seen in the last day. */
export interface ScorerSeen {
  scorerId: string;
  host: string;
  pid: number;
  heartbeatMs: number;
  /** Its newest report of any kind (epoch ms, when stored). */
  lastSeenAt: number;
  /** Its newest scorer-level event: started, heartbeat or stopped. */
  lastEvent: string;
  /** Reported within three of its heartbeats and not stopped. */
  live: boolean;
}

/** A scorer's answer to one model update. */
export interface UpdateConfirmation {
  scorerId: string;
  outcome: 'applied' | 'refused';
  reason: string;
  at: number;
}

/** Scorers missing more heartbeats than this are no longer counted as serving. */
export const MISSED_HEARTBEATS = 3;

const num = (v: string | number | null | undefined): number => Number(v ?? 0);

export async function insertServingReports(client: ClickHouseClient, reports: readonly ServingReport[]): Promise<void> {
  if (reports.length === 0) return;
  await client.insert({
    table: 'serving_reports',
    format: 'JSONEachRow',
    values: reports.map((r) => ({
      scorer_id: r.scorer_id,
      seq: r.seq,
      event: r.event,
      model_id: r.model_id,
      version: r.serving?.version ?? '',
      sha256: r.serving?.sha256 ?? '',
      serving_since: r.serving ? r.serving.since : null,
      serving_update_key: r.serving?.update_key ?? '',
      routes: JSON.stringify(r.serving?.routes ?? []),
      shadow: r.serving?.shadow ?? [],
      serves_nothing: r.serving && r.serving.routes.some((x) => x.share > 0) ? 0 : 1,
      update_key: r.update?.key ?? '',
      update_version: r.update?.version ?? '',
      update_sha256: r.update?.sha256 ?? '',
      reason: r.reason,
      heartbeat_ms: r.heartbeat_ms,
      host: r.host,
      pid: r.pid,
      reported_at: r.reported_at,
    })),
  });
}

/** Every scorer that reported in the last day, newest first, with whether it is live. */
export async function scorersSeen(client: ClickHouseClient): Promise<ScorerSeen[]> {
  const rows = await queryRows<{
    scorer_id: string;
    r_host: string;
    r_pid: string | number;
    r_heartbeat_ms: string | number;
    last_seen_ms: string | number;
    age_ms: string | number;
    last_event: string;
  }>(
    client,
    // Aliases differ from column names: ClickHouse would resolve a column name to its alias.
    `SELECT scorer_id, argMax(host, seq) AS r_host, argMax(pid, seq) AS r_pid, argMax(heartbeat_ms, seq) AS r_heartbeat_ms,
       toUnixTimestamp64Milli(max(ingested_at)) AS last_seen_ms,
       toUnixTimestamp64Milli(now64(3)) - toUnixTimestamp64Milli(max(ingested_at)) AS age_ms,
       argMaxIf(event, seq, model_id = '') AS last_event
     FROM serving_reports WHERE ingested_at >= now64(3) - toIntervalDay(1)
     GROUP BY scorer_id ORDER BY last_seen_ms DESC`,
  );
  return rows.map((r) => ({
    scorerId: r.scorer_id,
    host: r.r_host,
    pid: num(r.r_pid),
    heartbeatMs: num(r.r_heartbeat_ms),
    lastSeenAt: num(r.last_seen_ms),
    lastEvent: r.last_event,
    live: r.last_event !== 'stopped' && num(r.age_ms) <= MISSED_HEARTBEATS * num(r.r_heartbeat_ms),
  }));
}

/** Live scorers only: those a change of routing must be confirmed by. */
export async function liveScorers(client: ClickHouseClient): Promise<ScorerSeen[]> {
  return (await scorersSeen(client)).filter((s) => s.live);
}

interface ModelRow {
  scorer_id: string;
  r_serves_nothing: string | number;
  r_version: string;
  r_sha256: string;
  since_ms: string | number | null;
  r_update_key: string;
  r_routes: string;
  r_shadow: string[];
  applied_seq: string | number;
  refused_seq: string | number;
  refused_key: string;
  refused_version: string;
  refused_reason: string;
  refused_ms: string | number;
}

/** Per scorer, its newest report on a model: the columns grouped by (scorer_id) or (model_id, scorer_id). */
const MODEL_ROW_COLUMNS = `scorer_id,
       argMax(serves_nothing, seq) AS r_serves_nothing, argMax(version, seq) AS r_version, argMax(sha256, seq) AS r_sha256,
       toUnixTimestamp64Milli(argMax(serving_since, seq)) AS since_ms, argMax(serving_update_key, seq) AS r_update_key,
       argMax(routes, seq) AS r_routes, argMax(shadow, seq) AS r_shadow,
       maxIf(seq, event = 'applied') AS applied_seq, maxIf(seq, event = 'refused') AS refused_seq,
       argMaxIf(update_key, seq, event = 'refused') AS refused_key,
       argMaxIf(update_version, seq, event = 'refused') AS refused_version,
       argMaxIf(reason, seq, event = 'refused') AS refused_reason,
       toUnixTimestamp64Milli(argMaxIf(reported_at, seq, event = 'refused')) AS refused_ms`;

/** Each scorer seen in the last day with its routing of `modelId` (as of its newest report on it). */
export async function scorersServing(client: ClickHouseClient, modelId: string): Promise<ScorerServing[]> {
  const seen = await scorersSeen(client);
  if (seen.length === 0) return [];
  const rows = await queryRows<ModelRow>(
    client,
    `SELECT ${MODEL_ROW_COLUMNS}
     FROM serving_reports FINAL
     WHERE model_id = {m:String} AND scorer_id IN {ids:Array(String)}
     GROUP BY scorer_id`,
    { m: modelId, ids: seen.map((s) => s.scorerId) },
  );
  return scorersWithRouting(seen, rows);
}

/** {@link scorersServing} of many models with one query: every model of `modelIds` gets its list (empty without scorers). */
export async function scorersServingOf(
  client: ClickHouseClient,
  modelIds: readonly string[],
): Promise<Map<string, ScorerServing[]>> {
  const seen = modelIds.length > 0 ? await scorersSeen(client) : [];
  if (seen.length === 0) return new Map(modelIds.map((m) => [m, []]));
  const rows = await queryRows<ModelRow & { model_id: string }>(
    client,
    `SELECT model_id, ${MODEL_ROW_COLUMNS}
     FROM serving_reports FINAL
     WHERE model_id IN {models:Array(String)} AND scorer_id IN {ids:Array(String)}
     GROUP BY model_id, scorer_id`,
    { models: [...modelIds], ids: seen.map((s) => s.scorerId) },
  );
  return new Map(
    modelIds.map((m) => [
      m,
      scorersWithRouting(
        seen,
        rows.filter((r) => r.model_id === m),
      ),
    ]),
  );
}

/** The scorers seen, each with its routing of one model from that model's rows. */
function scorersWithRouting(seen: readonly ScorerSeen[], rows: readonly ModelRow[]): ScorerServing[] {
  const byScorer = new Map(rows.map((r) => [r.scorer_id, r]));
  return seen.map((s) => {
    const r = byScorer.get(s.scorerId);
    const routes = r ? (JSON.parse(r.r_routes || '[]') as ServedRouting['routes']) : [];
    const serving: ServedRouting | null =
      r && num(r.r_serves_nothing) === 0
        ? {
            version: r.r_version,
            sha256: r.r_sha256,
            since: num(r.since_ms),
            update_key: r.r_update_key,
            routes,
            shadow: r.r_shadow,
          }
        : null;
    const refused = r !== undefined && num(r.refused_seq) > num(r.applied_seq);
    return {
      scorerId: s.scorerId,
      host: s.host,
      pid: s.pid,
      live: s.live,
      lastSeenAt: s.lastSeenAt,
      heartbeatMs: s.heartbeatMs,
      serving,
      reportedOnModel: r !== undefined,
      refusal: refused
        ? {
            updateKey: r.refused_key,
            version: r.refused_version,
            reason: r.refused_reason,
            at: num(r.refused_ms),
          }
        : null,
    };
  });
}

/** Which scorers applied or refused the update with this key (a scorer serving it since it started counts as applied). */
export async function updateConfirmations(
  client: ClickHouseClient,
  modelId: string,
  updateKey: string,
): Promise<UpdateConfirmation[]> {
  const rows = await queryRows<{ scorer_id: string; r_event: string; r_reason: string; at_ms: string | number }>(
    client,
    `SELECT scorer_id, argMax(event, seq) AS r_event, argMax(reason, seq) AS r_reason,
       toUnixTimestamp64Milli(argMax(reported_at, seq)) AS at_ms
     FROM serving_reports
     WHERE model_id = {m:String}
       AND ((event IN ('applied', 'refused') AND update_key = {k:String}) OR (event = 'serving' AND serving_update_key = {k:String}))
     GROUP BY scorer_id`,
    { m: modelId, k: updateKey },
  );
  return rows.map((r) => ({
    scorerId: r.scorer_id,
    outcome: r.r_event === 'refused' ? 'refused' : 'applied',
    reason: r.r_reason,
    at: num(r.at_ms),
  }));
}

/** Versions that scored the model's events since `since` (from the events; approximate counts, no FINAL). */
export async function scoredVersions(
  client: ClickHouseClient,
  modelId: string,
  since: number,
): Promise<ScoredVersion[]> {
  const filter = sinceFilter('ts', since);
  const rows = await queryRows<{ r_version: string; events: string | number; last_ms: string | number }>(
    client,
    `SELECT model_version AS r_version, count() AS events, toUnixTimestamp64Milli(max(ts)) AS last_ms
     FROM scoring_events WHERE model_id = {m:String} AND ${filter.sql}
     GROUP BY model_version ORDER BY events DESC, r_version`,
    { m: modelId, ...filter.params },
  );
  return rows.map((r) => ({ version: r.r_version, events: num(r.events), lastAt: num(r.last_ms) }));
}

/** When the model's current request took effect: its newest stage change or published update (epoch ms), null if none. */
export async function requestedSince(client: ClickHouseClient, modelId: string): Promise<number | null> {
  const [row] = await queryRows<{ stage_ms: string | number; update_ms: string | number }>(
    client,
    `SELECT
       (SELECT toUnixTimestamp64Milli(max(at)) FROM model_stage_events WHERE model_id = {m:String}) AS stage_ms,
       (SELECT toUnixTimestamp64Milli(max(published_at)) FROM model_updates WHERE model_id = {m:String}) AS update_ms`,
    { m: modelId },
  );
  const latest = Math.max(num(row?.stage_ms), num(row?.update_ms));
  return latest > 0 ? latest : null;
}

/** {@link scoredVersions} of many models with one query: every model of `modelIds` gets its list (most events first). */
export async function scoredVersionsOf(
  client: ClickHouseClient,
  modelIds: readonly string[],
  since: number,
): Promise<Map<string, ScoredVersion[]>> {
  const out = new Map<string, ScoredVersion[]>(modelIds.map((m) => [m, []]));
  if (modelIds.length === 0) return out;
  const filter = sinceFilter('ts', since);
  const rows = await queryRows<{
    model_id: string;
    r_version: string;
    events: string | number;
    last_ms: string | number;
  }>(
    client,
    `SELECT model_id, model_version AS r_version, count() AS events, toUnixTimestamp64Milli(max(ts)) AS last_ms
     FROM scoring_events WHERE model_id IN {models:Array(String)} AND ${filter.sql}
     GROUP BY model_id, model_version ORDER BY model_id, events DESC, r_version`,
    { models: [...modelIds], ...filter.params },
  );
  for (const r of rows)
    out.get(r.model_id)?.push({ version: r.r_version, events: num(r.events), lastAt: num(r.last_ms) });
  return out;
}

/** {@link requestedSince} of many models with one query (null: the model has no stage change or update). */
export async function requestedSinceOf(
  client: ClickHouseClient,
  modelIds: readonly string[],
): Promise<Map<string, number | null>> {
  const out = new Map<string, number | null>(modelIds.map((m) => [m, null]));
  if (modelIds.length === 0) return out;
  const rows = await queryRows<{ model_id: string; ms: string | number }>(
    client,
    `SELECT model_id, toUnixTimestamp64Milli(max(at)) AS ms FROM model_stage_events
     WHERE model_id IN {models:Array(String)} GROUP BY model_id
     UNION ALL
     SELECT model_id, toUnixTimestamp64Milli(max(published_at)) AS ms FROM model_updates
     WHERE model_id IN {models:Array(String)} GROUP BY model_id`,
    { models: [...modelIds] },
  );
  for (const r of rows) {
    const ms = num(r.ms);
    if (ms > 0) out.set(r.model_id, Math.max(out.get(r.model_id) ?? 0, ms));
  }
  return out;
}

/** A registered version as serving reads it. */
export interface ServingVersion {
  version: string;
  stage: string;
  sha256: string;
}

/**
 * The registered versions of many models with one query, each model's newest first (the order of
 * the registry's `listVersions`): what the registry asks serving for.
 */
export async function servingVersionsOf(
  client: ClickHouseClient,
  modelIds: readonly string[],
): Promise<Map<string, ServingVersion[]>> {
  const out = new Map<string, ServingVersion[]>(modelIds.map((m) => [m, []]));
  if (modelIds.length === 0) return out;
  const rows = await queryRows<ServingVersion & { model_id: string }>(
    client,
    `SELECT model_id, version, stage, sha256 FROM model_versions FINAL
     WHERE model_id IN {models:Array(String)}
     ORDER BY model_id, toUInt64OrZero(substring(version, 2)) DESC, version DESC`,
    { models: [...modelIds] },
  );
  for (const r of rows) out.get(r.model_id)?.push({ version: r.version, stage: r.stage, sha256: r.sha256 });
  return out;
}
