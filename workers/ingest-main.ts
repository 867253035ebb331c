/**
 * The ingest worker as a process of its own: `tsx workers/ingest-main.ts`. Configuration from
 * the environment / halflife.yaml like everything else. SIGTERM or SIGINT drains the in-flight
 * batch, commits and exits 0; a second signal exits at once (uncommitted records are
 * redelivered, so even that loses nothing).
 */
import { pathToFileURL } from 'node:url';
import { sweepInsertBodiesOfDeadProcesses } from '../platform/clickhouse/binary-insert.ts';
import { loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { IngestWorker } from './ingest/kafka-worker.ts';

/**
 * Crash-test hook: SIGKILL this process right after the Nth batch is stored and before its
 * offsets are committed — the window exactly-once has to survive. Not a HALFLIFE_* setting on
 * purpose: it is not configuration, and it is inert unless set.
 */
const KILL_AFTER_STORE_ENV = 'INGEST_TEST_KILL_AFTER_STORE';

export async function run(): Promise<void> {
  const config = loadConfig();
  const log = createLogger('ingest', config.logLevel);
  // What a predecessor killed mid-insert left in /dev/shm holds memory until reboot.
  sweepInsertBodiesOfDeadProcesses(log);
  const killAfter = Number(process.env[KILL_AFTER_STORE_ENV] ?? 0);
  let stored = 0;
  const worker = new IngestWorker({
    config,
    logger: log,
    afterStore:
      killAfter > 0
        ? () => {
            if (++stored >= killAfter) {
              log.warn({ stored }, `${KILL_AFTER_STORE_ENV}: killing the process between insert and commit`);
              process.kill(process.pid, 'SIGKILL');
            }
          }
        : undefined,
  });
  worker.on('flush', (e) => log.info(e, 'batch stored'));

  const starting = worker.start();
  let signals = 0;
  const shutdown = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log.warn({ signal }, 'second signal: exiting without draining');
      process.exit(130);
    }
    log.info({ signal }, 'stopping: draining the in-flight batch');
    starting
      .catch(() => undefined)
      .then(() => worker.stop())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, 'ingest worker failed while stopping');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  await starting;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().catch((err: unknown) => {
    createLogger('ingest').fatal({ err }, 'ingest worker failed to start');
    process.exit((err as { exitCode?: number }).exitCode ?? 1);
  });
}
