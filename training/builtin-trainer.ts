/**
 * The built-in trainers: {@link fitLogistic} on the snapshot's CSV, exported with
 * {@link logisticToOnnx}, for binary models; multinomial logistic or ridge regression for
 * multiclass and regression models (linear-trainers-builtin.ts), chosen by the model's kind.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { logLoss } from '../detectors/quality/probabilistic.ts';
import { rocAuc } from '../detectors/quality/roc-auc.ts';
import { projectRoot } from '../platform/paths.ts';
import { readTrainingCsv } from './csv.ts';
import { fitLogistic, LOGISTIC_DEFAULTS, predictProbability, type LogisticParams } from './logistic.ts';
import { logisticToOnnx } from './logistic-onnx.ts';
import { MULTINOMIAL_TRAINER_NAME, RIDGE_TRAINER_NAME, trainLinearBuiltin } from './linear-trainers-builtin.ts';
import { TrainerError, type Trainer, type TrainOutput, type TrainRequest } from './trainer.ts';
import type { TrainingTarget } from './training-target.ts';

let cachedCodeVersion: string | undefined;

/** halflife's package version plus the git commit when running from a checkout. */
export function halflifeCodeVersion(): string {
  if (cachedCodeVersion) return cachedCodeVersion;
  let version = '0.0.0';
  try {
    version = (JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    // keep the placeholder
  }
  let commit = '';
  try {
    commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: projectRoot,
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    })
      .toString()
      .trim();
  } catch {
    // not a checkout
  }
  cachedCodeVersion = `halflife@${version}${commit ? `+${commit}` : ''}`;
  return cachedCodeVersion;
}

function parseParams(params: Record<string, unknown>): Partial<LogisticParams> {
  const out: Partial<LogisticParams> = {};
  for (const [key, value] of Object.entries(params)) {
    if (!(key in LOGISTIC_DEFAULTS))
      throw new TrainerError(
        `unknown logistic-regression parameter ${JSON.stringify(key)}; known: ${Object.keys(LOGISTIC_DEFAULTS).join(', ')}`,
        true,
      );
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw new TrainerError(`parameter ${key} must be a non-negative number, got ${JSON.stringify(value)}`, true);
    (out as Record<string, number>)[key] = value;
  }
  return out;
}

export const builtinLogisticTrainer: Trainer = {
  name: 'builtin:logistic-regression',
  async train(request: TrainRequest): Promise<TrainOutput> {
    const params = { ...LOGISTIC_DEFAULTS, ...parseParams(request.params) };
    const t0 = performance.now();
    const data = await readTrainingCsv(request.trainFile, request.featureNames);
    if (data.rows.length < 2)
      throw new TrainerError(`the training file has ${data.rows.length} rows: too few to train`, true);
    let fit;
    try {
      fit = fitLogistic(
        { features: request.featureNames, rows: data.rows, labels: data.labels },
        params,
        request.seed,
        (iteration, objective) => {
          if (request.signal?.aborted) throw new TrainerError('training cancelled', false);
          request.heartbeat({ iteration, objective });
        },
      );
    } catch (err) {
      if (err instanceof TrainerError) throw err;
      throw new TrainerError(`logistic regression failed: ${(err as Error).message}`, err instanceof RangeError);
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    const scores = data.rows.map((r) => predictProbability(fit.model, r));
    const accuracy =
      scores.reduce((acc, p, i) => acc + ((p >= 0.5 ? 1 : 0) === data.labels[i] ? 1 : 0), 0) / scores.length;
    const metrics = {
      rows: data.rows.length,
      positives: data.labels.reduce((a, b) => a + b, 0),
      trainLogLoss: logLoss(data.labels, scores),
      trainAccuracy: accuracy,
      trainRocAuc: rocAuc(data.labels, scores),
      iterations: fit.iterations,
      converged: fit.converged,
      solver: fit.solver,
      objective: fit.objective,
      trainSeconds,
    };
    await mkdir(request.outDir, { recursive: true });
    const codeVersion = halflifeCodeVersion();
    const onnxPath = path.join(request.outDir, 'model.onnx');
    await writeFile(
      onnxPath,
      logisticToOnnx(fit.model, {
        'halflife.trainer': 'builtin:logistic-regression',
        'halflife.code_version': codeVersion,
        'halflife.seed': String(request.seed),
      }),
    );
    // The fitted coefficients, for audits and for comparing with the ONNX graph.
    await writeFile(path.join(request.outDir, 'model.json'), JSON.stringify(fit.model));
    await writeFile(path.join(request.outDir, 'metrics.json'), JSON.stringify(metrics));
    return { onnxPath, metrics, params: { ...params }, codeVersion };
  },
};

/** The built-in trainer of a model's kind: logistic (binary), multinomial logistic (multiclass), ridge (regression). */
export function builtinTrainerFor(target: TrainingTarget): Trainer {
  if (target.kind === 'binary') return builtinLogisticTrainer;
  return {
    name: target.kind === 'multiclass' ? MULTINOMIAL_TRAINER_NAME : RIDGE_TRAINER_NAME,
    train: (request) => trainLinearBuiltin(request, target, halflifeCodeVersion()),
  };
}
