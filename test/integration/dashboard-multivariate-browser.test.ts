import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multivariateDrift, type MultivariateDriftReport } from '../../detectors/drift/multivariate/report.ts';
import type { SampledRows } from '../../detectors/drift/multivariate/sample.ts';
import { Random } from '../../detectors/random.ts';
import { recordDecision } from '../../platform/clickhouse/decisions-repository.ts';
import { CHROMIUM, SHOTS, startDashboard, type Dashboard } from '../helpers/dashboard-server.ts';

/**
 * The multivariate drift panel of the model page in headless Chromium: for the newest window
 * that ran the tests, each test's statistic, p and level, the PCA band, the verdict and the
 * features that drive it, and a strip of recent windows' verdicts — from the reports the pure
 * tests give on seeded samples (x1, x2 and a 16-dimensional embedding; the second window's
 * embedding shifted in four coordinates and x1, x2's correlation flipped), recorded as a monitor
 * records them with its decisions.
 */

const VIEWER = 'viewer-token-multivariate-0123456789';
const HOUR = 3_600_000;
const MODEL = 'embedding-model';

function sample(seed: number, shifted: boolean): SampledRows {
  const random = new Random(seed);
  const rows = 600;
  const x1: number[] = [];
  const x2: number[] = [];
  const embedding: number[][] = [];
  const rho = shifted ? -0.8 : 0.8;
  for (let i = 0; i < rows; i++) {
    const a = random.normal();
    x1.push(a);
    x2.push(rho * a + Math.sqrt(1 - rho * rho) * random.normal());
    embedding.push(Array.from({ length: 16 }, (_, j) => random.normal() + (shifted && j < 4 ? 0.5 : 0)));
  }
  return { rows, numeric: { x1, x2 }, categorical: {}, vectors: { embedding } };
}

describe.skipIf(!existsSync(CHROMIUM))('multivariate drift on the web dashboard (headless Chromium)', () => {
  let dashboard: Dashboard;
  let baseUrl: string;
  let page: Page;
  const reference = sample(1, false);
  // Enough permutations that MMD can reach its Bonferroni share of 0.01 over four tests (p ≥ 1 / (permutations + 1)).
  const settings = { permutations: 1000, bootstrapResamples: 500, mmdRows: 300 };
  const quiet = multivariateDrift(reference, sample(2, false), settings)!;
  const drifted = multivariateDrift(reference, sample(3, true), settings)!;

  beforeAll(async () => {
    dashboard = await startDashboard({
      name: 'dashboard-multivariate',
      viewerToken: VIEWER,
      seed: async (clickhouse) => {
        const now = Date.now();
        // Three window decisions: one before the tests were enabled, one quiet, the newest drifted.
        const reports: (MultivariateDriftReport | null)[] = [null, quiet, drifted];
        for (const [i, multivariate] of reports.entries()) {
          const start = now - (4 - i) * HOUR;
          await recordDecision(clickhouse.client, {
            decisionId: `seeded/${i}`,
            modelId: MODEL,
            modelVersion: 'v1',
            workflowId: `halflife-monitor-${MODEL}`,
            runId: 'seeded',
            decidedAt: start + HOUR,
            kind: 'no-action',
            actor: 'system',
            reason: 'no trigger fired',
            policy: { name: 'multivariate', version: '1', hash: '0'.repeat(64) },
            statistics: {
              window: { start, end: start + HOUR, events: 3000, dataQualityOk: true, drift: null, quality: null },
              drift: {
                features: [],
                n_drifted: 0,
                share_drifted: 0,
                dataset_drift: multivariate?.dataset_drift ?? false,
                ...(multivariate ? { multivariate } : {}),
              },
              dataQuality: null,
              quality: null,
            },
            thresholds: null,
            windows: [{ start, end: start + HOUR }],
            trainingWindow: null,
            lineageId: '',
            details: {},
          });
        }
      },
      failedResponsesAreErrors: true,
    });
    ({ page, baseUrl } = dashboard);
  });

  afterAll(async () => {
    await dashboard?.close();
  });

  it('the seeded reports are what the panel must show: the shifted window drifted, the other did not', () => {
    expect(quiet.dataset_drift).toBe(false);
    expect([...drifted.drifted_tests].sort()).toEqual(['domain-classifier', 'mmd', 'pca-reconstruction']);
  });

  it('shows each test of the newest window with its figures, verdict and drivers, and recent verdicts', async () => {
    await page.goto(`${baseUrl}/`);
    await page.waitForSelector('#signin');
    await page.fill('#token', VIEWER);
    await page.click('#signin button[type=submit]');
    await page.goto(`${baseUrl}/#/model/${encodeURIComponent(MODEL)}`);
    await page.waitForSelector('#multivariate table.multivariate-tests tbody tr');
    expect(await page.getAttribute('#multivariate', 'data-dataset-drift')).toBe('true');
    const rows = await page.locator('#multivariate table.multivariate-tests tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({
        test: tr.getAttribute('data-test'),
        drifted: tr.getAttribute('data-drifted'),
        cells: [...tr.querySelectorAll('td')].map((td) => td.textContent ?? ''),
      })),
    );
    const key = (t: MultivariateDriftReport['tests'][number]) =>
      t.test === 'mmd' ? `mmd:${t.features.join(',')}` : t.test;
    expect(rows.map((r) => r.test)).toEqual(drifted.tests.map(key));
    expect(rows.map((r) => r.test)).toContain('mmd:embedding');
    for (const [i, t] of drifted.tests.entries()) {
      const row = rows[i]!;
      expect(row.drifted).toBe(String(t.drifted));
      // The statistic as recorded, to three decimals.
      expect(row.cells[1]).toContain(t.statistic.value.toFixed(3));
      expect(row.cells[4]).toBe(t.drifted ? 'drifted' : 'ok');
    }
    const classifier = rows.find((r) => r.test === 'domain-classifier')!;
    const auc = drifted.tests.find((t) => t.test === 'domain-classifier')!;
    expect(classifier.cells[1]).toBe(`AUC ${auc.statistic.value.toFixed(3)}`);
    expect(classifier.cells[5]).toContain(auc.driving_features[0]!.feature);
    const pca = drifted.tests.find((t) => t.test === 'pca-reconstruction')!;
    expect(rows.find((r) => r.test === 'pca-reconstruction')!.cells[3]).toBe(
      `[${pca.details.band_lower!.toFixed(3)}, ${pca.details.band_upper!.toFixed(3)}] ref ${pca.details.reference_error!.toFixed(3)}`,
    );
    // Recent windows: the quiet one ○, the drifted one ● (the window without the tests is not a column).
    const strip = await page
      .locator('#multivariate table.multivariate-history tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '').join('')));
    expect(strip.length).toBe(drifted.tests.length);
    for (const [i, t] of drifted.tests.entries())
      expect(strip[i]).toBe(
        `${quiet.tests.find((q) => key(q) === key(t))?.drifted ? '●' : '○'}${t.drifted ? '●' : '○'}`,
      );
    await page.locator('#multivariate').screenshot({ path: path.join(SHOTS, 'multivariate-model.png') });
    expect(dashboard.consoleErrors).toEqual([]);
  });
});
