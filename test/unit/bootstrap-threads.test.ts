import { describe, expect, it } from 'vitest';
import { threadedEventBootstrap } from '../../activities/bootstrap-threads.ts';
import {
  eventBootstrapMean,
  eventBootstrapMeans,
  pairedBootstrapImprovement,
  promotionVerdict,
} from '../../detectors/promotion/index.ts';
import { Random } from '../../detectors/random.ts';

function differences(n: number, seed: number): Float64Array {
  const r = new Random(seed);
  return Float64Array.from({ length: n }, () => r.normal(0.01, 0.3));
}

describe('event bootstrap by replicate index', () => {
  it('replicate r computed alone is exactly the r-th of one sequential run', () => {
    const d = differences(997, 3);
    const sequential = eventBootstrapMeans(d, 20240611, 40);
    sequential.forEach((m, r) => expect(eventBootstrapMean(d, 20240611, r)).toBe(m));
  });
});

describe('threaded event bootstrap (bootstrap-worker.mjs beside this thread)', () => {
  it.each([1, 2])('with %i helper thread(s): exactly the sequential means, in order', (helpers) => {
    for (const [n, replicates, seed] of [
      [20_011, 64, 20240611],
      [5_003, 200, 7],
      [1, 3, 4294967295],
    ] as const) {
      const d = differences(n, seed);
      const threaded = threadedEventBootstrap({ helpers, minDraws: 0 })(d, seed, replicates);
      expect(threaded).toEqual(eventBootstrapMeans(d, seed, replicates));
    }
  });

  it('the helpers compute exactly what this thread computes (the worker copy of the generator agrees)', () => {
    const d = differences(30_011, 9);
    const splits: { caller: number; helpers: number; recovered: number }[] = [];
    const resample = threadedEventBootstrap({
      helpers: 2,
      minDraws: 0,
      callerClaims: false,
      stallMs: 120_000,
      onSplit: (s) => splits.push(s),
    });
    expect(resample(d, 20240611, 48)).toEqual(eventBootstrapMeans(d, 20240611, 48));
    expect(splits).toEqual([{ caller: 0, helpers: 48, recovered: 0 }]);
  });

  it('stays on the calling thread below minDraws, with the same means', () => {
    const d = differences(1000, 5);
    expect(threadedEventBootstrap({ helpers: 1 })(d, 1, 10)).toEqual(eventBootstrapMeans(d, 1, 10));
  });

  it('gives the verdict and interval of the sequential bootstrap exactly', () => {
    const r = new Random(11);
    const labels: number[] = [];
    const champion: number[] = [];
    const challenger: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const y = r.next() < 0.4 ? 1 : 0;
      labels.push(y);
      champion.push(Math.min(0.99, Math.max(0.01, 0.4 + (y - 0.4) * 0.3 + r.normal(0, 0.15))));
      challenger.push(Math.min(0.99, Math.max(0.01, 0.4 + (y - 0.4) * 0.35 + r.normal(0, 0.15))));
    }
    const eventResampler = threadedEventBootstrap({ helpers: 1, minDraws: 0 });
    const options = { replicates: 300 };
    expect(pairedBootstrapImprovement('logLoss', labels, champion, challenger, { ...options, eventResampler })).toEqual(
      pairedBootstrapImprovement('logLoss', labels, champion, challenger, options),
    );
    const scores = { labels, champion, challenger };
    expect(promotionVerdict(scores, {}, { bootstrapReplicates: 300, eventResampler })).toEqual(
      promotionVerdict(scores, {}, { bootstrapReplicates: 300 }),
    );
  });
});
