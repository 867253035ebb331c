/**
 * Writes ONNX ModelProto bytes from a small graph description, using the field numbers of
 * onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto).
 * Only what halflife's built-in trainers emit is supported: dense tensors (raw_data for numbers,
 * string_data for strings), scalar/list attributes and tensor attributes.
 */
import { ProtoWriter } from './protobuf.ts';

/** TensorProto.DataType values used here. */
export const OnnxType = { FLOAT: 1, INT64: 7, STRING: 8, BOOL: 9, DOUBLE: 11 } as const;
export type OnnxTypeCode = (typeof OnnxType)[keyof typeof OnnxType];

/** ONNX IR version 8 (onnx 1.10+): understood by every onnxruntime since 1.10. */
export const ONNX_IR_VERSION = 8;

export interface Tensor {
  name: string;
  dataType: OnnxTypeCode;
  dims: readonly number[];
  /** Numbers for FLOAT/DOUBLE/INT64/BOOL, strings for STRING; row-major. */
  values: readonly number[] | readonly string[];
}

export type Attribute =
  | { int: number }
  | { float: number }
  | { string: string }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { strings: readonly string[] }
  | { tensor: Tensor };

export interface GraphNode {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  /** '' (the default ai.onnx domain) or e.g. 'ai.onnx.ml'. */
  domain?: string;
  attributes?: Readonly<Record<string, Attribute>>;
}

export interface ValueInfo {
  name: string;
  elemType: OnnxTypeCode;
  /** A number is a fixed size; a string is a symbolic dimension (e.g. 'N'). */
  shape: readonly (number | string)[];
}

export interface ModelSpec {
  graphName: string;
  nodes: readonly GraphNode[];
  initializers: readonly Tensor[];
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
  /** e.g. [{ domain: '', version: 13 }, { domain: 'ai.onnx.ml', version: 2 }] */
  opsets: readonly { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  docString?: string;
  /** Stored as ModelProto.metadata_props. */
  metadata?: Readonly<Record<string, string>>;
}

const utf8 = new TextEncoder();

function writeTensor(w: ProtoWriter, t: Tensor): void {
  w.packedInts(1, t.dims); // dims
  w.int(2, t.dataType); // data_type
  w.string(8, t.name); // name
  if (t.dataType === OnnxType.STRING) {
    for (const s of t.values as readonly string[]) w.bytes(6, utf8.encode(s)); // string_data
    return;
  }
  const values = t.values as readonly number[];
  let raw: Uint8Array;
  switch (t.dataType) {
    case OnnxType.FLOAT:
      raw = new Uint8Array(Float32Array.from(values).buffer);
      break;
    case OnnxType.DOUBLE:
      raw = new Uint8Array(Float64Array.from(values).buffer);
      break;
    case OnnxType.INT64:
      raw = new Uint8Array(BigInt64Array.from(values.map((v) => BigInt(v))).buffer);
      break;
    case OnnxType.BOOL:
      raw = Uint8Array.from(values.map((v) => (v ? 1 : 0)));
      break;
  }
  // raw_data is little-endian by the ONNX spec; typed arrays are little-endian on every
  // platform Node ships for.
  w.bytes(9, raw);
}

function writeAttribute(w: ProtoWriter, name: string, a: Attribute): void {
  w.string(1, name);
  if ('int' in a) w.int(3, a.int).int(20, 2);
  else if ('float' in a) w.float(2, a.float).int(20, 1);
  else if ('string' in a) w.bytes(4, utf8.encode(a.string)).int(20, 3);
  else if ('tensor' in a) w.message(5, (t) => writeTensor(t, a.tensor)).int(20, 4);
  else if ('floats' in a) w.packedFloats(7, a.floats).int(20, 6);
  else if ('ints' in a) w.packedInts(8, a.ints).int(20, 7);
  else {
    for (const s of a.strings) w.bytes(9, utf8.encode(s));
    w.int(20, 8);
  }
}

function writeValueInfo(w: ProtoWriter, v: ValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.elemType);
      tensor.message(2, (shape) => {
        for (const d of v.shape) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
}

function writeNode(w: ProtoWriter, n: GraphNode, index: number): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name ?? `${n.opType}_${index}`);
  w.string(4, n.opType);
  for (const [name, a] of Object.entries(n.attributes ?? {})) w.message(5, (attr) => writeAttribute(attr, name, a));
  if (n.domain) w.string(7, n.domain);
}

/** Serialise a model to ONNX bytes (a ModelProto). */
export function encodeModel(spec: ModelSpec): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, ONNX_IR_VERSION);
  w.string(2, spec.producerName);
  w.string(3, spec.producerVersion);
  if (spec.docString) w.string(6, spec.docString);
  w.message(7, (g) => {
    spec.nodes.forEach((n, i) => g.message(1, (node) => writeNode(node, n, i)));
    g.string(2, spec.graphName);
    for (const t of spec.initializers) g.message(5, (tensor) => writeTensor(tensor, t));
    for (const v of spec.inputs) g.message(11, (vi) => writeValueInfo(vi, v));
    for (const v of spec.outputs) g.message(12, (vi) => writeValueInfo(vi, v));
  });
  for (const o of spec.opsets) w.message(8, (op) => op.string(1, o.domain).int(2, o.version));
  for (const [key, value] of Object.entries(spec.metadata ?? {}))
    w.message(14, (kv) => kv.string(1, key).string(2, value));
  return w.finish();
}
