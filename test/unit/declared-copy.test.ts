import { describe, expect, it } from 'vitest';
import { DeclaredCopy } from '../../workers/ingest/declared-copy.ts';

/** A loader whose reads are answered by the test: each read waits until `answer` is called. */
function controlledLoader() {
  const pending: ((byModel: Map<string, number>) => void)[] = [];
  return {
    load: () => new Promise<Map<string, number>>((resolve) => pending.push(resolve)),
    reads: () => pending.length,
    answer: (value: number) => pending.shift()!(new Map([['m', value]])),
  };
}

const settled = async (p: Promise<unknown>) => {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
};

describe('DeclaredCopy: how long a request waits for a re-read', () => {
  it('waits for a re-read of a copy older than its age limit, unless told not to (ack=logged)', async () => {
    const loader = controlledLoader();
    const copy = new DeclaredCopy(loader.load, 1000);
    // The first copy is always waited for, even with wait: false.
    const first = copy.fresh(0, { wait: false });
    expect(await settled(first)).toBe(false);
    loader.answer(1);
    await first;
    expect(copy.lookup('m')).toBe(1);

    // Too old: the default waits for the re-read.
    const waiting = copy.fresh(5000);
    expect(await settled(waiting)).toBe(false);
    expect(loader.reads()).toBe(1);
    loader.answer(2);
    await waiting;
    expect(copy.lookup('m')).toBe(2);

    // Too old, wait: false: answered at once with the old copy while it is re-read.
    const notWaiting = copy.fresh(10_000, { wait: false });
    expect(await settled(notWaiting)).toBe(true);
    expect(copy.lookup('m')).toBe(2);
    expect(loader.reads()).toBe(1);
    loader.answer(3);
    await Promise.resolve();
    await Promise.resolve();
    expect(copy.lookup('m')).toBe(3);
  });
});
