import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AlertNotification } from '../../detectors/alerts/types.ts';
import { recordAlertDelivery, recordAlertNotification } from '../../platform/clickhouse/alerts-repository.ts';
import type { ClickHouse } from '../../platform/clickhouse/client.ts';
import { seedRun, type SeededRun } from '../helpers/seed-run.ts';
import { CHROMIUM, SHOTS, startDashboard, type Dashboard } from '../helpers/dashboard-server.ts';

/**
 * The alerts panel of the fleet and model pages in headless Chromium, on a seeded run plus alert
 * messages written by the repository the delivery activities use: what fires now, the latest
 * messages, and per receiver whether delivery succeeded and after how many attempts.
 */

const VIEWER = 'viewer-token-alerts-0123456789';
const HOUR = 3_600_000;

describe.skipIf(!existsSync(CHROMIUM))('alerts on the web dashboard (headless Chromium)', () => {
  let dashboard: Dashboard;
  let baseUrl: string;
  let page: Page;
  let run: SeededRun;

  beforeAll(async () => {
    dashboard = await startDashboard({
      name: 'dashboard-alerts',
      viewerToken: VIEWER,
      seed: async (clickhouse) => {
        let clock: number | null = null;
        const realNow = Date.now.bind(Date);
        const spy = vi.spyOn(Date, 'now').mockImplementation(() => clock ?? realNow());
        run = await seedRun(clickhouse.client, { prefix: 'alerts', setClock: (ms) => (clock = ms) });
        spy.mockRestore();
        await seedAlerts(clickhouse, run.churn.modelId);
      },
    });
    ({ page, baseUrl } = dashboard);
  });

  afterAll(async () => {
    await dashboard?.close();
  });

  it('the fleet page lists what fires now and the latest messages with their delivery', async () => {
    await page.goto(`${baseUrl}/`);
    await page.waitForSelector('#signin');
    await page.fill('#token', VIEWER);
    await page.click('#signin button[type=submit]');
    await page.waitForSelector('#alerts table.alerts tbody tr');
    expect(await page.getAttribute('#alerts .alerts-firing', 'data-firing')).toBe('1');
    expect(await page.textContent('#alerts .alerts-firing')).toContain(
      `${run.churn.modelId}: input drift: monthly_spend`,
    );
    const rows = page.locator('#alerts table.alerts tbody tr');
    expect(await rows.count()).toBe(3);
    // Newest first: the drift firing, then the SLO resolution, then the SLO firing.
    expect(await rows.nth(0).getAttribute('data-type')).toBe('firing');
    expect(await rows.nth(1).getAttribute('data-type')).toBe('resolved');
    expect(await rows.nth(1).textContent()).toContain('resolved: quality is back above the SLO');
    // The drift alert reached the chat receiver at once and the webhook on its third attempt; Alertmanager gave up.
    const drift = rows.nth(0);
    expect(await drift.locator('[data-receiver="chat"]').getAttribute('data-state')).toBe('delivered');
    expect(await drift.locator('[data-receiver="webhook"]').textContent()).toBe('webhook: delivered (3 attempts)');
    expect(await drift.locator('[data-receiver="alertmanager"]').getAttribute('data-state')).toBe('gave-up');
    expect(await drift.locator('[data-severity]').getAttribute('data-severity')).toBe('warning');
    expect(await drift.locator('a').textContent()).toBe(run.churn.modelId);
    await page.screenshot({ path: path.join(SHOTS, 'alerts-fleet.png'), fullPage: true });
  });

  it("the model page lists only that model's alerts", async () => {
    await page.goto(`${baseUrl}/#/model/${encodeURIComponent(run.fraud.modelId)}`);
    await page.waitForSelector(`#alerts[data-model="${run.fraud.modelId}"] .alerts-firing`);
    expect(await page.getAttribute('#alerts .alerts-firing', 'data-firing')).toBe('0');
    expect(await page.textContent('#alerts')).toContain('No alert messages yet');

    await page.goto(`${baseUrl}/#/model/${encodeURIComponent(run.churn.modelId)}`);
    await page.waitForSelector(`#alerts[data-model="${run.churn.modelId}"] table.alerts tbody tr`);
    expect(await page.locator('#alerts table.alerts tbody tr').count()).toBe(3);
    // No model column on a model's own page.
    expect(await page.locator('#alerts table.alerts thead th').allTextContents()).toEqual([
      'When',
      'Severity',
      'Type',
      'Alert',
      'Delivery',
    ]);
    await page.screenshot({ path: path.join(SHOTS, 'alerts-model.png'), fullPage: true });
    expect(dashboard.consoleErrors).toEqual([]);
  });
});

/** An SLO alert that fired and resolved, and a drift alert still firing, with their delivery attempts. */
async function seedAlerts(ch: ClickHouse, modelId: string): Promise<void> {
  const now = Date.now();
  const source = { workflowId: `halflife-monitor-${modelId}`, runId: 'seeded', policy: null };
  const notice = (rule: 'slo' | 'drift', subject: string | null, startsAt: number) => {
    const key = subject ? `${modelId}/${rule}/${subject}` : `${modelId}/${rule}`;
    return {
      key,
      episodeId: `halflife-alert/${key}/${startsAt}`,
      modelId,
      modelVersion: 'v2',
      rule,
      kind: rule,
      severity: rule === 'slo' ? ('critical' as const) : ('warning' as const),
      subject,
      summary:
        rule === 'slo'
          ? `${modelId}: accuracy 0.801 (realised) is below its SLO 0.850`
          : `${modelId}: input drift: monthly_spend, support_calls`,
      description: 'seeded',
      details: {},
      startsAt,
      receivers: ['webhook', 'chat', 'alertmanager'],
    };
  };
  const slo = notice('slo', 'breached', now - 5 * HOUR);
  const drift = notice('drift', null, now - HOUR);
  const notifications: AlertNotification[] = [
    {
      notificationId: `${slo.episodeId}/1`,
      sequence: 1,
      type: 'firing',
      alert: slo,
      resolvedAt: null,
      resolution: null,
      notifiedAt: slo.startsAt,
      source,
    },
    {
      notificationId: `${slo.episodeId}/2`,
      sequence: 2,
      type: 'resolved',
      alert: slo,
      resolvedAt: now - 2 * HOUR,
      resolution: 'quality is back above the SLO',
      notifiedAt: now - 2 * HOUR,
      source,
    },
    {
      notificationId: `${drift.episodeId}/1`,
      sequence: 1,
      type: 'firing',
      alert: drift,
      resolvedAt: null,
      resolution: null,
      notifiedAt: drift.startsAt,
      source,
    },
  ];
  for (const n of notifications) {
    await recordAlertNotification(ch.client, n);
    const outcomes: Record<string, ('delivered' | 'failed' | 'timeout' | 'gave-up')[]> =
      n === notifications[2]
        ? { chat: ['delivered'], webhook: ['failed', 'timeout', 'delivered'], alertmanager: ['failed', 'gave-up'] }
        : { chat: ['delivered'], webhook: ['delivered'], alertmanager: ['delivered'] };
    for (const [receiver, list] of Object.entries(outcomes))
      for (const [i, outcome] of list.entries())
        await recordAlertDelivery(ch.client, {
          notificationId: n.notificationId,
          episodeId: n.alert.episodeId,
          alertKey: n.alert.key,
          modelId,
          receiver,
          format: receiver === 'chat' ? 'slack' : receiver === 'webhook' ? 'json' : 'alertmanager',
          send: 'notify',
          attempt: outcome === 'gave-up' ? 0 : i + 1,
          attemptedAt: n.notifiedAt + i * 10_000,
          outcome,
          httpStatus: outcome === 'delivered' ? 200 : outcome === 'failed' ? 503 : null,
          error: outcome === 'delivered' ? null : `${outcome}`,
          durationMs: 12,
          payloadDigest: 'd'.repeat(64),
        });
  }
}
