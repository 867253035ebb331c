import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { fitLogistic, predictProbability, type LogisticModel } from '../../training/logistic.ts';
import { logisticToOnnx } from '../../training/logistic-onnx.ts';
import {
  encodeBatch,
  encodeSplitFeatures,
  sliceBatch,
  type RawFeatures,
  type SplitFeatures,
} from '../../platform/onnx/features.ts';
import { OnnxModelError, OnnxPool } from '../../platform/onnx/pool.ts';
import { encodeVarint } from '../../platform/onnx/protobuf.ts';
import { Random } from '../../detectors/random.ts';

function mixedData(seed: number, n: number): { rows: RawFeatures[]; labels: number[] } {
  const r = new Random(seed);
  const rows: RawFeatures[] = [];
  const labels: number[] = [];
  const plans = ['basic', 'pro', 'team', 'rare'];
  for (let i = 0; i < n; i++) {
    const a = r.uniform(0, 10);
    const b = r.uniform(-5, 5);
    const plan = plans[r.next() < 0.02 ? 3 : Math.floor(r.next() * 3)] as string;
    const z = 0.6 * a - 0.8 * b - 3 + (plan === 'pro' ? 1.5 : plan === 'team' ? -1 : 0);
    rows.push({ a: i % 23 === 0 ? null : a, b, plan: i % 31 === 0 ? null : plan, flag: r.next() < 0.5 });
    labels.push(r.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0);
  }
  return { rows, labels };
}

const features = { numeric: ['a', 'b'], categorical: ['plan', 'flag'] };

async function ortScores(bytes: Uint8Array, model: LogisticModel, rows: RawFeatures[]): Promise<Float64Array> {
  const session = await ort.InferenceSession.create(bytes);
  const enc = encodeBatch(model.features, rows);
  const out = await session.run({
    numeric: new ort.Tensor('float32', enc.numeric, [enc.rows, model.features.numeric.length]),
    categorical: new ort.Tensor('string', enc.categorical, [enc.rows, model.features.categorical.length]),
  });
  return Float64Array.from(out.probability!.data as Float64Array);
}

describe('protobuf wire format', () => {
  it('encodes varints as base-128 little-endian groups', () => {
    expect([...encodeVarint(0n)]).toEqual([0]);
    expect([...encodeVarint(1n)]).toEqual([1]);
    expect([...encodeVarint(300n)]).toEqual([0xac, 0x02]);
    expect([...encodeVarint(BigInt.asUintN(64, -1n))]).toHaveLength(10);
  });
});

describe('built-in logistic regression → ONNX', () => {
  const pool = new OnnxPool({ threads: 1 });
  afterAll(() => pool.close());

  it('onnxruntime-node gives the same probabilities as the TypeScript model (1e-6), with missing values and unseen categories', async () => {
    const train = mixedData(7, 3000);
    const { model } = fitLogistic({ features, rows: train.rows, labels: train.labels }, { minCategoryCount: 100 });
    // 'rare' (seen < 100 times) and 'never-seen' share the unknown bucket; nulls are missing.
    const probe = mixedData(8, 500).rows.concat([
      { a: null, b: null, plan: 'never-seen', flag: null },
      { a: 1e6, b: -1e6, plan: 'rare', flag: true },
      {},
    ]);
    const bytes = logisticToOnnx(model);
    const fromOrt = await ortScores(bytes, model, probe);
    const fromTs = probe.map((r) => predictProbability(model, r));
    let maxDiff = 0;
    fromTs.forEach((p, i) => (maxDiff = Math.max(maxDiff, Math.abs(p - (fromOrt[i] as number)))));
    expect(maxDiff).toBeLessThan(1e-6);
    expect(model.categorical[0]!.categories).not.toContain('rare');

    // Through the worker-thread pool as well.
    await pool.load('lr', bytes, features);
    const pooled = await pool.run('lr', encodeBatch(features, probe));
    pooled.scores.forEach((p, i) => expect(Math.abs(p - (fromTs[i] as number))).toBeLessThan(1e-6));
  });

  it('handles numeric-only and categorical-only models', async () => {
    const train = mixedData(9, 1000);
    for (const f of [
      { numeric: ['a', 'b'], categorical: [] },
      { numeric: [], categorical: ['plan'] },
    ]) {
      const { model } = fitLogistic({ features: f, rows: train.rows, labels: train.labels });
      const session = await ort.InferenceSession.create(logisticToOnnx(model));
      expect(session.inputNames).toEqual(f.numeric.length > 0 ? ['numeric'] : ['categorical']);
      await pool.load(`only-${f.numeric.length}`, logisticToOnnx(model), f);
      const out = await pool.run(`only-${f.numeric.length}`, encodeBatch(f, train.rows.slice(0, 50)));
      out.scores.forEach((p, i) => expect(Math.abs(p - predictProbability(model, train.rows[i]!))).toBeLessThan(1e-6));
    }
  });

  it('rejects a broken ONNX file with a clear reason and keeps serving other models', async () => {
    const { model } = fitLogistic({ features, ...mixedData(3, 500) });
    const bytes = logisticToOnnx(model);
    const truncated = bytes.slice(0, Math.floor(bytes.length / 2));
    await expect(pool.load('broken', truncated, features)).rejects.toThrow(OnnxModelError);
    await expect(pool.load('garbage', new TextEncoder().encode('not a model at all'), features)).rejects.toThrow(
      /not a loadable ONNX model/,
    );
    // A valid ONNX graph that does not follow the serving contract (wrong features).
    await expect(pool.load('wrong-inputs', bytes, { numeric: ['a'], categorical: [] })).rejects.toThrow(
      /match neither input convention/,
    );
    expect(pool.has('broken')).toBe(false);
    await pool.load('good', bytes, features);
    const out = await pool.run('good', encodeBatch(features, [{ a: 1, b: 2, plan: 'pro', flag: true }]));
    expect(out.scores[0]).toBeGreaterThan(0);
  });

  it('scores off the event loop: timers keep firing during a large batch', async () => {
    const { model } = fitLogistic({ features, ...mixedData(4, 500) });
    await pool.load('big', logisticToOnnx(model), features);
    const rows = mixedData(5, 200_000).rows;
    const batch = encodeBatch(features, rows);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const t0 = performance.now();
    const out = await pool.run('big', batch);
    const elapsed = performance.now() - t0;
    clearInterval(timer);
    expect(out.scores).toHaveLength(200_000);
    expect(out.ranIn).toBe('thread');
    // If run() blocked this thread no interval callback could fire while it ran.
    if (elapsed > 20) expect(ticks).toBeGreaterThan(2);
  });
});

describe('in-process and runner-thread scoring', () => {
  const inProcess = new OnnxPool({ threads: 1, inline: 'always' });
  const threaded = new OnnxPool({ threads: 1, inline: 'never' });
  afterAll(() => Promise.all([inProcess.close(), threaded.close()]));

  it('give identical scores for the same rows, whole or as views into one encoded batch', async () => {
    const { model } = fitLogistic({ features, ...mixedData(12, 2000) });
    const bytes = logisticToOnnx(model);
    await inProcess.load('m', bytes, features);
    await threaded.load('m', bytes, features);
    const rows = mixedData(13, 1000).rows;
    const all = encodeBatch(features, rows);
    const a = await inProcess.run('m', all);
    const b = await threaded.run('m', all);
    expect(a.ranIn).toBe('caller');
    expect(b.ranIn).toBe('thread');
    expect([...a.scores]).toEqual([...b.scores]);
    for (const [start, end] of [
      [0, 1],
      [1, 300],
      [300, 1000],
    ] as const) {
      const part = sliceBatch(features, all, start, end);
      const fromCaller = await inProcess.run('m', part);
      const fromThread = await threaded.run('m', part);
      expect([...fromCaller.scores]).toEqual([...a.scores.subarray(start, end)]);
      expect([...fromThread.scores]).toEqual([...a.scores.subarray(start, end)]);
    }
    expect(inProcess.inlineCost('m')).not.toBeNull();
    expect(threaded.inlineCost('m')).toBeNull();
  });

  it('rejects a model that fails in-process the same way as in a thread', async () => {
    const bytes = new TextEncoder().encode('not a model at all');
    await expect(inProcess.load('bad', bytes, features)).rejects.toThrow(/not a loadable ONNX model/);
    expect(inProcess.has('bad')).toBe(false);
  });
});

describe('encodeSplitFeatures', () => {
  it('encodes stored events exactly as encodeBatch encodes their merged features', () => {
    const f = { numeric: ['a', 'b', 'c'], categorical: ['plan', 'a'] };
    const events: SplitFeatures[] = [
      { num_features: { a: 1.5, b: null, c: 3 }, cat_features: { plan: 'pro' } },
      { num_features: {}, cat_features: {} },
      { num_features: { a: 2, b: -1 }, cat_features: { a: 'x', plan: '' } },
      { num_features: { c: Number.NaN }, cat_features: { plan: 'team', other: 'y' } },
    ];
    const split = encodeSplitFeatures(f, events);
    const merged = encodeBatch(
      f,
      events.map((e) => ({ ...e.num_features, ...e.cat_features })),
    );
    expect(split.rows).toBe(4);
    expect([...split.numeric]).toEqual([...merged.numeric]);
    expect(split.categorical).toEqual(merged.categorical);
  });
});
