/**
 * ONNX graph of a {@link LogisticModel}, taking raw features (the packed input convention of
 * docs/trainers.md) so serving needs no TypeScript preprocessing:
 *
 *   numeric [N, Dn] float ─Cast(double)─ Where(IsNaN, mean) ─Sub(mean)─Div(scale)─MatMul(w) ─┐
 *   categorical [N, Dc] string ─ per column: Gather ─ ai.onnx.ml LabelEncoder(category → weight,
 *                                 default = unknown-bucket weight) ─Cast(double) ───────────── Add ─ +bias ─ Sigmoid ─ probability [N, 1] double
 *
 * The arithmetic is in double so onnxruntime and the TypeScript model agree to ~1e-15.
 */
import { encodeModel, OnnxType, type GraphNode, type Tensor } from '../platform/onnx/model-builder.ts';
import type { LogisticModel } from './logistic.ts';

export const LOGISTIC_OPSETS = [
  { domain: '', version: 13 },
  { domain: 'ai.onnx.ml', version: 2 },
] as const;

export function logisticToOnnx(model: LogisticModel, metadata: Record<string, string> = {}): Uint8Array {
  const dn = model.features.numeric.length;
  const dc = model.features.categorical.length;
  const nodes: GraphNode[] = [];
  const initializers: Tensor[] = [];
  const terms: string[] = [];

  if (dn > 0) {
    initializers.push(
      { name: 'num_mean', dataType: OnnxType.DOUBLE, dims: [dn], values: model.numeric.mean },
      { name: 'num_scale', dataType: OnnxType.DOUBLE, dims: [dn], values: model.numeric.scale },
      { name: 'num_weight', dataType: OnnxType.DOUBLE, dims: [dn, 1], values: model.numeric.weight },
    );
    nodes.push(
      { opType: 'Cast', inputs: ['numeric'], outputs: ['num_d'], attributes: { to: { int: OnnxType.DOUBLE } } },
      { opType: 'IsNaN', inputs: ['num_d'], outputs: ['num_missing'] },
      // Missing values become the training mean, i.e. a standardised 0.
      { opType: 'Where', inputs: ['num_missing', 'num_mean', 'num_d'], outputs: ['num_imputed'] },
      { opType: 'Sub', inputs: ['num_imputed', 'num_mean'], outputs: ['num_centered'] },
      { opType: 'Div', inputs: ['num_centered', 'num_scale'], outputs: ['num_z'] },
      { opType: 'MatMul', inputs: ['num_z', 'num_weight'], outputs: ['num_logit'] },
    );
    terms.push('num_logit');
  }
  model.categorical.forEach((enc, j) => {
    const idx = `cat${j}_index`;
    initializers.push({ name: idx, dataType: OnnxType.INT64, dims: [1], values: [j] });
    nodes.push(
      { opType: 'Gather', inputs: ['categorical', idx], outputs: [`cat${j}_col`], attributes: { axis: { int: 1 } } },
      {
        opType: 'LabelEncoder',
        domain: 'ai.onnx.ml',
        inputs: [`cat${j}_col`],
        outputs: [`cat${j}_w`],
        attributes: {
          keys_strings: { strings: enc.categories },
          values_floats: { floats: enc.weights },
          default_float: { float: enc.unknownWeight },
        },
      },
      {
        opType: 'Cast',
        inputs: [`cat${j}_w`],
        outputs: [`cat${j}_logit`],
        attributes: { to: { int: OnnxType.DOUBLE } },
      },
    );
    terms.push(`cat${j}_logit`);
  });
  if (terms.length === 0) throw new RangeError('a model needs at least one feature');
  // LabelEncoder needs at least one key: a feature with no frequent category gets a placeholder
  // that can never match a real value's weight (it maps to the unknown weight anyway).
  for (const n of nodes) {
    const keys = n.attributes?.keys_strings;
    if (keys && 'strings' in keys && keys.strings.length === 0) {
      const unknown = n.attributes?.default_float;
      const w = unknown && 'float' in unknown ? unknown.float : 0;
      (n as { attributes: Record<string, unknown> }).attributes = {
        ...n.attributes,
        keys_strings: { strings: [''] },
        values_floats: { floats: [w] },
      };
    }
  }
  initializers.push({ name: 'bias', dataType: OnnxType.DOUBLE, dims: [1], values: [model.bias] });
  let acc = terms[0] as string;
  terms.slice(1).forEach((t, i) => {
    nodes.push({ opType: 'Add', inputs: [acc, t], outputs: [`sum${i}`] });
    acc = `sum${i}`;
  });
  nodes.push(
    { opType: 'Add', inputs: [acc, 'bias'], outputs: ['logit'] },
    { opType: 'Sigmoid', inputs: ['logit'], outputs: ['probability'] },
  );

  return encodeModel({
    graphName: 'halflife_logistic_regression',
    nodes,
    initializers,
    inputs: [
      ...(dn > 0 ? [{ name: 'numeric', elemType: OnnxType.FLOAT, shape: ['N', dn] }] : []),
      ...(dc > 0 ? [{ name: 'categorical', elemType: OnnxType.STRING, shape: ['N', dc] }] : []),
    ] as const,
    outputs: [{ name: 'probability', elemType: OnnxType.DOUBLE, shape: ['N', 1] }],
    opsets: LOGISTIC_OPSETS,
    producerName: 'halflife',
    producerVersion: '0.1.0',
    docString:
      'Binary logistic regression trained by halflife; inputs follow the packed convention of docs/trainers.md.',
    metadata: {
      'halflife.features': JSON.stringify(model.features),
      'halflife.output': 'probability of class 1',
      ...metadata,
    },
  });
}
