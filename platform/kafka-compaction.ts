import type { ConfigResourceTypes, Kafka } from 'kafkajs';
import type { HalflifeConfig } from './config.ts';
import { connectAdmin, createKafka, waitForTopics, whileLeadersSettle } from './kafka.ts';

/**
 * The model-update topic is compacted and keyed by model: Kafka keeps at least the newest update
 * of every model, so a scorer that starts reads the registry's current routing, never only an
 * older one that retention happened to keep. Segments roll hourly so the cleaner can act on a
 * quiet topic (it compacts closed segments only); a starting scorer applies only the newest
 * update per model anyway (workers/scorer.ts).
 */
export const COMPACTED_TOPIC_CONFIG = [
  { name: 'cleanup.policy', value: 'compact' },
  { name: 'segment.ms', value: String(60 * 60 * 1000) },
  { name: 'min.cleanable.dirty.ratio', value: '0.1' },
];

/** kafkajs' ConfigResourceTypes.TOPIC (its enum is not a named export of the CommonJS module under ESM). */
const TOPIC_RESOURCE = 2 as ConfigResourceTypes;

type KafkaConfig = Pick<HalflifeConfig, 'kafka' | 'services'> & Partial<Pick<HalflifeConfig, 'logLevel'>>;

/**
 * Create `topic` compacted, or make an existing one compacted (a topic created by an older
 * halflife with the default delete policy), and return once its partitions are served
 * (waitForTopics). Idempotent. Returns what it did.
 */
export async function ensureCompactedTopic(
  config: KafkaConfig,
  topic: string,
  kafka: Kafka = createKafka(config),
): Promise<'created' | 'altered' | 'unchanged'> {
  const done = await makeCompacted(config, topic, kafka);
  await waitForTopics(config, [topic]);
  return done;
}

async function makeCompacted(
  config: KafkaConfig,
  topic: string,
  kafka: Kafka,
): Promise<'created' | 'altered' | 'unchanged'> {
  const admin = await connectAdmin(config, kafka);
  try {
    if (!(await admin.listTopics()).includes(topic)) {
      try {
        await admin.createTopics({
          topics: [{ topic, numPartitions: config.kafka.partitions, configEntries: COMPACTED_TOPIC_CONFIG }],
          waitForLeaders: true,
        });
        return 'created';
      } catch (err) {
        // Another process may have created it between listTopics and createTopics.
        if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw err;
      }
    }
    const described = await whileLeadersSettle(() =>
      admin.describeConfigs({
        resources: [{ type: TOPIC_RESOURCE, name: topic, configNames: ['cleanup.policy'] }],
        includeSynonyms: false,
      }),
    );
    const policy = described.resources[0]?.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue;
    if (policy?.split(',').includes('compact')) return 'unchanged';
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: TOPIC_RESOURCE, name: topic, configEntries: COMPACTED_TOPIC_CONFIG }],
    });
    return 'altered';
  } finally {
    await admin.disconnect();
  }
}
