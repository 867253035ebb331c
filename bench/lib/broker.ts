import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type HalflifeConfig } from '../../platform/config.ts';
import { freePort, runningPid } from '../../local-services/process.ts';
import { serviceDirs } from '../../platform/paths.ts';
import { servicesDown, servicesUp } from '../../local-services/stack.ts';

/** A throwaway local Kafka broker on free ports (like test/global-setup.ts), or the given brokers. */
export interface BenchBroker {
  brokers: string;
  dataDir: string;
  /** The broker JVM's process id when this bench started it (its CPU is counted), else undefined. */
  pid(): number | undefined;
  stop(): Promise<void>;
}

export async function startBroker(
  options: { brokers?: string; heap?: string; onProgress?: (line: string) => void } = {},
): Promise<BenchBroker> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'halflife-bench-'));
  if (options.brokers)
    return {
      brokers: options.brokers,
      dataDir,
      pid: () => undefined,
      stop: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  const [kafkaPort, kafkaControllerPort] = [await freePort(), await freePort()];
  const config: HalflifeConfig = loadConfig({
    env: {},
    // Temporal is configured as external so only the broker is started.
    overrides: {
      dataDir,
      temporal: { address: '127.0.0.1:1' },
      services: { kafkaPort, kafkaControllerPort, kafkaHeap: options.heap ?? '1g' },
    },
  });
  const started = await servicesUp(config, { onProgress: options.onProgress });
  return {
    brokers: `127.0.0.1:${kafkaPort}`,
    dataDir,
    pid: () => runningPid(path.join(serviceDirs(dataDir).run, 'kafka.pid')),
    stop: async () => {
      await servicesDown(config, started);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
