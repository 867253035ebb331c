import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { TokenStore } from '../../platform/auth.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { loadConfig, type HalflifeConfig } from '../../platform/config.ts';
import { createLogger } from '../../platform/logger.ts';
import { buildApi } from '../../workers/api.ts';
import { alertRoutes } from '../../workers/routes/alerts.ts';
import { dashboardDataRoutes } from '../../workers/routes/dashboard-data.ts';
import { dashboardStaticRoutes } from '../../workers/routes/dashboard-static.ts';
import { decisionRoutes } from '../../workers/routes/decisions.ts';

/** The browser the dashboard tests drive; a test file skips itself where it is not installed. */
export const CHROMIUM = '/usr/bin/chromium';
/** Where the dashboard tests leave their screenshots (for a person to look at; nothing compares them). */
export const SHOTS = path.resolve('test-results/dashboard');

export interface DashboardOptions {
  /** Names the temporary directories, the viewer token's holder and the API's logger. */
  name: string;
  /** The bearer token the test signs in with (a viewer). */
  viewerToken: string;
  /** Settings beyond the temporary data directory. @default {} */
  configOverrides?: Record<string, unknown>;
  /** Writes the test's data into the migrated chDB before the API starts. @default nothing */
  seed?: (clickhouse: ClickHouse, config: HalflifeConfig) => Promise<void>;
  /** Count every HTTP response of 400 or more as a console error. @default false */
  failedResponsesAreErrors?: boolean;
}

/**
 * The daemon's API (buildApi with the dashboard's routes) on a loopback port over this test's own
 * migrated chDB, and a headless Chromium page that collects console errors.
 */
export interface Dashboard {
  readonly clickhouse: ClickHouse;
  readonly config: HalflifeConfig;
  readonly baseUrl: string;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors and uncaught page errors (and failed responses when asked), in order. */
  readonly consoleErrors: string[];
  /** Closes the browser, the API and chDB, and removes the temporary directories. */
  close(): Promise<void>;
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `halflife-${options.name}-`));
  const profileDir = mkdtempSync(path.join(os.tmpdir(), 'halflife-chromium-'));
  mkdirSync(SHOTS, { recursive: true });
  let clickhouse: ClickHouse | undefined;
  let api: FastifyInstance | undefined;
  let context: BrowserContext | undefined;
  const close = async () => {
    await context?.close();
    await api?.close();
    await clickhouse?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
  };
  try {
    const config = loadConfig({ env: {}, overrides: { dataDir, logLevel: 'warn', ...options.configOverrides } });
    clickhouse = await openClickHouse(config);
    await applyMigrations(clickhouse.client);
    await options.seed?.(clickhouse, config);

    const tokens = new TokenStore();
    tokens.add(options.viewerToken, { name: `${options.name}-test`, role: 'viewer' });
    api = await buildApi({
      tokens,
      logger: createLogger(`${options.name}-test`, 'warn'),
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
    const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1440, height: 1000 },
      // No background traffic of the browser's own: every request the page makes is the dashboard's.
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
    const page = context.pages()[0] ?? (await context.newPage());
    const consoleErrors: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(err.message));
    if (options.failedResponsesAreErrors)
      page.on('response', (res) => {
        if (res.status() >= 400) consoleErrors.push(`${res.status()} ${res.url()}`);
      });
    return { clickhouse, config, baseUrl, context, page, consoleErrors, close };
  } catch (error) {
    // beforeAll failed: nothing else will close what was opened.
    await close();
    throw error;
  }
}
