import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import { loadConfig, type HalflifeConfig } from '../../platform/config.ts';

/**
 * Configuration pointing at the suite's real services, with this test file's own data
 * directory (so its embedded ClickHouse does not collide with another file's).
 */
export function testConfig(overrides: Record<string, unknown> = {}): HalflifeConfig {
  const stack = inject('stack');
  const dataDir = mkdtempSync(path.join(stack.dataDir, 'case-'));
  const base: Record<string, unknown> = {
    dataDir,
    temporal: { address: stack.temporalAddress },
    kafka: { brokers: stack.kafkaBrokers },
    logLevel: 'warn',
  };
  for (const [key, value] of Object.entries(overrides)) {
    const current = base[key];
    base[key] =
      current && typeof current === 'object' && value && typeof value === 'object' ? { ...current, ...value } : value;
  }
  return loadConfig({ env: {}, overrides: base });
}

/** A unique name for topics, groups and models, so tests never see each other's data. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}
