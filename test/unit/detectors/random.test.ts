import { describe, expect, it } from 'vitest';
import { Random } from '../../../detectors/random.ts';

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('Random (mulberry32 + Box–Muller)', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = new Random(7);
    const b = new Random(7);
    const c = new Random(8);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
  });

  it('resampledMean draws exactly what n calls of next() draw, and leaves the same state', () => {
    const values = Float64Array.from({ length: 1001 }, (_, i) => Math.sin(i) * 10);
    const a = new Random(99);
    const b = new Random(99);
    for (let r = 0; r < 3; r++) {
      let sum = 0;
      for (let i = 0; i < values.length; i++) sum += values[Math.floor(a.next() * values.length)] as number;
      expect(b.resampledMean(values)).toBe(sum / values.length);
    }
    expect(b.next()).toBe(a.next());
  });

  it('has the right moments (tolerances: 4 standard errors for n = 100k)', () => {
    const r = new Random(123);
    const u = Array.from({ length: 100_000 }, () => r.next());
    expect(Math.abs(mean(u) - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / 1e5));
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    const z = Array.from({ length: 100_000 }, () => r.normal());
    const m = mean(z);
    const variance = mean(z.map((x) => (x - m) ** 2));
    expect(Math.abs(m)).toBeLessThan(4 / Math.sqrt(1e5));
    expect(Math.abs(variance - 1)).toBeLessThan(4 * Math.sqrt(2 / 1e5));
    const ints = Array.from({ length: 10_000 }, () => r.integer(1, 6));
    expect(new Set(ints)).toEqual(new Set([1, 2, 3, 4, 5, 6]));
  });

  it('serialize/restore continues the same sequence (including a pending normal)', () => {
    const r = new Random(99);
    r.normal();
    const revived = Random.restore(JSON.parse(JSON.stringify(r.serialize())) as ReturnType<Random['serialize']>);
    expect([revived.normal(), revived.next()]).toEqual([r.normal(), r.next()]);
  });

  it('afterDraws(seed, k) is the generator k draws on, in O(1)', () => {
    for (const seed of [0, 7, 20240611, 4294967295]) {
      const sequential = new Random(seed);
      const values = Array.from({ length: 3001 }, () => sequential.next());
      for (const k of [0, 1, 2, 999, 1000, 2024, 3000]) expect(Random.afterDraws(seed, k).next()).toBe(values[k]);
    }
    // The period is 2³², and jumps compose.
    expect(Random.afterDraws(9, 2 ** 32 + 5).serialize()).toEqual(Random.afterDraws(9, 5).serialize());
    const a = 1_999_000_000;
    const b = 3_000_000_123;
    expect(Random.afterDraws(Random.afterDraws(9, a).serialize().seed, b).serialize()).toEqual(
      Random.afterDraws(9, a + b).serialize(),
    );
    expect(() => Random.afterDraws(1, -1)).toThrow(/non-negative/);
  });
});
