/**
 * The body of an alert message in each receiver format. Pure and deterministic: the same
 * notification sent at the same instant gives the same bytes, so every retry of one send carries
 * the same payload (and the same recorded digest).
 *
 * - `json`: halflife's own document (schema "halflife.alert/v1"), everything the alert knows.
 * - `slack`: a Slack incoming-webhook message (`text` plus `blocks`), also taken by the many
 *   Slack-compatible webhook endpoints (Mattermost, Rocket.Chat, ...).
 * - `alertmanager`: Alertmanager's API v2 (`POST /api/v2/alerts`): a list of one alert whose
 *   labels identify it (alertname, model, rule, subject, severity) and whose `endsAt` is either
 *   its resolution time or, while it fires, 4 × the resend interval ahead (Alertmanager resolves
 *   alerts a client stops sending, so a halflife that goes away does not leave them firing).
 */
import { ALERT_KIND_DOCS } from '../../detectors/alerts/rule-kinds.ts';
import type { AlertFormat, AlertNotification } from '../../detectors/alerts/types.ts';

export const ALERT_JSON_SCHEMA = 'halflife.alert/v1';

/** How far ahead a firing Alertmanager alert ends unless sent again, in resend intervals (as Prometheus does). */
export const ALERTMANAGER_VALIDITY_RESENDS = 4;

export interface PayloadOptions {
  /** When this send happens (epoch ms). */
  sentAt: number;
  /** Alertmanager: the receiver's resend interval (ms). */
  resendEveryMs: number;
}

export function alertPayload(format: AlertFormat, n: AlertNotification, options: PayloadOptions): unknown {
  switch (format) {
    case 'json':
      return jsonPayload(n, options);
    case 'slack':
      return slackPayload(n);
    case 'alertmanager':
      return alertmanagerPayload(n, options);
  }
}

/** The exact bytes POSTed. */
export function alertBody(format: AlertFormat, n: AlertNotification, options: PayloadOptions): string {
  return JSON.stringify(alertPayload(format, n, options));
}

const iso = (ms: number) => new Date(ms).toISOString();

function jsonPayload(n: AlertNotification, { sentAt }: PayloadOptions) {
  const a = n.alert;
  return {
    schema: ALERT_JSON_SCHEMA,
    id: n.notificationId,
    status: n.type === 'resolved' ? 'resolved' : 'firing',
    type: n.type,
    sequence: n.sequence,
    key: a.key,
    episode: a.episodeId,
    model: a.modelId,
    modelVersion: a.modelVersion,
    rule: a.rule,
    kind: a.kind,
    alertname: ALERT_KIND_DOCS[a.kind].alertname,
    severity: a.severity,
    subject: a.subject,
    summary: a.summary,
    description: a.description,
    details: a.details,
    startsAt: iso(a.startsAt),
    endsAt: n.resolvedAt === null ? null : iso(n.resolvedAt),
    resolution: n.resolution,
    sentAt: iso(sentAt),
    source: n.source,
  };
}

const SLACK_ICON = { critical: ':rotating_light:', warning: ':warning:', info: ':information_source:' } as const;

/** Slack's mrkdwn treats &, < and > as control characters. */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function slackPayload(n: AlertNotification) {
  const a = n.alert;
  const resolved = n.type === 'resolved';
  const tag = resolved ? 'RESOLVED' : n.type === 'renotify' ? `STILL FIRING since ${iso(a.startsAt)}` : 'FIRING';
  const icon = resolved ? ':white_check_mark:' : SLACK_ICON[a.severity];
  const headline = `${icon} [${tag}] ${a.summary}`;
  const body = resolved ? `Resolved: ${n.resolution ?? 'the condition cleared'}.` : a.description;
  const context = [
    `model \`${a.modelId}\``,
    a.modelVersion ? `version \`${a.modelVersion}\`` : null,
    `rule \`${a.rule}\` (${a.kind})`,
    `severity ${a.severity}`,
    `since ${iso(a.startsAt)}`,
    `key \`${a.key}\``,
  ]
    .filter((part) => part !== null)
    .join(' · ');
  return {
    text: slackEscape(`${headline}\n${body}`),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: slackEscape(`*${headline}*\n${body}`) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: slackEscape(context) }] },
    ],
  };
}

function alertmanagerPayload(n: AlertNotification, { sentAt, resendEveryMs }: PayloadOptions) {
  const a = n.alert;
  const labels: Record<string, string> = {
    alertname: ALERT_KIND_DOCS[a.kind].alertname,
    model: a.modelId,
    rule: a.rule,
    severity: a.severity,
    source: 'halflife',
  };
  if (a.subject !== null) labels.subject = a.subject;
  const endsAt = n.resolvedAt ?? sentAt + ALERTMANAGER_VALIDITY_RESENDS * resendEveryMs;
  return [
    {
      labels,
      annotations: {
        summary: a.summary,
        description: n.type === 'resolved' ? `${a.description} Resolved: ${n.resolution ?? 'cleared'}.` : a.description,
        model_version: a.modelVersion ?? '',
        halflife_key: a.key,
        halflife_episode: a.episodeId,
      },
      startsAt: iso(a.startsAt),
      endsAt: iso(endsAt),
    },
  ];
}
