import { describe, expect, it } from 'vitest';
import { CoalescedLookup } from '../../activities/coalesced-lookup.ts';

/** A look-up whose reads are recorded and resolved by the test. */
function recorded() {
  const reads: { keys: string[]; resolve: (m: Map<string, number>) => void; reject: (e: unknown) => void }[] = [];
  const lookup = new CoalescedLookup<number>(
    (keys) =>
      new Promise((resolve, reject) => {
        reads.push({ keys, resolve, reject });
      }),
    { lingerMs: 0, maxKeys: 3 },
  );
  return { lookup, reads };
}

const until = async (condition: () => boolean): Promise<void> => {
  while (!condition()) await new Promise((r) => setImmediate(r));
};

describe('coalesced look-ups', () => {
  it('reads the keys asked together once, and gives each its own value (undefined when not read)', async () => {
    const { lookup, reads } = recorded();
    const answers = ['a', 'b', 'a', 'z'].map((k) => lookup.get(k));
    await until(() => reads.length === 1);
    expect(reads[0]!.keys).toEqual(['a', 'b', 'z']);
    reads[0]!.resolve(
      new Map([
        ['a', 1],
        ['b', 2],
      ]),
    );
    expect(await Promise.all(answers)).toEqual([1, 2, 1, undefined]);
  });

  it('reads keys that arrive while a read runs in the next read, at most maxKeys per read', async () => {
    const { lookup, reads } = recorded();
    const first = lookup.get('a');
    await until(() => reads.length === 1);
    const later = ['b', 'c', 'd', 'e'].map((k) => lookup.get(k));
    expect(reads).toHaveLength(1);
    reads[0]!.resolve(new Map([['a', 1]]));
    expect(await first).toBe(1);
    await until(() => reads.length === 2);
    expect(reads[1]!.keys).toEqual(['b', 'c', 'd']);
    reads[1]!.resolve(new Map([['b', 2]]));
    await until(() => reads.length === 3);
    expect(reads[2]!.keys).toEqual(['e']);
    reads[2]!.resolve(new Map([['e', 5]]));
    expect(await Promise.all(later)).toEqual([2, undefined, undefined, 5]);
  });

  it('rejects every key of a failed read, and reads the next keys afresh', async () => {
    const { lookup, reads } = recorded();
    const failing = [lookup.get('a'), lookup.get('b')];
    await until(() => reads.length === 1);
    reads[0]!.reject(new Error('engine down'));
    for (const p of failing) await expect(p).rejects.toThrow('engine down');
    const again = lookup.get('a');
    await until(() => reads.length === 2);
    reads[1]!.resolve(new Map([['a', 7]]));
    expect(await again).toBe(7);
  });
});
