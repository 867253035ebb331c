import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topValueOf } from '../../detectors/drift/profiles.ts';
import { valueRuns } from '../../detectors/drift/value-runs.ts';
import type { NumericReferenceProfile } from '../../detectors/drift/profiles.ts';
import type { TopValue } from '../../detectors/drift/window-comparison.ts';
import { labelledFromGroups, lateLabelledFromGroups } from '../../detectors/monitor/window-histograms.ts';
import { buildScoreHistogram } from '../../detectors/quality/score-histogram.ts';
import { Random } from '../../detectors/random.ts';
import { buildReference } from '../../operations/build-reference.ts';
import { driftForWindow } from '../../operations/window-drift.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import type { StoredReference } from '../../platform/clickhouse/reference-repository.ts';
import { readStatisticsClient } from '../../platform/clickhouse/read-statistics.ts';
import {
  labelledScoreGroups,
  lateLabelledScoreGroups,
  topValueShares,
} from '../../platform/clickhouse/window-repository.ts';
import type { LabelRow, ScoringEventRow } from '../../platform/contracts.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';
import { scoringEventRow } from '../helpers/stored-rows.ts';

/**
 * The data-quality and label-arrival statistics next to the data (embedded chDB), against
 * their in-process twins: the reference's most frequent value share (a lower bound), the exact
 * most frequent value of a window whose values crowd into one bin, the feature keys the
 * reference does not know, and labels counted by when they arrived.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const REF = Date.UTC(2025, 5, 1);
const CUR = REF + DAY;

interface Event {
  id: string;
  ts: number;
  x: number;
  level: number;
  extra: boolean;
  score: number;
  label: 0 | 1;
  labelTs: number;
}

function events(
  random: Random,
  start: number,
  n: number,
  stuck: (i: number) => boolean,
  extra: (i: number) => boolean,
) {
  return Array.from({ length: n }, (_, i): Event => {
    const x = stuck(i) ? 4.2 : random.uniform(0, 10);
    const label = random.bernoulli(0.5) ? 1 : 0;
    const ts = start + Math.floor((i * DAY) / n);
    return {
      id: `e-${start}-${i}`,
      ts,
      x,
      level: random.integer(0, 4), // five values: the reference's top share is about 0.2
      extra: extra(i),
      score: label === 1 ? random.uniform(0.3, 1) : random.uniform(0, 0.7),
      label,
      // Half the labels arrive within the hour, the rest a day later.
      labelTs: ts + (i % 2 === 0 ? 30 * 60_000 : DAY),
    };
  });
}

describe('data quality and label arrival in SQL (embedded chDB)', () => {
  let ch: ClickHouse;
  const modelId = uniqueName('dq');
  const random = new Random(7);
  const reference = events(
    random,
    REF,
    4000,
    () => false,
    () => false,
  );
  // The current day: x stuck at 4.2 in 40% of rows; a key the reference never had in 30%.
  const current = events(
    random,
    CUR,
    3000,
    (i) => i % 5 < 2,
    (i) => i % 10 < 3,
  );
  let stored: StoredReference;

  beforeAll(async () => {
    ch = await openClickHouse(testConfig());
    await applyMigrations(ch.client);
    const repository = new ClickHouseIngestRepository(ch.client);
    const rows = [...reference, ...current].map((e): ScoringEventRow =>
      scoringEventRow({
        event_id: e.id,
        model_id: modelId,
        ts: e.ts,
        num_features: { x: e.x, level: e.level, ...(e.extra ? { x_v2: 1 } : {}) },
        prediction_score: e.score,
      }),
    );
    await repository.insertScoringEvents(rows);
    await repository.insertLabels(
      [...reference, ...current].map((e): LabelRow => ({
        event_id: e.id,
        label: String(e.label),
        label_numeric: e.label,
        label_ts: e.labelTs,
        contract_version: 1,
        source: 'test',
        source_ref: '',
      })),
    );
    stored = await buildReference(ch.client, { modelId, start: REF, end: REF + DAY });
  }, 120_000);

  afterAll(async () => {
    await ch?.close();
  });

  it("keeps each numeric feature's most frequent value share: exact for few distinct values, never above the truth", () => {
    const level = stored.features.level as NumericReferenceProfile;
    const exactLevel = topValueOf(reference.map((e) => e.level));
    expect(level.topShare).toBeCloseTo(exactLevel!.share, 12);
    expect(level.topValue).toBe(exactLevel!.value);
    const x = stored.features.x as NumericReferenceProfile;
    expect(x.topShare).toBeGreaterThanOrEqual(0);
    expect(x.topShare).toBeLessThanOrEqual(topValueOf(reference.map((e) => e.x))!.share);
  });

  it("counts a value's runs (the event-order sort) only where asked; the value itself by one GROUP BY either way", async () => {
    const { client, take } = readStatisticsClient(ch.client);
    const window = { modelId, start: CUR, end: CUR + DAY };
    const withRuns = await topValueShares(client, ['x', 'level'], window);
    expect(take().filter((q) => q.sql.includes('lagInFrame'))).toHaveLength(2);
    const onlyX = await topValueShares(client, ['x', 'level'], window, (name) => name === 'x');
    const queries = take();
    // x: its value, then its runs; level: its value alone, never sorted by event order.
    expect(queries).toHaveLength(3);
    expect(queries.filter((q) => q.sql.includes('lagInFrame'))).toHaveLength(1);
    expect(onlyX.x).toEqual(withRuns.x);
    // Asked without a screen: always counted (never 'below-count-bar').
    const level = withRuns.level as TopValue;
    expect(onlyX.level).toEqual({ value: level.value, share: level.share });
    expect(level.share).toBe(topValueOf(current.map((e) => e.level))!.share);
  });

  it('a window with a stuck value and a new key: both breakage, named with their figures; counted exactly', async () => {
    const drift = await driftForWindow(ch.client, { modelId, start: CUR, end: CUR + DAY, reference: stored });
    const x = drift.counts.quality.find((q) => q.name === 'x');
    const exact = topValueOf(current.map((e) => e.x));
    expect(x).toMatchObject({ top_value: 4.2, top_value_share: exact!.share });
    expect(exact!.share).toBeCloseTo(0.4, 2);
    // Its runs in event order, counted by window functions, as counted here over the events in (ts, id) order.
    const ordered = [...current].sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    expect(x?.top_value_runs).toEqual(
      valueRuns(
        ordered.map((e) => e.x),
        4.2,
      ),
    );
    expect(x?.top_value_runs).toEqual({ runs: 1200, matches: 1200, others: 1800 });
    // Not a candidate (its values spread over the bins as in the reference): not counted.
    expect(drift.counts.quality.find((q) => q.name === 'level')?.top_value_share).toBeUndefined();
    expect(drift.counts.appeared).toEqual({ occurrences: 900, names: [{ name: 'x_v2', rows: 900 }] });
    expect(drift.quality.broken).toBe(true);
    expect(drift.quality.checks.map((c) => [c.check, c.kind])).toEqual([
      ['feature-appeared', 'breakage'],
      ['stuck-value', 'breakage'],
    ]);
    expect(drift.quality.alerts).toEqual([
      'features unknown to the reference in 30.0% of rows: x_v2 (900 rows)',
      expect.stringMatching(
        /^x: value 4\.2 in 40\.0% of 3000 values \(reference: most frequent value [0-9.]+%\): stuck$/,
      ),
    ]);
    // The reference window itself is clean.
    const clean = await driftForWindow(ch.client, { modelId, start: REF, end: REF + DAY, reference: stored });
    expect(clean.quality.broken).toBe(false);
    expect(clean.counts.appeared).toEqual({ occurrences: 0, names: [] });
  });

  it('counts only labels that arrived before the decision; late ones by the window of their event', async () => {
    const window = { start: CUR, end: CUR + HOUR };
    const inWindow = current.filter((e) => e.ts >= window.start && e.ts < window.end);
    const decision = window.end + 10 * 60_000;
    const arrived = inWindow.filter((e) => e.labelTs < decision);
    const groups = await labelledScoreGroups(ch.client, modelId, window, 100, decision);
    const labelled = labelledFromGroups(groups, 100);
    expect(labelled?.events).toBe(arrived.length);
    expect(labelled?.histogram.positives).toEqual(
      buildScoreHistogram(
        arrived.map((e) => e.label),
        arrived.map((e) => e.score),
      ).positives,
    );
    expect((await labelledScoreGroups(ch.client, modelId, window, 100)).reduce((s, g) => s + g.events, 0)).toBe(
      inWindow.length,
    );

    // A day later: the labels of the first two hours' events that arrived in [decision, decision + 1 day).
    const late = await lateLabelledScoreGroups(
      ch.client,
      modelId,
      [
        { start: CUR, end: CUR + HOUR },
        { start: CUR + HOUR, end: CUR + 2 * HOUR },
      ],
      { start: decision, end: decision + DAY },
      100,
    );
    const byWindow = lateLabelledFromGroups(late, 100);
    const expected = [CUR, CUR + HOUR].map((start) => {
      const e = current.filter(
        (x) => x.ts >= start && x.ts < start + HOUR && x.labelTs >= decision && x.labelTs < decision + DAY,
      );
      return { start, events: e.length };
    });
    expect(byWindow.map((w) => ({ start: w.start, events: w.events }))).toEqual(expected);
    expect(expected[0]!.events).toBeGreaterThan(0);

    // Windows shifted within the cadence (staggered monitors), one of them two cadences long (a
    // coalesced window): each late label goes to the window holding its event, none elsewhere.
    const shifted = [
      { start: CUR + 7 * 60_000, end: CUR + HOUR + 7 * 60_000 },
      { start: CUR + HOUR + 7 * 60_000, end: CUR + 3 * HOUR + 7 * 60_000 },
    ];
    const lateShifted = lateLabelledFromGroups(
      await lateLabelledScoreGroups(ch.client, modelId, shifted, { start: decision, end: decision + DAY }, 100),
      100,
    );
    const expectedShifted = shifted
      .map(({ start, end }) => ({
        start,
        events: current.filter(
          (x) => x.ts >= start && x.ts < end && x.labelTs >= decision && x.labelTs < decision + DAY,
        ).length,
      }))
      .filter((w) => w.events > 0);
    expect(lateShifted.map((w) => ({ start: w.start, events: w.events }))).toEqual(expectedShifted);
    expect(expectedShifted.length).toBeGreaterThan(0);
  });
});
