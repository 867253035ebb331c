import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TokenStore } from '../../platform/auth.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { loadConfig } from '../../platform/config.ts';
import { createLogger } from '../../platform/logger.ts';
import { buildApi } from '../../workers/api.ts';
import { dashboardDataRoutes } from '../../workers/routes/dashboard-data.ts';
import { dashboardStaticRoutes } from '../../workers/routes/dashboard-static.ts';
import { decisionRoutes } from '../../workers/routes/decisions.ts';
import { alertRoutes } from '../../workers/routes/alerts.ts';
import { seedRun, type SeededRun } from '../helpers/seed-run.ts';

/**
 * The web dashboard in real headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core): sign-in, the fleet page, the model page with the fitted decay curve and
 * half-life, and a decision's provenance, on a seeded run in chDB. The API is the daemon's
 * (buildApi with the same route modules the daemon mounts), without Kafka/Temporal: the
 * dashboard only reads ClickHouse. Screenshots go to test-results/dashboard/.
 */

const CHROMIUM = '/usr/bin/chromium';
const VIEWER = 'viewer-token-0123456789abcdef';
const UI_PORT = 8233;
const SHOTS = path.resolve('test-results/dashboard');

describe.skipIf(!existsSync(CHROMIUM))('web dashboard in headless Chromium', () => {
  let clickhouse: ClickHouse;
  let api: FastifyInstance;
  let baseUrl: string;
  let context: BrowserContext;
  let page: Page;
  let run: SeededRun;
  let dataDir: string;
  let profileDir: string;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'halflife-dashboard-'));
    profileDir = mkdtempSync(path.join(os.tmpdir(), 'halflife-chromium-'));
    mkdirSync(SHOTS, { recursive: true });
    const config = loadConfig({
      env: {},
      overrides: { dataDir, logLevel: 'warn', services: { temporalUiPort: UI_PORT } },
    });
    clickhouse = await openClickHouse(config);
    await applyMigrations(clickhouse.client);

    // Registry writes are stamped with Date.now(): move it along the seeded story.
    let clock: number | null = null;
    const realNow = Date.now.bind(Date);
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => clock ?? realNow());
    run = await seedRun(clickhouse.client, { prefix: 'dash', setClock: (ms) => (clock = ms) });
    spy.mockRestore();

    const tokens = new TokenStore();
    tokens.add(VIEWER, { name: 'dashboard-test', role: 'viewer' });
    api = await buildApi({
      tokens,
      logger: createLogger('dashboard-test', 'warn'),
      readiness: {},
      routes: [
        decisionRoutes(clickhouse.client),
        alertRoutes(clickhouse.client),
        dashboardDataRoutes(clickhouse.client, { config }),
        dashboardStaticRoutes(),
      ],
    });
    await api.listen({ host: '127.0.0.1', port: 0 });
    const address = api.server.address();
    baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1440, height: 1000 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(err.message));
  });

  afterAll(async () => {
    await context?.close();
    await api?.close();
    await clickhouse?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
  });

  it('shows only the sign-in form without a token, and refuses a bad one', async () => {
    await page.goto(`${baseUrl}/`);
    await page.waitForSelector('#signin');
    expect(await page.locator('#fleet').count()).toBe(0);
    // The data routes refuse the page's calls without a token too.
    expect((await fetch(`${baseUrl}/v1/dashboard/fleet`)).status).toBe(401);

    await page.fill('#token', 'not-a-valid-token-at-all');
    await page.click('#signin button[type=submit]');
    await expect.poll(() => page.textContent('#signin-error')).toContain('401');
    expect(await page.locator('#fleet').count()).toBe(0);
    await page.screenshot({ path: path.join(SHOTS, '0-signin-refused.png') });
  });

  it('renders the fleet from the seeded run', async () => {
    consoleErrors.length = 0; // the refused sign-in above logs its 401
    await page.fill('#token', VIEWER);
    await page.click('#signin button[type=submit]');
    await page.waitForSelector('#fleet tbody tr[data-model]');
    const churn = page.locator(`#fleet tr[data-model="${run.churn.modelId}"]`);
    const fraud = page.locator(`#fleet tr[data-model="${run.fraud.modelId}"]`);
    await expect.poll(() => churn.count()).toBe(1);
    expect(await fraud.count()).toBe(1);
    const fit = run.churn.latestFit!;
    expect(fit.model).toBe('exponential');
    const churnText = (await churn.textContent()) ?? '';
    expect(churnText).toContain('v2 production');
    expect(churnText).toContain(`${fit.halfLifeHours!.toFixed(1)} h`);
    expect(churnText).toContain(
      `${fit.halfLifeInterval!.lower.toFixed(1)}–${fit.halfLifeInterval!.upper!.toFixed(1)} h`,
    );
    expect(churnText).toMatch(/in \d+\.\d h/); // predicted time to SLO breach
    expect(await churn.locator('[data-health]').getAttribute('data-health')).toMatch(
      /healthy|drifting|decaying|degraded|data-quality/,
    );
    expect((await fraud.textContent()) ?? '').toContain('no decay detected');
    await page.screenshot({ path: path.join(SHOTS, '1-fleet.png'), fullPage: true });
  });

  it('renders the model page: quality, the fitted decay curve with its half-life, drift heatmap, decisions', async () => {
    await page.click(`#fleet tr[data-model="${run.churn.modelId}"] a`);
    await page.waitForSelector('#page-model #chart-decay canvas');
    const fit = run.churn.latestFit!;

    // The half-life label matches the seeded (monitor's own) fit.
    const label = (await page.textContent('#halflife-label')) ?? '';
    expect(label).toContain(`Half-life of ${run.churn.latestFitVersion}: ${fit.halfLifeHours!.toFixed(1)} h`);
    expect(label).toContain(
      `90% CI ${fit.halfLifeInterval!.lower.toFixed(1)}–${fit.halfLifeInterval!.upper!.toFixed(1)} h`,
    );

    // The decay chart has the fitted curve as a series, and it is the seeded exponential.
    const decay = await page.evaluate(() => {
      const chart = (
        globalThis as unknown as {
          __halflife: { charts: Record<string, { series: { label: string }[]; data: (number | null)[][] }> };
        }
      ).__halflife.charts.decay!;
      return { labels: chart.series.map((s) => s.label), data: chart.data };
    });
    const curveIndex = decay.labels.findIndex((l) => l.startsWith('v2 fitted decay (exponential'));
    expect(curveIndex).toBeGreaterThan(0);
    expect(decay.labels).toContain('v2 observed');
    expect(decay.labels).toContain('v1 observed');
    const ages = decay.data[0]!;
    const curve = decay.data[curveIndex]!;
    const drawn = ages.map((a, i) => [a, curve[i]] as const).filter(([, q]) => q !== null && q !== undefined) as [
      number,
      number,
    ][];
    expect(drawn.length).toBeGreaterThan(40);
    for (const [age, q] of drawn.filter((_, i) => i % 10 === 0)) {
      expect(q).toBeCloseTo((fit.floor! + (fit.q0! - fit.floor!) * 2 ** (-age / fit.halfLifeHours!)) * 100, 6);
    }
    // The legend of the chart names the curve, readable without hovering.
    expect(await page.locator('#chart-decay .u-legend').textContent()).toContain('v2 fitted decay');

    // Drift heatmap: every feature × window; the drifting features are marked.
    const cells = page.locator('#drift-heatmap .cell');
    expect(await cells.count()).toBe(7 * 60);
    expect(
      await page.locator('#drift-heatmap .cell[data-feature="monthly_spend"][data-drifted="true"]').count(),
    ).toBeGreaterThan(5);
    expect(await page.locator('#drift-heatmap .cell[data-feature="tenure_days"][data-drifted="true"]').count()).toBe(0);

    // Quality, data quality and ingest charts drew; the comparisons show both retrains.
    for (const id of ['#chart-quality', '#chart-data-quality', '#chart-ingest'])
      expect(await page.locator(`${id} canvas`).count()).toBe(1);
    expect(await page.locator('#comparisons .comparison').count()).toBe(2);
    expect(
      await page.locator(`#comparisons .comparison[data-decision="${run.churn.promoteDecisionId}"] svg`).count(),
    ).toBe(2);
    await page.screenshot({ path: path.join(SHOTS, '2-model.png'), fullPage: true });
  });

  it('shows on the Serving card what the registry asks for and what serving reports, with their agreement', async () => {
    const card = page.locator('#card-serving');
    // The seeded run's recent events were scored by the production version; no scorer reports.
    expect(await card.getAttribute('data-agreement')).toBe('no-live-scorer');
    expect(await card.getAttribute('data-scored-by')).toBe(run.churn.productionVersion);
    expect(await card.locator('.value').textContent()).toBe(run.churn.productionVersion);
    const text = (await card.textContent()) ?? '';
    expect(text).toContain(`events scored by ${run.churn.productionVersion}`);
    expect(text).toContain(`registry: ${run.churn.productionVersion} production since`);
    expect(text).toContain('no scorer reports');
    await card.screenshot({ path: path.join(SHOTS, '2-model-serving-card.png') });
  });

  it("opens a decision's provenance on click: policy hash, statistics, Temporal link", async () => {
    await page.click(`#decision-list tr[data-decision="${run.churn.promoteDecisionId}"]`);
    await page.waitForSelector(`#provenance[data-decision="${run.churn.promoteDecisionId}"]`);
    expect(await page.textContent('#prov-policy-hash')).toBe(run.policy.hash);
    expect(await page.textContent('#prov-policy')).toBe(`${run.policy.name} v${run.policy.version}`);
    const improvement = (await page.textContent('#provenance [data-stat="improvement"]')) ?? '';
    expect(improvement).toMatch(/^0\.\d{4} \(95% CI 0\.\d{4} to 0\.\d{4}/);
    expect(await page.textContent('#provenance [data-stat="verdict"]')).toContain(
      'promote — non-inferiority on accuracy, n=800',
    );
    const link = await page.getAttribute('#prov-temporal-link', 'href');
    expect(link).toBe(
      `http://127.0.0.1:${UI_PORT}/namespaces/default/workflows/halflife-retrain-${run.churn.modelId}-1/6f1c2a0e-4b7d-4c1e-9a53-seeded000002`,
    );
    await page.screenshot({ path: path.join(SHOTS, '3-provenance-promote.png') });

    // A monitor decision (from the timeline strip): its window statistics and economics.
    await page.click('#drawer-close');
    await page.waitForSelector('#drawer', { state: 'hidden' });
    const retrain = run.churn.decisions.find((d) => d.kind === 'retrain')!;
    await page.click(`#timeline g.marker[data-decision="${retrain.decisionId}"] circle`);
    await page.waitForSelector(`#provenance[data-decision="${retrain.decisionId}"]`);
    expect(await page.textContent('#provenance [data-stat="economics"]')).toMatch(/avoidable staleness cost \d+/);
    expect(await page.textContent('#provenance [data-stat="decay"]')).toMatch(/^exponential: half-life \d+\.\d h/);
    expect(await page.locator('#prov-guards tbody tr').count()).toBe(3);
    await page.screenshot({ path: path.join(SHOTS, '4-provenance-retrain.png') });
  });

  it('updates live: a new decision appears without a reload', async () => {
    await page.click('#drawer-close');
    const { recordDecision } = await import('../../platform/clickhouse/decisions-repository.ts');
    await recordDecision(clickhouse.client, {
      decisionId: `live-${Date.now()}`,
      modelId: run.churn.modelId,
      modelVersion: 'v2',
      workflowId: `halflife-monitor-${run.churn.modelId}`,
      runId: 'live',
      decidedAt: Date.now(),
      kind: 'blocked',
      actor: 'system',
      reason: 'retrain blocked by cooldown (live update test)',
      policy: run.policy,
      statistics: null,
      thresholds: null,
      windows: null,
      trainingWindow: null,
      lineageId: '',
      details: null,
    });
    // The page polls every 5 s (see app.js); no reload here.
    expect(await page.locator('#decision-list tbody tr[data-kind="blocked"]').count()).toBe(0);
    await expect
      .poll(() => page.locator('#decision-list tbody tr[data-kind="blocked"]').count(), {
        timeout: 15_000,
        interval: 500,
      })
      .toBe(1);
    expect(await page.textContent('#decision-list tbody tr:first-child')).toContain('live update test');
    expect(consoleErrors).toEqual([]);
  });
});
