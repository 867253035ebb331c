/**
 * The built-in trainers of multiclass and regression models: multinomial logistic regression
 * (classes in the model's declared order) and ridge regression, each exported as its ONNX graph
 * (linear-onnx.ts). Both take numeric features only: categorical columns of the training file are
 * left out, and the model's features say so (the metrics name them).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FeatureNames } from '../platform/onnx/features.ts';
import { readTrainingCsv } from './csv.ts';
import { multinomialToOnnx, ridgeToOnnx } from './linear-onnx.ts';
import { fitMultinomialLogistic, MULTINOMIAL_DEFAULTS, predictClassProbabilities } from './multinomial-logistic.ts';
import { fitRidge, predictRidge, RIDGE_DEFAULTS } from './ridge.ts';
import { TrainerError, type TrainOutput, type TrainRequest } from './trainer.ts';
import type { TrainingTarget } from './training-target.ts';

export const MULTINOMIAL_TRAINER_NAME = 'builtin:multinomial-logistic-regression';
export const RIDGE_TRAINER_NAME = 'builtin:ridge-regression';

function parseParams(known: Readonly<object>, params: Record<string, unknown>, what: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(params)) {
    if (!(key in known))
      throw new TrainerError(
        `unknown ${what} parameter ${JSON.stringify(key)}; known: ${Object.keys(known).join(', ')}`,
        true,
      );
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw new TrainerError(`parameter ${key} must be a non-negative number, got ${JSON.stringify(value)}`, true);
    out[key] = value;
  }
  return out;
}

/** Train the built-in model of a multiclass or regression target; `codeVersion` is recorded in the graph. */
export async function trainLinearBuiltin(
  request: TrainRequest,
  target: Exclude<TrainingTarget, { kind: 'binary' }>,
  codeVersion: string,
): Promise<TrainOutput> {
  const t0 = performance.now();
  const features: FeatureNames = { numeric: [...request.featureNames.numeric], categorical: [] };
  if (features.numeric.length === 0)
    throw new TrainerError(
      `the built-in ${target.kind} trainer takes numeric features and the training data has none (categorical: ${request.featureNames.categorical.join(', ') || 'none'}); one-hot encode them or use a command trainer`,
      true,
    );
  const data = await readTrainingCsv(request.trainFile, request.featureNames, target);
  if (data.rows.length < 2)
    throw new TrainerError(`the training file has ${data.rows.length} rows: too few to train`, true);
  if (request.signal?.aborted) throw new TrainerError('training cancelled', false);
  const ignored = request.featureNames.categorical;
  const metadata = {
    'halflife.code_version': codeVersion,
    'halflife.seed': String(request.seed),
  };
  let bytes: Uint8Array;
  let metrics: Record<string, unknown>;
  let params: Record<string, number>;
  let model: unknown;
  try {
    if (target.kind === 'multiclass') {
      params = {
        ...MULTINOMIAL_DEFAULTS,
        ...parseParams(MULTINOMIAL_DEFAULTS, request.params, 'multinomial logistic regression'),
      };
      const fit = fitMultinomialLogistic(
        {
          features,
          rows: data.rows,
          labels: data.labels.map((y) => target.classes[y] as string),
          classes: target.classes,
        },
        params,
      );
      request.heartbeat({ iterations: fit.iterations, objective: fit.objective });
      let logLoss = 0;
      let correct = 0;
      data.rows.forEach((row, i) => {
        const p = predictClassProbabilities(fit.model, row);
        const y = data.labels[i] as number;
        logLoss -= Math.log(Math.max(p[y] as number, 1e-15));
        if (p.indexOf(Math.max(...p)) === y) correct++;
      });
      metrics = {
        rows: data.rows.length,
        classes: target.classes,
        trainLogLoss: logLoss / data.rows.length,
        trainAccuracy: correct / data.rows.length,
        iterations: fit.iterations,
        converged: fit.converged,
        objective: fit.objective,
      };
      bytes = multinomialToOnnx(fit.model, { 'halflife.trainer': MULTINOMIAL_TRAINER_NAME, ...metadata });
      model = fit.model;
    } else {
      params = { ...RIDGE_DEFAULTS, ...parseParams(RIDGE_DEFAULTS, request.params, 'ridge regression') };
      const fit = fitRidge({ features, rows: data.rows, targets: data.labels }, params);
      let squares = 0;
      let absolute = 0;
      data.rows.forEach((row, i) => {
        const e = (data.labels[i] as number) - predictRidge(fit, row);
        squares += e * e;
        absolute += Math.abs(e);
      });
      metrics = {
        rows: data.rows.length,
        trainRmse: Math.sqrt(squares / data.rows.length),
        trainMae: absolute / data.rows.length,
      };
      bytes = ridgeToOnnx(fit, { 'halflife.trainer': RIDGE_TRAINER_NAME, ...metadata });
      model = fit;
    }
  } catch (err) {
    if (err instanceof TrainerError) throw err;
    // A RangeError is the data's fault (a single class, a value that is not a number): retrying cannot help.
    throw new TrainerError(`${target.kind} training failed: ${(err as Error).message}`, err instanceof RangeError);
  }
  metrics.trainSeconds = (performance.now() - t0) / 1000;
  if (ignored.length > 0) metrics.ignoredCategoricalFeatures = ignored;
  await mkdir(request.outDir, { recursive: true });
  const onnxPath = path.join(request.outDir, 'model.onnx');
  await writeFile(onnxPath, bytes);
  await writeFile(path.join(request.outDir, 'model.json'), JSON.stringify(model));
  await writeFile(path.join(request.outDir, 'metrics.json'), JSON.stringify(metrics));
  return { onnxPath, features, metrics, params: { ...params }, codeVersion };
}
