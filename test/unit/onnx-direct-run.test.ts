import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { Random } from '../../detectors/random.ts';
import { encodeBatch, sliceBatch, type FeatureNames, type RawFeatures } from '../../platform/onnx/features.ts';
import { encodeModel, OnnxType } from '../../platform/onnx/model-builder.ts';
import { OnnxPool, type ModelOutput } from '../../platform/onnx/pool.ts';
import {
  closeSession,
  DIRECT_RUN_VERSION,
  directBindingFor,
  directRunAvailable,
  openSession,
  runSession,
  sessionMode,
} from '../../platform/onnx/session.mjs';
import { fitLogistic } from '../../training/logistic.ts';
import { logisticToOnnx } from '../../training/logistic-onnx.ts';
import { demoRow, demoSchedule } from '../../workers/demo.ts';

// session.mjs runs sessions through onnxruntime-node's native binding ('direct') where the
// installed release is the one it was read against, and through the public InferenceSession API
// otherwise ('public'). These tests hold the two to the same outputs, value for value.

const DEMO_FEATURES: FeatureNames = { numeric: ['f1', 'f2', 'f3'], categorical: [] };

/** The scorer benchmark's model: the demo's logistic regression, and demo rows to score. */
function demoModel(): { bytes: Uint8Array; rows: RawFeatures[] } {
  const world = { epoch: 0, ...demoSchedule(1).world };
  const rng = new Random(7);
  const train = Array.from({ length: 2000 }, () => demoRow(world, 0, rng));
  const { model } = fitLogistic(
    { features: DEMO_FEATURES, rows: train.map((r) => r.features), labels: train.map((r) => r.label) },
    { l2: 1 },
    7,
  );
  const rows: RawFeatures[] = Array.from({ length: 1000 }, () => demoRow(world, 0, rng).features);
  // Missing and non-finite values take the graph's imputation branch.
  rows.push({ f1: null, f2: Number.NaN }, {});
  return { bytes: logisticToOnnx(model), rows };
}

const PER_COLUMN: FeatureNames = { numeric: ['x1', 'x2'], categorical: [] };
const WEIGHTS = [
  [0.8, -0.3, 0.1],
  [-0.5, 0.9, 0.2],
];
const BIAS = [0.1, -0.2, 0.05];

/**
 * A three-class classifier as converters write them: one [N, 1] input per feature, and two
 * outputs, the predicted label first and the class probabilities (float32) second — so the output
 * the scorer reads is not the first one and the one it does not read is an int64 tensor.
 */
function twoOutputClassifier(): Uint8Array {
  return encodeModel({
    graphName: 'two_output_classifier',
    nodes: [
      { opType: 'Concat', inputs: ['x1', 'x2'], outputs: ['x'], attributes: { axis: { int: 1 } } },
      { opType: 'MatMul', inputs: ['x', 'weights'], outputs: ['linear'] },
      { opType: 'Add', inputs: ['linear', 'bias'], outputs: ['logits'] },
      { opType: 'Softmax', inputs: ['logits'], outputs: ['output_probability'], attributes: { axis: { int: 1 } } },
      {
        opType: 'ArgMax',
        inputs: ['logits'],
        outputs: ['output_label'],
        attributes: { axis: { int: 1 }, keepdims: { int: 0 } },
      },
    ],
    initializers: [
      { name: 'weights', dataType: OnnxType.FLOAT, dims: [2, 3], values: WEIGHTS.flat() },
      { name: 'bias', dataType: OnnxType.FLOAT, dims: [3], values: BIAS },
    ],
    inputs: [
      { name: 'x1', elemType: OnnxType.FLOAT, shape: ['N', 1] },
      { name: 'x2', elemType: OnnxType.FLOAT, shape: ['N', 1] },
    ],
    outputs: [
      { name: 'output_label', elemType: OnnxType.INT64, shape: ['N'] },
      { name: 'output_probability', elemType: OnnxType.FLOAT, shape: ['N', 3] },
    ],
    opsets: [{ domain: '', version: 13 }],
    producerName: 'halflife-test',
    producerVersion: '0',
  });
}

function softmaxRow(x1: number, x2: number): number[] {
  const logits = [0, 1, 2].map((k) => x1 * WEIGHTS[0]![k]! + x2 * WEIGHTS[1]![k]! + BIAS[k]!);
  const max = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

const MIXED: FeatureNames = { numeric: ['a', 'b'], categorical: ['plan'] };

/** A logistic regression with a categorical feature: a packed string input beside the numeric one. */
function mixedModel(): { bytes: Uint8Array; rows: RawFeatures[] } {
  const rng = new Random(3);
  const plans = ['basic', 'pro', 'team'];
  const make = () => {
    const a = rng.uniform(0, 10);
    const b = rng.uniform(-5, 5);
    const plan = plans[Math.floor(rng.next() * 3)]!;
    return {
      a,
      b,
      plan,
      label: rng.next() < 1 / (1 + Math.exp(-(0.5 * a - b - 2 + (plan === 'pro' ? 1 : 0)))) ? 1 : 0,
    };
  };
  const train = Array.from({ length: 2000 }, make);
  const { model } = fitLogistic({
    features: MIXED,
    rows: train.map(({ a, b, plan }) => ({ a, b, plan })),
    labels: train.map((r) => r.label),
  });
  const rows: RawFeatures[] = Array.from({ length: 300 }, () => {
    const { a, b, plan } = make();
    return { a, b, plan };
  });
  rows.push({ a: null, b: 1, plan: 'never-seen' }, {});
  return { bytes: logisticToOnnx(model), rows };
}

describe('the direct run is pinned to the onnxruntime-node release it was read against', () => {
  it('is the installed and pinned release, and any other release gets the public API', () => {
    const pinned = (
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
        dependencies: Record<string, string>;
      }
    ).dependencies['onnxruntime-node'];
    // A new onnxruntime-node: re-read its lib/backend.ts and lib/binding.ts (what run() takes and
    // returns), then move DIRECT_RUN_VERSION in platform/onnx/session.mjs to it.
    expect(pinned).toBe(DIRECT_RUN_VERSION);
    expect(ort.env.versions.node).toBe(DIRECT_RUN_VERSION);
    expect(directRunAvailable).toBe(true);
    expect(directBindingFor(DIRECT_RUN_VERSION)).not.toBeNull();
    expect(directBindingFor('1.29.0')).toBeNull();
    expect(directBindingFor(`${DIRECT_RUN_VERSION}-dev`)).toBeNull();
    expect(directBindingFor(undefined)).toBeNull();
  });
});

describe('direct and public runs give identical outputs', () => {
  const pools: OnnxPool[] = [];
  const pool = (options: ConstructorParameters<typeof OnnxPool>[0]) => {
    const p = new OnnxPool({ threads: 1, ...options });
    pools.push(p);
    return p;
  };
  afterAll(() => Promise.all(pools.map((p) => p.close())));

  /** Scores of `rows` from every path: direct and public, in the caller and in a runner thread, whole and a row at a time. */
  async function everyPath(
    bytes: Uint8Array,
    features: FeatureNames,
    rows: RawFeatures[],
    output?: ModelOutput,
  ): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>();
    const batch = encodeBatch(features, rows);
    for (const direct of [true, false])
      for (const inline of ['always', 'never'] as const) {
        const p = pool({ inline, direct });
        const info = await p.load('m', bytes, features, output);
        expect(info.mode).toBe(direct ? 'direct' : 'public');
        const name = `${direct ? 'direct' : 'public'} ${inline === 'always' ? 'caller' : 'thread'}`;
        const whole = await p.run('m', batch);
        expect(whole.ranIn).toBe(inline === 'always' ? 'caller' : 'thread');
        out.set(name, [...whole.scores]);
        const oneByOne: number[] = [];
        for (let i = 0; i < Math.min(rows.length, 50); i++)
          oneByOne.push(...(await p.run('m', sliceBatch(features, batch, i, i + 1))).scores);
        expect(oneByOne).toEqual([...whole.scores.subarray(0, oneByOne.length)]);
      }
    return out;
  }

  it("the scorer benchmark's demo model (packed numeric input, one output)", async () => {
    const { bytes, rows } = demoModel();
    const scores = await everyPath(bytes, DEMO_FEATURES, rows);
    const reference = scores.get('public caller')!;
    expect(reference).toHaveLength(rows.length);
    for (const [name, s] of scores) expect(s, name).toEqual(reference);
    expect(reference.every((p) => p > 0 && p < 1)).toBe(true);
  });

  it('a classifier with two outputs, the probabilities second, and one input per feature', async () => {
    const rng = new Random(5);
    const rows: RawFeatures[] = Array.from({ length: 200 }, () => ({ x1: rng.uniform(-3, 3), x2: rng.uniform(-3, 3) }));
    const bytes = twoOutputClassifier();
    const scores = await everyPath(bytes, PER_COLUMN, rows, { kind: 'multiclass', classes: 3 });
    const reference = scores.get('public caller')!;
    expect(reference).toHaveLength(rows.length * 3);
    for (const [name, s] of scores) expect(s, name).toEqual(reference);
    rows.forEach((r, i) =>
      softmaxRow(Math.fround(r.x1 as number), Math.fround(r.x2 as number)).forEach((p, k) =>
        expect(Math.abs(p - reference[i * 3 + k]!)).toBeLessThan(1e-6),
      ),
    );
    const session = await openSession(bytes, PER_COLUMN, {
      intraOpThreads: 1,
      output: { kind: 'multiclass', classes: 3 },
    });
    try {
      expect(sessionMode(session)).toBe('direct');
      expect(session.convention).toBe('per-column');
      expect(session.output).toBe('output_probability');
      expect(session.outputs).toEqual(['output_label', 'output_probability']);
    } finally {
      await closeSession(session);
    }
  });

  it('a model with a packed string input beside the numeric one', async () => {
    const { bytes, rows } = mixedModel();
    const scores = await everyPath(bytes, MIXED, rows);
    const reference = scores.get('public caller')!;
    for (const [name, s] of scores) expect(s, name).toEqual(reference);
  });
});

describe('a direct session refuses what the binding would not check', () => {
  it('arrays that do not hold rows × features values, in either mode, saying which and how many', async () => {
    const { bytes } = demoModel();
    for (const direct of [true, false]) {
      const session = await openSession(bytes, DEMO_FEATURES, { intraOpThreads: 1, direct });
      try {
        // The binding would score the first row of the longer array without a word.
        await expect(runSession(session, 1, new Float32Array(6), [])).rejects.toThrow(
          'numeric input has 6 values for 1 rows of 3 features: expected 3',
        );
        await expect(runSession(session, 2, new Float32Array(3), [])).rejects.toThrow(/expected 6/);
        await expect(runSession(session, 1, new Float32Array(3), ['x'])).rejects.toThrow(
          'categorical input has 1 values for 1 rows of 0 features: expected 0',
        );
        // A refused call leaves the session serving.
        const { scores } = await runSession(session, 1, new Float32Array([1, 2, 3]), []);
        expect(scores[0]).toBeGreaterThan(0);
      } finally {
        await closeSession(session);
      }
    }
  });

  it('a closed session: its runs reject, closing again is harmless', async () => {
    const { bytes } = demoModel();
    const session = await openSession(bytes, DEMO_FEATURES, { intraOpThreads: 1 });
    expect(sessionMode(session)).toBe('direct');
    await closeSession(session);
    await closeSession(session);
    await expect(runSession(session, 1, new Float32Array(3), [])).rejects.toThrow(/disposed/);
  });

  it('bytes that are not a model are refused as with the public API', async () => {
    const bytes = new TextEncoder().encode('not a model at all');
    for (const direct of [true, false])
      await expect(openSession(bytes, DEMO_FEATURES, { intraOpThreads: 1, direct })).rejects.toThrow(
        /not a loadable ONNX model/,
      );
  });
});

describe('in-process direct runs let the event loop turn', () => {
  // A direct run has no setImmediate turn before it, so runs awaited one after another would hold
  // the loop until the last: the pool lets it turn once they have held it for its budget.
  it('a timer fires during a long sequence of awaited single-row runs', async () => {
    const { bytes, rows } = demoModel();
    const p = new OnnxPool({ threads: 1, inline: 'always', inlineBudgetMs: 0.5 });
    try {
      await p.load('m', bytes, DEMO_FEATURES);
      const one = encodeBatch(DEMO_FEATURES, rows.slice(0, 1));
      let fired = false;
      setTimeout(() => (fired = true), 0);
      let runs = 0;
      // 50,000 runs take about half a second; the loop must turn long before.
      while (!fired && runs < 50_000) {
        expect((await p.run('m', one)).ranIn).toBe('caller');
        runs++;
      }
      expect(fired).toBe(true);
      expect(runs).toBeLessThan(50_000);
    } finally {
      await p.close();
    }
  });
});
