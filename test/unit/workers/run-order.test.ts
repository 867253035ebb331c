import { describe, expect, it } from 'vitest';
import { runOrder } from '../../../workers/run-order.ts';

describe('runOrder: the routed version and its shadows take turns running first', () => {
  it('a champion and one shadow alternate, batch by batch', () => {
    const order = Array.from({ length: 6 }, (_, turn) => runOrder(['champion', 'shadow'], turn));
    expect(order).toEqual([
      ['champion', 'shadow'],
      ['shadow', 'champion'],
      ['champion', 'shadow'],
      ['shadow', 'champion'],
      ['champion', 'shadow'],
      ['shadow', 'champion'],
    ]);
  });

  it('with several shadows each side goes first, and each is in every position, once per round', () => {
    const sides = ['v1', 'v2', 'v3'];
    const round = [0, 1, 2].map((turn) => runOrder(sides, turn));
    for (const [position] of sides.entries())
      expect(new Set(round.map((order) => order[position]))).toEqual(new Set(sides));
    // Every batch still runs every side exactly once.
    for (const order of round) expect([...order].sort()).toEqual(sides);
    expect(runOrder(sides, 3)).toEqual(runOrder(sides, 0));
  });

  it('the share of batches a side runs second is the same for every side, whatever their number', () => {
    for (const n of [1, 2, 3, 4]) {
      const sides = Array.from({ length: n }, (_, i) => i);
      const second = new Array<number>(n).fill(0);
      for (let turn = 0; turn < 12 * n; turn++) {
        const order = runOrder(sides, turn);
        if (n > 1) second[order[1]!]! += 1;
      }
      expect(new Set(second).size).toBe(1);
    }
  });

  it('leaves the input alone and takes no sides as none', () => {
    const sides = ['a', 'b'];
    runOrder(sides, 1);
    expect(sides).toEqual(['a', 'b']);
    expect(runOrder([], 5)).toEqual([]);
  });
});
