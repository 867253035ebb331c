/**
 * The daemon-local key that signs the provenance of records POSTed with `ack=logged`
 * (provenance-header.ts): `ingest.provenanceKey`, or 32 random bytes generated once into
 * `<dataDir>/ingest-provenance-key` (mode 0600), beside the admin token — whoever can read the
 * data directory can already act as the daemon.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { HalflifeConfig } from '../../platform/config.ts';
import { ConfigError } from '../../platform/errors.ts';

export const PROVENANCE_KEY_FILE = 'ingest-provenance-key';

/** The key: configured, or read from (generated into, the first time) the data directory. */
export function ingestProvenanceKey(config: Pick<HalflifeConfig, 'dataDir' | 'ingest'>): Buffer {
  if (config.ingest.provenanceKey) return Buffer.from(config.ingest.provenanceKey);
  const file = path.join(config.dataDir, PROVENANCE_KEY_FILE);
  if (!existsSync(file)) generate(file);
  const key = readFileSync(file, 'utf8').trim();
  if (key.length < 32)
    throw new ConfigError(
      `${file} holds no provenance key (under 32 characters): delete it to have one generated, or set ingest.provenanceKey (HALFLIFE_INGEST_PROVENANCE_KEY)`,
    );
  return Buffer.from(key);
}

/**
 * Written whole under another name, then linked into place: the API and the Kafka ingest of one
 * data directory may both start at once, and neither may read a half-written key, nor replace the
 * key the other already signs or verifies with.
 */
function generate(file: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(draft, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  chmodSync(draft, 0o600);
  try {
    linkSync(draft, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(draft);
  }
}
