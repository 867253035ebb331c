/**
 * The provenance of a record POSTed with `ack=logged`, carried through Kafka to the ingest that
 * lands it: the header `halflife-source` (`http:<token name>`, the source an `ack=stored` POST
 * stores) and `halflife-source-signature`, an HMAC-SHA256 under the daemon-local key
 * (provenance-key.ts) over that source and the message's value.
 *
 * Rule: the Kafka ingest honours the source only when the signature verifies. Anyone who can
 * produce to the topic can set a header, but without the key no one can sign one, and a genuine
 * pair copied onto another value fails, since the value is signed too. So a stored `http:` source
 * means a process holding the key — the daemon's own HTTP route, after checking that token —
 * produced exactly these bytes; an auditor need trust the key's file, not every producer. A
 * header that does not verify is ignored: the record is still valid data and lands with its Kafka
 * coordinate, like any record from a producer of its own (and is counted, metric
 * `unverified_sources_total`). Kafka's own producer identity cannot serve instead: a message
 * carries none a consumer could check.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SOURCE_HEADER = 'halflife-source';
export const SIGNATURE_HEADER = 'halflife-source-signature';

/** The signature's scheme; a new one (another hash, a rotated key) gets another prefix. */
const SCHEME = 'v1=';

/** The sources a signature may vouch for: what an HTTP POST stores. */
const HTTP_SOURCE = 'http:';

/** A consumed message's headers, as kafkajs hands them over (a repeated header is an array). */
export type ConsumedHeaders = Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>;

/** What a message's provenance headers come to. */
export type SourceVerdict =
  { kind: 'none' } | { kind: 'verified'; source: string } | { kind: 'unverified'; reason: string };

/** The two headers that carry `source` (`http:<token name>`) for a message whose value is `value`. */
export function signedSourceHeaders(key: Buffer, source: string, value: string | Buffer): Record<string, string> {
  if (!source.startsWith(HTTP_SOURCE)) throw new Error(`a signed source starts with ${HTTP_SOURCE}, got ${source}`);
  return { [SOURCE_HEADER]: source, [SIGNATURE_HEADER]: `${SCHEME}${mac(key, source, value).toString('base64url')}` };
}

/** Shared: most messages carry no provenance, and ingest asks for each. */
const NONE: SourceVerdict = Object.freeze({ kind: 'none' });

/** Whether a consumed message's provenance headers hold, checked against its value. */
export function verifySource(key: Buffer, headers: ConsumedHeaders | undefined, value: Buffer | null): SourceVerdict {
  const source = headers?.[SOURCE_HEADER];
  const signature = headers?.[SIGNATURE_HEADER];
  if (source === undefined && signature === undefined) return NONE;
  if (source === undefined || signature === undefined)
    return { kind: 'unverified', reason: `${source === undefined ? SOURCE_HEADER : SIGNATURE_HEADER} is missing` };
  if (Array.isArray(source) || Array.isArray(signature))
    return { kind: 'unverified', reason: 'a provenance header is repeated' };
  const claimed = source.toString();
  if (!claimed.startsWith(HTTP_SOURCE))
    return { kind: 'unverified', reason: `${SOURCE_HEADER} is not ${HTTP_SOURCE}…` };
  const text = signature.toString();
  if (!text.startsWith(SCHEME)) return { kind: 'unverified', reason: `${SIGNATURE_HEADER} is not ${SCHEME}…` };
  const given = Buffer.from(text.slice(SCHEME.length), 'base64url');
  const expected = mac(key, claimed, value ?? Buffer.alloc(0));
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { kind: 'unverified', reason: `${SIGNATURE_HEADER} does not match the source and value` };
  return { kind: 'verified', source: claimed };
}

/** The source is length-prefixed, so no source and value can be re-cut into another pair. */
function mac(key: Buffer, source: string, value: string | Buffer): Buffer {
  return createHmac('sha256', key)
    .update(`halflife-source/1\n${Buffer.byteLength(source)}\n${source}\n`)
    .update(value)
    .digest();
}
