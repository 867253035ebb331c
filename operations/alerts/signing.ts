/**
 * HMAC-SHA256 signatures of alert messages, for receivers that want to know a message came from
 * halflife and was not replayed: `X-Halflife-Signature: v1=<hex>` over `<timestamp>.<body>`, with
 * the Unix timestamp (seconds) in `X-Halflife-Timestamp`. A receiver recomputes it with the shared
 * key, compares in constant time and rejects old timestamps.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-halflife-signature';
export const TIMESTAMP_HEADER = 'x-halflife-timestamp';

export function signAlert(key: string, timestampSeconds: number, body: string): string {
  return `v1=${createHmac('sha256', key).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}

/** Check a signature as a receiver would: same key, same timestamp, same bytes. */
export function verifyAlertSignature(key: string, timestampSeconds: number, body: string, signature: string): boolean {
  const expected = Buffer.from(signAlert(key, timestampSeconds, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
