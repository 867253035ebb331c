// ONNX runner thread (plain JavaScript so it starts under plain Node, tsx and vitest alike).
// onnxruntime-node's run() blocks the thread it is called on (onnxruntime#19611), so sessions
// live here and the event loop of the caller stays free. Protocol: see platform/onnx/pool.ts.
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

const sessions = new Map();
const PROBABILITY_OUTPUTS = ['probability', 'probabilities', 'output_probability'];
const sessionOptions = {
  intraOpNumThreads: workerData?.intraOpThreads ?? 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
};

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

function feeds(model, features, rows, numeric, categorical) {
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

async function run(key, rows, numeric, categorical) {
  const model = sessions.get(key);
  if (!model) throw new Error(`model ${key} is not loaded in this runner`);
  const t0 = performance.now();
  const out = await model.session.run(feeds(model, model.features, rows, numeric, categorical));
  const runMs = performance.now() - t0;
  return { scores: probabilities(model, out, rows), runMs };
}

parentPort.on('message', async (msg) => {
  const { id, op } = msg;
  try {
    if (op === 'load') {
      let session;
      try {
        session = await ort.InferenceSession.create(msg.bytes, sessionOptions);
      } catch (err) {
        throw new Error(`not a loadable ONNX model: ${err?.message ?? err}`, { cause: err });
      }
      let info;
      try {
        info = describe(session, msg.features);
        const model = { session, features: msg.features, ...info };
        sessions.set(msg.key, model);
        // A dry run on one all-missing row catches type and shape errors at load time rather
        // than on the first real request.
        const dn = msg.features.numeric.length;
        const dc = msg.features.categorical.length;
        const probe = await run(msg.key, 1, new Float32Array(dn).fill(0), new Array(dc).fill(''));
        if (!(probe.scores[0] >= 0 && probe.scores[0] <= 1))
          throw new Error(`probe row scored ${probe.scores[0]}, not a probability in [0, 1]`);
      } catch (err) {
        sessions.delete(msg.key);
        await session.release?.();
        throw err;
      }
      parentPort.postMessage({ id, ok: true, info });
    } else if (op === 'run') {
      const { scores, runMs } = await run(msg.key, msg.rows, msg.numeric, msg.categorical);
      parentPort.postMessage({ id, ok: true, scores, runMs }, [scores.buffer]);
    } else if (op === 'unload') {
      const model = sessions.get(msg.key);
      sessions.delete(msg.key);
      await model?.session.release?.();
      parentPort.postMessage({ id, ok: true });
    } else {
      throw new Error(`unknown op ${op}`);
    }
  } catch (err) {
    parentPort.postMessage({ id, ok: false, error: String(err?.message ?? err) });
  }
});
