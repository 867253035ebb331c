import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../platform/config.ts';
import { freePort } from '../local-services/process.ts';
import { freeTemporalPort } from '../local-services/temporal.ts';
import { servicesDown, servicesUp } from '../local-services/stack.ts';

/**
 * Starts a real Temporal dev server and a real Kafka broker once for the integration
 * project, on free ports in a throwaway data directory, and stops them afterwards.
 * Tests read the addresses with `inject('stack')` (see test/helpers/stack.ts).
 */
export interface TestStack {
  dataDir: string;
  temporalAddress: string;
  kafkaBrokers: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    stack: TestStack;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'halflife-test-'));
  const [temporalPort, temporalUiPort, kafkaPort, kafkaControllerPort] = [
    await freeTemporalPort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir,
      services: { temporalPort, temporalUiPort, kafkaPort, kafkaControllerPort, kafkaHeap: '384m' },
      kafka: { partitions: 4 },
    },
  });
  const t0 = Date.now();
  let started: Awaited<ReturnType<typeof servicesUp>>;
  try {
    started = await servicesUp(config, { onProgress: (line) => process.stderr.write(`[stack] ${line}\n`) });
  } catch (err) {
    // A service that failed to start leaves the ones before it running: stop them (a Temporal
    // server outlived a run whose Kafka could not bind its port).
    await servicesDown(config).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  process.stderr.write(`[stack] services ready in ${((Date.now() - t0) / 1000).toFixed(1)}s\n`);
  project.provide('stack', {
    dataDir,
    temporalAddress: `127.0.0.1:${temporalPort}`,
    kafkaBrokers: `127.0.0.1:${kafkaPort}`,
  });
  return async () => {
    await servicesDown(config, started);
    rmSync(dataDir, { recursive: true, force: true });
  };
}
