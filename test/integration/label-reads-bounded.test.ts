/**
 * A tick's label reads (the labelled join of a window, alone and in a batch, and the late labels
 * of earlier windows, alone and in a batch) read a bounded number of labels as unrelated older
 * labels pile up: at most a 256-row granule (migration 40) per event id they join, however many
 * labels are stored — asserted on the rows the engine read, with 1M older labels of other events
 * (random ids interleaved with the window's, merged into one part) added between two identical
 * reads whose results must not change. The unrestricted form of the same reads (every label of
 * every model) reads the whole table, so the data is one where growth would show.
 */
import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClickHouse, queryRows, type ClickHouse } from '../../platform/clickhouse/client.ts';
import {
  ClickHouseIngestRepository,
  encodeLabel,
  encodeScoringEvent,
} from '../../platform/clickhouse/ingest-repository.ts';
import { batchedLateLabelledScoreGroups } from '../../platform/clickhouse/late-label-batch-repository.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { batchedWindowStatistics } from '../../platform/clickhouse/window-batch-repository.ts';
import { labelledScoreGroups, lateLabelledScoreGroups } from '../../platform/clickhouse/window-repository.ts';
import { expectClose } from '../helpers/expect-close.ts';
import { readStatisticsClient, rowsRead } from '../../platform/clickhouse/read-statistics.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';
import { scoringEventRow } from '../helpers/stored-rows.ts';
import { unrestricted } from '../helpers/unrestricted-labels.ts';

const MINUTE = 60_000;
const T = Date.UTC(2026, 10, 20, 12, 0, 0);
const PER_WINDOW = 300;
const OLDER = 1_000_000;
const GRANULE = 256;
const BINS = 10;

const hexId = (seed: string): string => createHash('sha256').update(seed).digest('hex').slice(0, 16);

describe("a tick's label reads stay bounded as unrelated labels are stored", () => {
  let ch: ClickHouse;
  const models = [uniqueName('bounded-a'), uniqueName('bounded-b')];
  const earlier = { start: T - MINUTE, end: T };
  const window = { start: T, end: T + MINUTE };
  const arrived = { start: T, end: T + MINUTE };

  /** Every label read of a tick, on `client`: the labelled join and late labels, alone and batched. */
  const reads = (client: ClickHouseClient) => ({
    labelled: () => labelledScoreGroups(client, models[0]!, window, BINS, window.end),
    late: () => lateLabelledScoreGroups(client, models[0]!, [earlier], arrived, BINS),
    batchLabelled: async () =>
      (
        await batchedWindowStatistics(
          client,
          models.map((modelId) => ({ modelId, ...window, columns: null, labelsArrivedBy: window.end })),
          BINS,
        )
      ).map((s) => s.labelled),
    batchLate: () =>
      batchedLateLabelledScoreGroups(
        client,
        models.map((modelId) => ({ modelId, windows: [earlier], arrived })),
        BINS,
      ),
  });
  /** Each read's result and the rows the engine read for it. */
  async function measure(): Promise<Record<string, { result: unknown; rows: number }>> {
    const stats = readStatisticsClient(ch.client);
    const out: Record<string, { result: unknown; rows: number }> = {};
    for (const [name, read] of Object.entries(reads(stats.client))) {
      stats.take();
      const result = await read();
      out[name] = { result, rows: rowsRead(stats.take()) };
    }
    return out;
  }

  beforeAll(async () => {
    ch = await openClickHouse(testConfig());
    await applyMigrations(ch.client);
    const repo = new ClickHouseIngestRepository(ch.client);
    const events = models.flatMap((modelId) =>
      [earlier, window].flatMap((w) =>
        Array.from({ length: PER_WINDOW }, (_, i) => {
          const ts = w.start + Math.floor((i * MINUTE) / PER_WINDOW);
          return { id: hexId(`${modelId}-${ts}-${i}`), modelId, ts, score: ((i * 37) % 100) / 100 };
        }),
      ),
    );
    await repo.insertEncoded(
      'scoring_events',
      events.map((e) =>
        encodeScoringEvent(
          scoringEventRow({
            event_id: e.id,
            model_id: e.modelId,
            ts: e.ts,
            num_features: { x: e.score },
            prediction_score: e.score,
          }),
        ),
      ),
    );
    // Every event labelled 30 s after it (the earlier window's late labels arrive in this window),
    // and a correction of every 7th a minute later still.
    const label = (id: string, ts: number, y: number) =>
      encodeLabel({
        event_id: id,
        label: String(y),
        label_numeric: y,
        label_ts: ts,
        contract_version: 1,
        source: 'test',
        source_ref: '',
      });
    await repo.insertEncoded('labels', [
      ...events.map((e, i) => label(e.id, e.ts + 30_000, i % 3 === 0 ? 1 : 0)),
      ...events.filter((_, i) => i % 7 === 0).map((e, i) => label(e.id, e.ts + 50_000, i % 2)),
    ]);
  }, 120_000);

  afterAll(async () => {
    await ch?.close();
  });

  it('reads at most a granule more per joined event id with 1M older labels merged in, and returns the same', async () => {
    const alone = await measure();
    for (const { rows } of Object.values(alone)) expect(rows).toBeGreaterThan(0);
    expect(alone.labelled!.result).not.toEqual([]);
    expect(alone.late!.result).not.toEqual([]);

    await ch.client.command({
      query: `INSERT INTO labels (event_id, label, label_numeric, label_ts, contract_version, source, source_ref)
              SELECT lower(hex(cityHash64({seed:String}, number))), toString(number % 2), number % 2,
                     fromUnixTimestamp64Milli({t:Int64} - 3600000 - toInt64(number * 1000)), 1, 'test', ''
              FROM numbers({n:UInt32})`,
      query_params: { seed: 'older-labels', t: T, n: OLDER },
    });
    await ch.client.command({ query: 'OPTIMIZE TABLE labels FINAL' });
    const [labelParts] = await queryRows<{ parts: string }>(
      ch.client,
      "SELECT count() AS parts FROM system.parts WHERE active AND database = currentDatabase() AND table = 'labels'",
    );
    expect(Number(labelParts?.parts)).toBe(1);

    const among = await measure();
    // Event ids each read joins on its label side: the window's (one model or the batch's), the
    // earlier window's late labels (looked up twice: the ids, then the labels FINAL).
    const joined = {
      labelled: PER_WINDOW,
      late: 3 * PER_WINDOW,
      batchLabelled: 2 * PER_WINDOW,
      batchLate: 3 * 2 * PER_WINDOW,
    };
    for (const [name, ids] of Object.entries(joined)) {
      expectClose(among[name]!.result, alone[name]!.result, { tolerance: 1e-12, unordered: true });
      expect(among[name]!.rows - alone[name]!.rows, name).toBeLessThanOrEqual(ids * GRANULE);
    }

    // The same labelled join unrestricted reads every stored label: the bound above is not the data's.
    const stats = readStatisticsClient(unrestricted(ch.client).client);
    await reads(stats.client).labelled();
    expect(rowsRead(stats.take())).toBeGreaterThan(OLDER);
  });
});
