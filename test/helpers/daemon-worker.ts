import type { ClickHouseClient } from '@clickhouse/client';
import type { Worker } from '@temporalio/worker';
import type { HalflifeConfig } from '../../platform/config.ts';
import { createLogger } from '../../platform/logger.ts';
import { createTemporalWorker } from '../../workers/temporal-worker.ts';

/** The daemon's Temporal worker (createTemporalWorker) running on the config's task queue. */
export interface RunningDaemonWorker {
  worker: Worker;
  /** Shuts the worker down, waits for it, and closes what it opened. */
  stop(): Promise<void>;
}

export async function runDaemonWorker(
  config: HalflifeConfig,
  clickhouse: ClickHouseClient,
): Promise<RunningDaemonWorker> {
  const { worker, close } = await createTemporalWorker({ config, clickhouse, log: createLogger('test', 'warn') });
  const running = worker.run();
  return {
    worker,
    async stop() {
      worker.shutdown();
      await running;
      await close();
    },
  };
}
