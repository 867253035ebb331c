// One onnxruntime session serving halflife's input contract (docs/trainers.md), shared by the
// runner threads (runner-worker.mjs) and the in-process path of OnnxPool, so both wrap the same
// arrays into the same tensors and read the same output: their scores are identical.
// Plain JavaScript so the runner thread starts under plain Node, tsx and vitest alike.
//
// Two ways to run a session, with the same native session code underneath:
// - 'direct': onnxruntime-node's native binding, whose run() is synchronous. The public
//   InferenceSession.run wraps that same call in a setImmediate turn (onnxruntime#19611), checks
//   feeds and fetches and re-wraps the outputs: about a third of a single-row call's CPU time
//   (BENCHMARKS.md, "Scoring and shadow evaluation"). The binding is not public API, so it is used only with the
//   exact onnxruntime-node version it was read against (DIRECT_RUN_VERSION) and when it has the
//   shape this file calls; anything else falls back to 'public'. A direct run blocks the thread
//   like a public one, but without the turn before it: OnnxPool bounds how long consecutive
//   in-process runs may hold the event loop.
// - 'public': InferenceSession.create and run.
import { createRequire } from 'node:module';
// Before onnxruntime-node: the library reads its telemetry opt-out when it loads.
import './telemetry-off.mjs';
import * as ort from 'onnxruntime-node';
import { timedRun, timedSyncRun } from './run-clock.mjs';

/** The onnxruntime-node release whose native binding (dist/binding.js) this file calls directly. */
export const DIRECT_RUN_VERSION = '1.30.0';

const PROBABILITY_OUTPUTS = ['probability', 'probabilities', 'output_probability'];
// A multiclass model's class-probability matrix [N, K]: halflife's graphs and skl2onnx name it so.
const CLASS_PROBABILITY_OUTPUTS = ['probabilities', 'output_probability', 'probability'];
// A regression model's prediction [N] or [N, 1]: halflife's graphs, skl2onnx ('variable') and others.
const PREDICTION_OUTPUTS = ['prediction', 'variable', 'predictions', 'output', 'value'];
// How far a probability vector's sum may stray from 1 (= detectors/quality PROBABILITY_SUM_TOLERANCE).
const SUM_TOLERANCE = 1e-6;

const BINARY = { kind: 'binary' };

/**
 * onnxruntime-node's binding module ({ binding, initOrt }) when onnxruntime-node `installed` is
 * the release this file was read against and the module has that shape; null otherwise.
 */
export function directBindingFor(installed) {
  if (installed !== DIRECT_RUN_VERSION) return null;
  try {
    const module = createRequire(import.meta.url)('onnxruntime-node/dist/binding.js');
    return typeof module?.initOrt === 'function' && typeof module.binding?.InferenceSession === 'function'
      ? module
      : null;
  } catch {
    return null;
  }
}

const directBinding = directBindingFor(ort.env.versions?.node);

/** Whether sessions open as 'direct' here (the installed onnxruntime-node is the one it was read against). */
export const directRunAvailable = directBinding !== null;

// A tensor the binding reads: what onnxruntime-common's Tensor exposes to it, without the
// constructor's checks (feeds() makes them itself).
const cpuValue = (type, data, dims) => ({ type, data, dims, location: 'cpu' });

const EMPTY_NUMERIC = new Float32Array(0);

/**
 * A native session and its input and output names, or null when the binding does not have the
 * shape this file calls (then the public API is used). Throws when onnxruntime refuses the model.
 */
function openDirect(bytes, sessionOptions) {
  directBinding.initOrt();
  const native = new directBinding.binding.InferenceSession();
  // As InferenceSession.create passes them on (no execution providers: the CPU one).
  native.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, { ...sessionOptions, executionProviders: [] });
  const names = (metadata) =>
    Array.isArray(metadata) && metadata.every((m) => typeof m?.name === 'string') ? metadata.map((m) => m.name) : null;
  const inputNames = names(native.inputMetadata);
  const outputNames = names(native.outputMetadata);
  if (!inputNames || !outputNames || typeof native.run !== 'function' || typeof native.dispose !== 'function') {
    native.dispose?.();
    return null;
  }
  return { native, inputNames, outputNames };
}

function findOutput(names, output) {
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

function describe(inputNames, outputNames, features, output) {
  const inputs = [...inputNames];
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
  return { convention, output: findOutput(outputNames, output), inputs, outputs: [...outputNames], kind: output };
}

function checkLengths(model, rows, numeric, categorical) {
  const dn = model.features.numeric.length;
  const dc = model.features.categorical.length;
  // The binding reads the first rows × columns values of a longer array without a word.
  if (numeric.length !== rows * dn)
    throw new Error(
      `numeric input has ${numeric.length} values for ${rows} rows of ${dn} features: expected ${rows * dn}`,
    );
  if (categorical.length !== rows * dc)
    throw new Error(
      `categorical input has ${categorical.length} values for ${rows} rows of ${dc} features: expected ${rows * dc}`,
    );
}

/** The model's inputs for one run; `tensor(type, data, dims)` makes each one. */
function feeds(model, rows, numeric, categorical, tensor) {
  checkLengths(model, rows, numeric, categorical);
  const { features } = model;
  const dn = features.numeric.length;
  const dc = features.categorical.length;
  if (model.convention === 'packed') {
    const f = {};
    if (dn > 0) f.numeric = tensor('float32', numeric, [rows, dn]);
    if (dc > 0) f.categorical = tensor('string', categorical, [rows, dc]);
    return f;
  }
  const f = {};
  for (const name of model.inputs) {
    const j = features.numeric.indexOf(name);
    if (j >= 0) {
      const col = new Float32Array(rows);
      for (let i = 0; i < rows; i++) col[i] = numeric[i * dn + j];
      f[name] = tensor('float32', col, [rows, 1]);
    } else {
      const k = features.categorical.indexOf(name);
      const col = new Array(rows);
      for (let i = 0; i < rows; i++) col[i] = categorical[i * dc + k];
      f[name] = tensor('string', col, [rows, 1]);
    }
  }
  return f;
}

const publicTensor = (type, data, dims) => new ort.Tensor(type, data, dims);

/**
 * A direct session's packed inputs, one object per input kept for the session's life: a direct
 * run reads them synchronously, so no other run can see them changed under it (a public run
 * reads its feeds a turn later, so it gets fresh ones).
 */
function packedFeeds(model, rows, numeric, categorical) {
  checkLengths(model, rows, numeric, categorical);
  const f = model.packed;
  if (f.numeric) {
    f.numeric.data = numeric;
    f.numeric.dims[0] = rows;
  }
  if (f.categorical) {
    f.categorical.data = categorical;
    f.categorical.dims[0] = rows;
  }
  return f;
}

/** Forget the caller's arrays once a direct run has read them. */
function releaseFeeds(model) {
  const f = model.packed;
  if (f?.numeric) f.numeric.data = EMPTY_NUMERIC;
  if (f?.categorical) f.categorical.data = [];
}

/** A direct session's run: the binding's synchronous call, fetching only the output read. */
function runDirect(model, rows, numeric, categorical) {
  const input = model.packed
    ? packedFeeds(model, rows, numeric, categorical)
    : feeds(model, rows, numeric, categorical, cpuValue);
  try {
    return model.native.run(input, model.fetches);
  } finally {
    if (model.packed) releaseFeeds(model);
  }
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
 * was preempted (~4.5 µs more a call: two procfs reads, and for a public session an extra
 * immediate; so only where two runs' latencies are compared); with 'wall' (the default): the wall
 * time from the call.
 * `scores`: a binary model's probability a row; a multiclass model's K class probabilities a row,
 * row-major; a regression model's prediction a row.
 */
export async function runSession(model, rows, numeric, categorical, clock = 'wall') {
  if (model.native) return runSessionNow(model, rows, numeric, categorical, clock);
  const input = feeds(model, rows, numeric, categorical, publicTensor);
  if (clock === 'run') {
    const { value: out, runMs } = await timedRun(() => model.session.run(input, model.fetchNames));
    return { scores: probabilities(model, out, rows), runMs };
  }
  const t0 = performance.now();
  const out = await model.session.run(input, model.fetchNames);
  return { scores: probabilities(model, out, rows), runMs: performance.now() - t0 };
}

/**
 * {@link runSession} of a 'direct' session, returned rather than resolved: the run happens in the
 * call. Throws for a 'public' session.
 */
export function runSessionNow(model, rows, numeric, categorical, clock = 'wall') {
  if (!model.native) throw new Error('runSessionNow needs a direct session (sessionMode(model) is "public")');
  if (clock === 'run') {
    const { value: out, runMs } = timedSyncRun(() => runDirect(model, rows, numeric, categorical));
    return { scores: probabilities(model, out, rows), runMs };
  }
  const t0 = performance.now();
  const out = runDirect(model, rows, numeric, categorical);
  return { scores: probabilities(model, out, rows), runMs: performance.now() - t0 };
}

/** 'direct' (the binding's synchronous run) or 'public' (InferenceSession). */
export function sessionMode(model) {
  return model.native ? 'direct' : 'public';
}

/**
 * Create a session from model bytes and check it serves `features`: its inputs follow a
 * convention, it has the output its kind needs (`options.output`, binary by default), and a dry
 * run on one all-missing row gives a probability, a probability vector or a finite number (type
 * and shape errors surface at load time rather than on the first request).
 */
export async function openSession(bytes, features, options) {
  const sessionOptions = {
    intraOpNumThreads: options.intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  };
  const output = options.output ?? BINARY;
  let opened;
  try {
    opened = options.direct !== false && directRunAvailable ? openDirect(bytes, sessionOptions) : null;
    if (!opened) {
      const session = await ort.InferenceSession.create(bytes, sessionOptions);
      opened = { session, inputNames: session.inputNames, outputNames: session.outputNames };
    }
  } catch (err) {
    throw new Error(`not a loadable ONNX model: ${err?.message ?? err}`, { cause: err });
  }
  const model = { native: opened.native ?? null, session: opened.session ?? null, features };
  try {
    Object.assign(model, describe(opened.inputNames, opened.outputNames, features, output));
    // Only the output read is fetched: a classifier's label or a second output is never copied out.
    model.fetchNames = [model.output];
    model.fetches = { [model.output]: null };
    if (model.native && model.convention === 'packed') {
      const dn = features.numeric.length;
      const dc = features.categorical.length;
      model.packed = {
        ...(dn > 0 ? { numeric: cpuValue('float32', EMPTY_NUMERIC, [0, dn]) } : {}),
        ...(dc > 0 ? { categorical: cpuValue('string', [], [0, dc]) } : {}),
      };
    }
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
    await closeSession(model);
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
  if (model?.native) {
    // The binding throws on a second dispose (and on a run after the first: "Session already disposed").
    if (!model.disposed) model.native.dispose();
    model.disposed = true;
    return;
  }
  await model?.session?.release?.();
}

/** What OnnxPool reports about a loaded model. */
export function sessionInfo(model) {
  return {
    convention: model.convention,
    output: model.output,
    inputs: model.inputs,
    outputs: model.outputs,
    mode: sessionMode(model),
  };
}
