import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { subsystemLog } from '../../../platform/logger.ts';

/** Every line a logger writes, as its raw text (a JSON parser would hide a repeated key). */
function capture(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((line) => line !== ''),
      );
      done();
    },
  });
  return { log: pino({ base: { component: 'daemon' } }, sink), lines };
}

/** The keys of one JSON line in the order written, repeats kept. */
function keysOf(line: string): string[] {
  return [...line.matchAll(/"([^"]+)":/g)].map((match) => match[1] as string);
}

describe('subsystemLog', () => {
  it('names a subsystem, and a part of one under its own key, never a key twice', () => {
    const { log, lines } = capture();
    const worker = subsystemLog(log, 'temporal-worker');
    subsystemLog(worker, 'temporal-sdk').info('core says');
    worker.info('worker says');
    const [nested, top] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(nested).toMatchObject({
      component: 'daemon',
      subsystem: 'temporal-worker',
      part: 'temporal-sdk',
      msg: 'core says',
    });
    expect(top).toMatchObject({ subsystem: 'temporal-worker', msg: 'worker says' });
    expect(top).not.toHaveProperty('part');
    for (const line of lines) {
      const keys = keysOf(line);
      expect(keys).toEqual([...new Set(keys)]);
    }
  });

  it('names a subsystem of a process logger that has none', () => {
    const { log, lines } = capture();
    subsystemLog(log, 'scorer').child({ modelId: 'm' }).warn('x');
    expect(JSON.parse(lines[0] as string)).toMatchObject({ component: 'daemon', subsystem: 'scorer', modelId: 'm' });
  });
});
