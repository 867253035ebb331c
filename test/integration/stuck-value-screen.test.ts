import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataQualityReport } from '../../detectors/drift/data-quality.ts';
import { valueRuns } from '../../detectors/drift/value-runs.ts';
import type { FeatureQualityCounts } from '../../detectors/drift/data-quality.ts';
import { windowQualityCounts, type TopValue } from '../../detectors/drift/window-comparison.ts';
import { readsValueRuns, screenRanks, windowFollowUps } from '../../detectors/drift/window-follow-ups.ts';
import { followUpBarsOf, qualityThresholdsOf } from '../../detectors/policy/data-quality-bars.ts';
import { Random } from '../../detectors/random.ts';
import { readWindowAlone, readWindowsBatched, type WindowReadRequest } from '../../activities/window-read.ts';
import { buildReference } from '../../operations/build-reference.ts';
import { driftForWindow } from '../../operations/window-drift.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { readStatisticsClient, type QueryReadStatistics } from '../../platform/clickhouse/read-statistics.ts';
import type { StoredReference } from '../../platform/clickhouse/reference-repository.ts';
import { topValueShares } from '../../platform/clickhouse/window-repository.ts';
import type { ScoringEventRow } from '../../platform/contracts.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';
import { scoringEventRow } from '../helpers/stored-rows.ts';

/**
 * The exact screen of a window's stuck-value candidates on real chDB (window-follow-ups.ts
 * `StuckValueScreen`): a stuck value is found with the share and runs a full count gives, a
 * candidate whose values spread out sends no GROUP BY over every value of the window, the two
 * read paths agree, and ClickHouse's ranks are the ones the screen asks for.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const REF = Date.UTC(2025, 8, 1);
const BINS = 100;

/** A GROUP BY over every value of a window: the count the screen replaces, or the runs' query. */
const groupsEveryValue = (q: QueryReadStatistics): boolean => /GROUP BY v\b/.test(q.sql);

describe('the stuck-value screen (embedded chDB)', () => {
  let ch: ClickHouse;
  const modelId = uniqueName('screen');
  const random = new Random(2026_12_07);
  const N = 3000;
  /** Day d after the reference's: its window of N events, x drawn by `x(i)`. */
  const day = (d: number) => ({ modelId, start: REF + d * DAY, end: REF + (d + 1) * DAY });
  const rowsOf = (d: number, n: number, x: (i: number) => number): ScoringEventRow[] =>
    Array.from({ length: n }, (_, i) =>
      scoringEventRow({
        event_id: `${d}-${i}`,
        model_id: modelId,
        ts: REF + d * DAY + Math.floor((i * DAY) / n),
        num_features: { x: x(i) },
      }),
    );
  const STUCK = 0.25;
  const xs = {
    reference: Array.from({ length: 4000 }, () => random.normal(0, 1)),
    // Half the window at one in-range value, in stretches of 30 events.
    stuck: Array.from({ length: N }, (_, i) => (Math.floor(i / 30) % 2 === 0 ? STUCK : random.normal(0, 1))),
    // The spread doubled: both tail bins gain ~12 points, no value repeats.
    doubled: Array.from({ length: N }, () => random.normal(0, 2)),
    // The spread cut to a fifth: the middle bins hold ~24% each, no value repeats.
    narrow: Array.from({ length: N }, () => random.normal(0, 0.2)),
  };
  let reference: StoredReference;

  beforeAll(async () => {
    ch = await openClickHouse(testConfig());
    await applyMigrations(ch.client);
    const repository = new ClickHouseIngestRepository(ch.client);
    await repository.insertScoringEvents([
      ...rowsOf(0, xs.reference.length, (i) => xs.reference[i]!),
      ...rowsOf(1, N, (i) => xs.stuck[i]!),
      ...rowsOf(2, N, (i) => xs.doubled[i]!),
      ...rowsOf(3, N, (i) => xs.narrow[i]!),
    ]);
    reference = await buildReference(ch.client, { ...day(0) });
  }, 120_000);

  afterAll(async () => {
    await ch?.close();
  });

  /**
   * The window read alone through a client that keeps its queries, and the verdicts of today's
   * read: every candidate's most frequent value counted by the GROUP BY, runs where the check reads them.
   */
  async function readAlone(d: number, dataQuality?: Record<string, number>) {
    const bars = followUpBarsOf(dataQuality);
    const { client, take } = readStatisticsClient(ch.client);
    const drift = await driftForWindow(client, {
      ...day(d),
      reference,
      followUps: bars,
      qualityThresholds: qualityThresholdsOf(dataQuality),
    });
    const queries = take();
    const window = { ...drift.counts, typeViolations: {} };
    const followUps = windowFollowUps(reference, window, bars);
    const counted = await topValueShares(
      ch.client,
      followUps.stuckCandidates.map((c) => c.name),
      day(d),
      (name, share) => readsValueRuns(reference, name, share, bars),
    );
    const full = dataQualityReport(
      {
        rows: drift.counts.rows,
        dead_lettered: drift.counts.deadLettered,
        features: windowQualityCounts(reference, window, counted as Record<string, TopValue | null>),
        appeared: drift.counts.appeared,
      },
      qualityThresholdsOf(dataQuality),
    );
    return { drift, queries, full, followUps };
  }

  it('finds a stuck value with the share and runs a full count gives', async () => {
    const { drift, queries, full } = await readAlone(1);
    const x = drift.counts.quality.find((q) => q.name === 'x')!;
    const ordered = rowsOf(1, N, (i) => xs.stuck[i]!).map((r) => r.num_features.x!);
    expect(x.top_value).toBe(STUCK);
    expect(x.top_value_share).toBe(0.5);
    expect(x.top_value_share_at_most).toBeUndefined();
    expect(x.top_value_runs).toEqual(valueRuns(ordered, STUCK));
    expect(x.top_value_runs).toEqual({ runs: 100, matches: 1500, others: 1500 });
    // Settled by the ranks, not a GROUP BY of every value; the runs' query, as before, orders every event.
    expect(queries.filter((q) => q.sql.includes('quantilesExact'))).toHaveLength(1);
    expect(queries.filter(groupsEveryValue)).toHaveLength(1);
    expect(queries.filter(groupsEveryValue)[0]!.sql).toContain('lagInFrame');
    expect(drift.quality.checks.map((c) => [c.check, c.detail])).toEqual(full.checks.map((c) => [c.check, c.detail]));
    expect(drift.quality.checks.map((c) => c.check)).toEqual(['stuck-value']);
  });

  it('settles a candidate whose spread doubled from its bins alone: no query of its values', async () => {
    const { drift, queries, full, followUps } = await readAlone(2);
    const [candidate] = followUps.stuckCandidates;
    expect(candidate).toMatchObject({ name: 'x', finite: N });
    expect(candidate!.fullestBin).toBeLessThan(candidate!.countBar);
    const x = drift.counts.quality.find((q) => q.name === 'x')!;
    expect(x.top_value_share).toBeUndefined();
    expect(x.top_value_share_at_most).toBe(candidate!.fullestBin / N);
    expect(queries.filter((q) => q.sql.includes('num_features, {name:String}'))).toEqual([]);
    expect(drift.quality.checks).toEqual(full.checks);
    expect(drift.quality.features.find((f) => f.name === 'x')).toMatchObject({
      top_value_share: null,
      top_value_share_at_most: candidate!.fullestBin / N,
    });
  });

  it('settles a candidate whose values crowd one bin, or a lower bar, by its ranks: no GROUP BY of every value', async () => {
    for (const [d, dataQuality] of [
      [3, undefined],
      [2, { stuckShareIncrease: 0.1 }],
    ] as const) {
      const { drift, queries, full, followUps } = await readAlone(d, dataQuality);
      const [candidate] = followUps.stuckCandidates;
      expect(candidate!.fullestBin).toBeGreaterThanOrEqual(candidate!.countBar);
      // One pass over the window's values: no two consecutive ranks hold the same value.
      expect(queries.filter((q) => q.sql.includes('num_features, {name:String}'))).toHaveLength(1);
      expect(queries.filter((q) => q.sql.includes('quantilesExact'))).toHaveLength(1);
      expect(queries.filter(groupsEveryValue)).toEqual([]);
      const x = drift.counts.quality.find((q) => q.name === 'x')!;
      expect(x.top_value_share).toBeUndefined();
      expect(x.top_value_share_at_most).toBe((candidate!.countBar - 1) / N);
      expect(drift.quality.checks).toEqual(full.checks);
    }
  });

  it('reads the same alone and in a batch', async () => {
    for (const [d, dataQuality] of [
      [1, undefined],
      [2, undefined],
      [3, undefined],
      [2, { stuckShareIncrease: 0.1 }],
    ] as const) {
      const request: WindowReadRequest = { ...day(d), reference, followUps: followUpBarsOf(dataQuality) };
      const alone = await readWindowAlone(ch.client, request, BINS);
      const [batched] = await readWindowsBatched(ch.client, [request], BINS);
      const x = (read: typeof alone): Partial<FeatureQualityCounts> => {
        const q = read.counts!.quality.find((f) => f.name === 'x')!;
        return {
          top_value: q.top_value,
          top_value_share: q.top_value_share,
          top_value_share_at_most: q.top_value_share_at_most,
          top_value_runs: q.top_value_runs,
        };
      };
      expect(x(batched!), `day ${d}`).toEqual(x(alone));
      expect(
        dataQualityReport(
          { rows: N, dead_lettered: 0, features: batched!.counts!.quality },
          qualityThresholdsOf(dataQuality),
        ).checks,
      ).toEqual(
        dataQualityReport(
          { rows: N, dead_lettered: 0, features: alone.counts!.quality },
          qualityThresholdsOf(dataQuality),
        ).checks,
      );
    }
  });

  it('asks ClickHouse for exactly the ranks the screen names: a value of m rows is found wherever it falls', async () => {
    // 105 values, all distinct but for one holding exactly m = 10 places of the sorted order, from place a + 1.
    const n = 105;
    const m = 10;
    const offsets = [0, 1, 9, 10, 11, 50, 94, 95];
    const repository = new ClickHouseIngestRepository(ch.client);
    const shuffled = (values: number[]) => {
      const out = [...values];
      for (let i = out.length - 1; i > 0; i--) {
        const j = random.integer(0, i);
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    };
    const valuesAt = (a: number) => shuffled(Array.from({ length: n }, (_, j) => (j < a ? j : j < a + m ? a : j)));
    await repository.insertScoringEvents(
      offsets.flatMap((a, k) => {
        const values = valuesAt(a);
        return rowsOf(10 + k, n, (i) => values[i]!);
      }),
    );
    const { client, take } = readStatisticsClient(ch.client);
    for (const [k, a] of offsets.entries()) {
      const window = day(10 + k);
      take();
      const found = await topValueShares(client, ['x'], window, () => false, {
        x: { finite: n, countBar: m, ranks: screenRanks(n, m) },
      });
      expect(found.x, `${m} rows from place ${a + 1}`).toEqual({ value: a, share: m / n });
      expect(take().filter(groupsEveryValue)).toEqual([]);
      // One row more than it holds: no value reaches the bar.
      const above = await topValueShares(client, ['x'], window, () => false, {
        x: { finite: n, countBar: m + 1, ranks: screenRanks(n, m + 1) },
      });
      expect(above.x).toBe('below-count-bar');
      // A window whose finite values are not the screen's (rows arrived since): counted in full.
      take();
      const moved = await topValueShares(client, ['x'], window, () => false, {
        x: { finite: n + 1, countBar: m, ranks: screenRanks(n + 1, m) },
      });
      expect(moved.x).toEqual({ value: a, share: m / n });
      expect(take().filter(groupsEveryValue)).toHaveLength(1);
    }
  });
});
