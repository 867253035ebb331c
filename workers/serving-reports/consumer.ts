/**
 * Serving reports from Kafka into ClickHouse: what every scorer says it serves
 * (`kafka.servingReportsTopic` → `serving_reports`). Reports are few (one per scorer and model
 * per heartbeat, plus one per applied or refused update) and promotions wait on them, so each
 * Kafka batch is stored at once, then its offsets are committed; a redelivered report is stored
 * once ((model_id, scorer_id, seq) is the table's key). A report that is not valid JSON or breaks
 * the contract is kept whole in `dead_letters` with the reason, like any bad record.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { ClickHouseIngestRepository, encodeDeadLetter } from '../../platform/clickhouse/ingest-repository.ts';
import { insertServingReports } from '../../platform/clickhouse/serving-repository.ts';
import type { HalflifeConfig } from '../../platform/config.ts';
import { createKafka, ensureTopics } from '../../platform/kafka.ts';
import { subsystemLog, type Logger } from '../../platform/logger.ts';
import { servingReportSchema, type ServingReport } from '../../platform/registry/serving-report.ts';

export interface ServingReportsConsumerOptions {
  config: HalflifeConfig;
  clickhouse: ClickHouseClient;
  log: Logger;
  kafka?: Kafka;
  /** @default "<ingest.groupId>-serving-reports" */
  groupId?: string;
}

export class ServingReportsConsumer {
  readonly stats = { stored: 0, invalid: 0 };
  readonly #config: HalflifeConfig;
  readonly #clickhouse: ClickHouseClient;
  readonly #log: Logger;
  readonly #kafka: Kafka;
  readonly #groupId: string;
  #consumer: Consumer | undefined;

  constructor(options: ServingReportsConsumerOptions) {
    this.#config = options.config;
    this.#clickhouse = options.clickhouse;
    this.#log = subsystemLog(options.log, 'serving-reports');
    this.#kafka =
      options.kafka ??
      createKafka(options.config, {
        clientId: `${options.config.kafka.clientId}-serving-reports`,
        logger: options.log,
      });
    this.#groupId = options.groupId ?? `${options.config.ingest.groupId}-serving-reports`;
  }

  async start(): Promise<void> {
    const topic = this.#config.kafka.servingReportsTopic;
    await ensureTopics(this.#config, [topic], this.#kafka);
    // A short session: a member left by a killed process holds its partitions only this long.
    this.#consumer = this.#kafka.consumer({ groupId: this.#groupId, sessionTimeout: 10_000, heartbeatInterval: 1000 });
    await this.#consumer.connect();
    await this.#consumer.subscribe({ topic, fromBeginning: true });
    await this.#consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.#eachBatch(payload),
    });
    this.#log.info({ topic, groupId: this.#groupId }, 'serving reports consumer started');
  }

  async stop(): Promise<void> {
    await this.#consumer?.disconnect().catch(() => undefined);
    this.#consumer = undefined;
  }

  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, commitOffsetsIfNecessary, uncommittedOffsets, heartbeat } = payload;
    const reports: ServingReport[] = [];
    const dead: string[] = [];
    for (const message of batch.messages) {
      const text = message.value?.toString('utf8') ?? '';
      let reason: string;
      try {
        const parsed = servingReportSchema.safeParse(JSON.parse(text));
        if (parsed.success) {
          reports.push(parsed.data);
          continue;
        }
        reason = parsed.error.issues.map((i) => `${i.path.join('.') || '(report)'}: ${i.message}`).join('; ');
      } catch (err) {
        reason = `not JSON: ${(err as Error).message}`;
      }
      dead.push(
        encodeDeadLetter({
          dead_letter_id: `kafka:${batch.topic}:${batch.partition}:${message.offset}`,
          source: 'kafka',
          topic: batch.topic,
          partition: batch.partition,
          offset: Number(message.offset),
          record_key: message.key?.toString('utf8').slice(0, 4096) ?? '',
          payload: text.slice(0, 1_000_000),
          reason: `serving report: ${reason}`.slice(0, 4000),
          error_path: '',
          model_id: '',
        }),
      );
    }
    // Stored before the offsets are committed: a crash in between redelivers, and the key stores it once.
    await insertServingReports(this.#clickhouse, reports);
    if (dead.length > 0) await new ClickHouseIngestRepository(this.#clickhouse).insertEncoded('dead_letters', dead);
    this.stats.stored += reports.length;
    this.stats.invalid += dead.length;
    if (dead.length > 0) this.#log.warn({ invalid: dead.length }, 'invalid serving reports dead-lettered');
    const last = batch.messages.at(-1);
    if (last) resolveOffset(last.offset);
    // With autoCommit off, only explicit offsets are committed (kafkajs commits nothing on its own).
    await commitOffsetsIfNecessary(uncommittedOffsets());
    await heartbeat();
  }
}
