/**
 * The size the broker judges one message by: the record batch kafkajs sends for it alone
 * (magic 2, uncompressed — kafkajs' default). The broker refuses a batch whose size exceeds its
 * `message.max.bytes` (a topic's `max.message.bytes`); kafkajs itself checks no size, so a
 * message too large is only learnt from the broker's answer, which fails the whole send.
 */

/**
 * A record batch's fixed part: base offset (8), length (4), leader epoch (4), magic (1), CRC (4),
 * attributes (2), last offset delta (4), first and max timestamp (8 + 8), producer id (8),
 * producer epoch (2), base sequence (4), record count (4).
 */
export const RECORD_BATCH_OVERHEAD_BYTES = 61;

export interface SizedMessage {
  key: string | Buffer | null;
  value: string | Buffer | null;
  /** One value per header (kafkajs also allows arrays; the producers here set one). @default none */
  headers?: Readonly<Record<string, string | Buffer>>;
}

/** Bytes of the record batch holding `message` alone, as the broker counts it against `message.max.bytes`. */
export function singleRecordBatchBytes(message: SizedMessage): number {
  let headers = 0;
  let count = 0;
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    count++;
    headers += lengthPrefixed(name) + lengthPrefixed(value);
  }
  const body =
    1 + // attributes
    1 + // timestamp delta: 0, the batch's only record
    1 + // offset delta: 0
    lengthPrefixed(message.key) +
    lengthPrefixed(message.value) +
    varintBytes(count) +
    headers;
  return RECORD_BATCH_OVERHEAD_BYTES + varintBytes(body) + body;
}

/** A varint length (-1 for null) and the bytes. */
function lengthPrefixed(field: string | Buffer | null): number {
  if (field === null) return varintBytes(-1);
  const bytes = Buffer.byteLength(field);
  return varintBytes(bytes) + bytes;
}

/** Bytes of a zig-zag varint: 7 bits a byte. */
function varintBytes(n: number): number {
  let zigzag = n >= 0 ? n * 2 : -n * 2 - 1;
  let bytes = 1;
  while (zigzag >= 128) {
    zigzag = Math.floor(zigzag / 128);
    bytes++;
  }
  return bytes;
}
