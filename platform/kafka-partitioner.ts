/**
 * kafkajs' default partitioner, chosen the same way, without its per-message costs: it hashes
 * keys with a murmur2 built on 64-bit `Long` objects (several allocations per 4 bytes of key)
 * and filters the partition list for every message. At thousands of messages a second (a POST
 * with `ack=logged`, the scorer) that was a tenth of the producer's time on the event loop.
 *
 * The choice is the Java client's, so a key lands on the partition any Kafka client puts it on:
 * an explicit partition wins; a key goes to `toPositive(murmur2(key)) % partitions`; a message
 * without either goes round-robin over the partitions that have a leader.
 * test/unit/platform/kafka-partitioner.test.ts checks it against kafkajs' own on many keys.
 */
import { randomInt } from 'node:crypto';
import type { ICustomPartitioner, PartitionerArgs } from 'kafkajs';

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 of a key's bytes as a signed 32-bit int (Java's `Utils.murmur2`). */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // The last one to three bytes, as the Java switch's fall-through takes them.
  const tail = length & 3;
  if (tail > 0) {
    if (tail === 3) h ^= data[whole + 2]! << 16;
    if (tail >= 2) h ^= data[whole + 1]! << 8;
    h ^= data[whole]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition the Java client picks for `key` among `partitions`. */
export function partitionOfKey(key: Buffer | string, partitions: number): number {
  const bytes = typeof key === 'string' ? Buffer.from(key) : key;
  return (murmur2(bytes) & 0x7fffffff) % partitions;
}

/** For `createPartitioner`: one round-robin counter per topic, started at random as kafkajs' is. */
export const JavaCompatiblePartitioner: ICustomPartitioner = () => {
  const counters = new Map<string, number>();
  return ({ topic, partitionMetadata, message }: PartitionerArgs): number => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    if (message.key !== null && message.key !== undefined) return partitionOfKey(message.key, partitionMetadata.length);
    const next = ((counters.get(topic) ?? randomInt(0x7fffffff)) + 1) & 0x7fffffff;
    counters.set(topic, next);
    const available = partitionMetadata.filter((p) => p.leader >= 0);
    // None has a leader: a partition anyway, as kafkajs does; the send then waits for one.
    if (available.length === 0) return next % partitionMetadata.length;
    return available[next % available.length]!.partitionId;
  };
};
