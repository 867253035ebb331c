import { afterEach, describe, expect, it } from 'vitest';
import { inPool, RunStop } from '../../bench/lib/run-stop.ts';

describe("the fleet bench's stop request", () => {
  let remove: (() => void) | undefined;
  afterEach(() => remove?.());

  it('starts no task after the first SIGTERM; the tasks already running finish', async () => {
    const lines: string[] = [];
    const stop = new RunStop((line) => lines.push(line));
    remove = stop.onSignals();
    const began: number[] = [];
    const finished: number[] = [];
    const started = await inPool(
      100,
      4,
      async (i) => {
        began.push(i);
        // The signal arrives while the seventh registration is under way.
        if (i === 6) process.emit('SIGTERM', 'SIGTERM');
        await new Promise((resolve) => setImmediate(resolve));
        finished.push(i);
      },
      stop,
    );
    expect(stop.stopping).toBe(true);
    expect(stop.reason).toBe('SIGTERM');
    // Four workers: at most the three others' current tasks were already running beside task 6.
    expect(started).toBeLessThanOrEqual(10);
    expect(began).toHaveLength(started);
    expect(finished.sort((a, b) => a - b)).toEqual(began.sort((a, b) => a - b));
    expect(Math.max(...began)).toBeLessThan(10);
  });

  it('runs its reactions once, at the first signal; a second signal is only logged', async () => {
    const lines: string[] = [];
    const stop = new RunStop((line) => lines.push(line));
    remove = stop.onSignals();
    let trafficStops = 0;
    stop.onStop(() => trafficStops++);
    process.emit('SIGINT', 'SIGINT');
    process.emit('SIGTERM', 'SIGTERM');
    await stop.requested;
    await new Promise((resolve) => setImmediate(resolve));
    expect(trafficStops).toBe(1);
    expect(stop.reason).toBe('SIGINT');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('SIGTERM: already stopping');
    // A reaction registered after the request runs at once.
    let late = 0;
    stop.onStop(() => late++);
    await new Promise((resolve) => setImmediate(resolve));
    expect(late).toBe(1);
  });

  it('runs every task when no stop is requested', async () => {
    const seen: number[] = [];
    expect(await inPool(9, 4, async (i) => void seen.push(i), new RunStop(() => {}))).toBe(9);
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
