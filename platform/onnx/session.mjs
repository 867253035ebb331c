// One onnxruntime session serving halflife's input contract (docs/trainers.md), shared by the
// runner threads (runner-worker.mjs) and the in-process path of OnnxPool, so both wrap the same
// arrays into the same tensors and read the same output: their scores are identical.
// Plain JavaScript so the runner thread starts under plain Node, tsx and vitest alike.
import * as ort from 'onnxruntime-node';

const PROBABILITY_OUTPUTS = ['probability', 'probabilities', 'output_probability'];

function describe(session, features) {
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
  const output = PROBABILITY_OUTPUTS.find((n) => session.outputNames.includes(n));
  if (!output) {
    throw new Error(
      `model outputs [${session.outputNames.join(', ')}] include none of ${PROBABILITY_OUTPUTS.join(', ')} (a probability tensor [N] or [N, 1], or class probabilities [N, 2]; with skl2onnx pass options {zipmap: False})`,
    );
  }
  return { convention, output, inputs, outputs: [...session.outputNames] };
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
  const scores = new Float64Array(rows);
  if (data.length === rows) for (let i = 0; i < rows; i++) scores[i] = Number(data[i]);
  else if (data.length === rows * 2) for (let i = 0; i < rows; i++) scores[i] = Number(data[2 * i + 1]);
  else
    throw new Error(
      `output ${model.output} has ${data.length} values for ${rows} rows: expected ${rows} (probability) or ${rows * 2} (two-class probabilities)`,
    );
  return scores;
}

/** Score `rows` encoded rows; resolves to { scores, runMs } (runMs: time inside onnxruntime). */
export async function runSession(model, rows, numeric, categorical) {
  const t0 = performance.now();
  const out = await model.session.run(feeds(model, rows, numeric, categorical));
  const runMs = performance.now() - t0;
  return { scores: probabilities(model, out, rows), runMs };
}

/**
 * Create a session from model bytes and check it serves `features`: its inputs follow a
 * convention, it has a probability output, and a dry run on one all-missing row gives a
 * probability (type and shape errors surface at load time rather than on the first request).
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
    const model = { session, features, ...describe(session, features) };
    const probe = await runSession(
      model,
      1,
      new Float32Array(features.numeric.length).fill(0),
      new Array(features.categorical.length).fill(''),
    );
    if (!(probe.scores[0] >= 0 && probe.scores[0] <= 1))
      throw new Error(`probe row scored ${probe.scores[0]}, not a probability in [0, 1]`);
    return model;
  } catch (err) {
    await session.release?.();
    throw err;
  }
}

export async function closeSession(model) {
  await model?.session.release?.();
}

/** What OnnxPool reports about a loaded model. */
export function sessionInfo(model) {
  return { convention: model.convention, output: model.output, inputs: model.inputs, outputs: model.outputs };
}
