import { describe, expect, it } from 'vitest';
import type { AlertNotification } from '../../detectors/alerts/types.ts';
import { alertBody, alertPayload } from '../../operations/alerts/payloads.ts';
import { signAlert, verifyAlertSignature } from '../../operations/alerts/signing.ts';

const STARTS = Date.UTC(2026, 5, 1, 12);
const SENT = STARTS + 60_000;
const FIVE_MIN = 5 * 60_000;

function notification(over: Partial<AlertNotification> = {}): AlertNotification {
  return {
    notificationId: 'halflife-alert/churn/slo/breached/1/1',
    sequence: 1,
    type: 'firing',
    alert: {
      key: 'churn/slo/breached',
      episodeId: 'halflife-alert/churn/slo/breached/1',
      modelId: 'churn',
      modelVersion: 'v7',
      rule: 'slo',
      kind: 'slo',
      severity: 'critical',
      subject: 'breached',
      summary: 'churn: accuracy 0.812 (realised) is below its SLO 0.850',
      description:
        'churn: quality has been below the SLO 0.850 for 1 window(s); the last was accuracy 0.812 (realised).',
      details: { slo: 0.85 },
      startsAt: STARTS,
      receivers: ['a'],
    },
    resolvedAt: null,
    resolution: null,
    notifiedAt: STARTS,
    source: { workflowId: 'halflife-monitor-churn', runId: 'r1', policy: { name: 'p', version: '1', hash: 'h' } },
    ...over,
  };
}

const resolved = () =>
  notification({
    notificationId: 'halflife-alert/churn/slo/breached/1/2',
    sequence: 2,
    type: 'resolved',
    resolvedAt: STARTS + 3_600_000,
    resolution: 'quality is back above the SLO',
  });

describe('alert payloads', () => {
  it('generic JSON carries the whole alert, its status and times in RFC 3339', () => {
    expect(alertPayload('json', notification(), { sentAt: SENT, resendEveryMs: FIVE_MIN })).toEqual({
      schema: 'halflife.alert/v1',
      id: 'halflife-alert/churn/slo/breached/1/1',
      status: 'firing',
      type: 'firing',
      sequence: 1,
      key: 'churn/slo/breached',
      episode: 'halflife-alert/churn/slo/breached/1',
      model: 'churn',
      modelVersion: 'v7',
      rule: 'slo',
      kind: 'slo',
      alertname: 'HalflifeQualitySlo',
      severity: 'critical',
      subject: 'breached',
      summary: 'churn: accuracy 0.812 (realised) is below its SLO 0.850',
      description: notification().alert.description,
      details: { slo: 0.85 },
      startsAt: '2026-06-01T12:00:00.000Z',
      endsAt: null,
      resolution: null,
      sentAt: '2026-06-01T12:01:00.000Z',
      source: notification().source,
    });
    expect(alertPayload('json', resolved(), { sentAt: SENT, resendEveryMs: FIVE_MIN })).toMatchObject({
      status: 'resolved',
      endsAt: '2026-06-01T13:00:00.000Z',
      resolution: 'quality is back above the SLO',
    });
  });

  it('Slack: a text fallback and blocks, severity icon, mrkdwn control characters escaped', () => {
    const body = alertPayload('slack', notification({ alert: { ...notification().alert, summary: 'a <b> & c' } }), {
      sentAt: SENT,
      resendEveryMs: FIVE_MIN,
    }) as { text: string; blocks: { type: string; text?: { text: string }; elements?: { text: string }[] }[] };
    expect(body.text.split('\n')[0]).toBe(':rotating_light: [FIRING] a &lt;b&gt; &amp; c');
    expect(body.blocks.map((b) => b.type)).toEqual(['section', 'context']);
    expect(body.blocks[0]!.text!.text).toMatch(/^\*:rotating_light: \[FIRING\] a &lt;b&gt; &amp; c\*\n/);
    expect(body.blocks[1]!.elements![0]!.text).toBe(
      'model `churn` · version `v7` · rule `slo` (slo) · severity critical · since 2026-06-01T12:00:00.000Z · key `churn/slo/breached`',
    );
    const done = alertPayload('slack', resolved(), { sentAt: SENT, resendEveryMs: FIVE_MIN }) as { text: string };
    expect(done.text).toBe(
      ':white_check_mark: [RESOLVED] churn: accuracy 0.812 (realised) is below its SLO 0.850\nResolved: quality is back above the SLO.',
    );
    const reminder = alertPayload('slack', notification({ type: 'renotify', sequence: 2 }), {
      sentAt: SENT,
      resendEveryMs: FIVE_MIN,
    }) as { text: string };
    expect(reminder.text).toMatch(/^:rotating_light: \[STILL FIRING since 2026-06-01T12:00:00.000Z\]/);
  });

  it('Alertmanager: a list of one alert, identifying labels, ends 4 resend intervals ahead while firing, at resolution after', () => {
    const firing = alertPayload('alertmanager', notification(), { sentAt: SENT, resendEveryMs: FIVE_MIN });
    expect(firing).toEqual([
      {
        labels: {
          alertname: 'HalflifeQualitySlo',
          model: 'churn',
          rule: 'slo',
          severity: 'critical',
          source: 'halflife',
          subject: 'breached',
        },
        annotations: {
          summary: 'churn: accuracy 0.812 (realised) is below its SLO 0.850',
          description: notification().alert.description,
          model_version: 'v7',
          halflife_key: 'churn/slo/breached',
          halflife_episode: 'halflife-alert/churn/slo/breached/1',
        },
        startsAt: '2026-06-01T12:00:00.000Z',
        endsAt: new Date(SENT + 4 * FIVE_MIN).toISOString(),
      },
    ]);
    const [end] = alertPayload('alertmanager', resolved(), { sentAt: SENT, resendEveryMs: FIVE_MIN }) as {
      labels: unknown;
      endsAt: string;
    }[];
    expect(end!.endsAt).toBe('2026-06-01T13:00:00.000Z');
    expect(end!.labels).toEqual((firing as { labels: unknown }[])[0]!.labels);
    // No subject: no subject label (as Prometheus drops empty labels).
    const plain = notification({ alert: { ...notification().alert, subject: null } });
    expect(
      Object.keys(
        (alertPayload('alertmanager', plain, { sentAt: SENT, resendEveryMs: FIVE_MIN }) as { labels: object }[])[0]!
          .labels,
      ),
    ).not.toContain('subject');
  });

  it('is deterministic: the same send gives the same bytes', () => {
    const a = alertBody('alertmanager', notification(), { sentAt: SENT, resendEveryMs: FIVE_MIN });
    expect(alertBody('alertmanager', notification(), { sentAt: SENT, resendEveryMs: FIVE_MIN })).toBe(a);
    expect(alertBody('alertmanager', notification(), { sentAt: SENT + 1, resendEveryMs: FIVE_MIN })).not.toBe(a);
  });
});

describe('HMAC signatures', () => {
  it('sign the timestamp and the exact body; a changed byte, key or timestamp fails', () => {
    const body = alertBody('json', notification(), { sentAt: SENT, resendEveryMs: FIVE_MIN });
    const signature = signAlert('k3y', 1_780_000_000, body);
    expect(signature).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(verifyAlertSignature('k3y', 1_780_000_000, body, signature)).toBe(true);
    expect(verifyAlertSignature('k3y', 1_780_000_001, body, signature)).toBe(false);
    expect(verifyAlertSignature('other', 1_780_000_000, body, signature)).toBe(false);
    expect(verifyAlertSignature('k3y', 1_780_000_000, `${body} `, signature)).toBe(false);
    expect(verifyAlertSignature('k3y', 1_780_000_000, body, 'v1=00')).toBe(false);
  });
});
