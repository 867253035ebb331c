import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWindowAlone, readWindowsBatched, type WindowReadRequest } from '../../activities/window-read.ts';
import { addOutcome } from '../../detectors/backtest/outcome-rows.ts';
import {
  addOutcomeSums,
  emptyOutcomeSums,
  type OutcomeKind,
  type OutcomeSums,
} from '../../detectors/quality/outcome-sums.ts';
import { Random } from '../../detectors/random.ts';
import { buildReference } from '../../operations/build-reference.ts';
import { planSegments } from '../../operations/segment-counts.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import {
  outcomeSums,
  outcomeSumsBySegment,
  type OutcomeWindowRequest,
} from '../../platform/clickhouse/outcome-sums-repository.ts';
import type { StoredReference } from '../../platform/clickhouse/reference-repository.ts';
import type { SegmentsToCount } from '../../platform/clickhouse/segment-grouping.ts';
import type { LabelRow, ScoringEventRow } from '../../platform/contracts.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';

/**
 * A multiclass and a regression model's outcome sums per segment (embedded chDB), in the same
 * query as the whole window's: each segment's sums equal the detectors' sums over the segment's
 * own events (labels cut at the decision time), a key's segments add up to the whole window, the
 * whole window is what the unsegmented query sums, an unsegmented window in the same batch is
 * unchanged, and a window read alone and read in a batch give the same segments.
 */

const HOUR = 3_600_000;
const REF = Date.UTC(2025, 7, 1);
const START = REF + 24 * HOUR;
const END = START + 24 * HOUR;
const ARRIVED_BY = END + 2 * HOUR;
const CLASSES = ['cat', 'dog', 'bird'];
const COUNTRIES = ['DE', 'FR', 'US', 'IT', 'ES'];
const EVENTS = 1200;

interface Row {
  event: ScoringEventRow;
  label: LabelRow;
  /** The prediction and label as the detectors' sums take them. */
  outcome: { prediction: number[] | number; label: number };
}

function rows(modelId: string, kind: 'multiclass' | 'regression', from: number, seed: number): Row[] {
  const random = new Random(seed);
  return Array.from({ length: EVENTS }, (_, i) => {
    const ts = from + Math.floor((i * 24 * HOUR) / EVENTS);
    const country = COUNTRIES[random.integer(0, i % 3 === 0 ? 1 : 4)]!;
    const id = `${modelId}-${from}-${i}`;
    let prediction: number[] | number;
    let truth: number;
    if (kind === 'multiclass') {
      truth = random.integer(0, 2);
      // DE's predictions are worse than the others'.
      const sharp = country === 'DE' ? 0.3 : 2.5;
      const exp = CLASSES.map((_, k) => Math.exp(random.normal() + (k === truth ? sharp : 0)));
      const total = exp.reduce((a, b) => a + b, 0);
      prediction = exp.map((e) => e / total);
    } else {
      truth = random.normal(50, 12);
      prediction = truth + random.normal(0, country === 'DE' ? 15 : 4);
    }
    return {
      event: {
        event_id: id,
        model_id: modelId,
        model_version: 'v1',
        ts,
        subject_id: '',
        num_features: { x: random.normal() },
        cat_features: { country },
        missing_features: [],
        prediction_score: null,
        prediction_class: null,
        prediction_value: kind === 'regression' ? (prediction as number) : null,
        ...(kind === 'multiclass'
          ? {
              prediction_probabilities: Object.fromEntries(CLASSES.map((c, k) => [c, (prediction as number[])[k]!])),
            }
          : {}),
        // Every seventh event has no channel: its own segment, `__missing__`.
        metadata: (i % 7 === 0 ? {} : { channel: i % 2 === 0 ? 'app' : 'web' }) as Record<string, string>,
        contract_version: 1,
        source: 'test',
        source_ref: '',
      },
      label: {
        event_id: id,
        label: kind === 'multiclass' ? CLASSES[truth]! : String(truth),
        label_numeric: kind === 'multiclass' ? null : truth,
        // A sixth of the labels arrive after the decision time.
        label_ts: ts + (i % 6 === 0 ? 40 * HOUR : HOUR),
        contract_version: 1,
        source: 'test',
        source_ref: '',
      },
      outcome: { prediction, label: truth },
    };
  });
}

/** The detectors' sums over rows, with only the labels that arrived by the decision time. */
function sumsOf(kind: OutcomeKind, rs: readonly Row[]): OutcomeSums {
  const sums = emptyOutcomeSums(kind);
  for (const r of rs) if (r.label.label_ts < ARRIVED_BY) addOutcome(sums, r.outcome);
  return sums;
}

function expectSumsClose(actual: OutcomeSums, expected: OutcomeSums): void {
  if (actual.kind === 'multiclass' && expected.kind === 'multiclass') {
    expect(actual.confusion).toEqual(expected.confusion);
    expect(actual.lossN).toBe(expected.lossN);
    expect(actual.lossSum).toBeCloseTo(expected.lossSum, 8);
    expect(actual.lossSquares).toBeCloseTo(expected.lossSquares, 7);
    expect(actual.unknownClass).toBe(0);
    return;
  }
  if (actual.kind === 'regression' && expected.kind === 'regression') {
    expect(actual.n).toBe(expected.n);
    for (const k of ['sumAbsoluteError', 'sumSquaredError', 'sumTruth', 'sumSquaredTruth'] as const)
      expect(actual[k] / expected[k]).toBeCloseTo(1, 10);
    expect(actual.sumFourthPowerError / expected.sumFourthPowerError).toBeCloseTo(1, 9);
    return;
  }
  throw new Error(`kinds differ: ${actual.kind} vs ${expected.kind}`);
}

describe('outcome sums per segment, in the window query (embedded chDB)', () => {
  let ch: ClickHouse;
  const models = {
    multiclass: uniqueName('mc-seg'),
    regression: uniqueName('reg-seg'),
    plain: uniqueName('mc-plain'),
  };
  const kinds: Record<keyof typeof models, OutcomeKind> = {
    multiclass: { kind: 'multiclass', classes: CLASSES },
    regression: { kind: 'regression' },
    plain: { kind: 'multiclass', classes: CLASSES },
  };
  const window: Record<keyof typeof models, Row[]> = {
    multiclass: rows(models.multiclass, 'multiclass', START, 1),
    regression: rows(models.regression, 'regression', START, 2),
    plain: rows(models.plain, 'multiclass', START, 3),
  };
  const references = new Map<string, StoredReference>();
  const plans = new Map<string, SegmentsToCount[]>();

  beforeAll(async () => {
    ch = await openClickHouse(testConfig());
    await applyMigrations(ch.client);
    const repository = new ClickHouseIngestRepository(ch.client);
    for (const [name, modelId] of Object.entries(models) as [keyof typeof models, string][]) {
      const reference = rows(modelId, kinds[name].kind, REF, 100 + name.length);
      await repository.insertScoringEvents([...reference, ...window[name]].map((r) => r.event));
      await repository.insertLabels([...reference, ...window[name]].map((r) => r.label));
      const stored = await buildReference(ch.client, { modelId, start: REF, end: REF + 24 * HOUR });
      references.set(modelId, stored);
      // The two largest countries are kept (DE, FR: a third of the events draw from them only); the rest pool into __other__.
      const plan = await planSegments(ch.client, stored, {
        keys: [{ feature: 'country' }, { metadata: 'channel' }],
        topK: 2,
      });
      plans.set(modelId, plan.toCount);
    }
  }, 180_000);

  afterAll(async () => {
    await ch?.close();
  });

  const request = (name: keyof typeof models, segmented: boolean): OutcomeWindowRequest => ({
    modelId: models[name],
    start: START,
    end: END,
    kind: kinds[name],
    labelsArrivedBy: ARRIVED_BY,
    ...(segmented ? { segments: plans.get(models[name])! } : {}),
  });

  /** The segment an event falls in for key `k` of its model's plan. */
  const segmentOf = (modelId: string, r: Row, k: number): string => {
    const toCount = plans.get(modelId)![k]!;
    const raw =
      'feature' in toCount.key ? r.event.cat_features[toCount.key.feature] : r.event.metadata[toCount.key.metadata];
    const value = raw ?? '__missing__';
    return toCount.values.includes(value) ? value : '__other__';
  };

  it('plans DE and FR for country, and app, web, __missing__ for channel', () => {
    const toCount = plans.get(models.multiclass)!;
    expect([...toCount[0]!.values].sort()).toEqual(['DE', 'FR']);
    expect(toCount[1]!.values.length).toBeGreaterThanOrEqual(2);
  });

  for (const name of ['multiclass', 'regression'] as const) {
    it(`${name}: each segment's sums are the detectors' sums over its events; a key's segments add up to the whole`, async () => {
      const [segmented, plain] = await outcomeSumsBySegment(ch.client, [request(name, true), request('plain', false)]);
      const [unsegmented] = await outcomeSums(ch.client, [request(name, false)]);
      const modelId = models[name];
      // The whole window is what the unsegmented query sums, and what the detectors sum.
      expectSumsClose(segmented!.whole, unsegmented!);
      expectSumsClose(segmented!.whole, sumsOf(kinds[name], window[name]));
      plans.get(modelId)!.forEach((_, k) => {
        const ofKey = segmented!.segments.filter((s) => s.key === k);
        const values = [...new Set(window[name].map((r) => segmentOf(modelId, r, k)))].sort();
        expect(ofKey.map((s) => s.value).sort()).toEqual(values);
        for (const s of ofKey)
          expectSumsClose(
            s.sums,
            sumsOf(
              kinds[name],
              window[name].filter((r) => segmentOf(modelId, r, k) === s.value),
            ),
          );
        expectSumsClose(ofKey.map((s) => s.sums).reduce(addOutcomeSums), segmented!.whole);
      });
      // An unsegmented window of the same batch is summed as on its own (regression batches apart from multiclass).
      if (name === 'multiclass') {
        expect(plain!.segments).toEqual([]);
        expectSumsClose(plain!.whole, sumsOf(kinds.plain, window.plain));
      }
    });
  }

  it('DE, the degraded segment, shows in its sums while the whole window is dominated by the others', async () => {
    const [read] = await outcomeSumsBySegment(ch.client, [request('regression', true)]);
    const de = read!.segments.find((s) => s.key === 0 && s.value === 'DE')!.sums;
    const whole = read!.whole;
    if (de.kind !== 'regression' || whole.kind !== 'regression') throw new Error('regression sums expected');
    expect(Math.sqrt(de.sumSquaredError / de.n)).toBeGreaterThan(12);
    expect(Math.sqrt(whole.sumSquaredError / whole.n)).toBeLessThan(10);
  });

  it('reads the same segment sums alone and in a batch, only when asked', async () => {
    const windowRequest = (name: keyof typeof models, outcomesBySegment: boolean): WindowReadRequest => ({
      modelId: models[name],
      start: START,
      end: END,
      reference: references.get(models[name])!,
      labelsArrivedBy: ARRIVED_BY,
      segments: plans.get(models[name])!,
      outcomes: kinds[name],
      outcomesBySegment,
    });
    for (const name of ['multiclass', 'regression'] as const) {
      const alone = await readWindowAlone(ch.client, windowRequest(name, true), 50);
      const [batched, other] = await readWindowsBatched(
        ch.client,
        [windowRequest(name, true), windowRequest('plain', false)],
        50,
      );
      const byId = (r: typeof alone) =>
        new Map((r.segments?.outcomes ?? []).map((s) => [`${s.key}:${s.value}`, s.sums] as const));
      const a = byId(alone);
      const b = byId(batched!);
      expect(a.size).toBeGreaterThanOrEqual(5);
      expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
      for (const [id, sums] of a) expectSumsClose(sums, b.get(id)!);
      expectSumsClose(alone.outcomes!, batched!.outcomes!);
      // A window that did not ask sums no segments (its segments keep drift and data quality only).
      expect(other!.segments?.outcomes).toBeUndefined();
      expect(other!.outcomes).toBeDefined();
    }
  });
});
