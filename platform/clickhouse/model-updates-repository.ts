import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from './client.ts';

/**
 * Model-update messages halflife published (`model_updates`, ReplacingMergeTree keyed by
 * (model_id, idempotency_key)): the record that makes publishing idempotent by key.
 */

export interface PublishedModelUpdate {
  idempotencyKey: string;
  modelId: string;
  version: string;
  /** 'published' once the broker acknowledged. */
  status: string;
  payload: string;
  topic: string;
  partition: number;
  offset: string;
  publishedAt: number;
}

interface ModelUpdateRow {
  idempotency_key: string;
  status: string;
  topic: string;
  kafka_partition: number;
  kafka_offset: string;
  payload: string;
}

/** The update published under this key, if any (only the fields a retry needs are read back). */
export async function findModelUpdate(
  client: ClickHouseClient,
  modelId: string,
  idempotencyKey: string,
): Promise<Pick<
  PublishedModelUpdate,
  'idempotencyKey' | 'status' | 'topic' | 'partition' | 'offset' | 'payload'
> | null> {
  const [row] = await queryRows<ModelUpdateRow>(
    client,
    `SELECT idempotency_key, status, topic, kafka_partition, toString(kafka_offset) AS kafka_offset, payload FROM model_updates FINAL
     WHERE model_id = {m:String} AND idempotency_key = {k:String} LIMIT 1`,
    { m: modelId, k: idempotencyKey },
  );
  if (!row) return null;
  return {
    idempotencyKey: row.idempotency_key,
    status: row.status,
    topic: row.topic,
    partition: Number(row.kafka_partition),
    offset: row.kafka_offset,
    payload: row.payload,
  };
}

export async function recordModelUpdate(client: ClickHouseClient, update: PublishedModelUpdate): Promise<void> {
  await client.insert({
    table: 'model_updates',
    values: [
      {
        idempotency_key: update.idempotencyKey,
        model_id: update.modelId,
        version: update.version,
        status: update.status,
        payload: update.payload,
        topic: update.topic,
        kafka_partition: update.partition,
        kafka_offset: update.offset,
        published_at: update.publishedAt,
      },
    ],
    format: 'JSONEachRow',
  });
}

/** The newest update published for a model (what serving was last asked to do), or null. */
export async function latestModelUpdate(
  client: ClickHouseClient,
  modelId: string,
): Promise<{ idempotencyKey: string; version: string; payload: string; publishedAt: number } | null> {
  const [row] = await queryRows<{ idempotency_key: string; version: string; payload: string; at_ms: string | number }>(
    client,
    `SELECT idempotency_key, version, payload, toUnixTimestamp64Milli(published_at) AS at_ms FROM model_updates FINAL
     WHERE model_id = {m:String} AND status = 'published' ORDER BY published_at DESC, idempotency_key DESC LIMIT 1`,
    { m: modelId },
  );
  return row
    ? {
        idempotencyKey: row.idempotency_key,
        version: row.version,
        payload: row.payload,
        publishedAt: Number(row.at_ms),
      }
    : null;
}
