/**
 * The record of every alert message and every attempt to deliver it: `alert_notifications` (one
 * row per firing, reminder and resolution) and `alert_deliveries` (one row per attempt per
 * receiver, and one when halflife gave up). Written by the AlertEpisode workflow's activities,
 * read by GET /v1/alerts, the dashboard and /metrics. No receiver URL or secret is ever stored.
 */
import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import type { AlertNotification } from '../../detectors/alerts/types.ts';
import { queryRows } from './client.ts';
import { sinceFilter } from './time-window.ts';

export type DeliveryOutcome = 'delivered' | 'failed' | 'timeout' | 'rejected' | 'misconfigured' | 'gave-up';

/** One attempt to send one message to one receiver. */
export interface AlertDeliveryRecord {
  notificationId: string;
  episodeId: string;
  alertKey: string;
  modelId: string;
  receiver: string;
  format: string;
  /** Which send of the message: "notify", or "refresh-<n>" for Alertmanager's periodic re-sends. */
  send: string;
  /** 1-based attempt number of the send (0 for the "gave-up" row). */
  attempt: number;
  attemptedAt: number;
  outcome: DeliveryOutcome;
  httpStatus: number | null;
  error: string | null;
  durationMs: number;
  payloadDigest: string;
}

/** sha256 of the notification's canonical JSON (keys sorted): what the record says was raised. */
export function notificationDigest(n: AlertNotification): string {
  return createHash('sha256').update(canonical(n)).digest('hex');
}

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** Store a notification once: a second call with the same id (an activity retry) is a no-op. */
export async function recordAlertNotification(
  client: ClickHouseClient,
  n: AlertNotification,
): Promise<{ stored: boolean; digest: string }> {
  const digest = notificationDigest(n);
  const [existing] = await queryRows<{ n: string }>(
    client,
    'SELECT count() AS n FROM alert_notifications WHERE model_id = {model:String} AND notification_id = {id:String}',
    { model: n.alert.modelId, id: n.notificationId },
  );
  if (Number(existing?.n ?? 0) > 0) return { stored: false, digest };
  const a = n.alert;
  await client.insert({
    table: 'alert_notifications',
    format: 'JSONEachRow',
    values: [
      {
        notification_id: n.notificationId,
        episode_id: a.episodeId,
        alert_key: a.key,
        model_id: a.modelId,
        model_version: a.modelVersion ?? '',
        rule: a.rule,
        rule_kind: a.kind,
        severity: a.severity,
        subject: a.subject ?? '',
        type: n.type,
        summary: a.summary,
        description: a.description,
        details: JSON.stringify(a.details),
        starts_at: a.startsAt,
        resolved_at: n.resolvedAt,
        resolution: n.resolution ?? '',
        notified_at: n.notifiedAt,
        receivers: a.receivers,
        digest,
        workflow_id: n.source.workflowId,
        run_id: n.source.runId,
        policy_name: n.source.policy?.name ?? '',
        policy_version: n.source.policy?.version ?? '',
        policy_hash: n.source.policy?.hash ?? '',
      },
    ],
  });
  return { stored: true, digest };
}

/** Store one delivery attempt (ReplacingMergeTree keeps one row per send and attempt). */
export async function recordAlertDelivery(client: ClickHouseClient, d: AlertDeliveryRecord): Promise<void> {
  await client.insert({
    table: 'alert_deliveries',
    format: 'JSONEachRow',
    values: [
      {
        notification_id: d.notificationId,
        episode_id: d.episodeId,
        alert_key: d.alertKey,
        model_id: d.modelId,
        receiver: d.receiver,
        format: d.format,
        send: d.send,
        attempt: d.attempt,
        attempted_at: d.attemptedAt,
        outcome: d.outcome,
        http_status: d.httpStatus ?? 0,
        error: d.error ?? '',
        duration_ms: d.durationMs,
        payload_digest: d.payloadDigest,
      },
    ],
  });
}

// ---- reading --------------------------------------------------------------------------------

/** A stored notification with how its delivery went per receiver. */
export interface AlertRecord {
  notificationId: string;
  episodeId: string;
  key: string;
  modelId: string;
  modelVersion: string | null;
  rule: string;
  kind: string;
  severity: string;
  subject: string | null;
  type: 'firing' | 'renotify' | 'resolved';
  summary: string;
  description: string;
  details: unknown;
  startsAt: number;
  resolvedAt: number | null;
  resolution: string | null;
  notifiedAt: number;
  receivers: string[];
  digest: string;
  source: { workflowId: string; runId: string; policy: { name: string; version: string; hash: string } | null };
  /** Whether the alert still fires (no resolution recorded for its episode). */
  firing: boolean;
  /** Per receiver: attempts made, the last outcome, and whether it was delivered. */
  deliveries: DeliverySummary[];
}

export interface DeliverySummary {
  receiver: string;
  format: string;
  attempts: number;
  delivered: boolean;
  lastOutcome: string;
  lastAttemptAt: number;
  lastHttpStatus: number | null;
  lastError: string | null;
}

export interface AlertQuery {
  modelId?: string;
  /** `firing`: alerts whose episode has not resolved (their firing notification); `resolved`: resolutions. */
  status?: 'firing' | 'resolved';
  kinds?: string[];
  since?: number;
  /** @default 100 */
  limit?: number;
}

interface NotificationRow {
  notification_id: string;
  episode_id: string;
  alert_key: string;
  model_id: string;
  model_version: string;
  rule: string;
  rule_kind: string;
  severity: string;
  subject: string;
  type: string;
  summary: string;
  description: string;
  details: string;
  starts_at: string;
  resolved_at: string | null;
  resolution: string;
  notified_at: string;
  receivers: string[];
  digest: string;
  workflow_id: string;
  run_id: string;
  policy_name: string;
  policy_version: string;
  policy_hash: string;
  open: number;
}

const RESOLVED_EPISODES = `SELECT episode_id FROM alert_notifications WHERE type = 'resolved'`;

const NOTIFICATION_COLUMNS = `notification_id, episode_id, alert_key, model_id, model_version, rule, rule_kind, severity, subject, type,
  summary, description, details, toUnixTimestamp64Milli(starts_at) AS starts_at,
  toUnixTimestamp64Milli(resolved_at) AS resolved_at, resolution, toUnixTimestamp64Milli(notified_at) AS notified_at,
  receivers, digest, workflow_id, run_id, policy_name, policy_version, policy_hash,
  episode_id NOT IN (${RESOLVED_EPISODES}) AS open`;

/** Notifications, newest first, each with its delivery per receiver. */
export async function listAlerts(client: ClickHouseClient, q: AlertQuery = {}): Promise<AlertRecord[]> {
  const where: string[] = [];
  const params: Record<string, unknown> = { limit: q.limit ?? 100 };
  if (q.modelId) {
    where.push('model_id = {model:String}');
    params.model = q.modelId;
  }
  if (q.status === 'firing') where.push(`type = 'firing' AND episode_id NOT IN (${RESOLVED_EPISODES})`);
  if (q.status === 'resolved') where.push(`type = 'resolved'`);
  if (q.kinds && q.kinds.length > 0) {
    where.push('rule_kind IN {kinds:Array(String)}');
    params.kinds = q.kinds;
  }
  if (q.since !== undefined) {
    const since = sinceFilter('notified_at', q.since);
    where.push(since.sql);
    Object.assign(params, since.params);
  }
  const rows = await queryRows<NotificationRow>(
    client,
    `SELECT ${NOTIFICATION_COLUMNS} FROM alert_notifications FINAL ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY notified_at DESC, notification_id DESC LIMIT {limit:UInt32}`,
    params,
  );
  const summaries = await deliverySummaries(
    client,
    rows.map((r) => r.notification_id),
  );
  return rows.map((r) => fromRow(r, summaries.get(r.notification_id) ?? []));
}

/** One notification with every delivery attempt, oldest first; undefined when unknown. */
export async function getAlert(
  client: ClickHouseClient,
  notificationId: string,
): Promise<(AlertRecord & { attempts: AlertDeliveryRecord[] }) | undefined> {
  const [row] = await queryRows<NotificationRow>(
    client,
    `SELECT ${NOTIFICATION_COLUMNS} FROM alert_notifications FINAL WHERE notification_id = {id:String} LIMIT 1`,
    { id: notificationId },
  );
  if (!row) return undefined;
  const attempts = await deliveryAttempts(client, notificationId);
  const summaries = await deliverySummaries(client, [notificationId]);
  return { ...fromRow(row, summaries.get(notificationId) ?? []), attempts };
}

interface DeliveryRow {
  notification_id: string;
  episode_id: string;
  alert_key: string;
  model_id: string;
  receiver: string;
  format: string;
  send: string;
  attempt: number;
  attempted_at: string;
  outcome: string;
  http_status: number;
  error: string;
  duration_ms: number;
  payload_digest: string;
}

/** Every attempt to deliver one notification, oldest first. */
export async function deliveryAttempts(
  client: ClickHouseClient,
  notificationId: string,
): Promise<AlertDeliveryRecord[]> {
  const rows = await queryRows<DeliveryRow>(
    client,
    `SELECT notification_id, episode_id, alert_key, model_id, receiver, format, send, attempt,
            toUnixTimestamp64Milli(attempted_at) AS attempted_at, outcome, http_status, error, duration_ms, payload_digest
     FROM alert_deliveries FINAL WHERE notification_id = {id:String}
     ORDER BY attempted_at, receiver, send, attempt`,
    { id: notificationId },
  );
  return rows.map((r) => ({
    notificationId: r.notification_id,
    episodeId: r.episode_id,
    alertKey: r.alert_key,
    modelId: r.model_id,
    receiver: r.receiver,
    format: r.format,
    send: r.send,
    attempt: Number(r.attempt),
    attemptedAt: Number(r.attempted_at),
    outcome: r.outcome as DeliveryOutcome,
    httpStatus: Number(r.http_status) || null,
    error: r.error || null,
    durationMs: Number(r.duration_ms),
    payloadDigest: r.payload_digest,
  }));
}

async function deliverySummaries(client: ClickHouseClient, ids: string[]): Promise<Map<string, DeliverySummary[]>> {
  const out = new Map<string, DeliverySummary[]>();
  if (ids.length === 0) return out;
  const rows = await queryRows<{
    notification_id: string;
    receiver: string;
    format: string;
    attempts: string;
    delivered: number;
    last_outcome: string;
    last_at: string;
    last_status: number;
    last_error: string;
  }>(
    client,
    `SELECT notification_id, receiver, any(format) AS format, countIf(outcome != 'gave-up') AS attempts,
            countIf(outcome = 'delivered') > 0 AS delivered,
            argMax(outcome, (attempted_at, attempt)) AS last_outcome,
            toUnixTimestamp64Milli(max(attempted_at)) AS last_at,
            argMax(http_status, (attempted_at, attempt)) AS last_status,
            argMax(error, (attempted_at, attempt)) AS last_error
     FROM alert_deliveries FINAL WHERE notification_id IN {ids:Array(String)}
     GROUP BY notification_id, receiver ORDER BY receiver`,
    { ids },
  );
  for (const r of rows) {
    const list = out.get(r.notification_id) ?? [];
    list.push({
      receiver: r.receiver,
      format: r.format,
      attempts: Number(r.attempts),
      delivered: Boolean(Number(r.delivered)),
      lastOutcome: r.last_outcome,
      lastAttemptAt: Number(r.last_at),
      lastHttpStatus: Number(r.last_status) || null,
      lastError: r.last_error || null,
    });
    out.set(r.notification_id, list);
  }
  return out;
}

function fromRow(r: NotificationRow, deliveries: DeliverySummary[]): AlertRecord {
  return {
    notificationId: r.notification_id,
    episodeId: r.episode_id,
    key: r.alert_key,
    modelId: r.model_id,
    modelVersion: r.model_version || null,
    rule: r.rule,
    kind: r.rule_kind,
    severity: r.severity,
    subject: r.subject || null,
    type: r.type as AlertRecord['type'],
    summary: r.summary,
    description: r.description,
    details: parse(r.details),
    startsAt: Number(r.starts_at),
    resolvedAt: r.resolved_at === null ? null : Number(r.resolved_at),
    resolution: r.resolution || null,
    notifiedAt: Number(r.notified_at),
    receivers: r.receivers,
    digest: r.digest,
    source: {
      workflowId: r.workflow_id,
      runId: r.run_id,
      policy: r.policy_hash ? { name: r.policy_name, version: r.policy_version, hash: r.policy_hash } : null,
    },
    firing: Boolean(Number(r.open)),
    deliveries,
  };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// ---- for /metrics ----------------------------------------------------------------------------

export interface FiringAlertRow {
  model_id: string;
  rule: string;
  rule_kind: string;
  subject: string;
  severity: string;
  n: string;
}

/** Alerts firing now (their episode has no resolution), per model, rule, kind, subject and severity. */
export async function firingAlertCounts(client: ClickHouseClient): Promise<FiringAlertRow[]> {
  return queryRows<FiringAlertRow>(
    client,
    `SELECT model_id, rule, rule_kind, subject, severity, uniqExact(episode_id) AS n FROM alert_notifications
     WHERE type = 'firing' AND episode_id NOT IN (${RESOLVED_EPISODES})
     GROUP BY model_id, rule, rule_kind, subject, severity`,
  );
}

export interface NotificationCountRow {
  model_id: string;
  rule_kind: string;
  type: string;
  n: string;
}

/** Notifications recorded, per model, rule kind and type (firing, renotify, resolved). */
export async function notificationCounts(client: ClickHouseClient): Promise<NotificationCountRow[]> {
  return queryRows<NotificationCountRow>(
    client,
    'SELECT model_id, rule_kind, type, uniqExact(notification_id) AS n FROM alert_notifications GROUP BY model_id, rule_kind, type',
  );
}

export interface DeliveryCountRow {
  receiver: string;
  outcome: string;
  n: string;
}

/** Delivery attempts recorded, per receiver and outcome. */
export async function deliveryCounts(client: ClickHouseClient): Promise<DeliveryCountRow[]> {
  return queryRows<DeliveryCountRow>(
    client,
    `SELECT receiver, outcome, count() AS n FROM (SELECT receiver, outcome FROM alert_deliveries FINAL) GROUP BY receiver, outcome`,
  );
}
