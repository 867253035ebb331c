/**
 * The daemon-local key that signs the provenance of records POSTed with `ack=logged`
 * (provenance-header.ts): `ingest.provenanceKey`, or 32 random bytes generated once into
 * `<dataDir>/ingest-provenance-key` (mode 0600), beside the admin token — whoever can read the
 * data directory can already act as the daemon.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { HalflifeConfig } from '../../platform/config.ts';
import { dataDirSecret } from '../../platform/data-dir-secret.ts';
import { ConfigError } from '../../platform/errors.ts';

export const PROVENANCE_KEY_FILE = 'ingest-provenance-key';

/** The key: configured, or read from (generated into, the first time) the data directory. */
export function ingestProvenanceKey(config: Pick<HalflifeConfig, 'dataDir' | 'ingest'>): Buffer {
  if (config.ingest.provenanceKey) return Buffer.from(config.ingest.provenanceKey);
  const file = path.join(config.dataDir, PROVENANCE_KEY_FILE);
  const key = dataDirSecret(file, () => randomBytes(32).toString('hex'));
  if (key.length < 32)
    throw new ConfigError(
      `${file} holds no provenance key (under 32 characters): delete it to have one generated, or set ingest.provenanceKey (HALFLIFE_INGEST_PROVENANCE_KEY)`,
    );
  return Buffer.from(key);
}
