/**
 * ClickHouse's RowBinary format, written straight into one growing buffer: each value as the
 * engine stores it (little-endian numbers, length-prefixed UTF-8 strings, a null byte before a
 * Nullable, an entry count before a Map or Array), so the engine copies values instead of
 * parsing text. LowCardinality(String) travels as a plain String in RowBinary.
 */

/** 2^32, to split a millisecond timestamp into the two halves of an Int64. */
const TWO_32 = 4_294_967_296;

/** A buffer that grows as rows are appended; `bytes()` views what was written, without a copy. */
export class ByteWriter {
  #buf: Buffer;
  #pos = 0;

  /**
   * @param initialBytes starting capacity; it doubles as needed. @default 65536
   * Never from Node's shared pool (`allocUnsafeSlow`): the memory is the writer's alone, so
   * {@link release} can hand it to another thread.
   */
  constructor(initialBytes = 65_536) {
    this.#buf = Buffer.allocUnsafeSlow(initialBytes);
  }

  /** A writer holding `bytes` as already written (memory handed over by {@link release}). */
  static adopt(bytes: Buffer): ByteWriter {
    const writer = new ByteWriter(0);
    writer.#buf = bytes;
    writer.#pos = bytes.length;
    return writer;
  }

  /**
   * Hand the written bytes' memory over, without a copy (a transfer to another thread detaches
   * it): the writer starts empty again.
   */
  release(): { buffer: ArrayBuffer; length: number } {
    // An adopted view into a larger buffer is copied: only memory of its own can be handed over.
    let own = this.#buf;
    if (own.byteOffset !== 0) {
      own = Buffer.allocUnsafeSlow(this.#pos);
      this.#buf.copy(own, 0, 0, this.#pos);
    }
    const released = { buffer: own.buffer as ArrayBuffer, length: this.#pos };
    this.#buf = Buffer.allocUnsafeSlow(0);
    this.#pos = 0;
    return released;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#pos;
  }

  /** The written bytes (a view: valid until the next write). */
  bytes(): Buffer {
    return this.#buf.subarray(0, this.#pos);
  }

  /** Forget everything after `length` bytes (drop a row that turned out to be unwanted). */
  truncate(length: number): void {
    this.#pos = length;
  }

  #room(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let size = Math.max(64, this.#buf.length * 2);
    while (size < this.#pos + n) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    this.#buf.copy(next, 0, 0, this.#pos);
    this.#buf = next;
  }

  u8(v: number): void {
    this.#room(1);
    this.#buf[this.#pos++] = v;
  }

  u16(v: number): void {
    this.#room(2);
    this.#buf.writeUInt16LE(v, this.#pos);
    this.#pos += 2;
  }

  i32(v: number): void {
    this.#room(4);
    this.#buf.writeInt32LE(v, this.#pos);
    this.#pos += 4;
  }

  /** A signed 64-bit integer given as a safe JS integer (epoch milliseconds, offsets). */
  i64(v: number): void {
    this.#room(8);
    const high = Math.floor(v / TWO_32);
    this.#buf.writeUInt32LE(v - high * TWO_32, this.#pos);
    this.#buf.writeInt32LE(high, this.#pos + 4);
    this.#pos += 8;
  }

  /** `v + 0`: −0 is stored as 0, as the JSON text ingest wrote before carried it. */
  f64(v: number): void {
    this.#room(8);
    this.#buf.writeDoubleLE(v + 0, this.#pos);
    this.#pos += 8;
  }

  f32(v: number): void {
    this.#room(4);
    this.#buf.writeFloatLE(v + 0, this.#pos);
    this.#pos += 4;
  }

  /** LEB128, as RowBinary prefixes string lengths and collection sizes. */
  varUInt(v: number): void {
    this.#room(10);
    while (v >= 0x80) {
      this.#buf[this.#pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.#buf[this.#pos++] = v;
  }

  /** A String: its UTF-8 byte length, then the bytes. */
  string(s: string): void {
    const n = s.length;
    // Short ASCII (ids, feature names, levels) is copied byte by byte: cheaper than a call into
    // the UTF-8 encoder. The first other character sends the whole string through the encoder.
    if (n < 0x80) {
      this.#room(n + 1);
      const buf = this.#buf;
      const start = this.#pos;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + 1 + i] = c;
      }
      if (i === n) {
        buf[start] = n;
        this.#pos = start + 1 + n;
        return;
      }
    }
    const bytes = Buffer.byteLength(s, 'utf8');
    this.varUInt(bytes);
    this.#room(bytes);
    this.#pos += this.#buf.write(s, this.#pos, bytes, 'utf8');
  }

  /** Nullable(String). */
  nullableString(s: string | null): void {
    if (s === null) this.u8(1);
    else {
      this.u8(0);
      this.string(s);
    }
  }

  /** Nullable(Float64). */
  nullableF64(v: number | null): void {
    if (v === null) this.u8(1);
    else {
      this.u8(0);
      this.f64(v);
    }
  }

  /** Map(String-like, Float64) from a plain record. */
  mapF64(m: Record<string, number>): void {
    const keys = Object.keys(m);
    this.varUInt(keys.length);
    for (const k of keys) {
      this.string(k);
      this.f64(m[k] as number);
    }
  }

  /** Map(String-like, String) from a plain record. */
  mapString(m: Record<string, string>): void {
    const keys = Object.keys(m);
    this.varUInt(keys.length);
    for (const k of keys) {
      this.string(k);
      this.string(m[k] as string);
    }
  }

  /** Map(String-like, Array(Float32)) from a plain record. */
  mapF32Arrays(m: Record<string, readonly number[]>): void {
    const keys = Object.keys(m);
    this.varUInt(keys.length);
    for (const k of keys) {
      this.string(k);
      const values = m[k] as readonly number[];
      this.varUInt(values.length);
      for (const v of values) this.f32(v);
    }
  }

  /** Array(String-like). */
  strings(values: readonly string[]): void {
    this.varUInt(values.length);
    for (const v of values) this.string(v);
  }
}
