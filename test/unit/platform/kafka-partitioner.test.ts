import { Partitioners, type PartitionerArgs } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { JavaCompatiblePartitioner, murmur2, partitionOfKey } from '../../../platform/kafka-partitioner.ts';
import { Random } from '../../../detectors/random.ts';

const metadata = (partitions: number, leaderless: number[] = []): PartitionerArgs['partitionMetadata'] =>
  Array.from({ length: partitions }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: leaderless.includes(partitionId) ? -1 : 0,
    replicas: [0],
    isr: [0],
  }));

/** Keys of every length 0–40 (all four tails), ASCII, multi-byte and arbitrary bytes. */
function keys(): (string | Buffer)[] {
  const rng = new Random(11);
  const out: (string | Buffer)[] = ['', 'a', 'model-1', 'fleet-0999', 'événement-ü-中文-🙂'];
  for (let length = 0; length <= 40; length++)
    for (let n = 0; n < 25; n++) {
      const bytes = Buffer.alloc(length);
      for (let i = 0; i < length; i++) bytes[i] = Math.floor(rng.next() * 256);
      out.push(bytes, `m-${bytes.toString('hex')}`.slice(0, length + 2));
    }
  return out;
}

describe('JavaCompatiblePartitioner', () => {
  it("puts every key on the partition kafkajs' default partitioner picks, for 1 to 64 partitions", () => {
    const ours = JavaCompatiblePartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    let compared = 0;
    for (const partitions of [1, 2, 3, 4, 7, 12, 64])
      for (const key of keys()) {
        const args = { topic: 't', partitionMetadata: metadata(partitions), message: { key, value: 'v' } };
        expect(ours(args), `key ${JSON.stringify(key)} over ${partitions}`).toBe(theirs(args));
        compared++;
      }
    expect(compared).toBeGreaterThan(14_000);
  });

  it("matches the Java client's murmur2 on Kafka's own test vectors (signed 32-bit results)", () => {
    // Kafka's own Utils.murmur2 test values (UtilsTest.testMurmur2).
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(murmur2(Buffer.from('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(Buffer.from('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
    expect(murmur2(Buffer.from([97, 98, 99]))).toBe(479470107);
  });

  it('keeps an explicit partition, and a key of a string and of its bytes on the same one', () => {
    const pick = JavaCompatiblePartitioner();
    const partitionMetadata = metadata(8);
    expect(pick({ topic: 't', partitionMetadata, message: { key: 'k', value: 'v', partition: 5 } })).toBe(5);
    expect(partitionOfKey('model-7', 8)).toBe(partitionOfKey(Buffer.from('model-7'), 8));
  });

  it('spreads messages without a key round-robin over the partitions that have a leader', () => {
    const pick = JavaCompatiblePartitioner();
    const partitionMetadata = metadata(4, [2]);
    const chosen = Array.from({ length: 12 }, () => pick({ topic: 't', partitionMetadata, message: { value: 'v' } }));
    expect(new Set(chosen)).toEqual(new Set([0, 1, 3]));
    for (let i = 3; i < chosen.length; i++) expect(chosen[i]).toBe(chosen[i - 3]);
  });
});
