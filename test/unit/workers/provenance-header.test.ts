import { describe, expect, it } from 'vitest';
import {
  SIGNATURE_HEADER,
  SOURCE_HEADER,
  signedSourceHeaders,
  verifySource,
  type ConsumedHeaders,
} from '../../../workers/ingest/provenance-header.ts';

const KEY = Buffer.from('the daemon-local provenance key, 32+ characters');
const VALUE = JSON.stringify({ event_id: 'e1', model_id: 'm', label: 1 });

/** The headers as a consumer receives them: values as bytes. */
function consumed(headers: Record<string, string>): ConsumedHeaders {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Buffer.from(value)]));
}

describe('the signed HTTP source a logged record carries through Kafka', () => {
  it('verifies what it signed: the source comes back for the same value, as bytes or text', () => {
    const headers = signedSourceHeaders(KEY, 'http:collector', VALUE);
    expect(Object.keys(headers).sort()).toEqual([SIGNATURE_HEADER, SOURCE_HEADER].sort());
    expect(headers[SOURCE_HEADER]).toBe('http:collector');
    expect(headers[SIGNATURE_HEADER]).toMatch(/^v1=[A-Za-z0-9_-]{43}$/);
    const verified = { kind: 'verified', source: 'http:collector' };
    expect(verifySource(KEY, consumed(headers), Buffer.from(VALUE))).toEqual(verified);
    expect(verifySource(KEY, headers, Buffer.from(VALUE))).toEqual(verified);
    // A token name in any script survives the round trip.
    const named = signedSourceHeaders(KEY, 'http:сборщик-日本', VALUE);
    expect(verifySource(KEY, consumed(named), Buffer.from(VALUE))).toEqual({
      kind: 'verified',
      source: 'http:сборщик-日本',
    });
  });

  it('a message without the headers has no provenance to check', () => {
    expect(verifySource(KEY, {}, Buffer.from(VALUE))).toEqual({ kind: 'none' });
    expect(verifySource(KEY, undefined, Buffer.from(VALUE))).toEqual({ kind: 'none' });
    expect(verifySource(KEY, { other: Buffer.from('x') }, null)).toEqual({ kind: 'none' });
  });

  it('refuses what the key did not sign: another key, another value, another source, a re-cut pair', () => {
    const headers = signedSourceHeaders(KEY, 'http:collector', VALUE);
    const unverified = (h: ConsumedHeaders, value: Buffer | null) => verifySource(KEY, h, value).kind;
    const otherKey = signedSourceHeaders(Buffer.from('another key, also 32+ characters long'), 'http:collector', VALUE);
    expect(unverified(consumed(otherKey), Buffer.from(VALUE))).toBe('unverified');
    // The genuine pair copied onto another record.
    expect(unverified(consumed(headers), Buffer.from(VALUE.replace('e1', 'e2')))).toBe('unverified');
    expect(unverified(consumed(headers), null)).toBe('unverified');
    // The genuine signature under another token's name.
    expect(unverified(consumed({ ...headers, [SOURCE_HEADER]: 'http:admin' }), Buffer.from(VALUE))).toBe('unverified');
    // Source and value are cut apart unambiguously: moving bytes between them breaks the signature.
    const cut = signedSourceHeaders(KEY, 'http:a', `\nb${VALUE}`);
    expect(unverified(consumed({ ...cut, [SOURCE_HEADER]: 'http:a\nb' }), Buffer.from(VALUE))).toBe('unverified');
  });

  it('refuses malformed headers, saying which', () => {
    const headers = signedSourceHeaders(KEY, 'http:collector', VALUE);
    const reason = (h: ConsumedHeaders) => {
      const verdict = verifySource(KEY, h, Buffer.from(VALUE));
      expect(verdict.kind).toBe('unverified');
      return (verdict as { reason: string }).reason;
    };
    expect(reason({ [SOURCE_HEADER]: Buffer.from('http:collector') })).toContain(`${SIGNATURE_HEADER} is missing`);
    expect(reason({ [SIGNATURE_HEADER]: Buffer.from(headers[SIGNATURE_HEADER]!) })).toContain(
      `${SOURCE_HEADER} is missing`,
    );
    expect(
      reason({
        [SOURCE_HEADER]: [Buffer.from('http:collector'), Buffer.from('http:admin')],
        [SIGNATURE_HEADER]: Buffer.from(headers[SIGNATURE_HEADER]!),
      }),
    ).toContain('repeated');
    expect(reason(consumed({ ...headers, [SIGNATURE_HEADER]: headers[SIGNATURE_HEADER]!.slice(3) }))).toContain(
      'is not v1=',
    );
    expect(reason(consumed({ ...headers, [SIGNATURE_HEADER]: 'v1=not base64url!' }))).toContain('does not match');
    expect(reason(consumed({ ...headers, [SIGNATURE_HEADER]: headers[SIGNATURE_HEADER]!.slice(0, -2) }))).toContain(
      'does not match',
    );
  });

  it('vouches only for HTTP sources: it signs none other, and a signed header claiming another is refused', () => {
    expect(() => signedSourceHeaders(KEY, 'kafka', VALUE)).toThrow(/http:/);
    const headers = signedSourceHeaders(KEY, 'http:collector', VALUE);
    const verdict = verifySource(KEY, consumed({ ...headers, [SOURCE_HEADER]: 'cli' }), Buffer.from(VALUE));
    expect(verdict).toEqual({ kind: 'unverified', reason: `${SOURCE_HEADER} is not http:…` });
  });
});
