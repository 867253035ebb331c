import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBatch, type FeatureNames, type RawFeatures } from '../../platform/onnx/features.ts';
import { OnnxModelError, OnnxPool } from '../../platform/onnx/pool.ts';
import { modelOutputOf } from '../../platform/registry/model-output.ts';
import { kindOfEntry, modelUpdateSchema } from '../../platform/registry/model-update.ts';
import { commandTrainer } from '../../training/command-trainer.ts';
import { csvHeader, csvLine, readTrainingCsv } from '../../training/csv.ts';
import { multinomialToOnnx } from '../../training/linear-onnx.ts';
import {
  fitMultinomialLogistic,
  predictClassProbabilities,
  type MultinomialModel,
} from '../../training/multinomial-logistic.ts';
import { predictRidge, type RidgeModel } from '../../training/ridge.ts';
import { trainerFor } from '../../training/trainer-spec.ts';
import { targetCell, targetValue, type TrainingTarget } from '../../training/training-target.ts';
import { predictionOf } from '../../workers/scorer.ts';
import { Random } from '../../detectors/random.ts';

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/multiclass-regression/trainers.json', import.meta.url), 'utf8'),
) as {
  multinomial: {
    name: string;
    l2: number;
    features: string[];
    x: number[][];
    y: string[];
    expected: { classes: string[]; weights: number[][]; bias: number[] };
  }[];
};

const CLASSES = ['low', 'mid', 'high'];
const MULTICLASS: TrainingTarget = { kind: 'multiclass', classes: CLASSES };
const REGRESSION: TrainingTarget = { kind: 'regression' };
const FEATURES: FeatureNames = { numeric: ['x1', 'x2'], categorical: ['region'] };

/** A training file as the snapshot writes it: class names (multiclass) or numbers (regression) in the label column. */
async function writeTrainingFile(file: string, target: TrainingTarget, n: number, seed: number): Promise<void> {
  const random = new Random(seed);
  const lines = [csvHeader(FEATURES)];
  for (let i = 0; i < n; i++) {
    const x1 = random.normal();
    const x2 = random.normal();
    const y =
      target.kind === 'multiclass'
        ? x1 + 0.3 * random.normal() < -0.5
          ? 0
          : x1 + 0.3 * random.normal() > 0.5
            ? 2
            : 1
        : 3 * x1 - 2 * x2 + 10 + random.normal();
    lines.push(csvLine(FEATURES, `e${i}`, { x1, x2, region: i % 2 ? 'eu' : 'us' }, targetCell(target, y)));
  }
  await writeFile(file, lines.join(''));
}

describe('training targets: the label a model of each kind learns', () => {
  it('a stored label becomes 0/1, the index of a declared class, or a number; anything else is left out', () => {
    expect(targetValue({ kind: 'binary' }, 'yes', null)).toBe(1);
    expect(targetValue(MULTICLASS, ' high ', null)).toBe(2);
    expect(targetValue(MULTICLASS, 'huge', null)).toBeNull();
    expect(targetValue(REGRESSION, '', 12.5)).toBe(12.5);
    expect(targetValue(REGRESSION, '7.25', null)).toBe(7.25);
    expect(targetValue(REGRESSION, 'n/a', null)).toBeNull();
    expect(targetCell(MULTICLASS, 1)).toBe('mid');
  });

  it('the training file of a multiclass model holds class names and reads back as class indices; a class the model does not declare is refused', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kinds-csv-'));
    try {
      const file = path.join(dir, 'train.csv');
      await writeTrainingFile(file, MULTICLASS, 30, 1);
      expect((await readFile(file, 'utf8')).split('\n')[1]).toMatch(/,(low|mid|high)$/);
      const read = await readTrainingCsv(file, FEATURES, MULTICLASS);
      expect(new Set(read.labels)).toEqual(new Set([0, 1, 2]));
      await expect(readTrainingCsv(file, FEATURES, { kind: 'multiclass', classes: ['low', 'mid'] })).rejects.toThrow(
        /label must be one of the declared classes low, mid, got "high"/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("multinomial logistic regression keeps the model's declared class order: scikit-learn's fit, columns permuted", () => {
    const c = fixture.multinomial[0]!;
    const declared = [...c.expected.classes].reverse();
    const { model } = fitMultinomialLogistic(
      {
        features: { numeric: c.features, categorical: [] },
        rows: c.x.map((r) => Object.fromEntries(c.features.map((name, j) => [name, r[j]]))),
        labels: c.y,
        classes: declared,
      },
      { l2: c.l2 },
    );
    expect(model.classes).toEqual(declared);
    declared.forEach((cls, k) => {
      const sorted = c.expected.classes.indexOf(cls);
      model.weights.forEach((row, j) => expect(Math.abs(row[k]! - c.expected.weights[j]![sorted]!)).toBeLessThan(1e-5));
      expect(Math.abs(model.bias[k]! - c.expected.bias[sorted]!)).toBeLessThan(1e-5);
    });
    expect(() =>
      fitMultinomialLogistic({
        features: { numeric: ['a'], categorical: [] },
        rows: [{ a: 1 }, { a: 2 }],
        labels: ['x', 'y'],
        classes: ['x', 'y', 'z'],
      }),
    ).toThrow(/no training rows of class z/);
  });
});

describe('the built-in trainer of each kind, served by the ONNX pool', () => {
  let dir: string;
  let pool: OnnxPool;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'kinds-train-'));
    pool = new OnnxPool({ threads: 1 });
  });
  afterAll(async () => {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  });

  const rows: RawFeatures[] = [
    { x1: -1.2, x2: 0.3, region: 'eu' },
    { x1: 0.1, x2: null, region: 'us' },
    { x1: 1.7, x2: -0.8, region: 'eu' },
  ];

  it('multiclass: multinomial logistic regression on numeric features, its probability vectors from onnxruntime equal to the fitted model, in and out of the runner threads', async () => {
    const train = path.join(dir, 'mc.csv');
    await writeTrainingFile(train, MULTICLASS, 300, 2);
    const trainer = trainerFor({ kind: 'builtin', params: { l2: 0.5 } }, MULTICLASS);
    expect(trainer.name).toBe('builtin:multinomial-logistic-regression');
    const out = await trainer.train({
      trainFile: train,
      featureNames: FEATURES,
      params: { l2: 0.5 },
      target: MULTICLASS,
      seed: 1,
      outDir: path.join(dir, 'mc-out'),
      heartbeat: () => undefined,
    });
    expect(out.features).toEqual({ numeric: ['x1', 'x2'], categorical: [] });
    expect(out.metrics).toMatchObject({ classes: CLASSES, ignoredCategoricalFeatures: ['region'] });
    expect(out.metrics.trainAccuracy as number).toBeGreaterThan(0.6);
    const model = JSON.parse(await readFile(path.join(dir, 'mc-out', 'model.json'), 'utf8')) as MultinomialModel;
    expect(model.classes).toEqual(CLASSES);
    const bytes = new Uint8Array(await readFile(out.onnxPath));
    for (const inline of ['always', 'never'] as const) {
      const p = new OnnxPool({ threads: 1, inline });
      try {
        await p.load('mc', bytes, out.features!, modelOutputOf(MULTICLASS));
        const result = await p.run('mc', encodeBatch(out.features!, rows));
        expect(result.width).toBe(3);
        rows.forEach((row, i) =>
          predictClassProbabilities(model, row).forEach((v, k) =>
            expect(Math.abs(v - result.scores[i * 3 + k]!)).toBeLessThan(1e-12),
          ),
        );
        // The scoring event's prediction: the vector keyed by class, and the argmax class.
        const prediction = predictionOf(
          {
            ref: {
              modelId: 'm',
              version: 'v',
              artifactUri: '',
              sha256: '',
              features: out.features!,
              output: { kind: 'multiclass', classes: 3 },
              classes: CLASSES,
            },
          },
          result.scores,
          2,
        );
        expect(Object.keys(prediction.probabilities!)).toEqual(CLASSES);
        expect(prediction.class).toBe('high');
      } finally {
        await p.close();
      }
    }
    // The same graph is not a binary model: its three probability columns are refused at load.
    await expect(pool.load('mc-as-binary', bytes, out.features!)).rejects.toThrow(OnnxModelError);
    await expect(pool.load('mc-as-4', bytes, out.features!, { kind: 'multiclass', classes: 4 })).rejects.toThrow(
      /expected 4 \(4 classes\)/,
    );
  });

  it('regression: ridge regression, its predictions from onnxruntime equal to the fitted model; a classifier is not a regression model', async () => {
    const train = path.join(dir, 'reg.csv');
    await writeTrainingFile(train, REGRESSION, 300, 3);
    const trainer = trainerFor({ kind: 'builtin', params: {} }, REGRESSION);
    expect(trainer.name).toBe('builtin:ridge-regression');
    const out = await trainer.train({
      trainFile: train,
      featureNames: FEATURES,
      params: {},
      target: REGRESSION,
      seed: 1,
      outDir: path.join(dir, 'reg-out'),
      heartbeat: () => undefined,
    });
    expect(out.metrics.trainRmse as number).toBeLessThan(1.2);
    const model = JSON.parse(await readFile(path.join(dir, 'reg-out', 'model.json'), 'utf8')) as RidgeModel;
    const bytes = new Uint8Array(await readFile(out.onnxPath));
    await pool.load('reg', bytes, out.features!, modelOutputOf(REGRESSION));
    const result = await pool.run('reg', encodeBatch(out.features!, rows));
    expect(result.width).toBe(1);
    rows.forEach((row, i) => expect(Math.abs(predictRidge(model, row) - result.scores[i]!)).toBeLessThan(1e-9));
    await expect(
      trainerFor({ kind: 'builtin', params: { l2: 1 } }, REGRESSION).train({
        trainFile: train,
        featureNames: FEATURES,
        params: { l2: 1 },
        target: REGRESSION,
        seed: 1,
        outDir: path.join(dir, 'reg-bad'),
        heartbeat: () => undefined,
      }),
    ).rejects.toThrow(/unknown ridge regression parameter "l2"; known: alpha/);
    const classifier = multinomialToOnnx(
      fitMultinomialLogistic({
        features: { numeric: ['x1'], categorical: [] },
        rows: [{ x1: 0 }, { x1: 1 }, { x1: 2 }, { x1: 3 }],
        labels: ['a', 'a', 'b', 'b'],
      }).model,
    );
    await expect(pool.load('clf-as-reg', classifier, { numeric: ['x1'], categorical: [] }, REGRESSION)).rejects.toThrow(
      /include none of prediction/,
    );
  });

  it("an external command trainer is told the model's kind and classes in its params file", async () => {
    const train = path.join(dir, 'cmd.csv');
    await writeTrainingFile(train, MULTICLASS, 10, 4);
    const outDir = path.join(dir, 'cmd-out');
    // A stand-in trainer: keeps the params file it was given, writes an empty model and metrics.
    const script = 'cp "$3" "$5/seen-params.json" && printf x > "$5/model.onnx" && echo "{}" > "$5/metrics.json"';
    await commandTrainer(['sh', '-c', script]).train({
      trainFile: train,
      featureNames: FEATURES,
      params: {},
      target: MULTICLASS,
      seed: 1,
      outDir,
      heartbeat: () => undefined,
    });
    const seen = JSON.parse(await readFile(path.join(outDir, 'seen-params.json'), 'utf8')) as Record<string, unknown>;
    expect(seen).toMatchObject({ kind: 'multiclass', classes: CLASSES, label_column: 'label' });
  });
});

describe('model updates name a multiclass or regression model so the scorer reads its output', () => {
  const base = {
    type: 'model-update',
    schema_version: 1,
    model_id: 'm',
    version: 'v1',
    traffic_split: { v1: 1 },
    reason: 'test',
    idempotency_key: 'k',
    published_at: 1,
  };
  const entry = { artifact_uri: 'file:x', sha256: 'a'.repeat(64), features: { numeric: ['x'], categorical: [] } };
  it('a binary entry is unchanged; a multiclass entry carries its classes; a multiclass entry without them is refused', () => {
    expect(kindOfEntry({ kind: 'binary' })).toEqual({});
    expect(kindOfEntry({ kind: 'multiclass', classes: CLASSES })).toEqual({ kind: 'multiclass', classes: CLASSES });
    expect(
      modelUpdateSchema.parse({ ...base, models: { v1: { ...entry, ...kindOfEntry({ kind: 'regression' }) } } }).models
        .v1,
    ).toMatchObject({ kind: 'regression' });
    expect(
      modelUpdateSchema.safeParse({ ...base, models: { v1: { ...entry, kind: 'multiclass' } } }).error?.message,
    ).toMatch(/a multiclass model names its classes/);
  });
});
