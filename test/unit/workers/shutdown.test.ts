import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../platform/logger.ts';
import { ShutdownSequence, stopOnSignals } from '../../../workers/shutdown.ts';

const log = createLogger('test-shutdown', 'silent');

describe('ShutdownSequence', () => {
  it('runs each step once, newest first, however often stop() is called', async () => {
    const ran: string[] = [];
    const sequence = new ShutdownSequence({ log });
    for (const name of ['kafka', 'clickhouse', 'ingest']) sequence.add({ name, run: async () => void ran.push(name) });
    const first = sequence.stop();
    const second = sequence.stop();
    expect(second).toBe(first);
    await Promise.all([first, second, sequence.stop()]);
    expect(ran).toEqual(['ingest', 'clickhouse', 'kafka']);
  });

  it('stops a part registered while stopping (start-up was still under way)', async () => {
    const ran: string[] = [];
    const sequence = new ShutdownSequence({ log });
    sequence.add({ name: 'temporal', run: async () => void ran.push('temporal') });
    sequence.add({
      name: 'slow',
      run: async () => {
        // Start-up spawns another service while the first step is stopping.
        sequence.add({ name: 'kafka', run: async () => void ran.push('kafka') });
        ran.push('slow');
      },
    });
    expect(sequence.stopping).toBe(false);
    const stopped = sequence.stop();
    expect(sequence.stopping).toBe(true);
    await stopped;
    expect(ran).toEqual(['slow', 'kafka', 'temporal']);
  });

  it('goes on with the next step when one fails or hangs past its deadline', async () => {
    const ran: string[] = [];
    const sequence = new ShutdownSequence({ log, stepTimeoutMs: 50 });
    sequence.add({ name: 'services', run: async () => void ran.push('services') });
    sequence.add({ name: 'hangs', run: () => new Promise<void>(() => {}) });
    sequence.add({
      name: 'fails',
      run: async () => {
        throw new Error('boom');
      },
    });
    const outcome = await sequence.stop();
    expect(ran).toEqual(['services']);
    expect(outcome).toEqual({
      clean: false,
      failures: [
        { part: 'fails', reason: 'error' },
        { part: 'hangs', reason: 'timeout' },
      ],
    });
  });

  it('kills a step that missed its deadline, and counts a forced stop as a failure', async () => {
    const killed: string[] = [];
    const sequence = new ShutdownSequence({ log, stepTimeoutMs: 50 });
    sequence.add({ name: 'kafka', run: async () => 'escalated' as const, kill: () => killed.push('kafka') });
    sequence.add({ name: 'temporal', run: () => new Promise<void>(() => {}), kill: () => killed.push('temporal') });
    const outcome = await sequence.stop();
    expect(killed).toEqual(['temporal']);
    expect(outcome.failures).toEqual([
      { part: 'temporal', reason: 'timeout' },
      { part: 'kafka', reason: 'escalated' },
    ]);
  });

  it('past the whole deadline, kills the step under way and every step not yet run', async () => {
    const killed: string[] = [];
    const ran: string[] = [];
    const sequence = new ShutdownSequence({ log, stepTimeoutMs: 10_000, deadlineMs: 100 });
    sequence.add({ name: 'daemon lock', run: async () => void ran.push('daemon lock') });
    sequence.add({ name: 'kafka', run: async () => void ran.push('kafka'), kill: () => killed.push('kafka') });
    sequence.add({ name: 'ingest', run: () => new Promise<void>(() => {}), kill: () => killed.push('ingest') });
    const outcome = await sequence.stop();
    // Not run: the process exits next, so the services' kill is all that stops them.
    expect(ran).toEqual([]);
    expect(killed).toEqual(['ingest', 'kafka']);
    expect(outcome.failures).toEqual([
      { part: 'ingest', reason: 'timeout' },
      { part: 'kafka', reason: 'not-run' },
      { part: 'daemon lock', reason: 'not-run' },
    ]);
  });
});

describe('stopOnSignals', () => {
  let remove: (() => void) | undefined;
  afterEach(() => remove?.());

  it('keeps its handlers: repeated SIGINT and SIGTERM start one shutdown and exit once', async () => {
    let stops = 0;
    let release!: () => void;
    const sequence = new ShutdownSequence({ log });
    sequence.add({
      name: 'services',
      run: () => {
        stops++;
        return new Promise<void>((resolve) => (release = resolve));
      },
    });
    const exits: number[] = [];
    remove = stopOnSignals(sequence, log, ((code: number) => void exits.push(code)) as typeof process.exit);
    process.emit('SIGINT', 'SIGINT');
    process.emit('SIGINT', 'SIGINT');
    process.emit('SIGTERM', 'SIGTERM');
    // The handlers are still there while the shutdown runs: no signal falls through to Node's default.
    expect(process.listeners('SIGINT').length).toBeGreaterThan(0);
    expect(stops).toBe(1);
    expect(exits).toEqual([]);
    release();
    await sequence.stop();
    await new Promise((resolve) => setImmediate(resolve));
    expect(exits).toEqual([0]);
  });

  it('stops on SIGQUIT and SIGUSR2 too (the Temporal SDK no longer handles them)', async () => {
    for (const signal of ['SIGQUIT', 'SIGUSR2'] as const) {
      let stops = 0;
      const sequence = new ShutdownSequence({ log });
      sequence.add({ name: 'services', run: async () => void stops++ });
      const exits: number[] = [];
      remove = stopOnSignals(sequence, log, ((code: number) => void exits.push(code)) as typeof process.exit);
      process.emit(signal, signal);
      await sequence.stop();
      await new Promise((resolve) => setImmediate(resolve));
      expect({ signal, stops, exits }).toEqual({ signal, stops: 1, exits: [0] });
      remove();
      remove = undefined;
    }
  });

  it('exits 1 when a part failed to stop', async () => {
    const sequence = new ShutdownSequence({ log });
    sequence.add({ name: 'temporal', run: async () => 'escalated' as const });
    const exits: number[] = [];
    remove = stopOnSignals(sequence, log, ((code: number) => void exits.push(code)) as typeof process.exit);
    process.emit('SIGTERM', 'SIGTERM');
    await sequence.stop();
    await new Promise((resolve) => setImmediate(resolve));
    expect(exits).toEqual([1]);
  });
});
