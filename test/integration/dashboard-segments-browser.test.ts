import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CategoricalProfile } from '../../detectors/drift/profiles.ts';
import type { CountedWindow } from '../../detectors/drift/window-comparison.ts';
import { buildScoreHistogram } from '../../detectors/quality/score-histogram.ts';
import { evaluateSegments, type SegmentReport } from '../../detectors/segments/evaluate-segments.ts';
import type { SegmentCounts } from '../../detectors/segments/types.ts';
import { recordDecision } from '../../platform/clickhouse/decisions-repository.ts';
import { CHROMIUM, SHOTS, startDashboard, type Dashboard } from '../helpers/dashboard-server.ts';

/**
 * The segments panel of the model page in headless Chromium: a segment × feature heatmap of the
 * newest judged window and each segment's quality against the segment SLO, from the report a
 * monitor records with its decision (evaluateSegments on the committed segment fixture: one
 * country drifted in two features; its labels put it below the SLO).
 */

const VIEWER = 'viewer-token-segments-0123456789';
const HOUR = 3_600_000;
const MODEL = 'segmented-model';

interface Fixture {
  min_events: number;
  segments: {
    key: string;
    value: string;
    rows_reference: number;
    rows_window: number;
    reference: Record<string, Record<string, number>>;
    window: Record<string, Record<string, number>>;
  }[];
}

const counted = (rows: number, features: Record<string, Record<string, number>>): CountedWindow => ({
  rows,
  features: Object.fromEntries(
    Object.entries(features).map(([n, counts]) => [
      n,
      { kind: 'categorical', counts, missing: 0 } as CategoricalProfile,
    ]),
  ),
  prediction: null,
  predictionClass: null,
  predictionValue: null,
  typeViolations: {},
});

/** Labelled events with the given accuracy at threshold 0.5. */
function labelled(n: number, accuracy: number) {
  const labels: number[] = [];
  const scores: number[] = [];
  for (let i = 0; i < n; i++) {
    labels.push(i % 2);
    scores.push(i < Math.round(n * accuracy) === (i % 2 === 1) ? 0.8 : 0.2);
  }
  return { events: n, histogram: buildScoreHistogram(labels, scores) };
}

function report(): SegmentReport {
  const fixture = JSON.parse(
    readFileSync(new URL('../fixtures/segments/segments_bh.json', import.meta.url), 'utf8'),
  ) as Fixture;
  const names = Object.keys(fixture.segments[0]!.reference);
  const whole = {
    features: Object.fromEntries(
      names.map((n) => [n, { kind: 'categorical', counts: {}, missing: 0 } as CategoricalProfile]),
    ),
    prediction: null,
  };
  const segments: SegmentCounts[] = fixture.segments.map((s) => ({
    key: s.key,
    value: s.value,
    reference: counted(s.rows_reference, s.reference),
    window: counted(s.rows_window, s.window),
    labelled: labelled(s.rows_window, s.value === 'FR' ? 0.62 : 0.91),
  }));
  return evaluateSegments(whole, segments, {
    minEvents: fixture.min_events,
    slo: { min: 0.8, minEvents: 200, action: 'retrain' },
  });
}

describe.skipIf(!existsSync(CHROMIUM))('segments on the web dashboard (headless Chromium)', () => {
  let dashboard: Dashboard;
  let baseUrl: string;
  let page: Page;
  const segments = report();

  beforeAll(async () => {
    dashboard = await startDashboard({
      name: 'dashboard-segments',
      viewerToken: VIEWER,
      seed: async (clickhouse) => {
        const now = Date.now();
        // Two window decisions: an older one without segments, the newest with the segment report.
        for (const [i, withSegments] of [
          [0, false],
          [1, true],
        ] as const) {
          const start = now - (3 - i) * HOUR;
          await recordDecision(clickhouse.client, {
            decisionId: `seeded/${i}`,
            modelId: MODEL,
            modelVersion: 'v1',
            workflowId: `halflife-monitor-${MODEL}`,
            runId: 'seeded',
            decidedAt: start + HOUR,
            kind: withSegments ? 'blocked' : 'no-action',
            actor: 'system',
            reason: withSegments ? 'segment quality below its SLO: country=FR' : 'no trigger fired',
            policy: { name: 'segment-slo', version: '1', hash: '0'.repeat(64) },
            statistics: {
              window: { start, end: start + HOUR, events: 3000, dataQualityOk: true, drift: null, quality: null },
              drift: null,
              dataQuality: null,
              quality: null,
              ...(withSegments ? { segments } : {}),
            },
            thresholds: null,
            windows: [{ start, end: start + HOUR }],
            trainingWindow: null,
            lineageId: '',
            details: withSegments ? { segmentDrivers: segments.drivers } : {},
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

  it('the API returns the newest per-segment results with their decision', async () => {
    const res = await fetch(`${baseUrl}/v1/models/${MODEL}/segments`, {
      headers: { authorization: `Bearer ${VIEWER}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { decisionId: string; report: SegmentReport };
    expect(body.decisionId).toBe('seeded/1');
    expect(body.report.drivers[0]).toBe('country=FR');
    const missing = await fetch(`${baseUrl}/v1/models/nobody/segments`, {
      headers: { authorization: `Bearer ${VIEWER}` },
    });
    expect(missing.status).toBe(404);
  });

  it('shows a segment × feature heatmap and per-segment quality on the model page', async () => {
    await page.goto(`${baseUrl}/`);
    await page.waitForSelector('#signin');
    await page.fill('#token', VIEWER);
    await page.click('#signin button[type=submit]');
    await page.goto(`${baseUrl}/#/model/${encodeURIComponent(MODEL)}`);
    await page.waitForSelector('#segments #segment-heatmap .cell');
    expect(await page.getAttribute('#segments', 'data-drivers')).toBe(segments.drivers.join(','));
    // The drifted cells are exactly the report's (FR's f1 and f3), marked ●.
    const drifted = await page
      .locator('#segment-heatmap .cell[data-drifted="true"]')
      .evaluateAll((cells) => cells.map((c) => `${c.getAttribute('data-segment')}:${c.getAttribute('data-feature')}`));
    const expected = segments.segments.flatMap((s) => (s.drift?.drifted ?? []).map((f) => `${s.segment}:${f}`));
    expect(drifted.sort()).toEqual(expected.sort());
    expect(drifted.length).toBeGreaterThan(0);
    expect(await page.locator('#segment-heatmap .cell').count()).toBe(segments.segments.length * 5);
    // Per-segment quality: FR below the SLO, the small segment not judged.
    expect(await page.getAttribute('#segments tr[data-segment="country=FR"]', 'data-breached')).toBe('true');
    expect(await page.textContent('#segments tr[data-segment="country=FR"]')).toContain('below SLO');
    expect(await page.textContent('#segments tr[data-segment="country=IT"]')).toMatch(/60 events in the window/);
    await page.locator('#segments').screenshot({ path: path.join(SHOTS, 'segments-model.png') });
    expect(dashboard.consoleErrors).toEqual([]);
  });
});
