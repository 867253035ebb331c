import { deflateSync, inflateSync } from 'node:zlib';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

/** The encoding a compressed payload carries: the zlib stream of the original payload, proto-encoded (as Go's `converter.NewZlibCodec` writes it). */
export const ZLIB_ENCODING = 'binary/zlib';

const ProtoPayload = proto.temporal.api.common.v1.Payload;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const ZLIB_ENCODING_BYTES = encoder.encode(ZLIB_ENCODING);

export interface ZlibPayloadCodecOptions {
  /**
   * Payloads smaller than this stay as they are (readable in the Temporal UI and CLI); most of a
   * monitor's are (timers' and decisions' small arguments). A tick's window statistics and its
   * decision record (~5–13 kB of JSON numbers each) are compressed ~2.6×.
   * @default 1024
   */
  minBytes?: number;
  /**
   * Compress at all. Off, payloads are written as they are; compressed ones written before are
   * still read (decoding never depends on this).
   * @default true
   */
  compress?: boolean;
}

/**
 * Compresses large payloads before they reach the Temporal server.
 *
 * Why: a monitor's history is mostly two payloads a tick — the window's statistics (an activity's
 * result) and the decision record (an activity's argument), JSON of floating-point numbers. The
 * worker keeps a cached run's payloads until the run ends, the server writes them to its store, and
 * a run continues as new when its history passes a byte budget: compressing them makes each of
 * those smaller at once. Payloads it did not compress (older histories, small payloads, other
 * writers) are passed through when read.
 */
export class ZlibPayloadCodec implements PayloadCodec {
  readonly #minBytes: number;
  readonly #compress: boolean;

  constructor(options: ZlibPayloadCodecOptions = {}) {
    this.#minBytes = options.minBytes ?? 1024;
    this.#compress = options.compress ?? true;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    if (!this.#compress) return payloads;
    return payloads.map((payload) => this.#encodeOne(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map(decodeOne);
  }

  #encodeOne(payload: Payload): Payload {
    if ((payload.data?.byteLength ?? 0) < this.#minBytes) return payload;
    const compressed = deflateSync(ProtoPayload.encode(payload).finish());
    // Incompressible data (already compressed, random bytes) stays as it is: smaller or nothing.
    if (compressed.byteLength >= (payload.data?.byteLength ?? 0)) return payload;
    return { metadata: { encoding: ZLIB_ENCODING_BYTES }, data: new Uint8Array(compressed) };
  }
}

function decodeOne(payload: Payload): Payload {
  const encoding = payload.metadata?.encoding;
  if (!encoding || decoder.decode(encoding) !== ZLIB_ENCODING) return payload;
  let inflated: Buffer;
  try {
    inflated = inflateSync(payload.data ?? new Uint8Array());
  } catch (err) {
    throw new Error(
      `a ${ZLIB_ENCODING} payload (${payload.data?.byteLength ?? 0} bytes) is not a zlib stream: ${(err as Error).message}. It was not written by halflife's codec, or was damaged in the history store.`,
      { cause: err },
    );
  }
  return ProtoPayload.decode(inflated);
}

/**
 * The data converter every halflife client and worker uses: the SDK's default payload converter
 * behind {@link ZlibPayloadCodec}, compressing as `temporal.compressPayloads` says (off by
 * default) and always reading what it compressed. A client or worker without it cannot read the
 * compressed payloads of a deployment that turned compression on ("Unknown encoding: binary/zlib").
 */
export function halflifeDataConverter(options: { compress: boolean; minBytes?: number }): DataConverter {
  return { payloadCodecs: [new ZlibPayloadCodec(options)] };
}
