import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouse } from '../../platform/clickhouse/client.ts';
import type { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import type { HalflifeConfig } from '../../platform/config.ts';
import { IngestWorker } from '../../workers/ingest/kafka-worker.ts';
import {
  groupProgress,
  ingestTestConfig,
  label,
  openIngestStore,
  produceAll,
  scoringEvent,
  waitUntil,
  type OutMessage,
} from '../helpers/kafka.ts';
import { uniqueName } from '../helpers/stack.ts';

/**
 * ClickHouse failing for a while, for real: tables of the worker's own chDB are detached
 * (queries on them fail with UNKNOWN_TABLE) and attached again later — first all writes fail,
 * then only labels, so a batch's events are stored and its labels are not. Retries must finish
 * every batch without storing anything twice.
 */
describe('ingest while ClickHouse fails', () => {
  let config: HalflifeConfig;
  let ch: ClickHouse;
  let repo: ClickHouseIngestRepository;

  beforeAll(async () => {
    // Batches close when full, never by age: the first batch then holds events as well as labels
    // (3,000 labels cannot fill 5,000), so phase 2 always has events to store while labels fail.
    // Closed by age (200 ms), a loaded host could fetch the labels alone first and close a
    // labels-only batch that no phase-2 retry can store: the condition below never came true.
    config = ingestTestConfig({ batchSize: 5000, batchMaxWaitMs: 10_000, maxRetryBackoffMs: 400 });
    ({ ch, repo } = await openIngestStore(config));
  });

  afterAll(async () => {
    await ch?.close();
  });

  it('pauses, retries with back-off, resumes and then stores everything exactly once', async () => {
    const modelId = uniqueName('outage');
    const N = 20_000;
    const events: OutMessage[] = [];
    for (let i = 0; i < N; i++) events.push({ key: `k${i}`, value: JSON.stringify(scoringEvent(i, modelId)) });
    for (let i = 0; i < 200; i++)
      events.push({ key: `again${i}`, value: JSON.stringify(scoringEvent(i * 13, modelId)) });
    for (let i = 0; i < 50; i++) events.push({ key: null, value: `not json ${i}` });
    const L = 3000;
    const labels: OutMessage[] = [];
    for (let i = 0; i < L; i++) labels.push({ key: `k${i}`, value: JSON.stringify(label(`${modelId}-e${i}`, i)) });
    const total = events.length + labels.length;
    await Promise.all([
      produceAll(config, config.kafka.scoringEventsTopic, events),
      produceAll(config, config.kafka.labelsTopic, labels),
    ]);

    // Phase 1: both tables gone — every write fails from the first batch on.
    await ch.client.command({ query: 'DETACH TABLE scoring_events' });
    await ch.client.command({ query: 'DETACH TABLE labels' });
    const worker = new IngestWorker({ config, repository: repo, initialRetryBackoffMs: 50 });
    const seen = { paused: 0, resumed: 0, retries: [] as { attempt: number; delayMs: number }[] };
    worker.on('paused', () => seen.paused++);
    worker.on('resumed', () => seen.resumed++);
    worker.on('retry', (r: { attempt: number; delayMs: number }) => seen.retries.push(r));
    const m = worker.metrics;
    const attached = { events: false, labels: false };
    try {
      await worker.start();
      await waitUntil('six failed attempts', () => m.insert_failures_total >= 6, 60_000, 20);
      expect(m.paused).toBe(1);
      expect(seen.paused).toBe(1);
      // Back-pressure while paused: at most the batch being retried, a second one handed to the
      // writer before the first failure, and one full batch behind them.
      const consumedDuringOutage = m.consumed_total;
      await new Promise((r) => setTimeout(r, 1000));
      expect(m.consumed_total).toBe(consumedDuringOutage);
      expect(consumedDuringOutage).toBeLessThanOrEqual(3 * config.ingest.batchSize);
      expect(m.inserted_events_total).toBe(0);
      // Nothing committed while the batch is not stored.
      expect(
        (
          await groupProgress(config, config.ingest.groupId, [
            config.kafka.scoringEventsTopic,
            config.kafka.labelsTopic,
          ])
        ).committed,
      ).toBe(0);

      // Phase 2: events come back, labels do not — batches holding labels now fail half-way,
      // after their events are stored.
      await ch.client.command({ query: 'ATTACH TABLE scoring_events' });
      attached.events = true;
      const failures = m.insert_failures_total;
      await waitUntil(
        'events stored while labels still fail',
        async () => m.insert_failures_total >= failures + 3 && (await repo.countEvents({ final: false, modelId })) > 0,
        60_000,
        50,
      );
      expect(m.inserted_labels_total).toBe(0);
    } finally {
      if (!attached.events) await ch.client.command({ query: 'ATTACH TABLE scoring_events' });
      await ch.client.command({ query: 'ATTACH TABLE labels' });
    }

    await waitUntil(
      'every record accounted for',
      () => m.inserted_events_total + m.inserted_labels_total + m.dead_letters_total + m.duplicates_total === total,
      60_000,
    );
    await worker.stop();

    // Each pause (a batch that would not store) ended in a resume once it was stored.
    expect(seen.resumed).toBeGreaterThanOrEqual(1);
    expect(seen.resumed).toBe(seen.paused);
    expect(m.paused).toBe(0);
    // Exponential: later delays are longer, capped by maxRetryBackoffMs.
    // Each batch's back-off starts again from the first delay, and two batches can be retrying,
    // so compare attempts, not the order of the events: a third attempt waits 2–8× the first
    // (jitter keeps a delay within its back-off's upper half).
    const delays = (which: (attempt: number) => boolean) =>
      seen.retries.filter((r) => which(r.attempt)).map((r) => r.delayMs);
    expect(Math.max(...delays(() => true))).toBeLessThanOrEqual(config.ingest.maxRetryBackoffMs);
    expect(delays((a) => a >= 3).length).toBeGreaterThan(0);
    expect(Math.min(...delays((a) => a >= 3))).toBeGreaterThan(Math.max(...delays((a) => a === 1)));
    expect(await repo.countEvents({ final: false, modelId })).toBe(N);
    expect(await repo.countEvents({ final: true, modelId })).toBe(N);
    expect(await repo.countLabels({ final: false })).toBe(L);
    expect(await repo.countDeadLetters({ final: false })).toBe(50);
    expect(m.duplicates_total).toBe(200);
    const progress = await groupProgress(config, config.ingest.groupId, [
      config.kafka.scoringEventsTopic,
      config.kafka.labelsTopic,
    ]);
    expect(progress).toEqual({ end: total, committed: total });
  });
});
