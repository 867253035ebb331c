import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutcomeEstimate } from '../../detectors/quality/outcome-estimate.ts';
import { Random } from '../../detectors/random.ts';
import { MISSING_SEGMENT, OTHER_SEGMENT } from '../../detectors/segments/types.ts';
import {
  outcomeWindowEstimate,
  outcomeWindowEstimates,
  type OutcomeEstimateRequest,
  type OutcomeEstimatorCache,
} from '../../operations/outcome-estimate.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import type { StoredReference } from '../../platform/clickhouse/reference-repository.ts';
import type { SegmentsToCount } from '../../platform/clickhouse/segment-grouping.ts';
import type { LabelRow, ScoringEventRow } from '../../platform/contracts.ts';
import { knownShiftClassEvent } from '../../synthetic/known-shift-classes.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';

/**
 * Per-segment label-free estimates of multiclass and regression windows (embedded chDB), read with
 * the window's estimate: a multiclass window's calibrated sums grouped by segment in the window's
 * query, a regression window's DLE sample taken per segment in the same query. Each segment's
 * estimate must equal the estimator run on that segment's events alone — the same events written
 * as another model's window and estimated by the unsegmented read —, sampled rows included (the
 * segments are larger than the sample); the whole window's estimate is the unsegmented one.
 */

const HOUR = 3_600_000;
const REFERENCE = { start: Date.UTC(2025, 8, 1), end: Date.UTC(2025, 8, 1) + 6 * HOUR };
const WINDOW = { start: REFERENCE.end, end: REFERENCE.end + 6 * HOUR };
const CLASSES = ['cat', 'dog', 'bird'];
const COUNTRIES = ['DE', 'FR', 'US', 'IT'];
/** Two keys whose segments overlap: a categorical feature, and a metadata field some events lack (kept: `__missing__`). */
const SEGMENTS: SegmentsToCount[] = [
  { key: { feature: 'country' }, values: ['DE', 'FR'] },
  { key: { metadata: 'channel' }, values: ['web', MISSING_SEGMENT] },
];
/** Rows a regression window's DLE estimate rests on at most: fewer than most segments hold. */
const SAMPLE_ROWS = 150;

interface Drawn {
  country: string;
  channel: string | null;
  x: number;
  truth: number;
  /** Class probabilities (multiclass) or the predicted value (regression). */
  output: number[] | number;
}

/** The segment values of a drawn event, per key of {@link SEGMENTS}. */
const segmentValues = (d: Drawn): string[] =>
  [d.country, d.channel ?? MISSING_SEGMENT].map((v, k) => (SEGMENTS[k]!.values.includes(v) ? v : OTHER_SEGMENT));

/** Events whose quality differs by country (IT's predictions worse), a third without a channel. */
function draw(kind: 'multiclass' | 'regression', n: number, shift: number, random: Random): Drawn[] {
  return Array.from({ length: n }, (_, i) => {
    const country = COUNTRIES[random.integer(0, i % 4 === 0 ? 1 : 3)]!;
    const channel = i % 3 === 0 ? null : random.next() < 0.6 ? 'web' : 'app';
    if (kind === 'multiclass') {
      const e = knownShiftClassEvent(random, country === 'IT' ? shift + 1 : shift, country === 'IT' ? 3 : 2);
      return { country, channel, x: 0, truth: e.truth, output: e.probabilities };
    }
    const x = random.normal(country === 'IT' ? shift + 1 : shift, 1);
    const y = 10 * x + random.normal(0, 1);
    const spread = 1 + 2 * Math.abs(x) + (country === 'DE' ? 2 : 0);
    return { country, channel, x, truth: y, output: y + random.normal(0, spread) };
  });
}

function event(modelId: string, id: string, ts: number, d: Drawn): ScoringEventRow {
  return {
    event_id: id,
    model_id: modelId,
    model_version: 'v1',
    ts,
    subject_id: '',
    num_features: Array.isArray(d.output) ? {} : { x: d.x },
    cat_features: { country: d.country },
    missing_features: [],
    prediction_score: null,
    prediction_class: null,
    prediction_value: Array.isArray(d.output) ? null : d.output,
    prediction_probabilities: Array.isArray(d.output)
      ? Object.fromEntries(CLASSES.map((c, k) => [c, (d.output as number[])[k]!]))
      : {},
    metadata: d.channel === null ? {} : { channel: d.channel },
    contract_version: 1,
    source: 'test',
    source_ref: '',
  };
}

const label = (id: string, d: Drawn, multiclass: boolean): LabelRow => ({
  event_id: id,
  label: multiclass ? CLASSES[d.truth]! : String(d.truth),
  label_numeric: multiclass ? null : d.truth,
  label_ts: REFERENCE.start,
  contract_version: 1,
  source: 'test',
  source_ref: '',
});

describe("per-segment label-free estimates of multiclass and regression windows (embedded chDB): each equals the estimator on the segment's events alone", () => {
  let ch: ClickHouse;
  const random = new Random(71);
  const kinds = {
    multiclass: { model: uniqueName('mc-seg-est'), reference: draw('multiclass', 1500, 0, random) },
    regression: { model: uniqueName('reg-seg-est'), reference: draw('regression', 1500, 0, random) },
  };
  const windows = {
    multiclass: draw('multiclass', 1200, 0.5, random),
    regression: draw('regression', 1200, 0.5, random),
  };
  /** The model each segment's events alone are written to, by kind and `key:value`. */
  const alone = new Map<string, { modelId: string; events: number }>();
  const at = (window: { start: number; end: number }, i: number, n: number) =>
    window.start + Math.floor(((window.end - window.start) * i) / n);

  beforeAll(async () => {
    ch = await openClickHouse(testConfig());
    await applyMigrations(ch.client);
    const repository = new ClickHouseIngestRepository(ch.client);
    for (const kind of ['multiclass', 'regression'] as const) {
      const { model, reference } = kinds[kind];
      const rows = windows[kind];
      const id = (prefix: string, i: number) => `${model}-${prefix}-${i}`;
      const events = [
        ...reference.map((d, i) => event(model, id('ref', i), at(REFERENCE, i, reference.length), d)),
        ...rows.map((d, i) => event(model, id('win', i), at(WINDOW, i, rows.length), d)),
      ];
      // Each segment's events again, under a model of their own: the same ids, times, features and outputs.
      SEGMENTS.forEach((_, k) => {
        const byValue = new Map<string, number[]>();
        rows.forEach((d, i) => byValue.set(segmentValues(d)[k]!, [...(byValue.get(segmentValues(d)[k]!) ?? []), i]));
        for (const [value, indices] of byValue) {
          const modelId = `${model}-alone-${k}-${value}`;
          alone.set(`${kind}:${k}:${value}`, { modelId, events: indices.length });
          for (const i of indices) events.push(event(modelId, id('win', i), at(WINDOW, i, rows.length), rows[i]!));
        }
      });
      await repository.insertScoringEvents(events);
      await repository.insertLabels(reference.map((d, i) => label(id('ref', i), d, kind === 'multiclass')));
    }
  }, 120_000);

  afterAll(async () => {
    await ch?.close();
  });

  function request(kind: 'multiclass' | 'regression'): OutcomeEstimateRequest {
    const modelId = kinds[kind].model;
    return {
      reference: {
        referenceId: `ref-${modelId}`,
        modelId,
        modelVersion: 'v1',
        createdAt: REFERENCE.start,
        ...REFERENCE,
        nBins: 10,
        maxCategories: 50,
        features:
          kind === 'multiclass'
            ? {}
            : {
                country: { kind: 'categorical', counts: { DE: 500, FR: 500, US: 250, IT: 250 }, missing: 0 },
                x: { kind: 'numeric' } as unknown as StoredReference['features'][string],
              },
        prediction: null,
      } as StoredReference,
      version: 'v1',
      kind: kind === 'multiclass' ? { kind: 'multiclass', classes: CLASSES } : { kind: 'regression' },
      window: { modelId, ...WINDOW },
      windowEvents: windows[kind].length,
    };
  }

  /** Every segment of every key with its events, as the window read counts them. */
  const listed = (kind: 'multiclass' | 'regression') =>
    [...alone.entries()]
      .filter(([k]) => k.startsWith(`${kind}:`))
      .map(([k, v]) => {
        const [, key, value] = k.split(':');
        return { key: Number(key), value: value!, events: v.events };
      });

  const sameEstimate = (segment: OutcomeEstimate, direct: OutcomeEstimate, name: string) => {
    expect(segment.n, name).toBe(direct.n);
    expect(segment.windowEvents, name).toBe(direct.windowEvents);
    expect(segment.trustworthy, name).toBe(direct.trustworthy);
    expect(segment.fittedOn, name).toEqual(direct.fittedOn);
    expect(Object.keys(segment.figures).sort(), name).toEqual(Object.keys(direct.figures).sort());
    for (const [metric, figure] of Object.entries(segment.figures)) {
      const other = direct.figures[metric as keyof typeof direct.figures]!;
      expect(figure!.value, `${name} ${metric}`).toBeCloseTo(other.value!, 10);
      expect(figure!.interval!.lower, `${name} ${metric}`).toBeCloseTo(other.interval!.lower, 8);
      expect(figure!.interval!.upper, `${name} ${metric}`).toBeCloseTo(other.interval!.upper, 8);
    }
  };

  for (const kind of ['multiclass', 'regression'] as const) {
    it(`${kind}: every segment's estimate is the estimator's on the segment's events alone; the whole window's is unchanged`, async () => {
      const cache: OutcomeEstimatorCache = new Map();
      const options = { sampleRows: SAMPLE_ROWS };
      const segments = listed(kind);
      // Both keys: DE, FR, __other__ (US, IT); web, __other__ (app), __missing__.
      expect(segments).toHaveLength(6);
      const read = await outcomeWindowEstimates(ch.client, request(kind), cache, options, {
        toCount: SEGMENTS,
        events: segments,
      });
      const whole = await outcomeWindowEstimate(ch.client, request(kind), cache, options);
      expect(read.whole).toEqual(whole);
      expect(whole.n).toBe(kind === 'multiclass' ? 1200 : SAMPLE_ROWS);
      expect(read.segments).toHaveLength(segments.length);
      for (const s of read.segments) {
        const name = `key ${s.key}: ${s.value}`;
        const own = alone.get(`${kind}:${s.key}:${s.value}`)!;
        const direct = await outcomeWindowEstimate(
          ch.client,
          { ...request(kind), window: { modelId: own.modelId, ...WINDOW }, windowEvents: own.events },
          cache,
          options,
        );
        expect(s.estimate.figures, name).not.toEqual({});
        // Regression: the segment rests on a sample of its own rows, as the segment alone does.
        if (kind === 'regression') expect(s.estimate.n, name).toBe(Math.min(SAMPLE_ROWS, own.events));
        else expect(s.estimate.n, name).toBe(own.events);
        sameEstimate(s.estimate, direct, name);
        if (kind === 'regression' && own.events > SAMPLE_ROWS)
          expect(s.estimate.reasons).toContain(
            `DLE on a sample of ${SAMPLE_ROWS} of the segment's ${own.events} events`,
          );
      }
      // A multiclass key's segments partition the window's estimated events.
      if (kind === 'multiclass')
        for (const key of [0, 1])
          expect(read.segments.filter((s) => s.key === key).reduce((n, s) => n + s.estimate.n, 0)).toBe(whole.n);
      // Segments differ (IT is shifted, and over-confident or with larger errors): not the whole window's figure repeated.
      const metric = kind === 'multiclass' ? 'log_loss' : 'mae';
      const country = (value: string) => read.segments.find((s) => s.key === 0 && s.value === value)!.estimate;
      const gap = Math.abs(country(OTHER_SEGMENT).figures[metric]!.value! - country('FR').figures[metric]!.value!);
      expect(gap).toBeGreaterThan(0.05 * whole.figures[metric]!.value!);
    });
  }

  it('a segment without events in the estimate has an empty estimate, and a window without an estimator says why for each segment', async () => {
    const cache: OutcomeEstimatorCache = new Map();
    const segments = [{ key: 0, value: 'ES', events: 0 }];
    const read = await outcomeWindowEstimates(
      ch.client,
      request('multiclass'),
      cache,
      {},
      { toCount: SEGMENTS, events: segments },
    );
    expect(read.segments[0]!.estimate).toMatchObject({ n: 0, windowEvents: 0, trustworthy: false });
    const none = await outcomeWindowEstimates(
      ch.client,
      { ...request('regression'), version: 'v9' },
      cache,
      {},
      { toCount: SEGMENTS, events: [{ key: 0, value: 'DE', events: 300 }] },
    );
    expect(none.segments[0]!.estimate).toMatchObject({ n: 0, windowEvents: 300, trustworthy: false, figures: {} });
    expect(none.segments[0]!.estimate.reasons).toEqual(none.whole.reasons);
    expect(none.whole.reasons[0]).toMatch(/no DLE estimator/);
  });
});
