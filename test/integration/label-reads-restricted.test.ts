/**
 * Every read that joins `labels` keeps its label side to the labels it can join (the ids of the
 * events on the other side, or of labels that arrived in the range read): that must not change a
 * single result. Each repository read is run twice on the same data: as it is, and with its label
 * restriction taken out — the unrestricted form, which joins every label of every model and all
 * time. The data has what makes the difference matter: other models' labels (some on event ids
 * this model shares with another), labels of older events and of events never stored, corrected
 * labels (the newest wins), labels that are not numbers, labels that arrived after the window,
 * events without a score, a second version and a shadow model.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../../detectors/random.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { ingestPerBucket } from '../../platform/clickhouse/dashboard-repository.ts';
import {
  ClickHouseIngestRepository,
  encodeLabel,
  encodeScoringEvent,
} from '../../platform/clickhouse/ingest-repository.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { versionServingMetrics } from '../../platform/clickhouse/serving-metrics-repository.ts';
import { livePairs, probePairs, replayEvents } from '../../platform/clickhouse/shadow-repository.ts';
import {
  labelledScoreGroups,
  labelledScoreGroupsBySegment,
  labelledScoreSample,
  lateLabelledScoreGroups,
} from '../../platform/clickhouse/window-repository.ts';
import type { LabelRow, ScoringEventRow } from '../../platform/contracts.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';
import { unrestricted, withoutLabelRestriction } from '../helpers/unrestricted-labels.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const T0 = Date.UTC(2026, 4, 10, 8, 0, 0);

function event(random: Random, modelId: string, id: string, ts: number, version = 'v1'): ScoringEventRow {
  return {
    event_id: id,
    model_id: modelId,
    model_version: version,
    ts,
    subject_id: '',
    num_features: { x: random.normal(0, 1) },
    cat_features: { color: ['red', 'green', 'blue'][random.integer(0, 3)]! },
    missing_features: [],
    prediction_score: random.bernoulli(0.05) ? null : random.next(),
    prediction_class: null,
    prediction_value: null,
    metadata: { channel: ['web', 'app', 'pos'][random.integer(0, 3)]!, latency_ms: String(random.integer(1, 40)) },
    contract_version: 1,
    source: 'test',
    source_ref: '',
  };
}

describe('label reads restricted to the labels they can join return what the unrestricted reads return', () => {
  let ch: ClickHouse;
  const random = new Random(20260510);
  const model = uniqueName('restricted');
  const other = uniqueName('other');
  const shadow = `${model}::shadow`;
  const window = { start: T0, end: T0 + 30 * MINUTE };

  beforeAll(async () => {
    ch = await openClickHouse(testConfig());
    await applyMigrations(ch.client);
    const repo = new ClickHouseIngestRepository(ch.client);
    const events: ScoringEventRow[] = [];
    // The model: 40 minutes of traffic (v2 from minute 20), and the same hour 40 days earlier (another partition).
    for (let i = 0; i < 1200; i++) {
      const ts = T0 + Math.floor((40 * MINUTE * i) / 1200);
      events.push(event(random, model, `m-${i}`, ts, ts < T0 + 20 * MINUTE ? 'v1' : 'v2'));
    }
    for (let i = 0; i < 300; i++) events.push(event(random, model, `old-${i}`, T0 - 40 * DAY + i * 1000));
    // Another model in the same hours, sharing every 5th of the model's event ids.
    for (let i = 0; i < 1200; i++) {
      const ts = T0 + Math.floor((40 * MINUTE * i) / 1200);
      events.push(event(random, other, i % 5 === 0 ? `m-${i}` : `o-${i}`, ts + 7));
    }
    // The shadow model: the challenger's scores of some of v2's events.
    const shadowed = events.filter((e) => e.model_id === model && e.model_version === 'v2' && e.event_id.endsWith('3'));
    events.push(...shadowed.map((e) => ({ ...event(random, shadow, e.event_id, e.ts, 'v3'), ts: e.ts })));
    await repo.insertEncoded('scoring_events', events.map(encodeScoringEvent));

    const label = (eventId: string, ts: number, value?: string): string => {
      const y = value ?? (random.bernoulli(0.6) ? '1' : '0');
      const row: LabelRow = {
        event_id: eventId,
        label: y,
        label_numeric: y === '1' || y === '0' ? Number(y) : null,
        label_ts: ts,
        contract_version: 1,
        source: 'test',
        source_ref: '',
      };
      return encodeLabel(row);
    };
    const labelled = events.filter((_, i) => i % 4 !== 3);
    await repo.insertEncoded('labels', [
      // Most events: a label within 20 minutes.
      ...labelled.map((e) => label(e.event_id, e.ts + random.integer(1_000, 20 * MINUTE))),
      // Labels of events never stored (another system's ids), in the same hours.
      ...Array.from({ length: 500 }, (_, i) => label(`stray-${i}`, T0 + i * 5_000)),
    ]);
    // Corrections (newer label_ts wins), labels that are not numbers, and labels after the window's decision.
    await repo.insertEncoded('labels', [
      ...labelled.filter((_, i) => i % 9 === 1).map((e) => label(e.event_id, e.ts + 2 * 3_600_000)),
      ...labelled.filter((_, i) => i % 13 === 2).map((e) => label(e.event_id, e.ts + 3 * 3_600_000, 'cat')),
      ...events.filter((_, i) => i % 4 === 3 && i % 8 === 3).map((e) => label(e.event_id, e.ts + 5 * 3_600_000)),
    ]);
  }, 120_000);

  afterAll(async () => {
    await ch?.close();
  });

  /** Run `read` restricted and unrestricted; both must agree, and the unrestricted run must have taken something out. */
  async function expectSame<T>(read: (client: ClickHouseClient) => Promise<T>): Promise<T> {
    const restricted = await read(ch.client);
    const open = unrestricted(ch.client);
    const all = await read(open.client);
    expect(open.removed(), 'the read has a label restriction to take out').toBeGreaterThan(0);
    expectClose(restricted, all, { tolerance: 1e-12, unordered: true });
    return restricted;
  }

  it('the stripper takes out exactly the restriction', () => {
    const sql = `SELECT a FROM (SELECT event_id FROM labels FINAL PREWHERE event_id IN (SELECT event_id FROM scoring_events PREWHERE ts >= fromUnixTimestamp64Milli({s:Int64}))
      WHERE x) AS l JOIN (SELECT event_id FROM labels PREWHERE event_id IN (SELECT 1) GROUP BY event_id) USING (event_id)`;
    expect(withoutLabelRestriction(sql)).toEqual({
      sql: `SELECT a FROM (SELECT event_id FROM labels FINAL 
      WHERE x) AS l JOIN (SELECT event_id FROM labels  GROUP BY event_id) USING (event_id)`,
      removed: 2,
    });
  });

  it("a window's labelled score groups, with and without an arrival instant, whole and by segment", async () => {
    const groups = await expectSame((c) => labelledScoreGroups(c, model, window, 20));
    expect(groups.reduce((n, g) => n + g.events, 0)).toBeGreaterThan(300);
    await expectSame((c) => labelledScoreGroups(c, model, window, 20, window.end + 5 * MINUTE));
    const segments = await expectSame((c) =>
      labelledScoreGroupsBySegment(c, model, window, 20, window.end + 90 * MINUTE, [
        { key: { metadata: 'channel' }, values: ['web', 'app'] },
      ]),
    );
    expect(segments.segments.length).toBeGreaterThan(1);
  });

  it('late labels of earlier windows', async () => {
    const windows = [
      { start: T0, end: T0 + 10 * MINUTE },
      { start: T0 + 10 * MINUTE, end: T0 + 20 * MINUTE },
      { start: T0 + 25 * MINUTE, end: T0 + 30 * MINUTE },
    ];
    const late = await expectSame((c) =>
      lateLabelledScoreGroups(c, model, windows, { start: T0 + 15 * MINUTE, end: T0 + 4 * 3_600_000 }, 20),
    );
    expect(new Set(late.map((g) => g.windowStart)).size).toBe(3);
  });

  it("the estimator's labelled sample", async () => {
    const sample = await expectSame((c) => labelledScoreSample(c, model, window, 400));
    expect(sample.length).toBe(400);
  });

  it('shadow evaluation: replayed events, live pairs and a probe', async () => {
    const replayed = await expectSame((c) =>
      replayEvents(c, { modelId: model, window, trainingSnapshotId: 'none', limit: 10_000 }),
    );
    expect(replayed.length).toBeGreaterThan(300);
    const pairs = await expectSame((c) =>
      livePairs(c, {
        modelId: model,
        window: { start: T0, end: T0 + 40 * MINUTE },
        trainingSnapshotId: 'none',
        limit: 10_000,
        shadowModelId: shadow,
        championVersion: 'v2',
        candidateVersion: 'v3',
      }),
    );
    expect(pairs.length).toBeGreaterThan(20);
    const probe = await expectSame((c) =>
      probePairs(c, {
        modelId: model,
        evaluationId: 'none',
        championVersion: 'v2',
        window: { start: T0 + 20 * MINUTE, end: T0 + 40 * MINUTE },
        labelsArrivedBy: T0 + 50 * MINUTE,
        trainingSnapshotId: 'none',
        limit: 10_000,
      }),
    );
    expect(probe.length).toBeGreaterThan(100);
  });

  it("a version's serving metrics and the dashboard's labelled events per bucket", async () => {
    const metrics = await expectSame((c) => versionServingMetrics(c, { modelId: model, version: 'v2', since: T0 }));
    expect(metrics.labelled).toBeGreaterThan(100);
    const buckets = await expectSame((c) => ingestPerBucket(c, model, T0 - 41 * DAY, 10 * MINUTE));
    expect(buckets.some((b) => Number(b.labels) > 0)).toBe(true);
  });
});
