import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSince } from '../../../cli/commands/audit.ts';
import { createToken, readTokensFile, revokeToken, TokenStore } from '../../../platform/auth.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

describe('tokens file', () => {
  const file = () => path.join(tempDir('hl-tokens-'), 'tokens.json');

  it('stores only the sha256, mode 0600, and identifies the token with its role', () => {
    const f = file();
    const { token, entry } = createToken(f, 'grafana', 'viewer', 'test');
    expect(readFileSync(f, 'utf8')).not.toContain(token);
    expect(statSync(f).mode & 0o777).toBe(0o600);
    const store = new TokenStore();
    store.useFile(f);
    expect(store.identify(token)).toEqual({ name: 'grafana', role: 'viewer' });
    expect(store.identify(`${token}x`)).toBeUndefined();
    expect(entry.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses bad names, duplicate active names and unknown revocations', () => {
    const f = file();
    expect(() => createToken(f, '../etc', 'viewer', 't')).toThrow(/token name/);
    createToken(f, 'ci', 'operator', 't');
    expect(() => createToken(f, 'ci', 'viewer', 't')).toThrow(/exists/);
    expect(() => revokeToken(f, 'nobody', 't')).toThrow(/no active token/);
    expect(revokeToken(f, 'ci', 't')).toHaveLength(1);
    expect(readTokensFile(f).tokens[0]?.revokedBy).toBe('t');
    createToken(f, 'ci', 'viewer', 't');
  });

  it('fails closed on a malformed file', () => {
    const f = file();
    const { token } = createToken(f, 'a', 'admin', 't');
    writeFileSync(f, '{not json');
    const store = new TokenStore();
    store.useFile(f);
    expect(store.identify(token)).toBeUndefined();
  });
});

describe('audit --since', () => {
  it('takes durations back from now and ISO times', () => {
    expect(parseSince('24h', 100 * 3_600_000)).toBe(76 * 3_600_000);
    expect(parseSince('2026-01-01T00:00:00Z')).toBe(Date.parse('2026-01-01T00:00:00Z'));
    expect(() => parseSince('yesterday')).toThrow(/duration/);
  });
});
