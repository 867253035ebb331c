import { describe, expect, it } from 'vitest';
import { encodeModel, OnnxType } from '../../platform/onnx/model-builder.ts';
import { describeOnnx } from '../../platform/onnx/model-reader.ts';
import { ValidationError } from '../../platform/errors.ts';

describe('describeOnnx', () => {
  it('reads inputs with their types and shapes, outputs and metadata, leaving initializers out', () => {
    const bytes = encodeModel({
      producerName: 'test',
      producerVersion: '1',
      graphName: 'g',
      opsets: [{ domain: '', version: 17 }],
      nodes: [{ opType: 'Identity', inputs: ['age'], outputs: ['probability'] }],
      initializers: [{ name: 'weights', dataType: OnnxType.FLOAT, dims: [1], values: [0.5] }],
      inputs: [
        { name: 'age', elemType: OnnxType.FLOAT, shape: ['N', 1] },
        { name: 'plan', elemType: OnnxType.STRING, shape: ['N', 1] },
        { name: 'weights', elemType: OnnxType.FLOAT, shape: [1] },
      ],
      outputs: [{ name: 'probability', elemType: OnnxType.FLOAT, shape: ['N', 1] }],
      metadata: { 'halflife.features': '{"numeric":["age"],"categorical":["plan"]}' },
    });
    expect(describeOnnx(bytes)).toEqual({
      inputs: [
        { name: 'age', elementType: 'float', shape: ['N', 1] },
        { name: 'plan', elementType: 'string', shape: ['N', 1] },
      ],
      outputs: ['probability'],
      metadata: { 'halflife.features': '{"numeric":["age"],"categorical":["plan"]}' },
    });
  });

  it('refuses bytes that are not a model', () => {
    expect(() => describeOnnx(new TextEncoder().encode('{"not": "onnx"}'))).toThrow(ValidationError);
    expect(() => describeOnnx(new Uint8Array([0x08, 0x08]))).toThrow(/no graph/);
  });
});
