import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ArrivalLog, batchFillWaitMs } from '../../../activities/batch-fill.ts';
import { WindowBatcher } from '../../../activities/window-batcher.ts';
import { Random } from '../../../detectors/random.ts';
import type { WindowRead, WindowReadRequest } from '../../../activities/window-read.ts';

const options = { maxBatch: 32, maxWaitMs: 2000, rateWindowMs: 5000 };

describe('batchFillWaitMs', () => {
  it('waits until the batch is expected to be full at the recent rate', () => {
    // 85 other models in 5 s = 17 a second (a fleet of 1,000 at a 1-minute cadence): 22 more in ~1.3 s.
    expect(batchFillWaitMs({ ready: 10, oldestWaitedMs: 0, recentArrivals: 85 }, options)).toBe(1295);
  });

  it('never lets the oldest window wait longer than maxWaitMs', () => {
    expect(batchFillWaitMs({ ready: 2, oldestWaitedMs: 0, recentArrivals: 10 }, options)).toBe(2000);
    expect(batchFillWaitMs({ ready: 2, oldestWaitedMs: 1500, recentArrivals: 10 }, options)).toBe(500);
    expect(batchFillWaitMs({ ready: 2, oldestWaitedMs: 2500, recentArrivals: 1000 }, options)).toBe(0);
  });

  it('reads at once when the batch is full or no other model is expected within the budget', () => {
    expect(batchFillWaitMs({ ready: 32, oldestWaitedMs: 0, recentArrivals: 1000 }, options)).toBe(0);
    expect(batchFillWaitMs({ ready: 1, oldestWaitedMs: 0, recentArrivals: 0 }, options)).toBe(0);
    // 2 in 5 s: 0.8 expected in 2 s, fewer than one.
    expect(batchFillWaitMs({ ready: 1, oldestWaitedMs: 0, recentArrivals: 2 }, options)).toBe(0);
    expect(batchFillWaitMs({ ready: 0, oldestWaitedMs: 0, recentArrivals: 100 }, options)).toBe(0);
  });
});

describe('ArrivalLog', () => {
  it("counts the last window's arrivals of models not waiting", () => {
    const log = new ArrivalLog(1000);
    log.add(0, 'a');
    log.add(500, 'b');
    log.add(900, 'a');
    expect(log.countOthers(900)).toBe(3);
    log.setWaiting('a', true);
    expect(log.countOthers(900)).toBe(1);
    log.setWaiting('a', false);
    // The arrival at 0 has left the window at 1000.
    expect(log.countOthers(1000)).toBe(2);
    expect(log.countOthers(2000)).toBe(0);
  });

  /** What the running counts replace: every arrival of the window walked at every count. */
  function naiveCount(
    arrivals: { at: number; modelId: string }[],
    now: number,
    windowMs: number,
    waiting: Set<string>,
  ) {
    return arrivals.filter((a) => a.at > now - windowMs && !waiting.has(a.modelId)).length;
  }

  it('equals the walk over every arrival of the window on random sequences of arrivals, waits and counts', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const random = new Random(seed);
      const windowMs = 200 + Math.floor(random.next() * 2000);
      const models = Array.from({ length: 1 + Math.floor(random.next() * 30) }, (_, i) => `m${i}`);
      const log = new ArrivalLog(windowMs);
      const arrivals: { at: number; modelId: string }[] = [];
      const waiting = new Set<string>();
      let now = 0;
      let counted = 0;
      for (let step = 0; step < 5000; step++) {
        // Bursts (several at one instant) and gaps longer than the window both occur.
        const r = random.next();
        now += r < 0.3 ? 0 : r < 0.97 ? Math.floor(random.next() * 50) : windowMs + Math.floor(random.next() * 500);
        const modelId = models[Math.floor(random.next() * models.length)]!;
        const op = random.next();
        if (op < 0.5) {
          log.add(now, modelId);
          arrivals.push({ at: now, modelId });
        } else if (op < 0.75) {
          const wait = random.next() < 0.5;
          log.setWaiting(modelId, wait);
          if (wait) waiting.add(modelId);
          else waiting.delete(modelId);
        } else {
          expect(log.countOthers(now), `seed ${seed}, step ${step}`).toBe(naiveCount(arrivals, now, windowMs, waiting));
          counted++;
        }
      }
      expect(counted).toBeGreaterThan(1000);
    }
  });
});

describe('WindowBatcher fills batches while a fleet ticks', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  const request = (modelId: string): WindowReadRequest =>
    ({ modelId, start: 0, end: 60_000, reference: null, labelsArrivedBy: null }) as WindowReadRequest;

  function recordingBatcher(fillWaitMs?: number) {
    const batches: string[][] = [];
    const batcher = new WindowBatcher(null as never, {
      scoreBins: 10,
      maxBatch: 8,
      ...(fillWaitMs === undefined ? {} : { fillWaitMs }),
      readBatch: (requests) => {
        batches.push(requests.map((r) => r.modelId));
        return Promise.resolve(requests.map((r) => ({ modelId: r.modelId }) as unknown as WindowRead));
      },
    });
    return { batcher, batches };
  }

  /** Staggered ticks: one model every `everyMs`, each its own model. */
  async function tick(batcher: WindowBatcher, models: number, everyMs: number, from = 0) {
    const reads: Promise<WindowRead>[] = [];
    for (let i = 0; i < models; i++) {
      reads.push(batcher.read(request(`m${from + i}`)));
      await vi.advanceTimersByTimeAsync(everyMs);
    }
    // Past the longest fill wait, within the rate's window.
    await vi.advanceTimersByTimeAsync(2100);
    return Promise.all(reads);
  }

  it('reads staggered windows in full batches once the rate is known', async () => {
    const { batcher, batches } = recordingBatcher();
    // Warm the rate: 40 models at 100 ms apart (10 a second).
    await tick(batcher, 40, 100);
    batches.length = 0;
    const reads = await tick(batcher, 32, 100, 40);
    expect(reads.map((r) => (r as unknown as { modelId: string }).modelId)).toEqual(
      Array.from({ length: 32 }, (_, i) => `m${40 + i}`),
    );
    expect(batches.map((b) => b.length)).toEqual([8, 8, 8, 8]);
  });

  it('reads each staggered window alone with the fill wait off, as before', async () => {
    const { batcher, batches } = recordingBatcher(0);
    await tick(batcher, 40, 100);
    expect(batches.every((b) => b.length === 1)).toBe(true);
  });

  it('reads a few monitors ticking together at once, without waiting for company that cannot join', async () => {
    const { batcher, batches } = recordingBatcher();
    for (let round = 0; round < 5; round++) {
      const reads = ['a', 'b', 'c'].map((m) => batcher.read(request(m)));
      // Only the 20 ms linger of an idle batcher: the three models are all waiting already.
      await vi.advanceTimersByTimeAsync(25);
      await Promise.all(reads);
      await vi.advanceTimersByTimeAsync(200);
    }
    expect(batches).toEqual(Array.from({ length: 5 }, () => ['a', 'b', 'c']));
  });

  it('lets no window wait longer than the fill wait for company', async () => {
    const { batcher, batches } = recordingBatcher();
    await tick(batcher, 40, 100);
    batches.length = 0;
    const start = Date.now();
    let readAt = 0;
    const read = batcher.read(request('late')).then(() => (readAt = Date.now()));
    await vi.advanceTimersByTimeAsync(3000);
    await read;
    // The rate still promised company (29 others in the last 5 s: 7 more in ~1.2 s), but none came.
    expect(readAt - start).toBeGreaterThan(1000);
    expect(readAt - start).toBeLessThanOrEqual(2000);
    expect(batches).toEqual([['late']]);
  });

  it("keeps a model's second window waiting after its first is read: it waits for company as its first did", async () => {
    const { batcher, batches } = recordingBatcher();
    await tick(batcher, 40, 100);
    batches.length = 0;
    const start = Date.now();
    const readAt: number[] = [];
    const reads = [batcher.read(request('x')), batcher.read(request('x'))].map((r) =>
      r.then(() => readAt.push(Date.now() - start)),
    );
    await vi.advanceTimersByTimeAsync(3000);
    await Promise.all(reads);
    // One window per model a batch; the second still counts as x's waiting window, so it waits for
    // the others the rate promises (not read at once as if nothing waited), never past the fill wait.
    expect(batches).toEqual([['x'], ['x']]);
    expect(readAt[0]).toBeGreaterThan(1000);
    expect(readAt[1]! - readAt[0]!).toBeGreaterThan(500);
    expect(readAt[1]).toBeLessThanOrEqual(2000);
  });
});
