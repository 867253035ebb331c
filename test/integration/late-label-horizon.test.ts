/**
 * The late-label read of a tick stays flat as windows accumulate (issue #14: the cost of a tick
 * must not grow with stored history). A model labelled within seconds is monitored window by
 * window as production does it: each window's labelled read (with its label delay p99) and late
 * labels go through the tick, and the next late-label read asks for the windows the tick's
 * horizon leaves open (`lateLabelWindows`, what the ModelMonitor sends). The rows the engine read
 * for it are compared, at 10 and at 60 kept windows, with the same read over every kept window
 * (runs without the `late-label-horizon` marker), which grows with them.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import {
  ClickHouseIngestRepository,
  encodeLabel,
  encodeScoringEvent,
} from '../../platform/clickhouse/ingest-repository.ts';
import { batchedLateLabelledScoreGroups } from '../../platform/clickhouse/late-label-batch-repository.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { labelledScoreGroups } from '../../platform/clickhouse/window-repository.ts';
import { lateLabelWindows } from '../../detectors/monitor/late-label-horizon.ts';
import { initialMonitorState, monitorTick } from '../../detectors/monitor/tick.ts';
import { labelledFromGroups, lateLabelledFromGroups } from '../../detectors/monitor/window-histograms.ts';
import type { MonitorState } from '../../detectors/monitor/types.ts';
import { parsePolicy } from '../../platform/policy-file.ts';
import { readStatisticsClient, rowsRead } from '../../platform/clickhouse/read-statistics.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';
import { labelRow, scoringEventRow } from '../helpers/stored-rows.ts';

const MINUTE = 60_000;
const T = Date.UTC(2026, 10, 21, 12, 0, 0);
const WINDOWS = 60;
const PER_WINDOW = 2_000;
/** Labels arrive this long after their event: the last few of each window's arrive in the next. */
const LABEL_DELAY = 5_000;
const BINS = 100;

const hexId = (seed: string): string => createHash('sha256').update(seed).digest('hex').slice(0, 16);

describe("a tick's late-label read with the late-label horizon", () => {
  let ch: ClickHouse;
  const model = uniqueName('horizon');
  const policy = parsePolicy({
    name: 'p',
    version: '1',
    model,
    trigger: { kind: 'cost-aware', valuePerQualityUnit: 1, retrainCost: 1000 },
  }).policy;

  beforeAll(async () => {
    ch = await openClickHouse(testConfig());
    await applyMigrations(ch.client);
    const repo = new ClickHouseIngestRepository(ch.client);
    const events = Array.from({ length: WINDOWS * PER_WINDOW }, (_, i) => {
      const ts = T + Math.floor((i * MINUTE) / PER_WINDOW);
      return { id: hexId(`${model}-${i}`), ts, score: ((i * 37) % 100) / 100 };
    });
    await repo.insertEncoded(
      'scoring_events',
      events.map((e) =>
        encodeScoringEvent(
          scoringEventRow({
            event_id: e.id,
            model_id: model,
            ts: e.ts,
            num_features: { x: e.score },
            prediction_score: e.score,
          }),
        ),
      ),
    );
    await repo.insertEncoded(
      'labels',
      events.map((e, i) =>
        encodeLabel(
          labelRow({
            event_id: e.id,
            label: String(i % 3 === 0 ? 1 : 0),
            label_numeric: i % 3 === 0 ? 1 : 0,
            label_ts: e.ts + LABEL_DELAY,
          }),
        ),
      ),
    );
  }, 120_000);

  afterAll(async () => {
    await ch?.close();
  });

  it('reads as many rows at 60 kept windows as at 10, where every kept window grows with them', async () => {
    const stats = readStatisticsClient(ch.client);
    let state: MonitorState = initialMonitorState(model);
    const measured: Record<number, { horizon: number; all: number; asked: number }> = {};
    for (let i = 0; i < WINDOWS; i++) {
      const window = { start: T + i * MINUTE, end: T + (i + 1) * MINUTE };
      const since = state.labelsArrivedBy ?? null;
      const maturing = state.maturing ?? [];
      const asked = since === null ? [] : lateLabelWindows(maturing, window.start, since, state.lateLabelHorizon, true);
      const arrived = { start: since ?? window.start, end: window.end };
      stats.take();
      const [late] = await batchedLateLabelledScoreGroups(
        stats.client,
        [{ modelId: model, windows: asked, arrived }],
        BINS,
      );
      const horizonRows = rowsRead(stats.take());
      if (i === 10 || i === WINDOWS - 1) {
        const every = lateLabelWindows(maturing, window.start, since ?? window.start, null, false);
        await batchedLateLabelledScoreGroups(stats.client, [{ modelId: model, windows: every, arrived }], BINS);
        measured[i] = { horizon: horizonRows, all: rowsRead(stats.take()), asked: asked.length };
      }
      const labelled = labelledFromGroups(await labelledScoreGroups(ch.client, model, window, BINS, window.end), BINS);
      const tick = monitorTick(
        state,
        null,
        {
          ...window,
          events: PER_WINDOW,
          versions: [{ version: 'v1', events: PER_WINDOW, trainedAt: T }],
          deadLettered: 0,
          features: {},
          prediction: null,
          scoreHistogram: null,
          labelled,
          labelsArrivedBy: window.end,
          lateLabelled: lateLabelledFromGroups(late ?? [], BINS),
        },
        policy,
        window.end,
      );
      state = tick.state;
    }
    const early = measured[10]!;
    const late = measured[WINDOWS - 1]!;
    console.log(`late-label read, rows read: ${JSON.stringify(measured)}`);
    // The real read's p99 of 5-second delays (and late labels at their longest possible delay)
    // gives a horizon of a few minutes: the windows asked stay few.
    expect(state.lateLabelHorizon?.source.kind).toBe('auto');
    expect(state.lateLabelHorizon!.ms).toBeLessThan(10 * MINUTE);
    expect(late.asked).toBe(early.asked);
    expect(late.asked).toBeLessThan(10);
    // Flat with the horizon; every kept window's read grows with the windows kept.
    expect(late.horizon).toBeGreaterThan(0);
    expect(late.horizon).toBeLessThanOrEqual(early.horizon * 1.5);
    // (How much the every-window read grows depends on how far merges have got; against the
    // horizon's read of the same moment it is several times more.)
    expect(late.all).toBeGreaterThan(early.all);
    expect(late.all).toBeGreaterThan(3 * late.horizon);
    // Prompt labels are still counted: every window's label count is all of its events.
    const kept = state.maturing!.filter((m) => m.end <= T + (WINDOWS - 1) * MINUTE);
    expect(kept.every((m) => m.labelled === PER_WINDOW)).toBe(true);
  }, 300_000);
});
