import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  RECORD_BATCH_OVERHEAD_BYTES,
  singleRecordBatchBytes,
  type SizedMessage,
} from '../../../platform/kafka-record-size.ts';

// kafkajs' own encoders (not part of its typed API): what it sends is what is measured against.
const require = createRequire(import.meta.url);
const { RecordBatch: encodeRecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (batch: { records: unknown[]; lastOffsetDelta: number }) => Promise<{ size(): number }>;
};
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (record: {
  offsetDelta: number;
  timestampDelta: number;
  key: string | Buffer | null;
  value: string | Buffer | null;
  headers?: Record<string, string | Buffer>;
}) => unknown;

async function kafkajsBytes(message: SizedMessage): Promise<number> {
  const record = encodeRecord({ ...message, offsetDelta: 0, timestampDelta: 0 });
  return (await encodeRecordBatch({ records: [record], lastOffsetDelta: 0 })).size();
}

describe('the bytes the broker counts for one message (a record batch of its own)', () => {
  it('equals what kafkajs encodes, across the varint lengths of key, value, headers and body', async () => {
    const value = (n: number) => 'v'.repeat(n);
    const messages: SizedMessage[] = [
      { key: null, value: null },
      { key: '', value: '' },
      { key: 'model-a', value: '{"a":1}' },
      { key: 'é', value: 'ünïcödé ✓ 日本' },
      { key: Buffer.from([0, 1, 2]), value: Buffer.alloc(300) },
      { key: 'k', value: value(55), headers: { 'halflife-source': 'http:x' } },
      ...[62, 63, 64, 65, 8190, 8191, 8192, 8193, 1_048_400, 1_048_588, 2_000_000].map((n) => ({
        key: 'model',
        value: value(n),
        headers: { 'halflife-source': 'http:collector', 'halflife-source-signature': `v1=${'0'.repeat(64)}` },
      })),
      { key: 'model', value: value(1000), headers: { a: Buffer.alloc(200), b: '' } },
    ];
    for (const message of messages) {
      expect(singleRecordBatchBytes(message), JSON.stringify(message).slice(0, 80)).toBe(await kafkajsBytes(message));
    }
  });

  it('an empty message is the batch overhead and a record of a few bytes', () => {
    expect(RECORD_BATCH_OVERHEAD_BYTES).toBe(61);
    // length, attributes, timestamp delta, offset delta, null key, null value, no headers: 1 byte each.
    expect(singleRecordBatchBytes({ key: null, value: null })).toBe(61 + 7);
  });
});
