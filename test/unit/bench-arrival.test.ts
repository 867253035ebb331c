import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { arrivalOf, interleave, PostPacer } from '../../bench/lib/arrival.ts';

describe('bench arrival: when an interval’s POSTs are sent', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  const recorder = () => {
    const sent: { name: string; at: number }[] = [];
    const post = (name: string) => () => sent.push({ name, at: Date.now() });
    return { sent, post };
  };

  it('burst sends every POST at once, events before labels', () => {
    const { sent, post } = recorder();
    const start = Date.now();
    new PostPacer('burst', 1000).send([post('e0'), post('e1')], [post('l0')]);
    expect(sent).toEqual([
      { name: 'e0', at: start },
      { name: 'e1', at: start },
      { name: 'l0', at: start },
    ]);
  });

  it('spread sends them evenly over the interval, events and labels interleaved', () => {
    const { sent, post } = recorder();
    const start = Date.now();
    new PostPacer('spread', 1000).send([post('e0'), post('e1'), post('e2')], [post('l0')]);
    vi.advanceTimersByTime(1000);
    expect(sent.map((s) => [s.name, s.at - start])).toEqual([
      ['e0', 0],
      ['l0', 250],
      ['e1', 500],
      ['e2', 750],
    ]);
  });

  it('cancel drops the POSTs not sent yet', () => {
    const { sent, post } = recorder();
    const pacer = new PostPacer('spread', 1000);
    pacer.send([post('e0'), post('e1')], []);
    vi.advanceTimersByTime(0);
    pacer.cancel();
    vi.advanceTimersByTime(1000);
    expect(sent.map((s) => s.name)).toEqual(['e0']);
  });

  it('names the option and its values when given anything else', () => {
    expect(arrivalOf('spread')).toBe('spread');
    expect(() => arrivalOf('steady')).toThrow('--arrival takes burst or spread, got "steady"');
    expect(interleave<number | string>([1, 2, 3], ['a'])).toEqual([1, 'a', 2, 3]);
  });
});
