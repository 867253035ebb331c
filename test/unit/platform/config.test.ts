import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeSettings, ENV_VARS, loadConfig } from '../../../platform/config.ts';
import { ConfigError } from '../../../platform/errors.ts';
import { projectRoot } from '../../../platform/paths.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

describe('configuration', () => {
  it('has documented defaults for the local stack', () => {
    const config = loadConfig({ env: {}, cwd: '/srv/app' });
    expect(config.dataDir).toBe('/srv/app/.halflife/data');
    expect(config.clickhouse.path).toBe('/srv/app/.halflife/data/chdb');
    expect(config.clickhouse.url).toBeUndefined();
    expect(config.api.port).toBe(8080);
    expect(config.services).toMatchObject({ temporalPort: 7233, kafkaPort: 9092 });
  });

  it('environment variables override the file, which overrides defaults', () => {
    const dir = tempDir('hl-config-');
    writeFileSync(path.join(dir, 'halflife.yaml'), 'api:\n  port: 9000\ningest:\n  batchSize: 500\n');
    const config = loadConfig({ env: { HALFLIFE_API_PORT: '9100', KAFKA_BROKERS: 'k1:9092,k2:9092' }, cwd: dir });
    expect(config.api.port).toBe(9100);
    expect(config.ingest.batchSize).toBe(500);
    expect(config.kafka.brokers).toBe('k1:9092,k2:9092');
  });

  it('rejects an unknown key in the file, naming it', () => {
    const dir = tempDir('hl-config-');
    writeFileSync(path.join(dir, 'halflife.yaml'), 'api:\n  prot: 9000\n');
    expect(() => loadConfig({ env: {}, cwd: dir })).toThrow(/api.*prot/);
  });

  it('rejects a bad port with the setting and its variable', () => {
    let error: unknown;
    try {
      loadConfig({ env: { HALFLIFE_KAFKA_PORT: '70000' } });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('services.kafkaPort [HALFLIFE_KAFKA_PORT]');
    expect((error as ConfigError).exitCode).toBe(2);
  });

  it('rejects unknown HALFLIFE_* variables (a typo must not be ignored)', () => {
    expect(() => loadConfig({ env: { HALFLIFE_API_PROT: '1' } })).toThrow(/HALFLIFE_API_PROT/);
  });

  it('rejects a malformed ClickHouse URL and a short API token', () => {
    expect(() => loadConfig({ env: { CLICKHOUSE_URL: 'not a url' } })).toThrow(/clickhouse.url/);
    expect(() => loadConfig({ env: { HALFLIFE_API_TOKEN: 'short' } })).toThrow(/api.token.*16/);
  });

  it('documents every setting, and the README lists every variable', () => {
    const docs = describeSettings();
    expect(docs.length).toBe(Object.keys(ENV_VARS).length);
    for (const doc of docs) {
      expect(doc.env, doc.key).not.toBe('');
      expect(doc.doc, doc.key).not.toBe('');
    }
    const readme = readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
    for (const name of Object.keys(ENV_VARS)) expect(readme, name).toContain(`\`${name}\``);
  });
});
