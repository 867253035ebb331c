import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { seedRun, type SeededRun } from '../helpers/seed-run.ts';
import { CHROMIUM, SHOTS, startDashboard, type Dashboard } from '../helpers/dashboard-server.ts';

/**
 * The web dashboard in real headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core): sign-in, the fleet page, the model page with the fitted decay curve and
 * half-life, and a decision's provenance, on a seeded run in chDB — and the texts and axes a
 * person reads: reasons whole and without a repeated kind, one economics statement, one time
 * format, window lengths from the cadence, bounded quality axes with distinct ticks, decay curves
 * only over observed ages, a half-life only with the evidence, timeline labels that do not
 * overlap, empty charts that say so. The API is the daemon's (buildApi with the same route
 * modules the daemon mounts), without Kafka/Temporal: the dashboard only reads ClickHouse.
 * Screenshots go to test-results/dashboard/.
 */

const VIEWER = 'viewer-token-0123456789abcdef';
const UI_PORT = 8233;

/** A reason that starts by repeating a decision kind or the economics verdict. */
const KIND_PREFIX = /^(no action|no-action|retrain|wait|blocked by [a-z-]+):/;
/** The one time format: "2026-12-04 17:45:09 UTC". */
const INSTANT = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/;

interface ChartView {
  labels: string[];
  data: (number | null)[][];
  xScale: { min: number; max: number };
  yScale: { min: number; max: number };
  xTicks: string[];
  yTicks: string[];
  band: { ageHours: number; quality: number; lower: number | null; upper: number | null }[] | null;
  ageUnit: string | null;
}

/** What a uPlot chart of the page draws: series, data, scale ranges and the tick labels it wrote. */
async function chartView(page: Page, name: string): Promise<ChartView> {
  return page.evaluate((key) => {
    type Chart = {
      series: { label: string }[];
      data: (number | null)[][];
      scales: Record<string, { min: number; max: number }>;
      axes: { _values: string[] | null }[];
      __band?: ChartView['band'];
      __ageUnit?: string;
    };
    const chart = (globalThis as unknown as { __halflife: { charts: Record<string, Chart> } }).__halflife.charts[key]!;
    return {
      labels: chart.series.map((x) => x.label),
      data: chart.data,
      xScale: { min: chart.scales.x!.min, max: chart.scales.x!.max },
      yScale: { min: chart.scales.y!.min, max: chart.scales.y!.max },
      xTicks: [...(chart.axes[0]!._values ?? [])],
      yTicks: [...(chart.axes[1]!._values ?? [])],
      band: chart.__band ?? null,
      ageUnit: chart.__ageUnit ?? null,
    };
  }, name);
}

/** Boxes of SVG text elements matching `selector` (page pixels). */
async function textBoxes(page: Page, selector: string) {
  return page.$$eval(selector, (els) =>
    els.map((el) => {
      const r = el.getBoundingClientRect();
      return { text: el.textContent ?? '', left: r.left, right: r.right, top: r.top, bottom: r.bottom };
    }),
  );
}

function overlapping(boxes: { left: number; right: number; top: number; bottom: number; text: string }[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i]!;
      const b = boxes[j]!;
      if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom)
        out.push(`${a.text}@${a.left.toFixed(0)} × ${b.text}@${b.left.toFixed(0)}`);
    }
  return out;
}

/** Quality ticks of a bounded metric: inside 0–100, each one different, none repeated. */
function expectReadablePercentTicks(ticks: string[]) {
  expect(ticks.length).toBeGreaterThanOrEqual(3);
  for (const t of ticks) expect(t).toMatch(/^\d{1,3}(\.\d+)?%$/);
  expect(new Set(ticks).size).toBe(ticks.length);
  for (const t of ticks) expect(Number(t.replace('%', ''))).toBeLessThanOrEqual(100);
}

/** Time ticks: 24-hour clock, a date line where the day changes, no am/pm. */
function expect24HourTicks(ticks: string[]) {
  expect(ticks.length).toBeGreaterThanOrEqual(2);
  for (const t of ticks) expect(t).toMatch(/^\d\d:\d\d(:\d\d)?(\n\d{4}-\d\d-\d\d)?$/);
  expect(ticks[0]).toMatch(/\n\d{4}-\d\d-\d\d$/);
}

describe.skipIf(!existsSync(CHROMIUM))('web dashboard in headless Chromium', () => {
  let dashboard: Dashboard;
  let baseUrl: string;
  let page: Page;
  let run: SeededRun;

  beforeAll(async () => {
    dashboard = await startDashboard({
      name: 'dashboard',
      viewerToken: VIEWER,
      configOverrides: { services: { temporalUiPort: UI_PORT } },
      seed: async (clickhouse) => {
        // Registry writes are stamped with Date.now(): move it along the seeded story.
        let clock: number | null = null;
        const realNow = Date.now.bind(Date);
        const spy = vi.spyOn(Date, 'now').mockImplementation(() => clock ?? realNow());
        run = await seedRun(clickhouse.client, { prefix: 'dash', setClock: (ms) => (clock = ms) });
        spy.mockRestore();
      },
    });
    ({ page, baseUrl } = dashboard);
  });

  afterAll(async () => {
    await dashboard?.close();
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
    dashboard.consoleErrors.length = 0; // the refused sign-in above logs its 401
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
    // The demo's healthy v2 has a straight line through two windows: no half-life, and the page says why.
    const demo = page.locator(`#fleet tr[data-model="${run.demo.modelId}"]`);
    expect(run.demo.latestFit?.model).toBe('linear');
    expect(run.demo.latestFit?.halfLifeHours).not.toBeNull();
    const demoHalfLife = (await demo.locator('[data-col="halflife"]').textContent()) ?? '';
    expect(demoHalfLife).toContain('not yet');
    expect(demoHalfLife).toContain('only 2 windows of this version: a half-life needs at least 4');
    expect(await demo.locator('[data-col="breach"]').textContent()).toBe('–');
    // The last decision's reason is shown whole, without a repeated kind.
    const lastReason = (await demo.locator('[data-col="last-decision"] .reason').textContent()) ?? '';
    expect(lastReason).not.toMatch(KIND_PREFIX);
    expect(lastReason.length).toBeGreaterThan(120);
    expect(await page.locator('body').textContent()).not.toMatch(/\d(am|pm)\b/i);
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
    const decay = await chartView(page, 'decay');
    expect(decay.ageUnit).toBe('h');
    const curveIndex = decay.labels.findIndex((l) =>
      l.startsWith(`v2 fitted decay (exponential, half-life ${fit.halfLifeHours!.toFixed(1)} h`),
    );
    expect(curveIndex).toBeGreaterThan(0);
    expect(decay.labels).toContain('v2 observed');
    expect(decay.labels).toContain('v1 observed');
    const ages = decay.data[0]!;
    const observedAges = ages.filter(
      (_, i) => decay.data[decay.labels.indexOf('v2 observed')]![i] !== null,
    ) as number[];
    const curve = decay.data[curveIndex]!;
    const drawn = ages.map((a, i) => [a, curve[i]] as const).filter(([, q]) => q !== null && q !== undefined) as [
      number,
      number,
    ][];
    expect(drawn.length).toBeGreaterThan(40);
    for (const [age, q] of drawn.filter((_, i) => i % 10 === 0)) {
      expect(q).toBeCloseTo((fit.floor! + (fit.q0! - fit.floor!) * 2 ** (-age / fit.halfLifeHours!)) * 100, 6);
    }
    // Drawn over the ages v2 was observed at, never extrapolated past them.
    expect(Math.min(...drawn.map(([a]) => a))).toBeCloseTo(Math.min(...observedAges), 3);
    expect(Math.max(...drawn.map(([a]) => a))).toBeCloseTo(Math.max(...observedAges), 3);
    // With its band: the profile's curves inside the interval, around the fitted one, not a line.
    expect(decay.band).not.toBeNull();
    for (const p of decay.band!) {
      expect(p.lower!).toBeLessThanOrEqual(p.quality + 1e-12);
      expect(p.upper!).toBeGreaterThanOrEqual(p.quality - 1e-12);
    }
    expect(Math.max(...decay.band!.map((p) => p.upper! - p.lower!))).toBeGreaterThan(0.002);
    // A bounded metric's axis stays within 0–100%, with readable, distinct ticks.
    expect(decay.yScale.min).toBeGreaterThanOrEqual(0);
    expect(decay.yScale.max).toBeLessThanOrEqual(100);
    expectReadablePercentTicks(decay.yTicks);
    // The legend of the chart names the curve, readable without hovering.
    expect(await page.locator('#chart-decay .u-legend').textContent()).toContain('v2 fitted decay');

    // Quality over time: hourly windows, said so; 24-hour UTC ticks; the axis within 0–100%.
    expect(await page.textContent('#page-model')).toContain('Quality per 1 h window');
    const quality = await chartView(page, 'quality');
    // The label-free estimate beside realised, with its 95% band (the seeded windows record both).
    for (const series of ['realised', 'estimated (CBPE)', 'estimate 95% low', 'estimate 95% high'])
      expect(quality.labels).toContain(series);
    const lastEstimate = run.churn.lastEstimate!;
    const column = (label: string) => quality.data[quality.labels.indexOf(label)]!;
    expect(column('estimated (CBPE)').at(-1)).toBeCloseTo(lastEstimate.value * 100, 6);
    expect(column('estimate 95% low').at(-1)).toBeCloseTo(lastEstimate.interval.lower * 100, 6);
    expect(column('estimate 95% high').at(-1)).toBeCloseTo(lastEstimate.interval.upper * 100, 6);
    const estimateCard = (await page.textContent('#card-estimate')) ?? '';
    expect(estimateCard).toContain(
      `estimated ${(lastEstimate.value * 100).toFixed(1)}% (95% CI ${(lastEstimate.interval.lower * 100).toFixed(1)}%–${(lastEstimate.interval.upper * 100).toFixed(1)}%), CBPE at threshold 0.5`,
    );
    expect(estimateCard).toMatch(/; realised \d+\.\d% \(\d+ labels\)$/);
    await page.locator('#chart-quality').screenshot({ path: path.join(SHOTS, '2d-model-quality-estimate.png') });
    expect24HourTicks(quality.xTicks);
    expectReadablePercentTicks(quality.yTicks);
    expect(quality.yScale.min).toBeGreaterThanOrEqual(0);
    expect(quality.yScale.max).toBeLessThanOrEqual(100);

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

    // The timeline has 20 "blocked" decisions an hour apart and a retrain, a promotion, a
    // rejection: its labels never overlap (a crowded one is left to its marker's tooltip).
    expect(await page.locator('#timeline g.marker[data-kind="blocked"]').count()).toBe(20);
    const labels = await textBoxes(page, '#timeline text.label');
    expect(labels.length).toBeGreaterThan(5);
    expect(overlapping(labels)).toEqual([]);
    expect(overlapping(await textBoxes(page, '#timeline text.tick'))).toEqual([]);
    // Every decision time in one format; no 12-hour clock anywhere on the page.
    for (const when of await page.locator('#decision-list td.when').allTextContents()) expect(when).toMatch(INSTANT);
    expect(await page.locator('#page-model').textContent()).not.toMatch(/\d(am|pm)\b/i);
    await page.screenshot({ path: path.join(SHOTS, '2-model.png'), fullPage: true });
    await page.locator('#timeline').screenshot({ path: path.join(SHOTS, '2a-model-timeline.png') });
    await page.locator('#chart-decay').screenshot({ path: path.join(SHOTS, '2b-model-decay.png') });
    await page.locator('.cards').screenshot({ path: path.join(SHOTS, '2c-model-cards.png') });
  });

  it('states the demo model (30-second windows, a healthy version with two windows) as it is', async () => {
    await page.goto(`${baseUrl}/#/model/${encodeURIComponent(run.demo.modelId)}`);
    await page.waitForSelector(`#page-model[data-model="${run.demo.modelId}"] #chart-decay canvas`);
    const api = (await (
      await fetch(`${baseUrl}/v1/dashboard/models/${encodeURIComponent(run.demo.modelId)}`, {
        headers: { authorization: `Bearer ${VIEWER}` },
      })
    ).json()) as {
      windowMs: number;
      ingestBucketMs: number;
      ingest: { start: number; events: number }[];
      economics: {
        avoidableStalenessCost: number;
        retrainCost: number;
        riskCost: number;
        restartValue: number;
        statement: { label: string; headline: string; text: string; verdict: string };
      };
      decisions: { decisionId: string; kind: string; reason: string; reasonText: string }[];
    };
    const text = (await page.textContent('#page-model')) ?? '';

    // Window length from the cadence: 30 s windows, ingest per 30 s.
    expect(api.windowMs).toBe(30_000);
    expect(text).toContain('Quality per 30 s window');
    expect(await page.textContent('#ingest-sub')).toBe(
      'Scoring events, labelled events and dead letters per 30 s; the bucket in progress appears once it closes.',
    );

    // No half-life from a straight line through two windows; the curve is not extended to 0%.
    expect(await page.textContent('#halflife-label')).toBe(
      'v2: no half-life yet — only 2 windows of this version: a half-life needs at least 4',
    );
    expect(await page.textContent('#card-halflife .value')).toBe('–');
    const decay = await chartView(page, 'decay');
    expect(decay.ageUnit).toBe('min');
    const v2Observed = decay.data[decay.labels.indexOf('v2 observed')]!;
    const v2Ages = decay.data[0]!.filter((_, i) => v2Observed[i] !== null) as number[];
    const v2Curve = decay.data[decay.labels.findIndex((l) => l.startsWith('v2 fitted decay (linear'))]!;
    const v2Drawn = decay.data[0]!.filter((_, i) => v2Curve[i] !== null) as number[];
    expect(Math.max(...v2Drawn)).toBeCloseTo(Math.max(...v2Ages), 3);
    expect(Math.min(...v2Drawn)).toBeCloseTo(Math.min(...v2Ages), 3);
    expect(Math.min(...(v2Curve.filter((q) => q !== null) as number[]))).toBeGreaterThan(80);
    expect(decay.yScale.min).toBeGreaterThan(50);
    expect(decay.yScale.max).toBeLessThanOrEqual(100);
    expectReadablePercentTicks(decay.yTicks);

    // Quality over time: around 93–95%, ticks distinct (not "94%" four times), axis inside 0–100%.
    const quality = await chartView(page, 'quality');
    expectReadablePercentTicks(quality.yTicks);
    expect(quality.yScale.max).toBeLessThanOrEqual(100);
    expect24HourTicks(quality.xTicks);

    // Ingest: per 30-second bucket, and the time axis spans the data, not years.
    expect(api.ingestBucketMs).toBe(30_000);
    // Every bucket from the first to the last, the two without events (retrain and promotion) as zeros.
    for (let i = 1; i < api.ingest.length; i++) expect(api.ingest[i]!.start - api.ingest[i - 1]!.start).toBe(30_000);
    expect(api.ingest.filter((r) => r.events === 0)).toHaveLength(2);
    const ingest = await chartView(page, 'ingest');
    const first = api.ingest[0]!.start / 1000;
    const last = api.ingest.at(-1)!.start / 1000;
    expect(ingest.xScale.min).toBeGreaterThanOrEqual(first - 30);
    expect(ingest.xScale.max).toBeLessThanOrEqual(last + 30);
    expect24HourTicks(ingest.xTicks);

    // The economics card states the latest outcome's deciding comparison, its verdict agreeing.
    const hurdle = api.economics.retrainCost + api.economics.riskCost;
    expect(hurdle).toBe(70);
    expect(await page.textContent('#card-economics .value')).toBe(api.economics.statement.label);
    expect(await page.textContent('#card-economics .detail')).toContain(api.economics.statement.headline);
    expect(api.economics.statement.headline).toMatch(/ ≤ retrain 60 \+ risk 10$/);
    expect(api.economics.statement.label).toBe('wait');

    // Reasons: whole, never repeating the kind; the stored records of revision 1 cleaned for display.
    expect(await page.isChecked('#show-no-action')).toBe(false);
    await page.check('#show-no-action');
    await expect
      .poll(() => page.locator('#decision-list tbody tr').count(), { timeout: 10_000, interval: 200 })
      .toBe(run.demo.decisions.length);
    const rows = await page.$$eval('#decision-list tbody tr', (trs) =>
      trs.map((tr) => ({
        id: tr.getAttribute('data-decision') ?? '',
        when: tr.querySelector('td.when')?.textContent ?? '',
        reason: tr.querySelector('td.reason')?.textContent ?? '',
      })),
    );
    for (const row of rows) {
      const stored = api.decisions.find((d) => d.decisionId === row.id)!;
      expect(row.when).toMatch(INSTANT);
      expect(row.reason).not.toMatch(KIND_PREFIX);
      expect(row.reason).toBe(stored.reasonText);
    }
    for (const id of run.demo.legacyDecisionIds) {
      const stored = api.decisions.find((d) => d.decisionId === id)!;
      expect(stored.reason).toMatch(/^no action: wait: /); // as recorded
      expect(stored.reasonText).toBe(stored.reason.replace(/^no action: wait: /, ''));
    }
    const blocked = rows.find((r) => r.id === run.demo.blockedDecisionId)!;
    expect(blocked.reason).toMatch(
      /^cooldown guard: last retrain 20 s ago, within the 2 min cooldown \(over at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\); trigger: requested by alice: check v2; policy trigger: staleness accumulated since the last retrain/,
    );
    expect(blocked.reason.length).toBeGreaterThan(200); // whole, not cut at 50

    // Four decisions within a minute (retrain, promote, force-retrain, blocked): labels apart.
    const labels = await textBoxes(page, '#timeline text.label');
    expect(labels.map((l) => l.text).sort()).toEqual(
      expect.arrayContaining(['blocked', 'force-retrain', 'promote', 'retrain']),
    );
    expect(overlapping(labels)).toEqual([]);
    expect(overlapping(await textBoxes(page, '#timeline text.tick'))).toEqual([]);
    expect(text).not.toMatch(/\d(am|pm)\b/i);

    await page.screenshot({ path: path.join(SHOTS, '5-demo-model.png'), fullPage: true });
    for (const [id, file] of [
      ['#chart-decay', '5a-demo-decay.png'],
      ['#chart-quality', '5b-demo-quality.png'],
      ['#chart-ingest', '5c-demo-ingest.png'],
      ['#timeline', '5d-demo-timeline.png'],
      ['.cards', '5e-demo-cards.png'],
    ] as const)
      await page
        .locator(id)
        .first()
        .screenshot({ path: path.join(SHOTS, file) });

    // A late v1 window: the forecast waits while the horizon figure the old card compared
    // ("wait: avoidable staleness cost … vs retrain 60 + risk 10") was above the hurdle. The
    // statement compares the deciding figure, and says wait only when it is under the hurdle.
    const listed = (await (
      await fetch(`${baseUrl}/v1/decisions?model=${encodeURIComponent(run.demo.modelId)}&limit=100`, {
        headers: { authorization: `Bearer ${VIEWER}` },
      })
    ).json()) as {
      decisionId: string;
      kind: string;
      statistics: { economics?: { avoidableStalenessCost: number; shouldRetrain: boolean } | null } | null;
      economicsStatement: { verdict: string; label: string; text: string; compared: { value: number } | null } | null;
    }[];
    const late = listed.find(
      (d) =>
        d.kind === 'no-action' &&
        d.statistics?.economics &&
        !d.statistics.economics.shouldRetrain &&
        d.statistics.economics.avoidableStalenessCost > hurdle,
    )!;
    expect(late).toBeDefined();
    expect(late.economicsStatement!.verdict).toBe('wait');
    expect(late.economicsStatement!.compared!.value).toBeLessThanOrEqual(hurdle);
    await page.click(`#decision-list tr[data-decision="${late.decisionId}"]`);
    await page.waitForSelector(`#provenance[data-decision="${late.decisionId}"]`);
    const stated = (await page.textContent('#provenance [data-stat="economics"]')) ?? '';
    expect(stated).toBe(`wait (forecast rule): ${late.economicsStatement!.text}`);
    expect(stated).toMatch(
      /^wait \(forecast rule\): restarting the version now is worth [\d.]+ ≤ retrain 60 \+ risk 10; /,
    );
    expect(stated).not.toContain('avoidable');
    // A straight line has no half-life, in the provenance too.
    expect(await page.textContent('#provenance [data-stat="decay"]')).toMatch(
      /^linear: no half-life \(a straight-line fit has no half-life of its own/,
    );
    await page.screenshot({ path: path.join(SHOTS, '6a-demo-provenance-wait.png') });
    await page.click('#drawer-close');

    // The blocked decision's provenance: the whole reason, the economics statement.
    await page.click(`#decision-list tr[data-decision="${run.demo.blockedDecisionId}"]`);
    await page.waitForSelector(`#provenance[data-decision="${run.demo.blockedDecisionId}"]`);
    expect(await page.textContent('#prov-reason')).toBe(blocked.reason);
    await page.screenshot({ path: path.join(SHOTS, '6-demo-provenance-blocked.png') });
    await page.click('#drawer-close');
    await page.uncheck('#show-no-action');
  });

  it('says "no data yet" on an empty chart instead of drawing a made-up time range', async () => {
    await page.goto(`${baseUrl}/#/model/${encodeURIComponent(run.fraud.modelId)}`);
    await page.waitForSelector(`#page-model[data-model="${run.fraud.modelId}"]`);
    expect(await page.textContent('#chart-ingest')).toContain('No data yet');
    expect(await page.locator('#chart-ingest canvas').count()).toBe(0);
    expect(await page.textContent('#halflife-label')).toContain('no half-life yet — no decay detected');
    await page.screenshot({ path: path.join(SHOTS, '7-fraud-empty-ingest.png'), fullPage: true });
    // One bucket of data: the time axis spans a bucket either side of it, not years.
    // (A string, so the test runner does not rewrite the page's own dynamic import.)
    const single = (await page.evaluate(`(async () => {
      const charts = await import('/ui/charts.js');
      const el = document.createElement('div');
      el.style.width = '600px';
      document.body.append(el);
      const at = Date.UTC(2026, 11, 4, 17, 0);
      const chart = charts.timeChart(el, {
        xs: [at],
        series: [{ label: 'events', color: '#000', values: [42] }],
        yLabel: 'events per 1 h',
        yFormat: 'count',
        stepMs: 3600000,
      });
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      const range = { at: at / 1000, min: chart.scales.x.min, max: chart.scales.x.max };
      chart.destroy();
      el.remove();
      return range;
    })()`)) as { at: number; min: number; max: number };
    expect(single.min).toBe(single.at - 3600);
    expect(single.max).toBe(single.at + 3600);
    await page.goto(`${baseUrl}/#/model/${encodeURIComponent(run.churn.modelId)}`);
    await page.waitForSelector(`#page-model[data-model="${run.churn.modelId}"] #chart-decay canvas`);
  });

  it('shows on the Serving card what the registry asks for and what serving reports, with their agreement', async () => {
    // The seeded story ends on the hour; traffic of the last minutes (what "scored by" looks at) is
    // scored by the production version, as a scorer without acknowledgements would do.
    const recent = Date.now() - 60_000;
    await new ClickHouseIngestRepository(dashboard.clickhouse.client).insertScoringEvents(
      Array.from({ length: 20 }, (_, i) => ({
        event_id: `dash-live-${i}`,
        model_id: run.churn.modelId,
        model_version: run.churn.productionVersion,
        ts: recent + i * 1000,
        subject_id: `subject-live-${i}`,
        num_features: { tenure_days: 100 + i },
        cat_features: {},
        missing_features: [],
        prediction_score: 0.4,
        prediction_class: '0',
        prediction_value: null,
        metadata: {},
        contract_version: 1,
        source: 'kafka',
        source_ref: `halflife.scoring-events:1:${i}`,
      })),
    );
    await page.reload();
    await page.waitForSelector(`#page-model[data-model="${run.churn.modelId}"] #card-serving`);
    const card = page.locator('#card-serving');
    // No scorer reports: the card shows the registry's request and the version the events name.
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
    // The economics in the one statement: the deciding figure against retrain + risk, the verdict agreeing.
    const economics = (await page.textContent('#provenance [data-stat="economics"]')) ?? '';
    expect(economics).toMatch(
      /^retrain pays \(forecast rule\): restarting the version now is worth \d+ > retrain 900 \+ risk 100;/,
    );
    expect(await page.getAttribute('#provenance [data-stat="economics"]', 'data-verdict')).toBe('retrain');
    expect(await page.textContent('#provenance [data-stat="decay"]')).toMatch(
      /^exponential: half-life \d+\.\d h \(90% CI \d+\.\d–\d+\.\d h\)/,
    );
    expect(await page.locator('#prov-guards tbody tr').count()).toBe(4);
    expect(await page.textContent('#prov-reason')).toMatch(
      /^requested by team-churn: drift in .*; policy trigger: restarting/,
    );
    await page.screenshot({ path: path.join(SHOTS, '4-provenance-retrain.png') });
  });

  it("shows a challenger probe in a decision's provenance: challenger, events compared, gap and interval, cost", async () => {
    await page.click('#drawer-close').catch(() => undefined);
    const { recordDecision } = await import('../../platform/clickhouse/decisions-repository.ts');
    const { recordProbeWindow, startProbe } = await import('../../detectors/probes/progress.ts');
    // A probe as the monitor runs it: started on a training window, one window of paired counts.
    const startedAt = Date.now() - 7 * 3_600_000;
    const challenger = { version: 'v9', lineageId: 'snap-probe-seeded', trainingRows: 3_210 };
    const memory = startProbe(undefined, {
      version: 'v2',
      versionTrainedAt: startedAt - 48 * 3_600_000,
      now: startedAt,
      trainingStart: startedAt - 24 * 3_600_000,
      trainingEnd: startedAt,
      plan: { kind: 'explore', value: 12, cost: 2.5, worthwhileGap: 0.01, reason: 'probe: knowing is worth 12' },
      challengerModel: challenger,
    });
    const { result } = recordProbeWindow(
      memory,
      { events: 1000, championCorrect: 790, challengerCorrect: 915, bothCorrect: 760 },
      startedAt + 6 * 3_600_000,
      { minPairedEvents: 200, maxWindows: 4 },
    );
    const decisionId = `probe-${Date.now()}`;
    await recordDecision(dashboard.clickhouse.client, {
      decisionId,
      modelId: run.churn.modelId,
      modelVersion: 'v2',
      workflowId: `halflife-monitor-${run.churn.modelId}`,
      runId: 'probe',
      decidedAt: startedAt + 6 * 3_600_000,
      kind: 'no-action',
      actor: 'system',
      reason: 'nothing says the version is stale yet',
      policy: run.policy,
      statistics: null,
      thresholds: null,
      windows: null,
      trainingWindow: null,
      lineageId: '',
      details: {
        probe: {
          scored: {
            id: result!.id,
            challengerVersion: 'v9',
            evaluationId: 'probe-seeded',
            added: 1000,
            events: 1000,
            window: { start: startedAt, end: startedAt + 6 * 3_600_000 },
            thresholds: { champion: 0.5, challenger: 0.5 },
          },
          result,
        },
      },
    });
    // A same-document navigation: the page keeps its sign-in.
    await page.goto(
      `${page.url().split('#')[0]}#/model/${encodeURIComponent(run.churn.modelId)}/decision/${encodeURIComponent(decisionId)}`,
    );
    await page.waitForSelector(`#provenance[data-decision="${decisionId}"] #prov-probe`);
    const lines = await page.locator('#prov-probe li').allTextContents();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(`probe ${result!.id} scored: challenger v9 beside the champion on 1000 paired events`);
    expect(result!.verdict).toBe('challenger-better');
    expect(lines[1]).toContain(
      `probe ${result!.id} finished: challenger-better, gap ${result!.gap!.toFixed(3)} (challenger − champion, 95% interval ${result!.lower!.toFixed(3)} to ${result!.upper!.toFixed(3)}) on 1000 paired events`,
    );
    await page.screenshot({ path: path.join(SHOTS, '5-provenance-probe.png') });
    expect(dashboard.consoleErrors).toEqual([]);
  });

  it('updates live: a new decision appears without a reload', async () => {
    await page.click('#drawer-close');
    const { recordDecision } = await import('../../platform/clickhouse/decisions-repository.ts');
    const liveId = `live-${Date.now()}`;
    await recordDecision(dashboard.clickhouse.client, {
      decisionId: liveId,
      modelId: run.churn.modelId,
      modelVersion: 'v2',
      workflowId: `halflife-monitor-${run.churn.modelId}`,
      runId: 'live',
      decidedAt: Date.now(),
      kind: 'blocked',
      actor: 'system',
      // As a monitor on text revision 1 records it: shown without the doubled prefixes.
      reason: 'blocked by cooldown: last retrain 0.0 h ago < cooldown 2m; trigger: retrain: live update test',
      policy: run.policy,
      statistics: null,
      thresholds: null,
      windows: null,
      trainingWindow: null,
      lineageId: '',
      details: null,
    });
    // The page polls every 5 s (see app.js); no reload here.
    const live = page.locator(`#decision-list tbody tr[data-decision="${liveId}"]`);
    expect(await live.count()).toBe(0);
    await expect.poll(() => live.count(), { timeout: 15_000, interval: 500 }).toBe(1);
    expect(await page.textContent('#decision-list tbody tr:first-child td.reason')).toBe(
      'cooldown guard: last retrain 0.0 h ago < cooldown 2m; trigger: live update test',
    );
    expect(dashboard.consoleErrors).toEqual([]);
  });
});
