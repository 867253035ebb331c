/**
 * A minimal protocol-buffers wire-format writer: just what is needed to serialise an ONNX
 * ModelProto (varints, 64-bit ints, fixed32 floats, length-delimited bytes/strings/messages,
 * packed repeated scalars). Written here rather than depending on a protobuf library because
 * halflife only ever writes a handful of fixed message shapes.
 */

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_LENGTH_DELIMITED = 2;

const utf8 = new TextEncoder();

/** Appends encoded fields; `finish()` returns the message bytes. */
export class ProtoWriter {
  #chunks: Uint8Array[] = [];
  #length = 0;

  #push(bytes: Uint8Array): void {
    this.#chunks.push(bytes);
    this.#length += bytes.length;
  }

  #tag(field: number, wire: number): void {
    this.#push(encodeVarint(BigInt(field) * 8n + BigInt(wire)));
  }

  /** int32/int64/enum/bool field (negative values take ten bytes, as protobuf specifies). */
  int(field: number, value: number | bigint): this {
    this.#tag(field, WIRE_VARINT);
    this.#push(encodeVarint(BigInt.asUintN(64, BigInt(value))));
    return this;
  }

  float(field: number, value: number): this {
    this.#tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.#push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.#tag(field, WIRE_LENGTH_DELIMITED);
    this.#push(encodeVarint(BigInt(value.length)));
    this.#push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  /** Packed repeated int64 (proto3 default packing for repeated scalars). */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.#push(encodeVarint(BigInt.asUintN(64, BigInt(v))));
    return this.bytes(field, inner.finish());
  }

  /** Packed repeated float (fixed32). */
  packedFloats(field: number, values: readonly number[]): this {
    const b = new Uint8Array(values.length * 4);
    const view = new DataView(b.buffer);
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
    return this.bytes(field, b);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let offset = 0;
    for (const c of this.#chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}

/** Base-128 varint of an unsigned 64-bit value. */
export function encodeVarint(value: bigint): Uint8Array {
  if (value < 0n) throw new RangeError('varint of a negative value: convert with BigInt.asUintN(64, v) first');
  const out: number[] = [];
  let v = value;
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Uint8Array.from(out);
}
