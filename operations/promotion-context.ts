import type { Kafka, Producer } from 'kafkajs';
import type { PromotionOutcome } from '../detectors/alerts/types.ts';
import type { ClickHouseClient } from '../platform/clickhouse/client.ts';
import { ClickHouseRegistryRepository, type RegistryRepository } from '../platform/clickhouse/registry-repository.ts';
import type { HalflifeConfig } from '../platform/config.ts';
import { createKafka, createProducer } from '../platform/kafka.ts';
import { ensureCompactedTopic } from '../platform/kafka-compaction.ts';
import type { Logger } from '../platform/logger.ts';

/** Tells a model's monitor how a person's promotion or rollback ended (operations/monitor-control.ts). */
export interface PromotionOutcomeNotifier {
  /** False when no monitor runs for the model. */
  notePromotionOutcome(modelId: string, outcome: PromotionOutcome): Promise<boolean>;
}

/** What promoting, rejecting, rolling back and canary-checking a version need. */
export interface PromotionContext {
  clickhouse: ClickHouseClient;
  config: HalflifeConfig;
  registry: RegistryRepository;
  log: Logger;
  /** The control-topic producer, connected on first use. */
  producer(): Promise<Producer>;
  /**
   * Who tells the model's monitor how a person's promotion or rollback ended, so its alert rules
   * see it (a retrain's own outcome reaches its monitor as the child's result). @default nobody
   */
  monitors?: PromotionOutcomeNotifier;
}

export interface PromotionDeps {
  clickhouse: ClickHouseClient;
  config: HalflifeConfig;
  log: Logger;
  /** @default a client for config.kafka */
  kafka?: Kafka;
  /** @default a ClickHouseRegistryRepository on `clickhouse` */
  registry?: RegistryRepository;
  /** @default nobody (see {@link PromotionContext.monitors}) */
  monitors?: PromotionOutcomeNotifier;
}

/**
 * A {@link PromotionContext}; its idempotent producer connects (creating the model-updates topic
 * if needed) on first use, so opening one costs nothing until something is published.
 */
export function openPromotionContext(deps: PromotionDeps): { ctx: PromotionContext; close: () => Promise<void> } {
  const kafka =
    deps.kafka ?? createKafka(deps.config, { clientId: `${deps.config.kafka.clientId}-retrain`, logger: deps.log });
  let producer: Promise<Producer> | undefined;
  const ctx: PromotionContext = {
    clickhouse: deps.clickhouse,
    config: deps.config,
    registry: deps.registry ?? new ClickHouseRegistryRepository(deps.clickhouse),
    log: deps.log,
    ...(deps.monitors ? { monitors: deps.monitors } : {}),
    producer() {
      producer ??= (async () => {
        await ensureCompactedTopic(deps.config, deps.config.kafka.modelUpdatesTopic, kafka);
        const p = createProducer(kafka, { idempotent: true, maxInFlightRequests: 1 });
        await p.connect();
        return p;
      })().catch((err: unknown) => {
        producer = undefined;
        throw err;
      });
      return producer;
    },
  };
  const close = async () => {
    if (producer) await (await producer.catch(() => undefined))?.disconnect();
  };
  return { ctx, close };
}
