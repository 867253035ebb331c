import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouse } from '../../platform/clickhouse/client.ts';
import type { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import type { HalflifeConfig } from '../../platform/config.ts';
import { IngestWorker } from '../../workers/ingest/kafka-worker.ts';
import {
  createIngestTopics,
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
 * The landing thread (workers/ingest/landing-thread.ts) failing for real: it throws right after
 * handing its third batch over, so that batch's offsets can no longer be committed by its
 * consumer and whatever it had taken since is lost with it. The worker must say so, start
 * another thread, and end with every record stored once and every offset committed.
 */
describe('ingest with a landing thread that fails', () => {
  let config: HalflifeConfig;
  let ch: ClickHouse;
  let repo: ClickHouseIngestRepository;

  beforeAll(async () => {
    config = ingestTestConfig({ batchSize: 2000, batchMaxWaitMs: 200, landingThread: true });
    ({ ch, repo } = await openIngestStore(config));
  });

  afterAll(async () => {
    await ch?.close();
  });

  it('reports the failure, starts another thread, and stores every record exactly once', async () => {
    const modelId = uniqueName('landing');
    const N = 20_000;
    const events: OutMessage[] = [];
    let malformed = 0;
    for (let i = 0; i < N; i++) {
      events.push({ key: `k${i}`, value: JSON.stringify(scoringEvent(i, modelId)) });
      if (i % 200 === 9) {
        events.push({ key: null, value: `{"event_id":"${modelId}-bad-${i}",` });
        malformed++;
      }
    }
    const L = 2000;
    const labels: OutMessage[] = [];
    for (let i = 0; i < L; i++) labels.push({ key: `k${i}`, value: JSON.stringify(label(`${modelId}-e${i}`, i)) });
    const total = events.length + labels.length;
    const topics = [config.kafka.scoringEventsTopic, config.kafka.labelsTopic];
    await Promise.all([produceAll(config, topics[0]!, events), produceAll(config, topics[1]!, labels)]);

    const worker = new IngestWorker({ config, repository: repo, statsIntervalMs: 0, landingThreadThrowsAfter: 3 });
    const failures: Error[] = [];
    const seen: string[] = [];
    worker.on('landing-failed', ({ error }: { error: Error }) => failures.push(error));
    worker.on('kafka-stalled', () => seen.push('stalled'));
    worker.on('kafka-answers', () => seen.push('answers'));
    await worker.start();
    try {
      await waitUntil(
        'every offset committed',
        async () => (await groupProgress(config, config.ingest.groupId, topics)).committed === total,
        120_000,
        250,
      );
    } finally {
      await worker.stop();
    }

    // Said once, clearly: which thread, and why.
    expect(failures).toHaveLength(1);
    expect(failures[0]!.message).toContain('the landing thread failed');
    expect(failures[0]!.message).toContain('test hook: the landing thread throws after 3 batches handed off');
    // Ingest reads as stalled while no thread consumes, and consumes again once the new one answers.
    expect(seen.slice(0, 2)).toEqual(['stalled', 'answers']);
    const m = worker.metrics;
    expect(m.kafka_stalled).toBe(0);
    // Delivered again (at least the third batch: its commit had no consumer left) and found stored.
    expect(m.consumed_total).toBeGreaterThan(total);
    expect(m.duplicates_stored_total).toBeGreaterThan(0);
    expect(m.inserted_events_total).toBe(N);
    expect(m.inserted_labels_total).toBe(L);
    expect(m.dead_letters_total).toBe(malformed);

    expect(await repo.countEvents({ final: false, modelId })).toBe(N);
    expect(await repo.countEvents({ final: true, modelId })).toBe(N);
    expect(await repo.countLabels({ final: false })).toBe(L);
    expect(await repo.countDeadLetters({ final: false })).toBe(malformed);
    expect(await groupProgress(config, config.ingest.groupId, topics)).toEqual({ end: total, committed: total });
  });

  it('lands the same records the same way on the main thread (ingest.landingThread false)', async () => {
    const off = ingestTestConfig({ batchSize: 2000, batchMaxWaitMs: 200, landingThread: false });
    const modelId = uniqueName('landing-off');
    const N = 5000;
    const events: OutMessage[] = [];
    for (let i = 0; i < N; i++) events.push({ key: `k${i}`, value: JSON.stringify(scoringEvent(i, modelId)) });
    for (let i = 0; i < 100; i++) events.push({ key: `again${i}`, value: JSON.stringify(scoringEvent(i, modelId)) });
    await createIngestTopics(off);
    await produceAll(off, off.kafka.scoringEventsTopic, events);
    const worker = new IngestWorker({ config: off, repository: repo, statsIntervalMs: 0 });
    await worker.start();
    const m = worker.metrics;
    try {
      await waitUntil(
        'every record accounted for',
        () => m.inserted_events_total + m.duplicates_total === N + 100,
        60_000,
      );
    } finally {
      await worker.stop();
    }
    expect(m.consumed_total).toBe(N + 100);
    expect(await repo.countEvents({ final: false, modelId })).toBe(N);
    const progress = await groupProgress(off, off.ingest.groupId, [
      off.kafka.scoringEventsTopic,
      off.kafka.labelsTopic,
    ]);
    expect(progress).toEqual({ end: N + 100, committed: N + 100 });
  });
});
