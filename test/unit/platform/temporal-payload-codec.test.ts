import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { ZLIB_ENCODING, ZlibPayloadCodec } from '../../../platform/temporal-payload-codec.ts';

const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const encodingOf = (p: Payload) => text(p.metadata?.encoding);

/** A window's statistics as a tick returns them: floating-point sums per score bin. */
function windowStatistics(bins: number) {
  const sums = Array.from({ length: bins }, (_, k) => (k + 0.5) / bins + Math.sin(k) / 1e3);
  return {
    histogram: { positives: sums.map((s) => Math.round(s * 40)), scoreSums: sums, squareSums: sums.map((s) => s * s) },
  };
}

describe('ZlibPayloadCodec', () => {
  it('compresses a large JSON payload and decodes it to the same payload and value', async () => {
    const value = windowStatistics(100);
    const payload = defaultPayloadConverter.toPayload(value);
    const codec = new ZlibPayloadCodec();
    const [encoded] = await codec.encode([payload]);
    expect(encodingOf(encoded!)).toBe(ZLIB_ENCODING);
    expect(encoded!.data!.byteLength).toBeLessThan(payload.data!.byteLength / 2);
    const [decoded] = await codec.decode([encoded!]);
    expect(encodingOf(decoded!)).toBe('json/plain');
    expect(Buffer.from(decoded!.data!).equals(Buffer.from(payload.data!))).toBe(true);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(value);
  });

  it('writes the format of a zlib stream of the proto-encoded payload, readable by any zlib codec of that encoding', async () => {
    const payload = defaultPayloadConverter.toPayload(windowStatistics(50));
    const [encoded] = await new ZlibPayloadCodec().encode([payload]);
    // A zlib stream starts with the CMF byte 0x78 (deflate, 32 kB window).
    expect(encoded!.data![0]).toBe(0x78);
    expect(Object.keys(encoded!.metadata ?? {})).toEqual(['encoding']);
  });

  it('leaves payloads under minBytes as they are, readable in the Temporal UI', async () => {
    const small = defaultPayloadConverter.toPayload({ modelId: 'churn', tick: 3 });
    const [encoded] = await new ZlibPayloadCodec({ minBytes: 1024 }).encode([small]);
    expect(encoded).toBe(small);
    const large = defaultPayloadConverter.toPayload(windowStatistics(100));
    const [kept] = await new ZlibPayloadCodec({ minBytes: large.data!.byteLength + 1 }).encode([large]);
    expect(encodingOf(kept!)).toBe('json/plain');
  });

  it('leaves incompressible payloads as they are', async () => {
    const random = defaultPayloadConverter.toPayload(new Uint8Array(randomBytes(4096)));
    const [encoded] = await new ZlibPayloadCodec().encode([random]);
    expect(encoded).toBe(random);
  });

  it('with compress off writes payloads as they are but still reads compressed ones', async () => {
    const payload = defaultPayloadConverter.toPayload(windowStatistics(100));
    const [written] = await new ZlibPayloadCodec({ compress: false }).encode([payload]);
    expect(written).toBe(payload);
    const [compressed] = await new ZlibPayloadCodec().encode([payload]);
    const [read] = await new ZlibPayloadCodec({ compress: false }).decode([compressed!]);
    expect(defaultPayloadConverter.fromPayload(read!)).toEqual(windowStatistics(100));
  });

  it('passes payloads it did not write through on decode (histories recorded before it)', async () => {
    const plain = defaultPayloadConverter.toPayload(windowStatistics(100));
    const [decoded] = await new ZlibPayloadCodec().decode([plain]);
    expect(decoded).toBe(plain);
  });

  it('names a damaged compressed payload instead of handing garbage to the workflow', async () => {
    const damaged: Payload = {
      metadata: { encoding: Buffer.from(ZLIB_ENCODING) },
      data: Buffer.from('not zlib at all'),
    };
    await expect(new ZlibPayloadCodec().decode([damaged])).rejects.toThrow(
      /binary\/zlib payload \(15 bytes\) is not a zlib stream/,
    );
    // A valid zlib stream of something that is not a payload message fails to decode as one too.
    const notAPayload: Payload = {
      metadata: { encoding: Buffer.from(ZLIB_ENCODING) },
      data: deflateSync(Buffer.from([0xff, 0xff, 0xff])),
    };
    await expect(new ZlibPayloadCodec().decode([notAPayload])).rejects.toThrow();
  });
});
