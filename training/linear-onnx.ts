/**
 * ONNX graphs of the built-in multinomial logistic and ridge models, taking the packed numeric
 * input of docs/trainers.md so serving needs no TypeScript preprocessing:
 *
 *   numeric [N, D] float ─Cast(double)─ Where(IsNaN, mean) ─Sub(mean)─Div(scale)─MatMul(W)─Add(b) ─┬ Softmax ─ probabilities [N, K] double
 *                                                                                                 └ ArgMax ─ label [N] int64 (class index)
 *   (ridge: ─MatMul(w)─Add(b) ─ prediction [N, 1] double)
 *
 * The arithmetic is in double so onnxruntime and the TypeScript model agree to ~1e-15.
 */
import { encodeModel, OnnxType, type GraphNode, type Tensor } from '../platform/onnx/model-builder.ts';
import type { MultinomialModel } from './multinomial-logistic.ts';
import type { RidgeModel } from './ridge.ts';

const OPSETS = [{ domain: '', version: 13 }] as const;

/** The shared front: raw float32 features → standardised doubles in `z`. */
function standardisedInput(model: { numeric: { mean: number[]; scale: number[] } }, d: number) {
  if (d === 0) throw new RangeError('a model needs at least one numeric feature');
  const initializers: Tensor[] = [
    { name: 'num_mean', dataType: OnnxType.DOUBLE, dims: [d], values: model.numeric.mean },
    { name: 'num_scale', dataType: OnnxType.DOUBLE, dims: [d], values: model.numeric.scale },
  ];
  const nodes: GraphNode[] = [
    { opType: 'Cast', inputs: ['numeric'], outputs: ['num_d'], attributes: { to: { int: OnnxType.DOUBLE } } },
    { opType: 'IsNaN', inputs: ['num_d'], outputs: ['num_missing'] },
    // Missing values become the training mean, i.e. a standardised 0.
    { opType: 'Where', inputs: ['num_missing', 'num_mean', 'num_d'], outputs: ['num_imputed'] },
    { opType: 'Sub', inputs: ['num_imputed', 'num_mean'], outputs: ['num_centered'] },
    { opType: 'Div', inputs: ['num_centered', 'num_scale'], outputs: ['z'] },
  ];
  return { initializers, nodes };
}

export function multinomialToOnnx(model: MultinomialModel, metadata: Record<string, string> = {}): Uint8Array {
  const d = model.features.numeric.length;
  const k = model.classes.length;
  const front = standardisedInput(model, d);
  return encodeModel({
    graphName: 'halflife_multinomial_logistic_regression',
    nodes: [
      ...front.nodes,
      { opType: 'MatMul', inputs: ['z', 'weights'], outputs: ['linear'] },
      { opType: 'Add', inputs: ['linear', 'bias'], outputs: ['logits'] },
      { opType: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attributes: { axis: { int: 1 } } },
      {
        opType: 'ArgMax',
        inputs: ['logits'],
        outputs: ['label'],
        attributes: { axis: { int: 1 }, keepdims: { int: 0 } },
      },
    ],
    initializers: [
      ...front.initializers,
      { name: 'weights', dataType: OnnxType.DOUBLE, dims: [d, k], values: model.weights.flat() },
      { name: 'bias', dataType: OnnxType.DOUBLE, dims: [k], values: model.bias },
    ],
    inputs: [{ name: 'numeric', elemType: OnnxType.FLOAT, shape: ['N', d] }],
    outputs: [
      { name: 'probabilities', elemType: OnnxType.DOUBLE, shape: ['N', k] },
      { name: 'label', elemType: OnnxType.INT64, shape: ['N'] },
    ],
    opsets: OPSETS,
    producerName: 'halflife',
    producerVersion: '0.1.0',
    docString:
      'Multinomial logistic regression trained by halflife; numeric inputs follow the packed convention of docs/trainers.md.',
    metadata: {
      'halflife.features': JSON.stringify(model.features),
      'halflife.classes': JSON.stringify(model.classes),
      'halflife.output': 'probabilities: one column per class in halflife.classes order; label: the class index',
      ...metadata,
    },
  });
}

export function ridgeToOnnx(model: RidgeModel, metadata: Record<string, string> = {}): Uint8Array {
  const d = model.features.numeric.length;
  const front = standardisedInput(model, d);
  return encodeModel({
    graphName: 'halflife_ridge_regression',
    nodes: [
      ...front.nodes,
      { opType: 'MatMul', inputs: ['z', 'weight'], outputs: ['linear'] },
      { opType: 'Add', inputs: ['linear', 'bias'], outputs: ['prediction'] },
    ],
    initializers: [
      ...front.initializers,
      { name: 'weight', dataType: OnnxType.DOUBLE, dims: [d, 1], values: model.weight },
      { name: 'bias', dataType: OnnxType.DOUBLE, dims: [1], values: [model.bias] },
    ],
    inputs: [{ name: 'numeric', elemType: OnnxType.FLOAT, shape: ['N', d] }],
    outputs: [{ name: 'prediction', elemType: OnnxType.DOUBLE, shape: ['N', 1] }],
    opsets: OPSETS,
    producerName: 'halflife',
    producerVersion: '0.1.0',
    docString: 'Ridge regression trained by halflife; numeric inputs follow the packed convention of docs/trainers.md.',
    metadata: {
      'halflife.features': JSON.stringify(model.features),
      'halflife.output': 'prediction: the numeric target',
      ...metadata,
    },
  });
}
