// One onnxruntime session serving halflife's input contract (docs/trainers.md), shared by the
// runner threads (runner-worker.mjs) and the in-process path of OnnxPool, so both wrap the same
// arrays into the same tensors and read the same output: their scores are identical.
// Plain JavaScript so the runner thread starts under plain Node, tsx and vitest alike.
import * as ort from 'onnxruntime-node';
import { timedRun } from './run-clock.mjs';

const PROBABILITY_OUTPUTS = ['probability', 'probabilities', 'output_probability'];
// A multiclass model's class-probability matrix [N, K]: halflife's graphs and skl2onnx name it so.
const CLASS_PROBABILITY_OUTPUTS = ['probabilities', 'output_probability', 'probability'];
// A regression model's prediction [N] or [N, 1]: halflife's graphs, skl2onnx ('variable') and others.
const PREDICTION_OUTPUTS = ['prediction', 'variable', 'predictions', 'output', 'value'];
// How far a probability vector's sum may stray from 1 (= detectors/quality PROBABILITY_SUM_TOLERANCE).
const SUM_TOLERANCE = 1e-6;

const BINARY = { kind: 'binary' };

function findOutput(session, output) {
  const names = session.outputNames;
  if (output.kind === 'multiclass') {
    const found = CLASS_PROBABILITY_OUTPUTS.find((n) => names.includes(n));
    if (!found)
      throw new Error(
        `model outputs [${names.join(', ')}] include none of ${CLASS_PROBABILITY_OUTPUTS.join(', ')} (a multiclass model outputs class probabilities [N, ${output.classes}], one column per declared class in order; with skl2onnx pass options {zipmap: False})`,
      );
    return found;
  }
  if (output.kind === 'regression') {
    const found = PREDICTION_OUTPUTS.find((n) => names.includes(n));
    if (!found)
      throw new Error(
        `model outputs [${names.join(', ')}] include none of ${PREDICTION_OUTPUTS.join(', ')} (a regression model outputs its prediction [N] or [N, 1])`,
      );
    return found;
  }
  const found = PROBABILITY_OUTPUTS.find((n) => names.includes(n));
  if (!found) {
    throw new Error(
      `model outputs [${names.join(', ')}] include none of ${PROBABILITY_OUTPUTS.join(', ')} (a probability tensor [N] or [N, 1], or class probabilities [N, 2]; with skl2onnx pass options {zipmap: False})`,
    );
  }
  return found;
}

function describe(session, features, output) {
  const inputs = [...session.inputNames];
  const needed = [];
  if (features.numeric.length > 0) needed.push('numeric');
  if (features.categorical.length > 0) needed.push('categorical');
  let convention;
  if (
    inputs.every((n) => n === 'numeric' || n === 'categorical') &&
    needed.every((n) => inputs.includes(n)) &&
    inputs.length === needed.length
  ) {
    convention = 'packed';
  } else {
    const all = new Set([...features.numeric, ...features.categorical]);
    if (inputs.length > 0 && inputs.every((n) => all.has(n))) convention = 'per-column';
    else {
      throw new Error(
        `model inputs [${inputs.join(', ')}] match neither input convention: expected 'numeric' [N, ${features.numeric.length}] float and/or 'categorical' [N, ${features.categorical.length}] string, or one [N, 1] input per feature named after it (docs/trainers.md)`,
      );
    }
  }
  return { convention, output: findOutput(session, output), inputs, outputs: [...session.outputNames], kind: output };
}

function feeds(model, rows, numeric, categorical) {
  const { features } = model;
  const dn = features.numeric.length;
  const dc = features.categorical.length;
  if (model.convention === 'packed') {
    const f = {};
    if (dn > 0) f.numeric = new ort.Tensor('float32', numeric, [rows, dn]);
    if (dc > 0) f.categorical = new ort.Tensor('string', categorical, [rows, dc]);
    return f;
  }
  const f = {};
  for (const name of model.inputs) {
    const j = features.numeric.indexOf(name);
    if (j >= 0) {
      const col = new Float32Array(rows);
      for (let i = 0; i < rows; i++) col[i] = numeric[i * dn + j];
      f[name] = new ort.Tensor('float32', col, [rows, 1]);
    } else {
      const k = features.categorical.indexOf(name);
      const col = new Array(rows);
      for (let i = 0; i < rows; i++) col[i] = categorical[i * dc + k];
      f[name] = new ort.Tensor('string', col, [rows, 1]);
    }
  }
  return f;
}

function probabilities(model, out, rows) {
  const t = out[model.output];
  if (!t || typeof t !== 'object' || !('data' in t))
    throw new Error(
      `output ${model.output} is not a tensor (a ZipMap sequence of maps? pass options {zipmap: False} to skl2onnx)`,
    );
  const data = t.data;
  if (model.kind.kind === 'multiclass') {
    const k = model.kind.classes;
    if (data.length !== rows * k)
      throw new Error(
        `output ${model.output} has ${data.length} values for ${rows} rows: expected ${rows * k} (${k} classes)`,
      );
    return Float64Array.from(data, Number);
  }
  if (model.kind.kind === 'regression') {
    if (data.length !== rows)
      throw new Error(
        `output ${model.output} has ${data.length} values for ${rows} rows: expected one prediction a row`,
      );
    return Float64Array.from(data, Number);
  }
  const scores = new Float64Array(rows);
  if (data.length === rows) for (let i = 0; i < rows; i++) scores[i] = Number(data[i]);
  else if (data.length === rows * 2) for (let i = 0; i < rows; i++) scores[i] = Number(data[2 * i + 1]);
  else
    throw new Error(
      `output ${model.output} has ${data.length} values for ${rows} rows: expected ${rows} (probability) or ${rows * 2} (two-class probabilities)`,
    );
  return scores;
}

/**
 * Score `rows` encoded rows; resolves to { scores, runMs }. runMs with `clock` 'run': time inside
 * onnxruntime, taken by run-clock.mjs without the event loop's turn before it or time the thread
 * was preempted (~4.5 µs more a call: an extra immediate and two procfs reads, a third of a
 * single-row call, so only where two runs' latencies are compared); with 'wall' (the default):
 * the wall time from the call.
 * `scores`: a binary model's probability a row; a multiclass model's K class probabilities a row,
 * row-major; a regression model's prediction a row.
 */
export async function runSession(model, rows, numeric, categorical, clock = 'wall') {
  const input = feeds(model, rows, numeric, categorical);
  if (clock === 'run') {
    const { value: out, runMs } = await timedRun(() => model.session.run(input));
    return { scores: probabilities(model, out, rows), runMs };
  }
  const t0 = performance.now();
  const out = await model.session.run(input);
  return { scores: probabilities(model, out, rows), runMs: performance.now() - t0 };
}

/**
 * Create a session from model bytes and check it serves `features`: its inputs follow a
 * convention, it has the output its kind needs (`options.output`, binary by default), and a dry
 * run on one all-missing row gives a probability, a probability vector or a finite number (type
 * and shape errors surface at load time rather than on the first request).
 */
export async function openSession(bytes, features, options) {
  let session;
  try {
    session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: options.intraOpThreads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  } catch (err) {
    throw new Error(`not a loadable ONNX model: ${err?.message ?? err}`, { cause: err });
  }
  try {
    const output = options.output ?? BINARY;
    const model = { session, features, ...describe(session, features, output) };
    const probe = await runSession(
      model,
      1,
      new Float32Array(features.numeric.length).fill(0),
      new Array(features.categorical.length).fill(''),
    );
    const problem = outputProblem(output, probe.scores, 0);
    if (problem) throw new Error(`probe row: ${problem}`);
    return model;
  } catch (err) {
    await session.release?.();
    throw err;
  }
}

/** Why row `row` of a run's scores is not what a model of this kind outputs, or null. */
export function outputProblem(output, scores, row) {
  if (output.kind === 'multiclass') {
    const k = output.classes;
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const p = scores[row * k + j];
      if (!(p >= 0 && p <= 1)) return `class probability ${p} is not in [0, 1]`;
      sum += p;
    }
    return Math.abs(sum - 1) <= SUM_TOLERANCE ? null : `class probabilities sum to ${sum}, not 1`;
  }
  const v = scores[row];
  if (output.kind === 'regression') return Number.isFinite(v) ? null : `prediction ${v} is not a finite number`;
  return v >= 0 && v <= 1 ? null : `scored ${v}, not a probability in [0, 1]`;
}

export async function closeSession(model) {
  await model?.session.release?.();
}

/** What OnnxPool reports about a loaded model. */
export function sessionInfo(model) {
  return { convention: model.convention, output: model.output, inputs: model.inputs, outputs: model.outputs };
}
