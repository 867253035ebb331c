import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../../platform/clickhouse/row-binary.ts';

/** LEB128 as ClickHouse reads a length. */
function readVarUInt(buf: Buffer, at: number): { value: number; next: number } {
  let value = 0;
  let scale = 1;
  for (let i = at; ; i++) {
    value += (buf[i]! & 0x7f) * scale;
    if (buf[i]! < 0x80) return { value, next: i + 1 };
    scale *= 0x80;
  }
}

describe('ByteWriter (RowBinary values)', () => {
  it('prefixes a string with its UTF-8 byte length, across the one- and two-byte prefixes', () => {
    for (const s of [
      '',
      'a',
      'x'.repeat(127),
      'x'.repeat(128),
      'é',
      `${'x'.repeat(126)}é`,
      '🦊'.repeat(40),
      'y'.repeat(20_000),
    ]) {
      const w = new ByteWriter(4);
      w.string(s);
      const buf = w.bytes();
      const { value, next } = readVarUInt(buf, 0);
      expect(value).toBe(Buffer.byteLength(s));
      expect(buf.toString('utf8', next)).toBe(s);
      expect(buf.length).toBe(next + value);
    }
  });

  it("writes integers and floats little-endian, negative 64-bit integers in two's complement, −0 as 0", () => {
    const w = new ByteWriter(2);
    w.i64(-1);
    w.i64(Number.MAX_SAFE_INTEGER);
    w.i64(1_780_000_000_123);
    w.i32(-7);
    w.u16(65535);
    w.f64(-0);
    w.f64(5e-324);
    w.f32(0.1);
    const b = w.bytes();
    expect(b.readBigInt64LE(0)).toBe(-1n);
    expect(b.readBigInt64LE(8)).toBe(BigInt(Number.MAX_SAFE_INTEGER));
    expect(b.readBigInt64LE(16)).toBe(1_780_000_000_123n);
    expect(b.readInt32LE(24)).toBe(-7);
    expect(b.readUInt16LE(28)).toBe(65535);
    expect(Object.is(b.readDoubleLE(30), 0)).toBe(true);
    expect(b.readDoubleLE(38)).toBe(5e-324);
    expect(b.readFloatLE(46)).toBe(Math.fround(0.1));
    expect(b.length).toBe(50);
  });

  it('writes a Nullable as a null byte before the value, and maps as a count then key, value pairs', () => {
    const w = new ByteWriter();
    w.nullableF64(null);
    w.nullableString('');
    w.mapF64({ a: 1.5 });
    w.strings([]);
    expect([...w.bytes()]).toEqual([1, 0, 0, 1, 1, 0x61, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0]);
  });
});
