import { describe, expect, it } from 'vitest';
import {
  currentQueryPriority,
  QueryScheduler,
  withQueryPriority,
} from '../../../platform/clickhouse/query-scheduler.ts';

/** A query that finishes when the test says so, recording when it started. */
function gate(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    run: () => {
      log.push(`start ${name}`);
      return done.then(() => {
        log.push(`end ${name}`);
        return name;
      });
    },
    finish: () => finish(),
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('QueryScheduler', () => {
  it('runs one query at a time, the highest priority waiting first, in arrival order within a priority', async () => {
    const scheduler = new QueryScheduler();
    const log: string[] = [];
    const first = gate(log, 'background-1');
    const queued = [
      ['background-2', 'background'],
      ['interactive-1', 'interactive'],
      ['ingest-1', 'ingest'],
      ['background-3', 'background'],
      ['ingest-2', 'ingest'],
    ] as const;
    const gates = queued.map(([name]) => gate(log, name));
    const results = [scheduler.run(first.run, 'background')];
    queued.forEach(([, priority], i) => results.push(scheduler.run(gates[i]!.run, priority)));
    await tick();
    expect(log).toEqual(['start background-1']);
    expect(scheduler.stats().ingest.queued).toBe(2);
    first.finish();
    for (const g of gates) g.finish();
    expect(await Promise.all(results)).toEqual([
      'background-1',
      'background-2',
      'interactive-1',
      'ingest-1',
      'background-3',
      'ingest-2',
    ]);
    expect(log.filter((l) => l.startsWith('start'))).toEqual([
      'start background-1',
      'start ingest-1',
      'start ingest-2',
      'start interactive-1',
      'start background-2',
      'start background-3',
    ]);
    // Never two at once: every start follows the previous end.
    for (let i = 1; i < log.length; i += 2) expect(log[i]!.replace('end', 'start')).toBe(log[i - 1]);
    const stats = scheduler.stats();
    expect(stats.ingest.queries).toBe(2);
    expect(stats.background.queries).toBe(3);
    expect(stats.ingest.queued + stats.background.queued + stats.interactive.queued).toBe(0);
  });

  it('takes the priority from the async context that issued the query', async () => {
    const scheduler = new QueryScheduler();
    const seen: string[] = [];
    const query = async () => {
      seen.push(currentQueryPriority());
    };
    await withQueryPriority('ingest', async () => {
      await tick();
      await scheduler.run(query);
    });
    await scheduler.run(query);
    await withQueryPriority('background', () => scheduler.run(query));
    expect(seen).toEqual(['ingest', 'interactive', 'background']);
    expect(scheduler.stats().ingest.queries).toBe(1);
    expect(scheduler.stats().interactive.queries).toBe(1);
  });

  it('passes a failure to its caller and goes on with the next query', async () => {
    const scheduler = new QueryScheduler();
    const failing = scheduler.run(() => Promise.reject(new Error('syntax error')), 'background');
    const thrown = scheduler.run(() => {
      throw new Error('bad parameter');
    }, 'background');
    const next = scheduler.run(async () => 'ok', 'background');
    await expect(failing).rejects.toThrow('syntax error');
    await expect(thrown).rejects.toThrow('bad parameter');
    await expect(next).resolves.toBe('ok');
  });
});
