/**
 * Reads what registering a model needs from ONNX bytes, without loading it: the graph's inputs
 * (name, element type, shape), its outputs' names and its metadata. A small decoder of the
 * protobuf wire format for the few ModelProto fields involved (field numbers from onnx.proto, as
 * model-builder.ts writes them); everything else is skipped.
 */
import { ValidationError } from '../errors.ts';

/** ONNX TensorProto.DataType codes that may feed a feature. */
const ELEMENT_TYPES: Record<number, string> = {
  1: 'float',
  2: 'uint8',
  3: 'int8',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'double',
};

export interface OnnxValue {
  name: string;
  /** `float`, `double`, `int64`, `string`, …; `other` for anything else (a sequence, a map). */
  elementType: string;
  /** Dimensions: a number, a symbolic name, or null when unknown. */
  shape: (number | string | null)[];
}

export interface OnnxModelDescription {
  /** Graph inputs that are not initializers (what a caller must feed). */
  inputs: OnnxValue[];
  outputs: string[];
  metadata: Record<string, string>;
}

/** Describe ONNX bytes; ValidationError when they are not a ModelProto with a graph. */
export function describeOnnx(bytes: Uint8Array): OnnxModelDescription {
  let graph: Uint8Array | null = null;
  const metadata: Record<string, string> = {};
  try {
    for (const f of fields(bytes)) {
      if (f.number === 7 && f.bytes) graph = f.bytes;
      else if (f.number === 14 && f.bytes) {
        let key = '';
        let value = '';
        for (const kv of fields(f.bytes)) {
          if (kv.number === 1 && kv.bytes) key = text(kv.bytes);
          if (kv.number === 2 && kv.bytes) value = text(kv.bytes);
        }
        metadata[key] = value;
      }
    }
  } catch (err) {
    throw new ValidationError(`not an ONNX model: ${(err as Error).message}`);
  }
  if (!graph) throw new ValidationError('not an ONNX model: it has no graph');
  const declared: OnnxValue[] = [];
  const outputs: string[] = [];
  const initializers = new Set<string>();
  for (const f of fields(graph)) {
    if (f.number === 11 && f.bytes) declared.push(valueInfo(f.bytes));
    else if (f.number === 12 && f.bytes) outputs.push(valueInfo(f.bytes).name);
    else if (f.number === 5 && f.bytes) {
      for (const t of fields(f.bytes)) if (t.number === 8 && t.bytes) initializers.add(text(t.bytes));
    }
  }
  return { inputs: declared.filter((v) => !initializers.has(v.name)), outputs, metadata };
}

function valueInfo(bytes: Uint8Array): OnnxValue {
  let name = '';
  let elementType = 'other';
  const shape: (number | string | null)[] = [];
  for (const f of fields(bytes)) {
    if (f.number === 1 && f.bytes) name = text(f.bytes);
    if (f.number !== 2 || !f.bytes) continue;
    for (const t of fields(f.bytes)) {
      if (t.number !== 1 || !t.bytes) continue; // TypeProto.tensor_type
      for (const tt of fields(t.bytes)) {
        if (tt.number === 1 && tt.varint !== undefined) elementType = ELEMENT_TYPES[Number(tt.varint)] ?? 'other';
        if (tt.number === 2 && tt.bytes)
          for (const d of fields(tt.bytes)) {
            if (d.number !== 1 || !d.bytes) continue;
            let dim: number | string | null = null;
            for (const v of fields(d.bytes)) {
              if (v.number === 1 && v.varint !== undefined) dim = Number(v.varint);
              if (v.number === 2 && v.bytes) dim = text(v.bytes);
            }
            shape.push(dim);
          }
      }
    }
  }
  return { name, elementType, shape };
}

interface Field {
  number: number;
  varint?: bigint;
  bytes?: Uint8Array;
}

/** The fields of one protobuf message, in order (fixed-width values are skipped). */
function* fields(buffer: Uint8Array): Generator<Field> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buffer.length) throw new Error('truncated varint');
      const b = buffer[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new Error('varint too long');
    }
  };
  while (pos < buffer.length) {
    const key = varint();
    const number = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) yield { number, varint: varint() };
    else if (wire === 2) {
      const length = Number(varint());
      if (pos + length > buffer.length) throw new Error('truncated field');
      yield { number, bytes: buffer.subarray(pos, pos + length) };
      pos += length;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

const decoder = new TextDecoder();
const text = (bytes: Uint8Array): string => decoder.decode(bytes);
