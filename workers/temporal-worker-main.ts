/**
 * The Temporal worker as its own process (`tsx workers/temporal-worker-main.ts`), for
 * deployments that run the parts separately (with a ClickHouse server) and for the crash tests.
 * SIGTERM, SIGINT, SIGQUIT or SIGUSR2: finish in-flight tasks, then exit 0.
 */
import { openClickHouse } from '../platform/clickhouse/client.ts';
import { applyMigrations } from '../platform/clickhouse/migrations.ts';
import { loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { ServingReportsConsumer } from './serving-reports/consumer.ts';
import { createTemporalWorker } from './temporal-worker.ts';

async function run(): Promise<void> {
  const config = loadConfig();
  const log = createLogger('temporal-worker', config.logLevel);
  const clickhouse = await openClickHouse(config);
  await applyMigrations(clickhouse.client);
  // Promotions this worker runs wait for the scorers' reports: it stores them too. Not awaited: a
  // group member left by a killed process can hold the join for a session timeout, and the
  // worker must poll meanwhile.
  const reports = new ServingReportsConsumer({ config, clickhouse: clickhouse.client, log });
  const reportsStarted = reports
    .start()
    .catch((err: unknown) => log.error({ err }, 'serving reports consumer failed to start'));
  const { worker, close } = await createTemporalWorker({ config, clickhouse: clickhouse.client, log });
  // Once: a second signal while the worker drains must not throw from its handler.
  const stop = () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  // The SDK's Runtime handles no signals (temporal-runtime.ts): these are this process's.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGUSR2'] as const) process.once(signal, stop);
  log.info({ taskQueue: config.temporal.taskQueue }, 'worker running');
  await worker.run();
  await reportsStarted;
  await reports.stop();
  await close();
  await clickhouse.close();
}

run().then(
  // Clients keep sockets and timers open; once everything is closed, leave.
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`temporal worker: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
