import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWindowBatcher } from '../../activities/monitor.ts';
import {
  readWindowAlone,
  readWindowsBatched,
  type WindowRead,
  type WindowReadRequest,
} from '../../activities/window-read.ts';
import { OTHER_CATEGORY } from '../../detectors/drift/categories.ts';
import { DEFAULT_SCORE_HISTOGRAM_BINS } from '../../detectors/quality/score-histogram.ts';
import { Random } from '../../detectors/random.ts';
import { buildReference } from '../../operations/build-reference.ts';
import type { ColumnsToCount } from '../../platform/clickhouse/binned-counts-query.ts';
import { openClickHouse, queryRows, type ClickHouse } from '../../platform/clickhouse/client.ts';
import {
  ClickHouseIngestRepository,
  encodeDeadLetter,
  encodeLabel,
  encodeScoringEvent,
} from '../../platform/clickhouse/ingest-repository.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import type { StoredReference } from '../../platform/clickhouse/reference-repository.ts';
import { ClickHouseRegistryRepository } from '../../platform/clickhouse/registry-repository.ts';
import {
  batchedWindowStatistics,
  type BatchedWindowRequest,
  type BatchedWindowStatistics,
} from '../../platform/clickhouse/window-batch-repository.ts';
import {
  countWindowColumns,
  countWindowSegments,
  deadLettersInWindow,
  labelledScoreGroups,
  labelledScoreGroupsBySegment,
  lateLabelledScoreGroups,
  type LateLabelGroup,
  scoreBinCounts,
  versionsInWindow,
  versionsTrainedAt,
} from '../../platform/clickhouse/window-repository.ts';
import type { ScoringEventRow } from '../../platform/contracts.ts';
import { countIntoBins } from '../../detectors/drift/bins.ts';
import type { NumericCounts } from '../../detectors/drift/profiles.ts';
import type { SegmentsToCount } from '../../platform/clickhouse/segment-grouping.ts';
import { planSegments } from '../../operations/segment-counts.ts';
import { groupScores, type ScoreGroup } from '../../detectors/quality/cbpe-groups.ts';
import {
  batchedEstimationScoreGroups,
  estimationScoreGroups,
  estimationScoreGroupsBySegment,
  type EstimationQuery,
} from '../../platform/clickhouse/estimation-repository.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { servingStatus, servingStatuses } from '../../operations/serving-status.ts';
import { insertServingReports } from '../../platform/clickhouse/serving-repository.ts';
import type { ServingReport } from '../../platform/registry/serving-report.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';

/**
 * The batched window statistics a monitor tick reads (many monitors' windows per query) must
 * equal the single-window queries on the same data: counts exactly, moments to rounding. The
 * data has what a fleet's windows have: a version change mid-window (and a reference built
 * after it, so one window is counted against the reference that replaced the one in force when
 * it began), duplicate deliveries, absent features, values of the wrong type, a capped
 * categorical feature, events without a score, labels that arrive after their window closed,
 * corrected labels, labels that are not numbers, event ids two models share, dead letters,
 * windows that do not line up (staggered monitors), an empty window and a window with no
 * reference yet. And what rule revision 3 reads of a window: labels counted only once arrived by
 * the window's own instant (windows with and without one in the same batch), a feature stuck at
 * one value, and feature keys the reference never saw (numeric and categorical).
 */

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);
const BINS = 20;

interface Model {
  id: string;
  /** Offset of its windows (staggered monitors). */
  offset: number;
  events: ScoringEventRow[];
}

function events(random: Random, modelId: string, from: number, to: number, perMinute: number, idPrefix = modelId) {
  const out: ScoringEventRow[] = [];
  const n = Math.round(((to - from) / MINUTE) * perMinute);
  for (let i = 0; i < n; i++) {
    const ts = from + Math.floor(((to - from) * i) / n);
    const num: Record<string, number> = {
      x: random.normal(ts > T0 + 25 * MINUTE ? 0.5 : 0, 1),
      t: random.integer(0, 6),
    };
    const cat: Record<string, string> = { color: ['red', 'green', 'blue', 'teal', 'plum'][random.integer(0, 5)]! };
    if (random.bernoulli(0.1)) delete num.t;
    if (random.bernoulli(0.05)) num.sparse = random.uniform(-100, 100);
    // Values of the wrong type: text in a numeric feature, a number in a categorical one.
    if (random.bernoulli(0.02)) {
      delete num.x;
      cat.x = 'n/a';
    }
    if (random.bernoulli(0.02)) {
      delete cat.color;
      num.color = 3;
    }
    out.push({
      event_id: `${idPrefix}-${i}-${ts}`,
      model_id: modelId,
      model_version: ts < T0 + 25 * MINUTE ? 'v1' : 'v2',
      ts,
      subject_id: '',
      num_features: num,
      cat_features: cat,
      missing_features: [],
      prediction_score: random.bernoulli(0.03) ? null : random.next(),
      prediction_class: random.bernoulli(0.4) ? 'pos' : 'neg',
      prediction_value: random.bernoulli(0.5) ? random.normal(10, 3) : null,
      // A metadata segment key: absent on every 7th event, so `__missing__` is a segment.
      metadata: i % 7 === 0 ? {} : { channel: ['web', 'app', 'pos', 'kiosk'][i % 4]! },
      contract_version: 1,
      source: 'test',
      source_ref: '',
    });
  }
  return out;
}

describe('batched window statistics equal the single-window queries', () => {
  let ch: ClickHouse;
  const random = new Random(20260301);
  const models: Model[] = [
    { id: uniqueName('fleet-a'), offset: 0, events: [] },
    { id: uniqueName('fleet-b'), offset: 7_000, events: [] },
    { id: uniqueName('fleet-c'), offset: 23_456, events: [] },
    { id: uniqueName('fleet-empty'), offset: 0, events: [] },
    { id: uniqueName('fleet-noref'), offset: 3_000, events: [] },
    { id: uniqueName('fleet-broken'), offset: 11_000, events: [] },
  ];
  const BROKEN = 5;
  const STUCK_VALUE = 4.2;
  const references = new Map<string, StoredReference>();
  let newReference: StoredReference;

  beforeAll(async () => {
    ch = await openClickHouse(testConfig());
    await applyMigrations(ch.client);
    const repo = new ClickHouseIngestRepository(ch.client);
    for (const m of models.slice(0, 3)) m.events = events(random, m.id, T0, T0 + 40 * MINUTE, 40);
    models[4]!.events = events(random, models[4]!.id, T0 + 20 * MINUTE, T0 + 40 * MINUTE, 30);
    // From 20 min on, half its rows carry x stuck at one value, and keys its reference never saw.
    models[BROKEN]!.events = events(random, models[BROKEN]!.id, T0, T0 + 40 * MINUTE, 40).map((e, i) => {
      if (e.ts < T0 + 20 * MINUTE) return e;
      const num = { ...e.num_features };
      const cat = { ...e.cat_features };
      if (i % 2 === 0 && 'x' in num) num.x = STUCK_VALUE;
      if (i % 3 === 0) num.brand_new = random.uniform(0, 1);
      if (i % 5 === 0) cat.channel = i % 10 === 0 ? 'web' : 'app';
      return { ...e, num_features: num, cat_features: cat };
    });
    // Model c reuses some of model a's event ids: a label of that id is the label of both.
    const shared = models[0]!.events.filter((_, i) => i % 7 === 0);
    models[2]!.events.push(
      ...shared.map((e) => ({ ...e, model_id: models[2]!.id, ts: e.ts + 1, prediction_score: random.next() })),
    );
    for (const m of models) await repo.insertEncoded('scoring_events', m.events.map(encodeScoringEvent));
    // Duplicate deliveries (a racing consumer): the same events again, later ingested_at.
    await repo.insertEncoded(
      'scoring_events',
      models[0]!.events.filter((_, i) => i % 11 === 0).map(encodeScoringEvent),
    );

    const all = models.flatMap((m) => m.events);
    const labelOf = (e: ScoringEventRow, delayMs: number, value?: string) =>
      encodeLabel({
        event_id: e.event_id,
        label: value ?? (random.bernoulli(0.6) ? '1' : '0'),
        label_numeric: value === 'cat' ? null : Number(value ?? (random.bernoulli(0.6) ? 1 : 0)),
        label_ts: e.ts + delayMs,
        contract_version: 1,
        source: 'test',
        source_ref: '',
      });
    await repo.insertEncoded(
      'labels',
      all.filter((_, i) => i % 5 !== 0).map((e) => labelOf(e, 30_000 + random.integer(0, 600_000))),
    );
    // Late labels (after their window closed) and corrections (a later label_ts wins), inserted last.
    await repo.insertEncoded('labels', [
      ...all.filter((_, i) => i % 5 === 0 && i % 2 === 0).map((e) => labelOf(e, 3 * 3_600_000)),
      ...all.filter((_, i) => i % 13 === 1).map((e) => labelOf(e, 7_200_000, random.bernoulli(0.5) ? '1' : '0')),
      ...all.filter((_, i) => i % 17 === 2).map((e) => labelOf(e, 9_000_000, 'cat')),
    ]);
    await repo.insertEncoded(
      'dead_letters',
      models.slice(0, 2).flatMap((m, k) =>
        Array.from({ length: 3 + k }, (_, i) =>
          encodeDeadLetter({
            dead_letter_id: `http:${m.id}-${i}`,
            source: 'http',
            topic: '',
            partition: -1,
            offset: -1,
            record_key: '',
            payload: '{}',
            reason: 'bad',
            error_path: '',
            model_id: m.id,
          }),
        ),
      ),
    );
    const registry = new ClickHouseRegistryRepository(ch.client);
    await registry.registerVersion({
      modelId: models[0]!.id,
      version: 'v2',
      artifactUri: 'file:///dev/null',
      sha256: '0'.repeat(64),
      trainer: 'test',
      features: { numeric: ['x', 't'], categorical: ['color'] },
      codeVersion: 'test',
      createdBy: 'test',
    });

    for (const m of [...models.slice(0, 4), models[BROKEN]!]) {
      const source = m.events.length > 0 ? m : models[0]!;
      references.set(
        m.id,
        await buildReference(ch.client, {
          modelId: source.id,
          start: T0 + m.offset,
          end: T0 + 10 * MINUTE + m.offset,
          maxCategories: 3,
        }),
      );
    }
    // The reference of v2, built from its first minutes: it replaced v1's while [20, 30) was open.
    newReference = await buildReference(ch.client, {
      modelId: models[0]!.id,
      modelVersion: 'v2',
      start: T0 + 25 * MINUTE,
      end: T0 + 28 * MINUTE,
      maxCategories: 3,
    });
  }, 120_000);

  afterAll(async () => {
    await ch?.close();
  });

  const columnsOf = (reference: StoredReference | undefined): ColumnsToCount | null =>
    reference ? { ...reference, otherCategory: OTHER_CATEGORY } : null;

  async function single(request: BatchedWindowRequest, bins = BINS): Promise<BatchedWindowStatistics> {
    const window = { start: request.start, end: request.end };
    const versions = await versionsInWindow(ch.client, request.modelId, window);
    return {
      counted: request.columns ? await countWindowColumns(ch.client, request.columns, request) : null,
      versions,
      trainedAt: await versionsTrainedAt(
        ch.client,
        request.modelId,
        versions.map((v) => v.version),
      ),
      deadLettered: await deadLettersInWindow(ch.client, request.modelId, window),
      scoreBins: await scoreBinCounts(ch.client, request.modelId, window, bins),
      labelled: await labelledScoreGroups(ch.client, request.modelId, window, bins, request.labelsArrivedBy ?? null),
    };
  }

  function expectSameRead(batched: WindowRead, expected: WindowRead): void {
    const byVersion = (v: { version: string }, w: { version: string }) => v.version.localeCompare(w.version);
    const byBin = (a: { bin: number; positive?: boolean }, b: { bin: number; positive?: boolean }) =>
      a.bin - b.bin || Number(a.positive ?? 0) - Number(b.positive ?? 0);
    expectClose(batched.counts, expected.counts);
    expect([...batched.versions].sort(byVersion)).toEqual([...expected.versions].sort(byVersion));
    expect(Object.fromEntries(batched.trainedAt)).toEqual(Object.fromEntries(expected.trainedAt));
    expect(batched.deadLettered).toBe(expected.deadLettered);
    expect([...batched.scoreBins].sort(byBin)).toEqual([...expected.scoreBins].sort(byBin));
    expectClose([...batched.labelled].sort(byBin), [...expected.labelled].sort(byBin));
  }

  /** The windows a monitor tick reads at `windowStart` (each model at its offset), labels cut `arrivalMs` after each window's end. */
  const readRequestsFor = (windowStart: number, arrivalMs: number | null = null): WindowReadRequest[] =>
    models.map((m, i) => ({
      modelId: m.id,
      start: windowStart + m.offset,
      end: windowStart + 10 * MINUTE + m.offset,
      reference: i === 4 ? null : (references.get(m.id) ?? null),
      // One window of the batch without a cutoff: revision 2's monitors share batches with revision 3's.
      labelsArrivedBy: arrivalMs === null || i === 1 ? null : windowStart + 10 * MINUTE + m.offset + arrivalMs,
    }));

  function expectSame(batched: BatchedWindowStatistics, expected: BatchedWindowStatistics): void {
    const byVersion = (v: { version: string }, w: { version: string }) => v.version.localeCompare(w.version);
    const byBin = (a: { bin: number; positive?: boolean }, b: { bin: number; positive?: boolean }) =>
      a.bin - b.bin || Number(a.positive ?? 0) - Number(b.positive ?? 0);
    expectClose(batched.counted, expected.counted);
    expect([...batched.versions].sort(byVersion)).toEqual([...expected.versions].sort(byVersion));
    expect(Object.fromEntries(batched.trainedAt)).toEqual(Object.fromEntries(expected.trainedAt));
    expect(batched.deadLettered).toBe(expected.deadLettered);
    expect([...batched.scoreBins].sort(byBin)).toEqual([...expected.scoreBins].sort(byBin));
    expectClose([...batched.labelled].sort(byBin), [...expected.labelled].sort(byBin));
  }

  const requestsFor = (windowStart: number): BatchedWindowRequest[] =>
    models.map((m, i) => ({
      modelId: m.id,
      start: windowStart + m.offset,
      end: windowStart + 10 * MINUTE + m.offset,
      columns: i === 4 ? null : columnsOf(references.get(m.id)),
      labelsArrivedBy: null,
    }));

  it('reads a batch of staggered windows as the single-window queries do, window by window', async () => {
    for (const start of [T0 + 10 * MINUTE, T0 + 20 * MINUTE, T0 + 30 * MINUTE]) {
      const requests = requestsFor(start);
      const batched = await batchedWindowStatistics(ch.client, requests, BINS);
      expect(batched).toHaveLength(requests.length);
      for (const [i, request] of requests.entries()) expectSame(batched[i]!, await single(request));
      // The data is what the test says it is: counted windows, versions, labels, dead letters, violations.
      expect(batched[0]!.counted!.rows).toBeGreaterThan(300);
      expect(batched[0]!.labelled.reduce((s, g) => s + g.events, 0)).toBeGreaterThan(200);
      expect(batched[3]!.counted!.rows).toBe(0);
      expect(batched[4]!.counted).toBeNull();
      // Its traffic began at 20 min; its windows end 3 s past the others'.
      expect(batched[4]!.versions.length).toBeGreaterThan(0);
    }
    const midWindow = await batchedWindowStatistics(ch.client, requestsFor(T0 + 20 * MINUTE), BINS);
    expect(midWindow[0]!.versions.map((v) => v.version).sort()).toEqual(['v1', 'v2']);
    expect(midWindow[0]!.trainedAt.has('v2')).toBe(true);
    expect(midWindow[0]!.deadLettered + midWindow[1]!.deadLettered).toBe(0);
    expect(Object.values(midWindow[0]!.counted!.typeViolations).some((n) => n > 0)).toBe(true);
    expect(references.get(models[0]!.id)!.cappedCategorical).toContain('color');
  });

  it('counts a window against the reference that replaced the one in force when it began', async () => {
    const requests = requestsFor(T0 + 20 * MINUTE).map((r, i) =>
      i === 0 ? { ...r, columns: columnsOf(newReference) } : r,
    );
    const batched = await batchedWindowStatistics(ch.client, requests, BINS);
    expectSame(batched[0]!, await single(requests[0]!));
    const before = (await batchedWindowStatistics(ch.client, requestsFor(T0 + 20 * MINUTE), BINS))[0]!;
    // Same events, other cuts: the bins differ, the rows do not.
    expect(batched[0]!.counted!.rows).toBe(before.counted!.rows);
    expect(batched[0]!.counted!.features.x).not.toEqual(before.counted!.features.x);
  });

  it('counts the dead letters of the window they arrived in', async () => {
    const now = Date.now();
    const requests = models.map((m) => ({ modelId: m.id, start: now - 3_600_000, end: now + 60_000, columns: null }));
    const batched = await batchedWindowStatistics(ch.client, requests, BINS);
    expect(batched.map((b) => b.deadLettered)).toEqual([3, 4, 0, 0, 0, 0]);
    for (const [i, request] of requests.entries()) expectSame(batched[i]!, await single(request));
  });

  it('coalesces the reads that wait together into one batch, and gives each its own window', async () => {
    const batcher = createWindowBatcher(ch.client);
    const requests = readRequestsFor(T0 + 30 * MINUTE, 5 * MINUTE);
    const results = await Promise.all(requests.map((r) => batcher.read(r)));
    expect(batcher.stats()).toMatchObject({ batches: 1, windows: requests.length, waiting: 0 });
    for (const [i, request] of requests.entries())
      expectSameRead(results[i]!, await readWindowAlone(ch.client, request, DEFAULT_SCORE_HISTOGRAM_BINS));
    // Two windows of one model never share a batch.
    const earlier = { ...requests[0]!, start: requests[0]!.start - 10 * MINUTE, end: requests[0]!.start };
    const twice = await Promise.all([batcher.read(requests[0]!), batcher.read(earlier)]);
    expect(batcher.stats().batches).toBe(3);
    expectSameRead(twice[1]!, await readWindowAlone(ch.client, earlier, DEFAULT_SCORE_HISTOGRAM_BINS));
  });

  it('reads a revision-3 window as the single-window path does: labels by arrival, a stuck value, appeared features', async () => {
    const arrivalMs = 5 * MINUTE;
    for (const start of [T0 + 20 * MINUTE, T0 + 30 * MINUTE]) {
      const requests = readRequestsFor(start, arrivalMs);
      const batched = await readWindowsBatched(ch.client, requests, BINS);
      const alone = await Promise.all(requests.map((r) => readWindowAlone(ch.client, r, BINS)));
      for (const [i, read] of batched.entries()) expectSameRead(read, alone[i]!);
      // The raw batched statistics agree with the single-window queries under a cutoff too.
      const raw = await batchedWindowStatistics(
        ch.client,
        requests.map((r) => ({ ...r, columns: columnsOf(r.reference ?? undefined) })),
        BINS,
      );
      for (const [i, r] of requests.entries())
        expectSame(raw[i]!, await single({ ...r, columns: columnsOf(r.reference ?? undefined) }));

      // What the comparison covers is there to compare. The stuck feature: its exact most
      // frequent value (a follow-up query) found, a candidate the counts pointed at.
      const broken = alone[BROKEN]!.counts!;
      const x = broken.quality.find((q) => q.name === 'x')!;
      expect(x.top_value).toBe(STUCK_VALUE);
      expect(x.top_value_share).toBeGreaterThan(0.4);
      // Its runs in event order (window functions): the same from the batched query, and adding up.
      const runs = x.top_value_runs!;
      expect(runs.matches / (runs.matches + runs.others)).toBeCloseTo(x.top_value_share!, 12);
      expect(runs.runs).toBeGreaterThan(2);
      expect(batched[BROKEN]!.counts!.quality.find((q) => q.name === 'x')!.top_value_runs).toEqual(runs);
      // Keys the reference never saw, counted and named (another follow-up).
      expect(broken.appeared!.occurrences).toBeGreaterThan(0.3 * broken.rows);
      expect(broken.appeared!.names!.map((n) => n.name).sort()).toEqual(['brand_new', 'channel']);
      // A healthy window of the same batch: nothing appeared, nothing named.
      expect(alone[0]!.counts!.appeared).toEqual({ occurrences: 0, names: [] });
      // Labels: the cutoff leaves some out (late, and corrections arrived after it: the newest label wins).
      const everyLabel = await readWindowAlone(ch.client, { ...requests[BROKEN]!, labelsArrivedBy: null }, BINS);
      const count = (read: WindowRead) => read.labelled.reduce((s, g) => s + g.events, 0);
      expect(count(alone[BROKEN]!)).toBeGreaterThan(0);
      expect(count(alone[BROKEN]!)).toBeLessThan(count(everyLabel));
      expect(count(batched[1]!)).toBe(
        count(await readWindowAlone(ch.client, { ...requests[1]!, labelsArrivedBy: null }, BINS)),
      );
    }
  });

  it("reads each window's late labels in the batch as each model's own late-label query", async () => {
    // Each model's earlier windows (by its own bounds: staggered, not aligned to one another) and
    // its own arrival range: late labels (3 h), corrections (2 h, the newest wins), labels that are
    // not numbers (2.5 h), and ids two models share (a and c). One window asks for none.
    const windowsOf = (m: Model, cuts: number[]) =>
      cuts.slice(0, -1).map((c, k) => ({ start: T0 + m.offset + c, end: T0 + m.offset + cuts[k + 1]! }));
    const late: (WindowReadRequest['lateLabels'] | undefined)[] = [
      {
        windows: windowsOf(
          models[0]!,
          [0, 10, 20, 30].map((k) => k * MINUTE),
        ),
        arrived: { start: T0 + 3_600_000, end: T0 + 4 * 3_600_000 },
      },
      {
        windows: windowsOf(models[1]!, [0, 12 * MINUTE + 7, 30 * MINUTE]),
        arrived: { start: T0 + 2 * 3_600_000, end: T0 + 2 * 3_600_000 + 20 * MINUTE },
      },
      {
        windows: windowsOf(
          models[2]!,
          [0, 10, 20, 30].map((k) => k * MINUTE),
        ),
        arrived: { start: T0 + 40 * MINUTE, end: T0 + 3 * 3_600_000 + 10 * MINUTE },
      },
      { windows: windowsOf(models[3]!, [0, 30 * MINUTE]), arrived: { start: T0, end: T0 + 10 * 3_600_000 } },
      undefined,
      {
        windows: windowsOf(
          models[BROKEN]!,
          [0, 5, 20, 30].map((k) => k * MINUTE),
        ),
        arrived: { start: T0, end: T0 + 10 * 3_600_000 },
      },
    ];
    const requests = readRequestsFor(T0 + 30 * MINUTE, 5 * MINUTE).map((r, i) =>
      late[i] ? { ...r, lateLabels: late[i] } : r,
    );
    const byGroup = (a: LateLabelGroup, b: LateLabelGroup) =>
      a.windowStart - b.windowStart || a.bin - b.bin || Number(a.positive) - Number(b.positive);
    const batched = await readWindowsBatched(ch.client, requests, BINS);
    for (const [i, request] of requests.entries()) {
      if (!request.lateLabels) {
        expect(batched[i]!.lateLabelled).toBeUndefined();
        continue;
      }
      const own = await lateLabelledScoreGroups(
        ch.client,
        request.modelId,
        request.lateLabels.windows,
        request.lateLabels.arrived,
        BINS,
      );
      expectClose([...batched[i]!.lateLabelled!].sort(byGroup), [...own].sort(byGroup));
      // The window read alone reads them too, by the single-model query.
      const alone = await readWindowAlone(ch.client, request, BINS);
      expectClose([...alone.lateLabelled!].sort(byGroup), [...own].sort(byGroup));
    }
    // What the comparison covers is there: late labels in several earlier windows, none for the empty model.
    const events = (i: number) => batched[i]!.lateLabelled!.reduce((s, g) => s + g.events, 0);
    for (const i of [0, 1, 2, BROKEN]) expect(events(i)).toBeGreaterThan(0);
    expect(new Set(batched[0]!.lateLabelled!.map((g) => g.windowStart)).size).toBe(3);
    expect(events(3)).toBe(0);
    // Arrival ranges are each window's own: every label of the model, or only the corrections.
    expect(events(BROKEN)).toBeGreaterThan(events(1));
  });

  it("reads serving for many models at once as each model's own serving status", async () => {
    const registry = new ClickHouseRegistryRepository(ch.client);
    const [a, b, c] = models;
    const sha = (d: string) => d.repeat(64);
    const register = (modelId: string, version: string, digit: string) =>
      registry.registerVersion({
        modelId,
        version,
        artifactUri: 'file:///dev/null',
        sha256: sha(digit),
        trainer: 'test',
        features: { numeric: ['x'], categorical: [] },
        codeVersion: 'test',
        createdBy: 'test',
      });
    // a: v2 (registered in beforeAll) in production; b: v1 in production and v2 in canary; c: a candidate only.
    await registry.setStage(a!.id, 'v2', 'production', 'test', 'serving test');
    await register(b!.id, 'v1', '1');
    await register(b!.id, 'v2', '2');
    await registry.setStage(b!.id, 'v1', 'production', 'test', 'serving test');
    await registry.setStage(b!.id, 'v2', 'canary', 'test', 'serving test');
    await register(c!.id, 'v1', '3');
    const now = Date.now();
    const report = (seq: number, event: ServingReport['event'], modelId: string, extra: Partial<ServingReport> = {}) =>
      ({
        type: 'serving-report',
        schema_version: 1,
        scorer_id: `${a!.id}-scorer`,
        seq,
        event,
        model_id: modelId,
        serving: null,
        update: null,
        reason: '',
        heartbeat_ms: 60_000,
        host: 'test',
        pid: 1,
        reported_at: now,
        ...extra,
      }) as ServingReport;
    const routing = (version: string, digit: string) => ({
      version,
      sha256: sha(digit),
      since: now - 1000,
      update_key: `k-${version}`,
      routes: [{ version, share: 1, sha256: sha(digit) }],
      shadow: [],
    });
    await insertServingReports(ch.client, [
      report(1, 'started', ''),
      // a is served what the registry asks for; b is served v1 only; c's update was refused.
      report(2, 'serving', a!.id, { serving: routing('v2', '0') }),
      report(3, 'serving', b!.id, { serving: routing('v1', '1') }),
      report(4, 'refused', c!.id, {
        update: { key: 'k-c', version: 'v1', sha256: sha('3') },
        reason: 'bad input schema',
      }),
      report(5, 'heartbeat', ''),
    ]);
    // b's events of the last minutes: scored by v1 and by v2 (what the events say serves).
    const recent = events(random, b!.id, now - 6 * 1000, now, 60, `${b!.id}-recent`).map((e, i) => ({
      ...e,
      ts: now - 1000 * (i + 1),
      model_version: i % 3 === 0 ? 'v2' : 'v1',
    }));
    await new ClickHouseIngestRepository(ch.client).insertEncoded('scoring_events', recent.map(encodeScoringEvent));
    const ids = [...models.map((m) => m.id), uniqueName('never-registered')];
    const config = testConfig();
    const together = await servingStatuses(ch.client, config, ids, now);
    expect([...together.keys()]).toEqual(ids);
    for (const id of ids) expect(together.get(id)).toEqual(await servingStatus(ch.client, config, id, now));
    // What the comparison covers is there: registry, scorer routing, a refusal, an unregistered model.
    expect(together.get(a!.id)!.requested.production?.version).toBe('v2');
    expect(together.get(a!.id)!.scorers.find((s) => s.live)?.serving?.version).toBe('v2');
    expect(together.get(b!.id)!.requested.canary.map((v) => v.version)).toEqual(['v2']);
    expect(together.get(c!.id)!.scorers.some((s) => s.refusal?.reason === 'bad input schema')).toBe(true);
    expect(together.get(ids[ids.length - 1]!)!.requested.registered).toBe(false);
    expect(together.get(a!.id)!.scored).toEqual([]);
    expect(together.get(b!.id)!.scored.map((v) => [v.version, v.events])).toEqual([
      ['v1', 4],
      ['v2', 2],
    ]);
  });

  describe('segments, counted in the same query as the whole window', () => {
    const SEGMENTS: SegmentsToCount[] = [
      { key: { feature: 'color' }, values: ['red', 'green'] },
      { key: { metadata: 'channel' }, values: ['web', 'app', '__missing__'] },
    ];
    /** The model's stored events of a window, one per id (what FINAL reads). */
    const stored = (m: Model, start: number, end: number): ScoringEventRow[] => {
      const byId = new Map<string, ScoringEventRow>();
      for (const e of m.events) if (e.ts >= start && e.ts < end) byId.set(e.event_id, e);
      return [...byId.values()];
    };
    const segmentOf = (e: ScoringEventRow, key: number): string => {
      const raw = key === 0 ? e.cat_features.color : e.metadata.channel;
      const value = raw ?? '__missing__';
      return SEGMENTS[key]!.values.includes(value) ? value : '__other__';
    };

    it('leaves the whole window as the ungrouped query counts it, and counts each segment as its events say', async () => {
      const m = models[0]!;
      const reference = references.get(m.id)!;
      const columns = columnsOf(reference)!;
      const window = { modelId: m.id, start: T0 + 20 * MINUTE, end: T0 + 30 * MINUTE };
      const grouped = await countWindowSegments(ch.client, columns, window, SEGMENTS);
      const plain = await countWindowColumns(ch.client, columns, window);
      expectClose(grouped.whole, plain);
      expect((await countWindowSegments(ch.client, columns, window, [])).whole).toEqual(plain);

      const events = stored(m, window.start, window.end);
      const cuts = (reference.features.x as { cuts: number[] }).cuts;
      for (const [key, spec] of SEGMENTS.entries()) {
        const segments = grouped.segments.filter((g) => g.key === key);
        expect(segments.map((g) => g.value).sort()).toEqual([...spec.values, '__other__'].sort());
        expect(segments.reduce((n, g) => n + g.counted.rows, 0)).toBe(plain.rows);
        for (const g of segments) {
          const own = events.filter((e) => segmentOf(e, key) === g.value);
          expect(g.counted.rows, g.value).toBe(own.length);
          expect((g.counted.features.x as NumericCounts).counts, g.value).toEqual(
            countIntoBins(
              own.map((e) => e.num_features.x ?? null),
              cuts,
            ),
          );
        }
      }
    });

    it('groups the labelled score groups by segment in the same query, the whole window unchanged', async () => {
      const m = models[0]!;
      const window = { start: T0 + 20 * MINUTE, end: T0 + 30 * MINUTE };
      const arrivedBy = window.end + 5 * MINUTE;
      const grouped = await labelledScoreGroupsBySegment(ch.client, m.id, window, BINS, arrivedBy, SEGMENTS);
      const plain = await labelledScoreGroups(ch.client, m.id, window, BINS, arrivedBy);
      const byBin = (a: { bin: number; positive: boolean }, b: { bin: number; positive: boolean }) =>
        a.bin - b.bin || Number(a.positive) - Number(b.positive);
      // The t-digest quantiles are approximate per group; counts and sums are exact.
      const exact = (gs: typeof plain) =>
        [...gs].sort(byBin).map(({ labelDelayHoursP50: _, labelDelayHoursP99: _p99, ...g }) => g);
      expectClose(exact(grouped.whole), exact(plain));
      for (const key of [0, 1]) {
        const total = grouped.segments
          .filter((s) => s.key === key)
          .flatMap((s) => s.groups)
          .reduce((n, g) => n + g.events, 0);
        expect(total).toBe(plain.reduce((n, g) => n + g.events, 0));
      }
    });

    it('keeps the top K values of the reference window per key, and counts the reference per segment', async () => {
      const m = models[0]!;
      const reference = references.get(m.id)!;
      const plan = await planSegments(ch.client, reference, {
        keys: [{ feature: 'color' }, { metadata: 'channel' }],
        topK: 2,
      });
      const events = stored(m, reference.start, reference.end);
      const volume = (pick: (e: ScoringEventRow) => string | undefined) => {
        const counts = new Map<string, number>();
        for (const e of events) counts.set(pick(e) ?? '__missing__', (counts.get(pick(e) ?? '__missing__') ?? 0) + 1);
        return [...counts]
          .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
          .slice(0, 2)
          .map(([v]) => v);
      };
      expect(plan.toCount[0]!.values).toEqual(volume((e) => e.cat_features.color));
      expect(plan.toCount[1]!.values).toEqual(volume((e) => e.metadata.channel));
      const colorRows = plan.reference.segments.filter((s) => s.key === 'color');
      expect(colorRows.map((s) => s.value)).toEqual([...plan.toCount[0]!.values, '__other__']);
      expect(colorRows.reduce((n, s) => n + s.counted.rows, 0)).toBe(events.length);
      expect(plan.reference.segments.filter((s) => s.key === 'metadata.channel').length).toBe(3);
    });
  });
  describe('segments and estimation groups in the batch', () => {
    const SEGMENTS: SegmentsToCount[] = [
      { key: { feature: 'color' }, values: ['red', 'green'] },
      { key: { metadata: 'channel' }, values: ['web', 'app', '__missing__'] },
    ];
    const ONE_KEY: SegmentsToCount[] = [{ key: { metadata: 'channel' }, values: ['pos'] }];
    /** The model's stored events of a window, one per id (what FINAL reads). */
    const stored = (m: Model, start: number, end: number): ScoringEventRow[] => {
      const byId = new Map<string, ScoringEventRow>();
      for (const e of m.events) if (e.ts >= start && e.ts < end) byId.set(e.event_id, e);
      return [...byId.values()];
    };
    const segmentValue = (segments: SegmentsToCount[], e: ScoringEventRow, key: number): string => {
      const k = segments[key]!.key;
      const raw = 'feature' in k ? e.cat_features[k.feature] : e.metadata[k.metadata];
      const value = raw ?? '__missing__';
      return segments[key]!.values.includes(value) ? value : '__other__';
    };

    /**
     * Groupings as references' estimators ask for them: the identity map (no bounds), a step map
     * with a repeated bound, and bounds beyond the spelled-out comparisons that include scores the
     * window holds (a score equal to a bound is below it: the step counts bounds < score).
     */
    function groupingsFor(windowStart: number): (EstimationQuery | null)[] {
      return models.map((m, i) => {
        const scores = stored(m, windowStart + m.offset, windowStart + 10 * MINUTE + m.offset)
          .map((e) => e.prediction_score)
          .filter((s): s is number => s !== null);
        if (i === 0) return { steps: [], threshold: 0.5, bins: 100, referenceRange: [0.05, 0.95] };
        if (i === 1)
          return { steps: [0.1, 0.25, 0.25, 0.4, 0.6, 0.8], threshold: 0.65, bins: 50, referenceRange: [0.1, 0.9] };
        if (i === 3) return null;
        const exact = scores.slice(0, 12);
        const steps = [...exact, ...Array.from({ length: 40 }, (_, k) => (k + 0.5) / 40), exact[0] ?? 0.5].sort(
          (a, b) => a - b,
        );
        return { steps, threshold: i === 2 ? 0.3 : 0.5, bins: 100, referenceRange: [0, 1] };
      });
    }
    const byKey = (a: ScoreGroup, b: ScoreGroup) =>
      a.bin - b.bin || a.step - b.step || Number(a.above) - Number(b.above);
    const sorted = (groups: readonly ScoreGroup[]) => [...groups].sort(byKey);
    /** Without the t-digest delay quantiles, approximate per group (and merged in another order by a grouped query). */
    const exactLabelled = (groups: WindowRead['labelled']) =>
      [...groups]
        .sort((a, b) => a.bin - b.bin || Number(a.positive) - Number(b.positive))
        .map(({ labelDelayHoursP50: _, labelDelayHoursP99: _p99, ...g }) => g);

    const segmentedRequests = (windowStart: number): WindowReadRequest[] => {
      const groupings = groupingsFor(windowStart);
      return readRequestsFor(windowStart, 5 * MINUTE).map((r, i) => ({
        ...r,
        // Two keys, one key, none: a batch mixes segmented and unsegmented monitors (and one without a reference).
        ...(i === 0 || i === BROKEN || i === 4 ? { segments: SEGMENTS } : i === 2 ? { segments: ONE_KEY } : {}),
        ...(groupings[i] ? { estimation: groupings[i] } : {}),
      }));
    };

    it('groups scores for estimation in one batched query as each window alone, and as the scores say', async () => {
      for (const start of [T0 + 10 * MINUTE, T0 + 20 * MINUTE]) {
        const groupings = groupingsFor(start);
        const requests = models.flatMap((m, i) =>
          groupings[i]
            ? [
                {
                  modelId: m.id,
                  start: start + m.offset,
                  end: start + 10 * MINUTE + m.offset,
                  estimation: groupings[i]!,
                },
              ]
            : [],
        );
        const timings = {};
        const batched = await batchedEstimationScoreGroups(ch.client, requests, timings);
        expect(Object.keys(timings)).toEqual(['estimation']);
        for (const [k, r] of requests.entries()) {
          const alone = await estimationScoreGroups(ch.client, r.modelId, r, r.estimation);
          expectClose(sorted(batched[k]!.whole.groups), sorted(alone.groups));
          expect(batched[k]!.whole.outside).toBe(alone.outside);
          // Both equal the in-memory grouping of the window's stored scores (cbpe-groups.ts `scoreGroupKey`).
          const m = models.find((x) => x.id === r.modelId)!;
          const scores = stored(m, r.start, r.end)
            .map((e) => e.prediction_score)
            .filter((s): s is number => s !== null);
          expectClose(sorted(alone.groups), sorted(groupScores(r.estimation, scores)));
          const [low, high] = r.estimation.referenceRange;
          expect(alone.outside).toBe(scores.filter((s) => s < low || s > high).length);
          if (r.estimation.steps.length > 0 && scores.length > 100)
            expect(new Set(alone.groups.map((g) => g.step)).size).toBeGreaterThan(5);
        }
        expect(batched[0]!.whole.groups.length).toBeGreaterThan(10);
      }
    });

    it('reads segmented and estimating windows in the batch as each alone: counts, labels and estimation per segment', async () => {
      for (const start of [T0 + 20 * MINUTE, T0 + 30 * MINUTE]) {
        const requests = segmentedRequests(start);
        const batched = await readWindowsBatched(ch.client, requests, BINS);
        const alone = await Promise.all(requests.map((r) => readWindowAlone(ch.client, r, BINS)));
        for (const [i, read] of batched.entries()) {
          const expected = alone[i]!;
          expectClose(read.counts, expected.counts);
          const byBin = (a: { bin: number }, b: { bin: number }) => a.bin - b.bin;
          expect([...read.scoreBins].sort(byBin)).toEqual([...expected.scoreBins].sort(byBin));
          expect(read.versions).toEqual(expect.arrayContaining(expected.versions));
          expect(read.deadLettered).toBe(expected.deadLettered);
          expectClose(exactLabelled(read.labelled), exactLabelled(expected.labelled));
          expect(read.estimation === undefined).toBe(expected.estimation === undefined);
          if (expected.estimation) {
            expectClose(sorted(read.estimation!.groups), sorted(expected.estimation.groups));
            expect(read.estimation!.outside).toBe(expected.estimation.outside);
          }
          expect(read.segments === undefined, `window ${i}`).toBe(expected.segments === undefined);
          if (!expected.segments) continue;
          const id = (s: { key: number; value: string }) => `${s.key}:${s.value}`;
          const byId = <T extends { key: number; value: string }>(xs: readonly T[]) =>
            [...xs].sort((a, b) => id(a).localeCompare(id(b)));
          const counted = byId(read.segments!.counted);
          expect(counted.map(id)).toEqual(byId(expected.segments.counted).map(id));
          counted.forEach((s, k) => expectClose(s.counted, byId(expected.segments!.counted)[k]!.counted, {}, id(s)));
          const labelled = byId(read.segments!.labelled);
          expect(labelled.map(id)).toEqual(byId(expected.segments.labelled).map(id));
          labelled.forEach((s, k) =>
            expectClose(
              exactLabelled(s.groups),
              exactLabelled(byId(expected.segments!.labelled)[k]!.groups),
              {},
              id(s),
            ),
          );
          const estimated = byId(read.segments!.estimation ?? []);
          expect(estimated.map(id)).toEqual(byId(expected.segments.estimation ?? []).map(id));
          estimated.forEach((s, k) => {
            const e = byId(expected.segments!.estimation!)[k]!;
            expectClose(sorted(s.groups), sorted(e.groups), {}, id(s));
            expect(s.outside).toBe(e.outside);
          });
        }

        // What the comparison covers is there: segments of both kinds of key, estimated per segment,
        // each segment's groups as its stored scores say; none for the window without a reference.
        const m = models[0]!;
        const read = batched[0]!;
        expect(
          read
            .segments!.counted.filter((s) => s.key === 0)
            .map((s) => s.value)
            .sort(),
        ).toEqual(['__other__', 'green', 'red']);
        expect(read.segments!.labelled.length).toBeGreaterThanOrEqual(6);
        const events = stored(m, requests[0]!.start, requests[0]!.end);
        for (const s of read.segments!.estimation!) {
          const scores = events
            .filter((e) => segmentValue(SEGMENTS, e, s.key) === s.value)
            .map((e) => e.prediction_score)
            .filter((x): x is number => x !== null);
          expectClose(
            sorted(s.groups),
            sorted(groupScores(requests[0]!.estimation!, scores)),
            {},
            `${s.key}:${s.value}`,
          );
        }
        expect(batched[4]!.segments).toBeUndefined();
        expect(batched[2]!.segments!.counted.map((s) => s.value).sort()).toEqual(['__other__', 'pos']);
        expect(batched[1]!.segments).toBeUndefined();
      }
    });

    it('reads segmented windows through the batcher in one batch with the unsegmented ones', async () => {
      const batcher = createWindowBatcher(ch.client);
      const requests = segmentedRequests(T0 + 30 * MINUTE);
      const results = await Promise.all(requests.map((r) => batcher.read(r)));
      expect(batcher.stats()).toMatchObject({ batches: 1, windows: requests.length, waiting: 0 });
      // One estimation query for the batch, whatever the number of estimating windows.
      expect(batcher.stats().queryMs.estimation).toBeGreaterThan(0);
      // The rows the engine read, per query that ran: what /metrics shows to tell which read grows.
      const { queryMs, queryRowsRead } = batcher.stats();
      expect(Object.keys(queryRowsRead).sort()).toEqual(Object.keys(queryMs).sort());
      expect(queryRowsRead.numeric).toBeGreaterThan(0);
      expect(queryRowsRead.versions).toBeGreaterThan(0);
      for (const [i, request] of requests.entries()) {
        const alone = await readWindowAlone(ch.client, request, DEFAULT_SCORE_HISTOGRAM_BINS);
        expectClose(results[i]!.counts, alone.counts);
        expect(results[i]!.segments?.counted.length).toBe(alone.segments?.counted.length);
      }
    });

    it('counts a segmented window alone by GROUPING SETS as the batch does when the window is empty', async () => {
      const m = models[3]!;
      const request: WindowReadRequest = {
        modelId: m.id,
        start: T0,
        end: T0 + 10 * MINUTE,
        reference: references.get(m.id)!,
        segments: SEGMENTS,
        estimation: { steps: [0.5], threshold: 0.5, bins: 10, referenceRange: [0, 1] },
      };
      const [batched] = await readWindowsBatched(ch.client, [request], BINS);
      const alone = await readWindowAlone(ch.client, request, BINS);
      expectClose(batched!.counts, alone.counts);
      expect(alone.counts!.rows).toBe(0);
      expect(alone.segments!.counted).toEqual([]);
      expect(batched!.segments!.counted).toEqual([]);
      expect(alone.estimation!.groups).toEqual([]);
      expect(batched!.estimation!.groups).toEqual([]);
      const grouped = await estimationScoreGroupsBySegment(ch.client, m.id, request, request.estimation!, SEGMENTS);
      expect(grouped.segments).toEqual([]);
    });
  });
  describe("each segment's most frequent value: its reference's baseline and its window's candidates", () => {
    const SEGMENTS: SegmentsToCount[] = [
      { key: { feature: 'color' }, values: ['red', 'green'] },
      { key: { metadata: 'channel' }, values: ['web', 'app', '__missing__'] },
    ];
    const MAPS = ['cat_features', 'metadata'] as const;
    const KEYS = ['color', 'channel'] as const;
    type Top = { value: number; top: number; finite: number };

    /**
     * Per segment of key `key`, the most frequent finite value of `name` (ties: the largest), its
     * rows and the finite values: a plain GROUP BY of the model's stored events of the window.
     */
    async function groupByTops(
      modelId: string,
      window: { start: number; end: number },
      toCount: readonly SegmentsToCount[],
      key: 0 | 1,
      name: string,
    ) {
      const rows = await queryRows<{ s: string; v: number; c: string }>(
        ch.client,
        `SELECT s, v, count() AS c FROM (
           SELECT if(has({values:Array(String)}, r), r, '__other__') AS s, arrayElementOrNull(num_features, {name:String}) AS v
           FROM (SELECT ifNull(arrayElementOrNull(${MAPS[key]}, {key:String}), '__missing__') AS r, num_features
                 FROM scoring_events FINAL
                 WHERE model_id = {model:String}
                   AND ts >= fromUnixTimestamp64Milli({start:Int64}) AND ts < fromUnixTimestamp64Milli({end:Int64})))
         WHERE v IS NOT NULL AND isFinite(v)
         GROUP BY s, v`,
        { values: [...toCount[key]!.values], name, key: KEYS[key], model: modelId, ...window },
      );
      const out = new Map<string, Top>();
      for (const r of rows) {
        const c = Number(r.c);
        const was = out.get(r.s);
        const finite = (was?.finite ?? 0) + c;
        const better = !was || c > was.top || (c === was.top && r.v > was.value);
        out.set(r.s, better ? { value: r.v, top: c, finite } : { ...was, finite });
      }
      return out;
    }

    it("counts each segment's reference baseline in one query, as a GROUP BY of its rows says", async () => {
      const m = models[BROKEN]!;
      const reference = references.get(m.id)!;
      const plan = await planSegments(ch.client, reference, { keys: SEGMENTS.map((s) => s.key), topK: 2 });
      const window = { start: reference.start, end: reference.end };
      for (const key of [0, 1] as const) {
        const exact = await groupByTops(m.id, window, plan.toCount, key, 't');
        const exactX = await groupByTops(m.id, window, plan.toCount, key, 'x');
        const segments = plan.reference.segments.filter((s) => s.key === (key === 0 ? 'color' : 'metadata.channel'));
        for (const s of segments) {
          // `t` has 7 values, fewer than the sketch's counters: exact.
          const t = exact.get(s.value)!;
          expect(s.topValues!.t, `${s.key}=${s.value}`).toEqual({ value: t.value, share: t.top / t.finite });
          // `x` is continuous: the sketch's share is a lower bound of the exact one.
          const x = exactX.get(s.value)!;
          expect(s.topValues!.x!.share, `${s.key}=${s.value}`).toBeLessThanOrEqual(x.top / x.finite);
        }
        expect(segments.length).toBeGreaterThanOrEqual(3);
      }
    });

    it("counts each segment's candidates' most frequent value and runs in the window's top-value query, batched as alone", async () => {
      const m = models[BROKEN]!;
      const reference = references.get(m.id)!;
      // Every value kept (6 colors with the missing one, 5 channels), so which segments are stuck is known.
      const plan = await planSegments(ch.client, reference, { keys: SEGMENTS.map((s) => s.key), topK: 6 });
      const requests = readRequestsFor(T0 + 20 * MINUTE, 5 * MINUTE).map((r, i) => ({
        ...r,
        ...(i === BROKEN || i === 0
          ? { segments: plan.toCount, segmentStuckValues: { reference: plan.reference, minEvents: 20 } }
          : {}),
      }));
      const timings: { topValues?: number } = {};
      const batched = await readWindowsBatched(ch.client, requests, BINS, timings);
      const alone = await readWindowAlone(ch.client, requests[BROKEN]!, BINS);
      const tops = batched[BROKEN]!.segments!.topValues!;
      const id = (s: { key: number; value: string }) => `${s.key}:${s.value}`;
      const byId = <T extends { key: number; value: string }>(xs: readonly T[]) =>
        [...xs].sort((a, b) => id(a).localeCompare(id(b)));
      expect(byId(tops)).toEqual(byId(alone.segments!.topValues!));
      // Stuck at 4.2 on every even event: the channels those fall on (web, pos; half of the missing
      // ones), none of the others, and half of every color.
      const stuck = tops.filter((s) => s.topValues.x?.value === STUCK_VALUE).map(id);
      expect(stuck).toEqual(expect.arrayContaining(['1:web', '1:pos', '1:__missing__']));
      // app and kiosk: x is no candidate (a feature with a few values, such as `sparse`, may be).
      const xCandidates = tops.filter((s) => 'x' in s.topValues).map(id);
      expect(xCandidates).not.toContain('1:app');
      expect(xCandidates).not.toContain('1:kiosk');
      const colors = tops.filter((s) => s.key === 0);
      expect(colors.length).toBeGreaterThanOrEqual(5);
      for (const s of colors) expect(s.topValues.x?.value, id(s)).toBe(STUCK_VALUE);
      const window = { start: requests[BROKEN]!.start, end: requests[BROKEN]!.end };
      // Every candidate of every segment, as a GROUP BY of the segment's rows says.
      const names = [...new Set(tops.flatMap((s) => Object.keys(s.topValues)))];
      expect(names).toContain('x');
      for (const key of [0, 1] as const)
        for (const name of names) {
          const exact = await groupByTops(m.id, window, plan.toCount, key, name);
          for (const s of tops.filter((t) => t.key === key && name in t.topValues)) {
            const e = exact.get(s.value)!;
            const top = s.topValues[name]!;
            expect([top.value, top.share], `${id(s)} ${name}`).toEqual([e.value, e.top / e.finite]);
            expect([top.runs!.matches, top.runs!.matches + top.runs!.others], `${id(s)} ${name}`).toEqual([
              e.top,
              e.finite,
            ]);
          }
        }
      // The healthy window asked alike: no segment's x is a candidate (a feature with a few values in a
      // segment, such as `sparse`, may be), read in the same query and as alone.
      const healthy = batched[0]!.segments!.topValues!;
      expect(healthy.filter((s) => 'x' in s.topValues)).toEqual([]);
      expect(byId(healthy)).toEqual(byId((await readWindowAlone(ch.client, requests[0]!, BINS)).segments!.topValues!));
      expect(timings.topValues).toBeGreaterThan(0);
      expectSameRead(batched[BROKEN]!, alone);
    });
  });
});
