import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../platform/config.ts';
import { ConfigError } from '../../../platform/errors.ts';
import { ingestProvenanceKey, PROVENANCE_KEY_FILE } from '../../../workers/ingest/provenance-key.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const configIn = (dataDir: string, env: Record<string, string> = {}) => loadConfig({ env, overrides: { dataDir } });

describe('the key that signs a logged record’s source', () => {
  it('is generated once into the data directory, readable by its owner only, and read back after', () => {
    const dataDir = path.join(tempDir('provenance-key-'), 'not-yet');
    const first = ingestProvenanceKey(configIn(dataDir));
    const file = path.join(dataDir, PROVENANCE_KEY_FILE);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.toString());
    expect(first.toString()).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(ingestProvenanceKey(configIn(dataDir)).equals(first)).toBe(true);
    // Another data directory: another key.
    const other = ingestProvenanceKey(configIn(tempDir('provenance-key-')));
    expect(other.equals(first)).toBe(false);
  });

  it('the setting wins over the file, and must be long enough', () => {
    const dataDir = tempDir('provenance-key-');
    const configured = 'k'.repeat(40);
    const key = ingestProvenanceKey(configIn(dataDir, { HALFLIFE_INGEST_PROVENANCE_KEY: configured }));
    expect(key.toString()).toBe(configured);
    expect(() => configIn(dataDir, { HALFLIFE_INGEST_PROVENANCE_KEY: 'short' })).toThrow(/provenanceKey/);
  });

  it('an emptied key file is an error that says how to get a new key', () => {
    const dataDir = tempDir('provenance-key-');
    writeFileSync(path.join(dataDir, PROVENANCE_KEY_FILE), '\n');
    expect(() => ingestProvenanceKey(configIn(dataDir))).toThrow(ConfigError);
    expect(() => ingestProvenanceKey(configIn(dataDir))).toThrow(/delete it.*ingest\.provenanceKey/);
  });
});
