import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSession, openSession, runSession, sessionMode, type OnnxSession } from '../../platform/onnx/session.mjs';
import { runDelayNs, runTimeMs, timedRun, timedSyncRun } from '../../platform/onnx/run-clock.mjs';
import { ridgeToOnnx } from '../../training/linear-onnx.ts';

const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

/** `iterations` steps of integer mixing: CPU work whose amount does not depend on the machine's load. */
const work = (iterations: number): number => {
  let h = 0x9747b28c;
  for (let i = 0; i < iterations; i++) h = Math.imul(h ^ i, 0x5bd1e995);
  return h;
};

describe('the run clock: a run is timed without the loop turn before it or time preempted', () => {
  it('reads the run-queue delay of a schedstat line and nothing else', () => {
    expect(runDelayNs('71183942 14559316 35\n')).toBe(14_559_316);
    expect(runDelayNs('0 0 0')).toBe(0);
    expect(runDelayNs('')).toBeNaN();
    expect(runDelayNs('12')).toBeNaN();
    expect(runDelayNs('1 x 2')).toBeNaN();
    expect(runDelayNs('1 -5 2')).toBeNaN();
  });

  it('takes the time spent waiting on the run queue off the wall time, and keeps the wall time when unknown', () => {
    expect(runTimeMs(5.2, 1_000_000, 5_000_000)).toBeCloseTo(1.2, 12);
    expect(runTimeMs(5.2, 7, 7)).toBe(5.2);
    expect(runTimeMs(5.2, Number.NaN, 5_000_000)).toBe(5.2);
    expect(runTimeMs(5.2, 1_000_000, Number.NaN)).toBe(5.2);
    // A counter that went backwards is not believed; a delay a hair over the wall time gives 0, not less.
    expect(runTimeMs(5.2, 9_000_000, 1_000_000)).toBe(5.2);
    expect(runTimeMs(1, 0, 1_000_050)).toBe(0);
  });

  it('passes on the value and the rejection of what it times', async () => {
    await expect(timedRun(async () => 42)).resolves.toMatchObject({ value: 42 });
    await expect(timedRun(() => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(timedSyncRun(() => 42)).toMatchObject({ value: 42 });
    expect(() =>
      timedSyncRun(() => {
        throw new Error('no');
      }),
    ).toThrow('no');
  });

  it('times a synchronous run by its own wall time', () => {
    // A fixed amount of work, not a span of wall time: on a loaded machine a 30 ms busy-wait can be
    // spent almost all on the run queue, and the clock rightly takes that off (to 0).
    const { runMs } = timedSyncRun(() => work(20_000_000));
    expect(runMs).toBeGreaterThan(0);
    // Preemption is taken off, never added: no more than the wall time around the call.
    const called = performance.now();
    const again = timedSyncRun(() => busy(30));
    expect(again.runMs).toBeLessThanOrEqual(performance.now() - called);
  });

  const features = { numeric: ['a', 'b', 'c'], categorical: [] };
  const numeric = new Float32Array(20 * 3).fill(1);
  const openRidge = async (mode: 'public' | 'direct') => {
    const bytes = ridgeToOnnx({
      kind: 'ridge-regression',
      features: { numeric: features.numeric, categorical: [] },
      numeric: { mean: [0, 0, 0], scale: [1, 1, 1] },
      weight: [1, 2, 3],
      bias: 0.5,
    });
    const session = await openSession(bytes, features, {
      intraOpThreads: 1,
      output: { kind: 'regression' },
      direct: mode === 'direct',
    });
    expect(sessionMode(session)).toBe(mode);
    return session;
  };

  describe('on an onnxruntime session run through the public API', () => {
    let session: OnnxSession;
    beforeAll(async () => {
      session = await openRidge('public');
    });
    afterAll(() => closeSession(session));

    // The scorer's shadow run starts from inside its champion's continuation: onnxruntime-node's
    // public run queues the run with setImmediate, behind whatever the loop has queued by then.
    // Here that is 200 ms of other work, far more than this model's run (tens of microseconds).
    it('a run queued behind other work on the event loop reports its own time, not the wait', async () => {
      const champion = await runSession(session, 20, numeric, [], 'run');
      setImmediate(() => busy(200));
      const called = performance.now();
      const shadow = await runSession(session, 20, numeric, [], 'run');
      const wall = performance.now() - called;
      expect(wall).toBeGreaterThanOrEqual(200);
      expect(shadow.runMs).toBeLessThan(100);
      expect(champion.runMs).toBeLessThan(100);
      expect(Array.from(shadow.scores.subarray(0, 1))).toEqual([0.5 + 1 + 2 + 3]);
    });

    it("the default wall clock, the scorer's when nothing is compared, counts the wait", async () => {
      setImmediate(() => busy(200));
      const { runMs } = await runSession(session, 20, numeric, []);
      expect(runMs).toBeGreaterThanOrEqual(200);
    });
  });

  describe("on an onnxruntime session run through the native binding (session.mjs 'direct')", () => {
    let session: OnnxSession;
    beforeAll(async () => {
      session = await openRidge('direct');
    });
    afterAll(() => closeSession(session));

    // Not queued: the run happens in the call, before the work the loop has queued.
    it('a run does not wait behind other work on the event loop, on either clock', async () => {
      for (const clock of ['run', 'wall'] as const) {
        let queuedRan = false;
        setImmediate(() => {
          busy(200);
          queuedRan = true;
        });
        const { runMs, scores } = await runSession(session, 20, numeric, [], clock);
        // Resolved before the queued work ran: its 200 ms are in neither clock.
        expect(queuedRan).toBe(false);
        expect(runMs).toBeLessThan(200);
        expect(Array.from(scores.subarray(0, 1))).toEqual([0.5 + 1 + 2 + 3]);
        await new Promise((resolve) => setImmediate(resolve));
        expect(queuedRan).toBe(true);
      }
    });
  });
});
