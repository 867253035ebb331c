import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  categoricalProfile,
  compareBinnedFeature,
  driftReport,
  numericReferenceProfile,
  numericWindowCounts,
  referenceBinEdges,
  type CategoricalProfile,
  type FeatureDriftResult,
  type NumericCounts,
  type NumericReferenceProfile,
} from '../../detectors/drift/index.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { OTHER_CATEGORY } from '../../detectors/drift/categories.ts';
import { buildReference } from '../../operations/build-reference.ts';
import { driftForWindow, windowCounts } from '../../operations/window-drift.ts';
import { LINEAR_BIN_BUDGET, LINEAR_BIN_MAX_CUTS } from '../../platform/clickhouse/binned-counts-query.ts';
import {
  latestReference,
  loadReference,
  type StoredReference,
} from '../../platform/clickhouse/reference-repository.ts';
import { Random } from '../../detectors/random.ts';
import { groupScores, type ScoreGroup } from '../../detectors/quality/cbpe-groups.ts';
import { estimationScoreGroups } from '../../platform/clickhouse/estimation-repository.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';

/**
 * The SQL push-down must reproduce the in-process twins exactly: cuts (numpy-'linear'
 * quantiles) bit for bit, counts and missing exactly, moments to rounding, and the binned
 * drift report of a window to rounding. Data covers ties, a constant column, a column of
 * huge integer-valued numbers (beyond 2^53, which the parameter binder would refuse as
 * numbers), absent keys, NaN/±Inf, strings in a numeric feature, numbers in a categorical
 * one, unseen categories, and a window with dead letters.
 */

const REF_START = Date.UTC(2025, 0, 1);
const CUR_START = Date.UTC(2025, 0, 2);
const DAY = 86_400_000;

type Value = number | string | null;
interface Event {
  ts: number;
  features: Record<string, Value>;
  score: number | null;
  cls: string | null;
}

function generate(random: Random, n: number, start: number, shifted: boolean): Event[] {
  const events: Event[] = [];
  for (let i = 0; i < n; i++) {
    const features: Record<string, Value> = {
      normal: random.normal(shifted ? 0.4 : 0, 1),
      ties: random.integer(0, shifted ? 6 : 5),
      constant: 7,
      huge: Math.round(random.uniform(1, 5)) * 1e20,
      sparse: random.bernoulli(0.2) ? null : random.uniform(-1, 1) * 1000,
      color: ['red', 'green', 'blue'][random.integer(0, 3)] ?? 'red',
      city: `c${random.integer(0, shifted ? 12 : 10)}`,
    };
    // Occasional type violations: text in a numeric feature, a number in a categorical one.
    if (random.bernoulli(0.01)) features.normal = 'n/a';
    if (random.bernoulli(0.01)) features.color = 3;
    // Absent keys (not even null).
    if (random.bernoulli(0.05)) delete features.ties;
    events.push({
      ts: start + i,
      features,
      score: random.bernoulli(0.02) ? null : random.uniform(0, shifted ? 0.8 : 1),
      cls: random.bernoulli(0.3) ? 'pos' : 'neg',
    });
  }
  return events;
}

async function insert(ch: ClickHouse, modelId: string, events: Event[]): Promise<void> {
  const rows = events.map((e, i) => {
    const num: Record<string, number> = {};
    const cat: Record<string, string> = {};
    const missing: string[] = [];
    for (const [k, v] of Object.entries(e.features)) {
      if (v === null) missing.push(k);
      else if (typeof v === 'number') num[k] = v;
      else cat[k] = v;
    }
    return {
      event_id: `${modelId}-${e.ts}-${i}`,
      model_id: modelId,
      model_version: 'v1',
      ts: e.ts,
      num_features: num,
      cat_features: cat,
      missing_features: missing,
      prediction_score: e.score,
      prediction_class: e.cls,
      contract_version: 1,
      source: 'test',
      source_ref: '',
    };
  });
  await ch.client.insert({ table: 'scoring_events', values: rows, format: 'JSONEachRow' });
}

/** The in-process columns of a feature, with the same missing semantics as the SQL side. */
function numericColumn(events: Event[], name: string): (number | null)[] {
  return events.map((e) => {
    const v = e.features[name];
    return typeof v === 'number' ? v : null;
  });
}
function categoricalColumn(events: Event[], name: string): (string | null)[] {
  return events.map((e) => {
    const v = e.features[name];
    return typeof v === 'string' ? v : null;
  });
}

function expectMomentsClose(actual: NumericCounts, expected: NumericCounts): void {
  expect(actual.counts).toEqual(expected.counts);
  expect(actual.missing).toBe(expected.missing);
  expect(actual.min).toBe(expected.min);
  expect(actual.max).toBe(expected.max);
  const scale = Math.max(1, Math.abs(expected.mean ?? 0), expected.std ?? 0);
  expect(Math.abs((actual.mean ?? Number.NaN) - (expected.mean ?? Number.NaN)) / scale).toBeLessThan(1e-12);
  expect(Math.abs((actual.std ?? Number.NaN) - (expected.std ?? Number.NaN)) / scale).toBeLessThan(1e-9);
}

/** Deep equality with a relative tolerance on numbers (sums in another order round differently). */
function expectClose(actual: unknown, expected: unknown, path = '$'): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    if (expected === actual) return;
    const scale = Math.max(1e-300, Math.abs(expected));
    if (Math.abs(actual - expected) / scale > 1e-9 && Math.abs(actual - expected) > 1e-12)
      throw new Error(`${path}: ${actual} vs ${expected}`);
    return;
  }
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual), path).toBe(true);
    expect((actual as unknown[]).length, path).toBe(expected.length);
    expected.forEach((e, i) => expectClose((actual as unknown[])[i], e, `${path}[${i}]`));
    return;
  }
  if (expected && typeof expected === 'object') {
    expect(Object.keys(actual as object).sort(), path).toEqual(Object.keys(expected).sort());
    for (const [k, v] of Object.entries(expected))
      expectClose((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
    return;
  }
  expect(actual, path).toEqual(expected);
}

describe('statistics push-down (embedded chDB)', () => {
  let ch: ClickHouse;
  const modelId = uniqueName('pushdown');
  const random = new Random(20250101);
  const reference = generate(random, 6000, REF_START, false);
  const current = generate(random, 4000, CUR_START, true);
  const numeric = ['constant', 'huge', 'normal', 'sparse', 'ties'];
  const categorical = ['city', 'color'];
  let stored: StoredReference;

  beforeAll(async () => {
    ch = await openClickHouse(testConfig());
    await applyMigrations(ch.client);
    await insert(ch, modelId, reference);
    await insert(ch, modelId, current);
    // NaN and ±Inf cannot travel in JSON: insert them with SQL, in the current window.
    await ch.client.command({
      query: `INSERT INTO scoring_events (event_id, model_id, model_version, ts, num_features, cat_features, missing_features, prediction_score, prediction_class, contract_version, source, source_ref)
        SELECT concat({model:String}, '-nan-', toString(number)), {model:String}, 'v1', fromUnixTimestamp64Milli(toInt64({ts:Int64} + number)),
          map('normal', [nan, inf, -inf][number % 3 + 1], 'ties', 2), map('color', 'red', 'city', 'c1'), [], NULL, 'neg', 1, 'test', ''
        FROM numbers(30)`,
      query_params: { model: modelId, ts: CUR_START + 10_000 },
    });
    for (let i = 0; i < 30; i++)
      current.push({
        ts: CUR_START + 10_000 + i,
        features: { normal: Number.NaN, ties: 2, color: 'red', city: 'c1' },
        score: null,
        cls: 'neg',
      });
    // Dead letters: 7 inside the current window, 2 outside it, 3 of another model.
    const dead = [
      ...Array.from({ length: 7 }, (_, i) => [modelId, CUR_START + i]),
      ...Array.from({ length: 2 }, (_, i) => [modelId, REF_START - DAY + i]),
      ...Array.from({ length: 3 }, (_, i) => ['other', CUR_START + i]),
    ];
    await ch.client.insert({
      table: 'dead_letters',
      values: dead.map(([model, at], i) => ({
        dead_letter_id: `${modelId}-dl-${i}`,
        received_at: at,
        source: 'kafka',
        topic: 't',
        partition: 0,
        offset: i,
        record_key: '',
        payload: '{',
        reason: 'bad',
        error_path: '',
        model_id: model,
      })),
      format: 'JSONEachRow',
    });
    stored = await buildReference(ch.client, { modelId, start: REF_START, end: REF_START + DAY, nBins: 10 });
  });

  afterAll(async () => {
    await ch?.close();
  });

  it('builds the reference in SQL equal to the in-process profiles (cuts bit for bit)', () => {
    expect(stored.rowCount).toBe(reference.length);
    expect(Object.keys(stored.features).sort()).toEqual([...categorical, ...numeric].sort());
    for (const name of numeric) {
      const column = numericColumn(reference, name);
      const expected = numericReferenceProfile(column, 10);
      const actual = stored.features[name] as NumericReferenceProfile;
      expect(actual.kind, name).toBe('numeric');
      expect(actual.cuts, name).toEqual(
        referenceBinEdges(
          column.filter((v): v is number => v !== null),
          10,
        ),
      );
      expect(actual.cuts, name).toEqual(expected.cuts);
      expectMomentsClose(actual, expected);
    }
    expect((stored.features.constant as NumericReferenceProfile).cuts).toHaveLength(2);
    for (const name of categorical)
      expect(stored.features[name], name).toEqual(categoricalProfile(categoricalColumn(reference, name)));
    expect(stored.prediction).not.toBeNull();
    expectMomentsClose(
      stored.prediction!,
      numericReferenceProfile(
        reference.map((e) => e.score),
        10,
      ),
    );
    expect(stored.predictionClass).toEqual(categoricalProfile(reference.map((e) => e.cls)));
    expect(stored.predictionValue).toBeNull();
  });

  it('stores the reference and reads it back; a retried build is idempotent', async () => {
    const loaded = await loadReference(ch.client, stored.referenceId);
    expect(loaded).toEqual(stored);
    const again = await buildReference(ch.client, { modelId, start: REF_START, end: REF_START + DAY, nBins: 10 });
    expect(again.referenceId).toBe(stored.referenceId);
    const latest = await latestReference(ch.client, { modelId });
    expect(latest?.referenceId).toBe(stored.referenceId);
    expect(await latestReference(ch.client, { modelId: `${modelId}-none` })).toBeNull();
    await expect(loadReference(ch.client, 'ref_missing')).rejects.toThrow(/not found/);
  });

  it('counts a window into the reference bins exactly, with data-quality inputs', async () => {
    const counts = await windowCounts(ch.client, {
      modelId,
      start: CUR_START,
      end: CUR_START + DAY,
      reference: stored,
    });
    expect(counts.rows).toBe(current.length);
    expect(counts.deadLettered).toBe(7);
    for (const name of numeric) {
      const cuts = (stored.features[name] as NumericReferenceProfile).cuts;
      expectMomentsClose(
        counts.features[name] as NumericCounts,
        numericWindowCounts(numericColumn(current, name), cuts),
      );
    }
    for (const name of categorical)
      expect(counts.features[name], name).toEqual(categoricalProfile(categoricalColumn(current, name)));
    expectMomentsClose(
      counts.prediction!,
      numericWindowCounts(
        current.map((e) => e.score),
        stored.prediction!.cuts,
      ),
    );
    expect(counts.predictionClass).toEqual(categoricalProfile(current.map((e) => e.cls)));

    const quality = new Map(counts.quality.map((q) => [q.name, q]));
    const textInNormal = current.filter((e) => typeof e.features.normal === 'string').length;
    expect(textInNormal).toBeGreaterThan(0);
    expect(quality.get('normal')?.type_violations).toBe(textInNormal);
    expect(quality.get('normal')?.missing).toBe(30); // the NaN/±Inf rows
    expect(quality.get('color')?.type_violations).toBe(
      current.filter((e) => typeof e.features.color === 'number').length,
    );
    expect(quality.get('ties')?.missing).toBe(current.filter((e) => e.features.ties === undefined).length);
    const seenCities = new Set(reference.map((e) => e.features.city));
    const unseen = current.filter(
      (e) => typeof e.features.city === 'string' && !seenCities.has(e.features.city),
    ).length;
    expect(unseen).toBeGreaterThan(0);
    expect(quality.get('city')?.unseen).toBe(unseen);
    const tiesMax = (stored.features.ties as NumericReferenceProfile).max;
    expect(quality.get('ties')?.out_of_range).toBe(
      current.filter((e) => typeof e.features.ties === 'number' && e.features.ties > tiesMax).length,
    );
  });

  it('gives the same binned drift report as the in-process path', async () => {
    const { report, quality } = await driftForWindow(ch.client, {
      modelId,
      start: CUR_START,
      end: CUR_START + DAY,
      reference: stored,
    });
    const inProcess: FeatureDriftResult[] = [];
    for (const name of [...categorical, ...numeric].sort()) {
      if (numeric.includes(name)) {
        const ref = numericReferenceProfile(numericColumn(reference, name), 10);
        inProcess.push(
          compareBinnedFeature(ref, numericWindowCounts(numericColumn(current, name), ref.cuts), { name }),
        );
      } else {
        inProcess.push(
          compareBinnedFeature(
            categoricalProfile(categoricalColumn(reference, name)),
            categoricalProfile(categoricalColumn(current, name)),
            { name },
          ),
        );
      }
    }
    const scoreRef = numericReferenceProfile(
      reference.map((e) => e.score),
      10,
    );
    inProcess.push(
      compareBinnedFeature(
        scoreRef,
        numericWindowCounts(
          current.map((e) => e.score),
          scoreRef.cuts,
        ),
        { name: 'prediction_score', role: 'prediction' },
      ),
    );
    inProcess.push(
      compareBinnedFeature(
        categoricalProfile(reference.map((e) => e.cls)),
        categoricalProfile(current.map((e) => e.cls)),
        { name: 'prediction_class', role: 'prediction' },
      ),
    );
    expectClose(report, driftReport(inProcess));
    // The shifted columns drift; the constant one does not.
    const byName = new Map(report.features.map((f) => [f.name, f]));
    expect(byName.get('normal')?.drifted).toBe(true);
    expect(byName.get('prediction_score')?.drifted).toBe(true);
    expect(byName.get('constant')?.drifted).toBe(false);
    expect(quality.dead_lettered).toBe(7);
    expect(quality.alerts.some((a) => a.startsWith('city: unseen'))).toBe(true);
  });

  it('caps a large vocabulary, pooling the rest as __other__ on both sides', async () => {
    const capped = await buildReference(ch.client, {
      modelId,
      start: REF_START,
      end: REF_START + DAY,
      nBins: 10,
      maxCategories: 4,
      features: ['city'],
    });
    expect(capped.cappedCategorical).toEqual(['city']);
    const profile = capped.features.city as CategoricalProfile;
    expect(Object.keys(profile.counts)).toHaveLength(4);
    expect(Object.values(profile.counts).reduce((a, b) => a + b, 0)).toBe(reference.length);
    const counts = await windowCounts(ch.client, {
      modelId,
      start: CUR_START,
      end: CUR_START + DAY,
      reference: capped,
    });
    const window = counts.features.city as CategoricalProfile;
    expect(Object.keys(window.counts).sort()).toEqual(Object.keys(profile.counts).sort());
    const kept = new Set(Object.keys(profile.counts).filter((l) => l !== OTHER_CATEGORY));
    expect(window.counts[OTHER_CATEGORY]).toBe(
      current.filter((e) => typeof e.features.city === 'string' && !kept.has(e.features.city)).length,
    );
  });

  it('counts exactly with the roundDown form too (more cuts than are spelled out as comparisons)', async () => {
    const fine = await buildReference(ch.client, { modelId, start: REF_START, end: REF_START + DAY, nBins: 50 });
    expect((fine.features.normal as NumericReferenceProfile).cuts.length).toBeGreaterThan(LINEAR_BIN_MAX_CUTS);
    for (const name of numeric) {
      const column = numericColumn(reference, name);
      const expected = numericReferenceProfile(column, 50);
      expect((fine.features[name] as NumericReferenceProfile).cuts, name).toEqual(expected.cuts);
      expectMomentsClose(fine.features[name] as NumericReferenceProfile, expected);
    }
    const counts = await windowCounts(ch.client, { modelId, start: CUR_START, end: CUR_START + DAY, reference: fine });
    for (const name of numeric) {
      const cuts = (fine.features[name] as NumericReferenceProfile).cuts;
      expectMomentsClose(
        counts.features[name] as NumericCounts,
        numericWindowCounts(numericColumn(current, name), cuts),
      );
    }
    expectMomentsClose(
      counts.prediction!,
      numericWindowCounts(
        current.map((e) => e.score),
        fine.prediction!.cuts,
      ),
    );
  });

  it('counts a redelivered event once (window filtered before FINAL de-duplicates), also across a month boundary', async () => {
    const dupModel = uniqueName('pushdown-dup');
    const events = generate(new Random(7), 400, CUR_START, false);
    // The same events again (same ids, same ts, later ingested_at), as a racing consumer would store them.
    await insert(ch, dupModel, events);
    await insert(ch, dupModel, events.slice(0, 150));
    // And a few in the next month's partition, with their own redelivery.
    const nextMonth = generate(new Random(8), 50, Date.UTC(2025, 1, 1), false);
    await insert(ch, dupModel, nextMonth);
    await insert(ch, dupModel, nextMonth);
    const ref = await buildReference(ch.client, {
      modelId: dupModel,
      start: CUR_START,
      end: CUR_START + DAY,
      nBins: 10,
    });
    expect(ref.rowCount).toBe(events.length);
    const window = await windowCounts(ch.client, {
      modelId: dupModel,
      start: CUR_START,
      end: Date.UTC(2025, 1, 2),
      reference: ref,
    });
    expect(window.rows).toBe(events.length + nextMonth.length);
    const all = [...events, ...nextMonth];
    for (const name of numeric) {
      expectMomentsClose(
        window.features[name] as NumericCounts,
        numericWindowCounts(numericColumn(all, name), (ref.features[name] as NumericReferenceProfile).cuts),
      );
    }
    for (const name of categorical)
      expect(window.features[name], name).toEqual(categoricalProfile(categoricalColumn(all, name)));
    // Without FINAL the copies are counted (what the FINAL default protects against).
    const raw = await windowCounts(ch.client, {
      modelId: dupModel,
      start: CUR_START,
      end: Date.UTC(2025, 1, 2),
      reference: ref,
      final: false,
    });
    expect(raw.rows).toBeGreaterThanOrEqual(events.length + nextMonth.length);
  });

  it('keeps a wide model within the server query limits (comparison budget) and counts it exactly', async () => {
    const wideModel = uniqueName('pushdown-wide');
    const width = 300;
    const n = 2000;
    // f_j of row i: a deterministic spread with ties, computed the same way below.
    const value = (i: number, j: number): number => ((i * 7919 + j * 104729) % 1000) / 10 - j;
    await ch.client.command({
      query: `INSERT INTO scoring_events (event_id, model_id, model_version, ts, num_features, cat_features, missing_features, prediction_score, prediction_class, contract_version, source, source_ref)
        SELECT concat({model:String}, '-', toString(number)), {model:String}, 'v1', fromUnixTimestamp64Milli(toInt64({ts:Int64} + number)),
          mapFromArrays(arrayMap(j -> concat('w', leftPad(toString(j), 3, '0')), range({width:UInt32})),
            arrayMap(j -> ((number * 7919 + j * 104729) % 1000) / 10 - j, range({width:UInt32}))),
          map(), [], NULL, NULL, 1, 'test', ''
        FROM numbers({n:UInt32})`,
      query_params: { model: wideModel, ts: REF_START, width, n },
    });
    const ref = await buildReference(ch.client, { modelId: wideModel, start: REF_START, end: REF_START + DAY });
    const names = Object.keys(ref.features);
    expect(names).toHaveLength(width);
    const spelled = names.reduce((sum, name) => sum + (ref.features[name] as NumericReferenceProfile).cuts.length, 0);
    expect(spelled).toBeGreaterThan(LINEAR_BIN_BUDGET); // both forms are in the query
    const counts = await windowCounts(ch.client, {
      modelId: wideModel,
      start: REF_START,
      end: REF_START + DAY,
      reference: ref,
    });
    expect(counts.rows).toBe(n);
    for (const j of [0, 1, 150, width - 1]) {
      const name = `w${String(j).padStart(3, '0')}`;
      const column = Array.from({ length: n }, (_, i) => value(i, j));
      expectMomentsClose(
        counts.features[name] as NumericCounts,
        numericWindowCounts(column, (ref.features[name] as NumericReferenceProfile).cuts),
      );
    }
  });

  it("groups a window's scores for label-free estimation exactly as the in-process grouping, scores on step bounds and the threshold included", async () => {
    const scores = current.filter((e) => e.score !== null).map((e) => e.score as number);
    // Step bounds and the threshold are scores of the window itself: ties land on the edges.
    const steps = [...new Set(scores.filter((_, i) => i % 97 === 0))].sort((a, b) => a - b);
    const grouping = { steps, threshold: scores[5] as number, bins: 100 };
    const range: [number, number] = [0.05, 0.7];
    const window = { start: CUR_START, end: CUR_START + DAY };
    const pushed = await estimationScoreGroups(ch.client, modelId, window, { ...grouping, referenceRange: range });
    const key = (g: ScoreGroup) => `${g.bin}:${g.step}:${g.above}`;
    const sorted = (gs: ScoreGroup[]) => [...gs].sort((a, b) => key(a).localeCompare(key(b)));
    expectClose(sorted(pushed.groups), sorted(groupScores(grouping, scores)));
    expect(pushed.outside).toBe(scores.filter((s) => s < range[0] || s > range[1]).length);
    expect(pushed.groups.reduce((n, g) => n + g.events, 0)).toBe(scores.length);
  });

  it('rejects an empty window and unknown features', async () => {
    await expect(
      buildReference(ch.client, { modelId, start: REF_START - 2 * DAY, end: REF_START - DAY }),
    ).rejects.toThrow(/no scoring events/);
    await expect(
      buildReference(ch.client, { modelId, start: REF_START, end: REF_START + DAY, features: ['nope'] }),
    ).rejects.toThrow(/nope/);
    await expect(buildReference(ch.client, { modelId, start: REF_START + DAY, end: REF_START })).rejects.toThrow(
      /after its start/,
    );
  });
});
