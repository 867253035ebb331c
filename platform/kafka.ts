import { Kafka, logLevel, type Admin, type LogEntry, type Producer, type ProducerConfig } from 'kafkajs';
import type { HalflifeConfig } from './config.ts';
import { DependencyError } from './errors.ts';
import { createLogger, type Logger } from './logger.ts';
import { JavaCompatiblePartitioner } from './kafka-partitioner.ts';

/**
 * The one way halflife talks to Kafka (kafkajs 2.2.4, unmaintained but protocol-negotiating,
 * so it works against Kafka 4's KRaft brokers). kafkajs logs go through pino so every line
 * of the process is structured JSON on stderr.
 */

type KafkaConfig = Pick<HalflifeConfig, 'kafka' | 'services'> & Partial<Pick<HalflifeConfig, 'logLevel'>>;

/** Brokers from `kafka.brokers`, or the local broker `halflife services up` runs. */
export function kafkaBrokers(config: KafkaConfig): string[] {
  const configured = config.kafka.brokers;
  if (configured) {
    const brokers = configured
      .split(',')
      .map((b) => b.trim())
      .filter((b) => b.length > 0);
    if (brokers.length > 0) return brokers;
  }
  return [`127.0.0.1:${config.services.kafkaPort}`];
}

const PINO_LEVEL: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** kafkajs' own level, derived from ours so its debug chatter costs nothing at info. */
function kafkajsLevel(level: string | undefined): logLevel {
  switch (level) {
    case 'trace':
    case 'debug':
      return logLevel.DEBUG;
    case 'info':
      // kafkajs INFO is per-connection noise (joins, "Starting"); keep it at warn unless debugging.
      return logLevel.WARN;
    case 'silent':
      return logLevel.NOTHING;
    case 'fatal':
    case 'error':
      return logLevel.ERROR;
    default:
      return logLevel.WARN;
  }
}

/**
 * Broker answers that mean "not yet, ask again" while a group coordinator or a partition leader
 * settles (a fresh broker, a restart, a rebalance). kafkajs logs every such response at ERROR and
 * then retries it; a request that keeps failing surfaces as its caller's error (a crashed
 * consumer, a failed send), and a broker that cannot be reached logs connection errors, which
 * stay errors. Matched on kafkajs' messages (its log carries no error code).
 */
const TRANSIENT_RESPONSE_ERRORS = new Set([
  'The group coordinator is not available', // GROUP_COORDINATOR_NOT_AVAILABLE
  "The coordinator is loading and hence can't process requests for this group", // GROUP_LOAD_IN_PROGRESS
  'This is not the correct coordinator for this group', // NOT_COORDINATOR_FOR_GROUP
  'There is no leader for this topic-partition as we are in the middle of a leadership election', // LEADER_NOT_AVAILABLE
  'This server is not the leader for that topic-partition', // NOT_LEADER_FOR_PARTITION
  'The group is rebalancing, so a rejoin is needed', // REBALANCE_IN_PROGRESS
]);

/** Whether an error (or its cause) is one of the transient broker answers above. */
export function isTransientKafkaError(err: unknown): boolean {
  for (let e = err as { message?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e)
    if (typeof e.message === 'string' && TRANSIENT_RESPONSE_ERRORS.has(e.message)) return true;
  return false;
}

/**
 * A connection that dropped under an established session (the socket ended or was reset while
 * kafkajs still wrote to it — seen on a loaded machine as "write after end" right after start).
 * kafkajs reconnects, and a consumer that crashed on it restarts: worth a warning, not an error.
 * A broker that is really gone shows up next as refused connections, which stay errors, and as
 * ingest stalled in readiness.
 */
const DROPPED_CONNECTION_ERRORS = new Set([
  'Connection error: write after end',
  'Connection error: write EPIPE',
  'Connection error: read ECONNRESET',
]);

const CRASH = /^Crash: \w+: (.*)$/;

/**
 * The level of kafkajs log entries: their own, except transient broker answers, a consumer crash
 * on one and the restart announced after it (debug), and a dropped connection kafkajs reconnects,
 * the crash on it and its restart (warn). Keeps, per consumer group, whether its last
 * crash was transient: kafkajs logs the restart in a separate entry.
 */
export function kafkajsLevels(): (entry: LogEntry) => 'error' | 'warn' | 'info' | 'debug' {
  // Per consumer group: the level its last crash was written at, for the restart that follows.
  const recoverableCrash = new Map<string, 'error' | 'warn' | 'info' | 'debug'>();
  return (entry) => {
    const log = entry.log as { message?: string; error?: unknown; groupId?: unknown };
    const own = PINO_LEVEL[entry.level] ?? 'info';
    if (entry.namespace === 'Connection') {
      if (typeof log.error === 'string' && TRANSIENT_RESPONSE_ERRORS.has(log.error)) return 'debug';
      if (typeof log.message === 'string' && DROPPED_CONNECTION_ERRORS.has(log.message)) return lower(own, 'warn');
      return own;
    }
    if (entry.namespace !== 'Consumer' || typeof log.message !== 'string') return own;
    const group = String(log.groupId ?? '');
    const crash = CRASH.exec(log.message);
    if (crash) {
      const level = TRANSIENT_RESPONSE_ERRORS.has(crash[1]!)
        ? 'debug'
        : DROPPED_CONNECTION_ERRORS.has(crash[1]!)
          ? lower(own, 'warn')
          : undefined;
      if (level === undefined) {
        recoverableCrash.delete(group);
        return own;
      }
      recoverableCrash.set(group, level);
      return level;
    }
    if (log.message.startsWith('Restarting the consumer')) {
      const level = recoverableCrash.get(group);
      recoverableCrash.delete(group);
      if (level) return level;
    }
    return own;
  };
}

const SEVERITY = { debug: 0, info: 1, warn: 2, error: 3 } as const;

/** The less severe of two levels (a recovered failure never raises kafkajs' own level). */
function lower<L extends keyof typeof SEVERITY>(own: L, cap: 'warn'): L | 'warn' {
  return SEVERITY[own] <= SEVERITY[cap] ? own : cap;
}

/** The level a kafkajs log entry is written at, taken alone (see {@link kafkajsLevels}). */
export function kafkajsEntryLevel(entry: LogEntry): 'error' | 'warn' | 'info' | 'debug' {
  return kafkajsLevels()(entry);
}

/** A kafkajs logCreator writing to a pino logger. */
export function pinoLogCreator(logger: Logger): () => (entry: LogEntry) => void {
  const levelOf = kafkajsLevels();
  return () => (entry: LogEntry) => {
    const level = levelOf(entry);
    const {
      message,
      timestamp: _ts,
      logger: _l,
      ...extra
    } = entry.log as { message: string; timestamp?: string; logger?: string } & Record<string, unknown>;
    logger[level]({ kafkajs: entry.namespace, ...extra }, message);
  };
}

export interface CreateKafkaOptions {
  /** Overrides `kafka.clientId` (e.g. `halflife-ingest`). */
  clientId?: string;
  logger?: Logger;
}

/** A kafkajs client for the configured brokers with bounded, jittered retries. */
export function createKafka(config: KafkaConfig, options: CreateKafkaOptions = {}): Kafka {
  const logger = options.logger ?? createLogger('kafka', config.logLevel);
  return new Kafka({
    clientId: options.clientId ?? config.kafka.clientId,
    brokers: kafkaBrokers(config),
    connectionTimeout: 3000,
    requestTimeout: 30_000,
    // kafkajs retries each request with exponential back-off; ~1 minute in total lets a broker
    // restart pass unnoticed while a wrong address still fails within a reasonable time.
    retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: 8, factor: 0.2, multiplier: 2 },
    logLevel: kafkajsLevel(config.logLevel),
    logCreator: pinoLogCreator(logger),
  });
}

/** A connected admin client; an unreachable broker is a {@link DependencyError} that says how to start one. */
export async function connectAdmin(config: KafkaConfig, kafka: Kafka): Promise<Admin> {
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw new DependencyError(
      `Kafka at ${kafkaBrokers(config).join(',')} is unreachable: ${(err as Error).message}. Start it with \`halflife services up\` (or \`npm start\`), or point this command at the one running: set KAFKA_BROKERS, or HALFLIFE_KAFKA_PORT as the daemon was started with.`,
      { cause: err },
    );
  }
  return admin;
}

/**
 * Create the topics that do not exist yet, with `kafka.partitions` partitions, and return once
 * every partition of every topic is served (see {@link waitForTopics}). Idempotent: existing
 * topics are left as they are (their partition count is not changed).
 */
export async function ensureTopics(
  config: KafkaConfig,
  topics: string[],
  kafka: Kafka = createKafka(config),
): Promise<string[]> {
  const missing = await createMissingTopics(config, topics, kafka);
  // Listed is not ready: a topic created a moment ago — by us, or by another process racing us,
  // when our listing or TOPIC_ALREADY_EXISTS returns at once — answers produce and fetch requests
  // with "This server does not host this topic-partition" until its partitions are served.
  await waitForTopics(config, topics);
  return missing;
}

async function createMissingTopics(config: KafkaConfig, topics: string[], kafka: Kafka): Promise<string[]> {
  const admin = await connectAdmin(config, kafka);
  try {
    const existing = new Set(await admin.listTopics());
    const missing = [...new Set(topics)].filter((t) => !existing.has(t));
    if (missing.length === 0) return [];
    try {
      await admin.createTopics({
        topics: missing.map((topic) => ({ topic, numPartitions: config.kafka.partitions })),
        waitForLeaders: true,
      });
    } catch (err) {
      // Another process may have created it between listTopics and createTopics.
      if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw err;
    }
    return missing;
  } finally {
    await admin.disconnect();
  }
}

/** Broker answers that mean a topic's partitions are not served yet (or the topic not known yet). */
const TOPIC_SETTLING = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
]);

/**
 * Wait until every partition of every topic has a leader that answers for it (its offsets are
 * read from it), polling every `pollMs`; a {@link DependencyError} naming the topics still not
 * ready, and why, after `timeoutMs`. It polls through a client of its own that logs nothing:
 * the "not yet" answers it waits out are expected, and a topic that never comes is this error.
 * @default timeoutMs 30000, pollMs 100
 */
export async function waitForTopics(
  config: KafkaConfig,
  topics: readonly string[],
  options: { timeoutMs?: number; pollMs?: number } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const pollMs = options.pollMs ?? 100;
  const kafka = new Kafka({
    clientId: `${config.kafka.clientId}-topic-wait`,
    brokers: kafkaBrokers(config),
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    // This loop is the retry: each request is asked once.
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const admin = await connectAdmin(config, kafka);
  const deadline = performance.now() + timeoutMs;
  let waiting = [...new Set(topics)];
  try {
    for (;;) {
      const why = new Map<string, string>();
      for (const topic of waiting) {
        try {
          const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
          const partitions = metadata?.partitions ?? [];
          const leaderless = partitions.filter((p) => p.partitionErrorCode !== 0 || p.leader < 0);
          if (partitions.length === 0) why.set(topic, 'the broker lists no partitions for it');
          else if (leaderless.length > 0)
            why.set(topic, `partitions ${leaderless.map((p) => p.partitionId).join(', ')} have no leader`);
          else await admin.fetchTopicOffsets(topic);
        } catch (err) {
          const type = (err as { type?: string }).type ?? '';
          if (!TOPIC_SETTLING.has(type)) throw err;
          why.set(
            topic,
            type === 'UNKNOWN_TOPIC_OR_PARTITION' ? 'the broker does not host it' : (err as Error).message,
          );
        }
      }
      if (why.size === 0) return;
      waiting = [...why.keys()];
      if (performance.now() >= deadline) {
        const list = [...why].map(([topic, reason]) => `${topic} (${reason})`).join('; ');
        throw new DependencyError(
          `Kafka topic${why.size > 1 ? 's' : ''} not ready after ${timeoutMs / 1000} s: ${list}. A topic needs a leader for every partition before halflife produces to or consumes from it: check the broker (\`halflife services status\`, its log) or that the topic exists.`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * Retries of an idempotent producer: unbounded, as idempotence requires (giving up and sending
 * again would start a new sequence, and the broker could no longer drop the duplicate), with the
 * client's back-off. A send then waits out a broker outage instead of failing after a minute.
 */
const IDEMPOTENT_RETRY = {
  initialRetryTime: 300,
  maxRetryTime: 10_000,
  retries: Number.MAX_SAFE_INTEGER,
  factor: 0.2,
  multiplier: 2,
};

/**
 * A producer with the partitioner chosen explicitly: the Java client's choice (kafkajs' default),
 * computed without its per-message allocations (kafka-partitioner.ts); naming one also silences
 * kafkajs' KAFKAJS_NO_PARTITIONER_WARNING. An idempotent one
 * retries without limit (kafkajs warns, rightly, that limited retries void idempotence).
 */
export function createProducer(kafka: Kafka, options: Omit<ProducerConfig, 'createPartitioner'> = {}): Producer {
  return kafka.producer({
    allowAutoTopicCreation: false,
    ...(options.idempotent ? { retry: IDEMPOTENT_RETRY } : {}),
    ...options,
    createPartitioner: JavaCompatiblePartitioner,
  });
}

/**
 * Retry a Kafka admin call while the broker is still electing leaders for topics that were
 * just created (a fresh broker or topic answers NOT_LEADER / LEADER_NOT_AVAILABLE for a moment).
 * @default attempts 40, 250 ms apart
 */
export async function whileLeadersSettle<T>(call: () => Promise<T>, attempts = 40, delayMs = 250): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const type = (err as { type?: string }).type ?? '';
      const settling = [
        'NOT_LEADER_FOR_PARTITION',
        'LEADER_NOT_AVAILABLE',
        'UNKNOWN_TOPIC_OR_PARTITION',
        'NOT_LEADER_OR_FOLLOWER',
      ].includes(type);
      if (!settling || attempt >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
