import { describe, expect, it } from 'vitest';
import { DependencyError } from '../../platform/errors.ts';
import { ensureCompactedTopic } from '../../platform/kafka-compaction.ts';
import { createKafka, ensureTopics, waitForTopics } from '../../platform/kafka.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';

/**
 * Start-up against a broker where a topic is being created at that moment (the daemon's serving
 * reports consumer and its scorer both ensure the serving-reports topic, concurrently): listed is
 * not ready — until its partitions are served, a produce is answered "This server does not host
 * this topic-partition" — so ensuring a topic returns only once every partition takes writes.
 */
describe('ensuring a topic waits until its partitions are served', () => {
  const config = testConfig({ kafka: { partitions: 8 } });

  /** Another process creates `topic` without waiting for its leaders; resolves once it is listed. */
  async function createdElsewhere(topic: string): Promise<() => Promise<void>> {
    const admin = createKafka(config).admin();
    await admin.connect();
    const creating = admin.createTopics({ topics: [{ topic, numPartitions: 8 }], waitForLeaders: false });
    while (!(await admin.listTopics()).includes(topic)) await new Promise((r) => setTimeout(r, 5));
    return async () => {
      await creating;
      await admin.disconnect();
    };
  }

  /** One keyed message (compacted topics take only those) to every partition, each asked once: a partition not served yet fails it. */
  async function writeEveryPartition(topic: string, partitions: number): Promise<void> {
    const producer = createKafka(config).producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
    await producer.connect();
    try {
      for (let partition = 0; partition < partitions; partition++)
        await producer.send({
          topic,
          acks: -1,
          messages: [{ partition, key: `k${partition}`, value: `p${partition}` }],
        });
    } finally {
      await producer.disconnect();
    }
  }

  it('a topic another process is still creating: ensureTopics returns once every partition takes writes', async () => {
    for (let round = 0; round < 3; round++) {
      const topic = uniqueName('racing');
      const done = await createdElsewhere(topic);
      try {
        // Listed already: nothing to create, only to wait for.
        expect(await ensureTopics(config, [topic])).toEqual([]);
        await writeEveryPartition(topic, 8);
      } finally {
        await done();
      }
    }
  });

  it('the compacted model-update topic likewise', async () => {
    const topic = uniqueName('racing-updates');
    const done = await createdElsewhere(topic);
    try {
      await ensureCompactedTopic(config, topic);
      await writeEveryPartition(topic, 8);
    } finally {
      await done();
    }
  });

  it('a topic that never comes is a clear error naming it, within the bound', async () => {
    const topic = uniqueName('never-created');
    const started = performance.now();
    const waiting = waitForTopics(config, [topic], { timeoutMs: 1500 });
    await expect(waiting).rejects.toBeInstanceOf(DependencyError);
    await expect(waiting).rejects.toThrow(
      new RegExp(`^Kafka topic not ready after 1.5 s: ${topic} \\(the broker does not host it\\)`),
    );
    expect(performance.now() - started).toBeLessThan(15_000);
    // Waiting never creates it (the broker creates topics a metadata request asks for, when allowed).
    const admin = createKafka(config).admin();
    await admin.connect();
    expect(await admin.listTopics()).not.toContain(topic);
    await admin.disconnect();
  });
});
