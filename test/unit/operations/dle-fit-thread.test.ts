import { describe, expect, it } from 'vitest';
import { fitDle } from '../../../detectors/quality/dle.ts';
import { Random } from '../../../detectors/random.ts';
import { fitDleInThread } from '../../../operations/dle-fit-thread.ts';

/** Regression rows whose error grows with |x2| and the category; some values missing (NaN). */
function regressionEvents(n: number, seed: number) {
  const random = new Random(seed);
  const features: number[][] = [];
  const predictions: number[] = [];
  const truth: number[] = [];
  for (let i = 0; i < n; i++) {
    const x1 = random.normal(0, 2);
    const x2 = random.bernoulli(0.05) ? Number.NaN : random.normal(0, 1);
    const category = random.bernoulli(0.05) ? Number.NaN : random.integer(0, 2);
    features.push([x1, x2, category]);
    predictions.push(x1);
    truth.push(x1 + random.normal(0, 0.3 + 0.8 * Math.abs(Number.isNaN(x2) ? 1 : x2) + 0.2 * (category || 0)));
  }
  return { features, predictions, truth };
}

const fixture = (name: string) => new URL(`../../fixtures/dle-fit-thread/${name}`, import.meta.url);

describe('a DLE fit in a worker thread', () => {
  it('gives the model the fit on this thread gives, value for value', async () => {
    const reference = regressionEvents(1200, 5);
    const options = { categoricalFeatures: [2] };
    const threaded = await fitDleInThread(reference, reference.truth, options);
    expect(threaded).toStrictEqual(fitDle(reference, reference.truth, options));
  }, 120_000);

  it('keeps this thread serving while it fits: timers scheduled after the fit started fire before it ends', async () => {
    const reference = regressionEvents(3000, 8);
    let fitting = true;
    const fit = fitDleInThread(reference, reference.truth, { categoricalFeatures: [2] }).finally(() => {
      fitting = false;
    });
    // Each round waits on a timer, as ingest's next request would; a fit on this thread would let
    // none of them run until it ended.
    let roundsDuringFit = 0;
    for (let round = 0; round < 5; round++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      if (fitting) roundsDuringFit++;
    }
    const model = await fit;
    expect(model.trustworthy).toBe(true);
    expect(roundsDuringFit).toBe(5);
  }, 120_000);

  it('reports a fit that throws with its reason, and the next fit still runs', async () => {
    const reference = regressionEvents(50, 2);
    const truth = reference.truth.map((y, i) => (i === 7 ? Number.NaN : y));
    await expect(fitDleInThread(reference, truth)).rejects.toThrow(
      /the DLE fit failed: fitDle: reference event 7's true value is NaN/,
    );
    const model = await fitDleInThread(reference, reference.truth, { minReferenceSize: 10 });
    expect(model).toStrictEqual(fitDle(reference, reference.truth, { minReferenceSize: 10 }));
  });

  it('reports a thread that exits without answering, or whose entry fails', async () => {
    const reference = regressionEvents(50, 3);
    await expect(
      fitDleInThread(reference, reference.truth, {}, { workerUrl: fixture('exit-worker.mjs') }),
    ).rejects.toThrow(/the DLE fit's thread exited with code 3 before answering/);
    await expect(
      fitDleInThread(reference, reference.truth, {}, { workerUrl: fixture('throw-worker.mjs') }),
    ).rejects.toThrow(/the DLE fit failed: the loader could not be registered/);
  });
});
